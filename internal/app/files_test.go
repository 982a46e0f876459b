package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/hook"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/files"
	"github.com/shipmentapp/shipmentapp/internal/storage"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// Sample documents: what the sniffer recognises, whatever the client says.
var (
	samplePDF  = append([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), bytes.Repeat([]byte("1 0 obj << /Type /Page >> endobj\n"), 400)...)
	samplePNG  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"), bytes.Repeat([]byte{0x42}, 3000)...)
	sampleJPEG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, bytes.Repeat([]byte{0x17}, 2000)...)
	sampleCSV  = []byte("invoice,shipment,amount\nINV-0001,SHP-1,12.50\nINV-0002,SHP-1,3.10\n")
	sampleZPL  = []byte("^XA\n^FO50,50^ADN,36,20^FDShipment SHP-1^FS\n^XZ\n")
	sampleHTML = []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
)

const fileFields = `id kind name contentType size sha256 uploadedAt uploadedBy`

type fileJSON struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	Sha256      string `json:"sha256"`
	UploadedBy  string `json:"uploadedBy"`
	URL         string `json:"url"`
}

const uploadOneMutation = `mutation($s: ID!, $k: FileKind!, $f: Upload!) {
	uploadShipmentFile(shipmentId: $s, kind: $k, file: $f) { ` + fileFields + ` url(expiresIn: 60) } }`

const uploadManyMutation = `mutation($s: ID!, $files: [FileUploadInput!]!) {
	uploadShipmentFiles(shipmentId: $s, files: $files) { ` + fileFields + ` } }`

// upload sends one file with c and returns the response.
func upload(c *testutil.Client, shipment, kind, name string, body []byte) *testutil.Response {
	return c.Upload(uploadOneMutation, map[string]any{"s": shipment, "k": kind, "f": nil},
		testutil.File{Var: "variables.f", Name: name, ContentType: "application/octet-stream", Body: body})
}

func uploaded(t *testing.T, r *testutil.Response) fileJSON {
	t.Helper()
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("upload: status %d, %s", r.Status, r.Raw)
	}
	var out struct {
		UploadShipmentFile fileJSON `json:"uploadShipmentFile"`
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	return out.UploadShipmentFile
}

// objects lists the keys of the env's file store.
func (e *env) objects() []string {
	e.t.Helper()
	var keys []string
	if err := e.app.Files.Store().List(context.Background(), "", func(o storage.Info) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return keys
}

func (e *env) fileRows() int {
	e.t.Helper()
	n, err := e.app.Client.File.Query().Count(system())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// fetch GETs a download link: a link to this API goes to the test server.
func (e *env) fetch(link string, headers map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	if strings.HasPrefix(link, e.app.Config.URL) {
		link = e.gql.URL() + strings.TrimPrefix(link, e.app.Config.URL)
	}
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, body
}

func (e *env) fileURL(id string, expiresIn int) string {
	e.t.Helper()
	var out struct {
		Node struct {
			URL string `json:"url"`
		} `json:"node"`
	}
	e.gql.MustData(`query($id: ID!, $e: Int) { node(id: $id) { ... on File { url(expiresIn: $e) } } }`, map[string]any{"id": id, "e": expiresIn}, &out)
	return out.Node.URL
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// disks runs fn on local storage and on the S3-compatible server.
func disks(t *testing.T, fn func(t *testing.T, disk string, extra []string)) {
	t.Run("local", func(t *testing.T) { fn(t, "local", nil) })
	t.Run("s3", func(t *testing.T) { fn(t, "s3", testutil.NewBucket(t)) })
}

// TestFilesFlow uploads, lists, downloads (whole and ranges), signs and
// deletes files on every database, with local storage and with S3.
func TestFilesFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		disks(t, func(t *testing.T, disk string, extra []string) {
			e := newEnv(t, b, extra...)
			sh := e.create(createInput(activeCustomer, "DHL"))

			label := uploaded(t, upload(e.gql, sh.ID, "LABEL", "label.pdf", samplePDF))
			if label.ContentType != files.TypePDF || label.Size != int64(len(samplePDF)) || label.Sha256 != sha(samplePDF) || label.Name != "label.pdf" || label.Kind != "LABEL" {
				t.Fatalf("label = %+v", label)
			}
			if !strings.HasPrefix(label.UploadedBy, "key:") {
				t.Errorf("uploadedBy = %q, want the key", label.UploadedBy)
			}

			// A batch: all stored, in order.
			r := e.gql.Upload(uploadManyMutation, map[string]any{"s": sh.ID, "files": []any{
				map[string]any{"kind": "PROOF_OF_DELIVERY", "file": nil},
				map[string]any{"kind": "INVOICE", "file": nil},
				map[string]any{"kind": "LABEL", "file": nil},
			}},
				testutil.File{Var: "variables.files.0.file", Name: "pod.png", Body: samplePNG},
				testutil.File{Var: "variables.files.1.file", Name: "invoice.csv", Body: sampleCSV},
				testutil.File{Var: "variables.files.2.file", Name: "zebra.zpl", Body: sampleZPL})
			var many struct {
				UploadShipmentFiles []fileJSON `json:"uploadShipmentFiles"`
			}
			if err := json.Unmarshal(r.Data, &many); err != nil || len(r.Errors) > 0 {
				t.Fatalf("batch: %s", r.Raw)
			}
			got := []string{}
			for _, f := range many.UploadShipmentFiles {
				got = append(got, f.Kind+"/"+f.ContentType)
			}
			if want := "PROOF_OF_DELIVERY/image/png INVOICE/text/csv LABEL/application/x-zpl"; strings.Join(got, " ") != want {
				t.Fatalf("batch = %v, want %s", got, want)
			}

			// Listed with the shipment, filtered by kind, and by node.
			var list struct {
				Shipment struct {
					Files  []fileJSON `json:"files"`
					Labels []fileJSON `json:"labels"`
				} `json:"shipment"`
				Node fileJSON `json:"node"`
			}
			e.gql.MustData(`query($id: ID!, $f: ID!) {
				shipment(id: $id) { files { id kind name } labels: files(kind: LABEL) { id name } }
				node(id: $f) { ... on File { id name size } } }`, map[string]any{"id": sh.ID, "f": label.ID}, &list)
			if len(list.Shipment.Files) != 4 || len(list.Shipment.Labels) != 2 || list.Shipment.Files[0].ID != label.ID {
				t.Fatalf("files = %+v", list.Shipment)
			}
			if list.Node.ID != label.ID || list.Node.Size != int64(len(samplePDF)) {
				t.Fatalf("node = %+v", list.Node)
			}
			if n := len(e.objects()); n != 4 {
				t.Fatalf("%d objects stored, want 4", n)
			}

			// Download: whole, a range, the headers.
			resp, body := e.fetch(label.URL, nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, samplePDF) {
				t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(body))
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=label.pdf` {
				t.Errorf("Content-Disposition = %q", cd)
			}
			if ct := resp.Header.Get("Content-Type"); ct != files.TypePDF {
				t.Errorf("Content-Type = %q", ct)
			}
			etag := resp.Header.Get("ETag")
			if etag == "" {
				t.Error("no ETag")
			}
			resp, body = e.fetch(label.URL, map[string]string{"Range": "bytes=5-14"})
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, samplePDF[5:15]) {
				t.Fatalf("range: %d %q", resp.StatusCode, body)
			}
			resp, body = e.fetch(label.URL, map[string]string{"Range": fmt.Sprintf("bytes=-%d", 7)})
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, samplePDF[len(samplePDF)-7:]) {
				t.Fatalf("suffix range: %d %q", resp.StatusCode, body)
			}
			resp, _ = e.fetch(label.URL, map[string]string{"If-None-Match": etag})
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
			}
			if disk == "local" && etag != `"`+label.Sha256+`"` {
				t.Errorf("ETag = %s, want the sha256", etag)
			}

			// Tampered links: 403.
			u, _ := url.Parse(label.URL)
			q := u.Query()
			for _, tamper := range []func(url.Values){
				func(v url.Values) { s := v.Get(sigParam(disk)); v.Set(sigParam(disk), flip(s)) },
				func(v url.Values) { v.Del(sigParam(disk)) },
			} {
				v := url.Values{}
				for k, vs := range q {
					v[k] = append([]string(nil), vs...)
				}
				tamper(v)
				t2 := *u
				t2.RawQuery = v.Encode()
				// S3 answers a link without its signature 400 (malformed), like AWS.
				if resp, _ := e.fetch(t2.String(), nil); resp.StatusCode != http.StatusForbidden && (disk == "local" || resp.StatusCode != http.StatusBadRequest) {
					t.Errorf("tampered link %s: %d, want 403", t2.RawQuery, resp.StatusCode)
				}
			}
			if disk == "s3" {
				// S3 serves its own links: this API's /files/ serves none,
				// whatever a forger signs (with no key configured, an empty one).
				exp := time.Now().Add(time.Hour).Unix()
				m := hmac.New(sha256.New, nil)
				fmt.Fprintf(m, "shipmentapp-file-link-v2\n%s\n%d", label.ID, exp)
				forged := fmt.Sprintf("%s/files/%s/x?expires=%d&signature=%x", e.app.Config.URL, label.ID, exp, m.Sum(nil))
				if resp, body := e.fetch(forged, nil); resp.StatusCode != http.StatusNotFound || bytes.Contains(body, samplePDF[:20]) {
					t.Errorf("a forged /files/ link on S3: %d", resp.StatusCode)
				}
			}
			if disk == "local" {
				other := strings.Replace(label.URL, label.ID, many.UploadShipmentFiles[0].ID, 1)
				if resp, _ := e.fetch(other, nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("link moved to another file: %d, want 403", resp.StatusCode)
				}
			}

			// An expired link: 403.
			short := e.fileURL(label.ID, 1)
			time.Sleep(2100 * time.Millisecond)
			if resp, _ := e.fetch(short, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("expired link: %d, want 403", resp.StatusCode)
			}
			e.gql.MustFail(`query($id: ID!) { node(id: $id) { ... on File { url(expiresIn: 0) } } }`, map[string]any{"id": label.ID}, "BAD_USER_INPUT")
			e.gql.MustFail(`query($id: ID!) { node(id: $id) { ... on File { url(expiresIn: 3601) } } }`, map[string]any{"id": label.ID}, "BAD_USER_INPUT")

			// Delete: row and object gone, the link answers 404 (local) or 403/404 (S3).
			staff := e.gql.As(e.key(auth.RoleStaff))
			var del struct {
				DeleteFile string `json:"deleteFile"`
			}
			staff.MustData(`mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": label.ID}, &del)
			if del.DeleteFile != label.ID {
				t.Fatalf("deleteFile = %q", del.DeleteFile)
			}
			if n := len(e.objects()); n != 3 {
				t.Fatalf("%d objects after delete, want 3", n)
			}
			if n := e.fileRows(); n != 3 {
				t.Fatalf("%d rows after delete, want 3", n)
			}
			if resp, _ := e.fetch(label.URL, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("download of a deleted file: %d, want 404", resp.StatusCode)
			}
			staff.MustFail(`mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": label.ID}, "NOT_FOUND")
		})
	})
}

func sigParam(disk string) string {
	if disk == "s3" {
		return "X-Amz-Signature"
	}
	return "signature"
}

// flip changes the first hex digit of s.
func flip(s string) string {
	if s == "" {
		return "00"
	}
	c := byte('0')
	if s[0] == '0' {
		c = '1'
	}
	return string(c) + s[1:]
}

// TestFilesPartnerScope: a partner uploads to, lists and downloads the files
// of its customers' shipments only, and cannot delete.
func TestFilesPartnerScope(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		mine := e.create(createInput(activeCustomer, "DHL"))
		theirs := e.create(createInput(otherActiveCustomer, "DHL"))
		theirFile := uploaded(t, upload(e.gql, theirs.ID, "INVOICE", "invoice.pdf", samplePDF))
		partner := e.gql.As(e.key(auth.RolePartner, activeCustomer))

		pod := uploaded(t, upload(partner, mine.ID, "PROOF_OF_DELIVERY", "pod.jpg", sampleJPEG))
		if pod.ContentType != files.TypeJPEG {
			t.Fatalf("pod = %+v", pod)
		}
		before := len(e.objects())
		r := upload(partner, theirs.ID, "PROOF_OF_DELIVERY", "pod.jpg", sampleJPEG)
		if got := r.Codes(); len(got) != 1 || got[0] != "NOT_FOUND" {
			t.Fatalf("upload to another partner's shipment: %s", r.Raw)
		}
		if after := len(e.objects()); after != before {
			t.Fatalf("a refused upload stored an object (%d -> %d)", before, after)
		}
		var out struct {
			Node *fileJSON `json:"node"`
			Mine struct {
				Files []fileJSON `json:"files"`
			} `json:"mine"`
		}
		partner.MustData(`query($f: ID!, $s: ID!) { node(id: $f) { id } mine: shipment(id: $s) { files { id } } }`,
			map[string]any{"f": theirFile.ID, "s": mine.ID}, &out)
		if out.Node != nil || len(out.Mine.Files) != 1 || out.Mine.Files[0].ID != pod.ID {
			t.Fatalf("partner sees %+v", out)
		}
		partner.MustFail(`mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": pod.ID}, "FORBIDDEN")
		partner.MustFail(`mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": theirFile.ID}, "NOT_FOUND")
		if n := e.fileRows(); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}

// TestUploadBadInput: every refused upload has a clear error and stores
// nothing.
func TestUploadBadInput(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "FILE_MAX_BYTES=4096", "FILE_MAX_REQUEST_BYTES=65536", "FILE_MAX_FILES=3")
	sh := e.create(createInput(activeCustomer, "DHL"))
	ops := func(vars map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"query": uploadOneMutation, "variables": vars})
		return b
	}
	vars := map[string]any{"s": sh.ID, "k": "LABEL", "f": nil}
	raw := func(parts ...testutil.Part) *testutil.Response {
		body, ct := testutil.Multipart(t, parts...)
		return e.gql.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": ct, "Apollo-Require-Preflight": "1"}, body)
	}
	fileParts := func(m string, files ...testutil.Part) []testutil.Part {
		return append([]testutil.Part{{Name: "operations", Body: ops(vars)}, {Name: "map", Body: []byte(m)}}, files...)
	}
	pdfPart := testutil.Part{Name: "0", FileName: "a.pdf", ContentType: "application/pdf", Body: samplePDF[:1000]}
	cases := []struct {
		name   string
		do     func() *testutil.Response
		status int
		code   string
	}{
		{"over-size file", func() *testutil.Response {
			return upload(e.gql, sh.ID, "LABEL", "big.pdf", append(append([]byte{}, samplePDF...), make([]byte, 8192)...))
		}, 200, "FILE_TOO_LARGE"},
		{"html as a label", func() *testutil.Response { return upload(e.gql, sh.ID, "LABEL", "label.pdf", sampleHTML) }, 200, "UNSUPPORTED_FILE_TYPE"},
		{"jpeg as a label", func() *testutil.Response { return upload(e.gql, sh.ID, "LABEL", "label.pdf", sampleJPEG) }, 200, "UNSUPPORTED_FILE_TYPE"},
		{"csv as a proof of delivery", func() *testutil.Response {
			return upload(e.gql, sh.ID, "PROOF_OF_DELIVERY", "pod.csv", sampleCSV)
		}, 200, "UNSUPPORTED_FILE_TYPE"},
		{"binary junk", func() *testutil.Response {
			return upload(e.gql, sh.ID, "OTHER", "x.bin", []byte{0, 1, 2, 3, 0xff, 0xfe})
		}, 200, "UNSUPPORTED_FILE_TYPE"},
		{"empty file", func() *testutil.Response { return upload(e.gql, sh.ID, "LABEL", "e.pdf", nil) }, 200, "BAD_USER_INPUT"},
		{"unknown shipment", func() *testutil.Response {
			return upload(e.gql, "U2hpcG1lbnQ6OTk5OTk5", "LABEL", "a.pdf", samplePDF)
		}, 200, "NOT_FOUND"},
		{"tracking event ID as shipment", func() *testutil.Response {
			return upload(e.gql, "VHJhY2tpbmdFdmVudDox", "LABEL", "a.pdf", samplePDF)
		}, 200, "BAD_USER_INPUT"},
		{"no map part", func() *testutil.Response {
			return raw(testutil.Part{Name: "operations", Body: ops(vars)}, pdfPart)
		}, 400, "BAD_USER_INPUT"},
		{"no operations part", func() *testutil.Response { return raw(pdfPart) }, 400, "BAD_USER_INPUT"},
		{"map is not JSON", func() *testutil.Response { return raw(fileParts(`{"0":`, pdfPart)...) }, 400, "BAD_USER_INPUT"},
		{"map names a part the body lacks", func() *testutil.Response { return raw(fileParts(`{"7":["variables.f"]}`, pdfPart)...) }, 200, "BAD_USER_INPUT"},
		{"map path outside variables", func() *testutil.Response { return raw(fileParts(`{"0":["query"]}`, pdfPart)...) }, 400, "BAD_USER_INPUT"},
		{"map path to a non-null value", func() *testutil.Response { return raw(fileParts(`{"0":["variables.k"]}`, pdfPart)...) }, 400, "BAD_USER_INPUT"},
		{"map path to a missing variable", func() *testutil.Response { return raw(fileParts(`{"0":["variables.nope"]}`, pdfPart)...) }, 400, "BAD_USER_INPUT"},
		{"one file for two variables", func() *testutil.Response {
			return raw(fileParts(`{"0":["variables.f","variables.f"]}`, pdfPart)...)
		}, 400, "BAD_USER_INPUT"},
		{"too many files", func() *testutil.Response {
			return raw(fileParts(`{"0":["variables.f"],"1":["variables.a"],"2":["variables.b"],"3":["variables.c"]}`, pdfPart)...)
		}, 400, "BAD_USER_INPUT"},
		{"no file in the map", func() *testutil.Response { return raw(fileParts(`{}`)...) }, 400, "BAD_USER_INPUT"},
		{"batched operations", func() *testutil.Response {
			return raw(testutil.Part{Name: "operations", Body: []byte(`[{"query":"{__typename}"}]`)}, testutil.Part{Name: "map", Body: []byte(`{}`)})
		}, 400, "BAD_USER_INPUT"},
		{"operations not JSON", func() *testutil.Response {
			return raw(testutil.Part{Name: "operations", Body: []byte(`{"query":`)}, testutil.Part{Name: "map", Body: []byte(`{}`)})
		}, 400, "BAD_USER_INPUT"},
		{"upload sent inline in JSON", func() *testutil.Response {
			return e.gql.Do(uploadOneMutation, map[string]any{"s": sh.ID, "k": "LABEL", "f": "JVBERi0xLjcK"})
		}, 200, "BAD_USER_INPUT"},
		{"truncated body", func() *testutil.Response {
			body, ct := testutil.Multipart(t, fileParts(`{"0":["variables.f"]}`, pdfPart)...)
			cut := body[:len(body)-200]
			return e.gql.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": ct, "Apollo-Require-Preflight": "1"}, cut)
		}, 200, "BAD_USER_INPUT"},
		{"body over the request limit", func() *testutil.Response {
			big := testutil.Part{Name: "0", FileName: "a.pdf", Body: append(append([]byte{}, samplePDF...), make([]byte, 70000)...)}
			return raw(fileParts(`{"0":["variables.f"]}`, big)...)
		}, 413, "REQUEST_TOO_LARGE"},
		{"not multipart at all", func() *testutil.Response {
			return e.gql.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": "multipart/form-data", "Apollo-Require-Preflight": "1"}, []byte("x"))
		}, 400, "BAD_USER_INPUT"},
		{"without a preflight header", func() *testutil.Response {
			body, ct := testutil.Multipart(t, fileParts(`{"0":["variables.f"]}`, pdfPart)...)
			// A forgery carries no credentials header.
			return e.gql.Anonymous().RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": ct}, body)
		}, 400, "CSRF_PREVENTED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.do()
			if r.Status != c.status {
				t.Errorf("status %d, want %d: %s", r.Status, c.status, r.Raw)
			}
			if got := r.Codes(); len(got) == 0 || got[0] != c.code {
				t.Errorf("codes %v, want %s: %s", got, c.code, r.Raw)
			}
			for _, er := range r.Errors {
				if er.Code() == "INTERNAL" {
					t.Errorf("internal error: %s", r.Raw)
				}
			}
			if n := e.fileRows(); n != 0 {
				t.Fatalf("%d file rows after a refused upload", n)
			}
			if objs := e.objects(); len(objs) != 0 {
				t.Fatalf("objects after a refused upload: %v", objs)
			}
			if res, err := e.app.Files.Sweep(context.Background(), -time.Hour); err != nil || res.TempFiles != 0 {
				t.Fatalf("temporary files left: %+v %v", res, err)
			}
		})
	}

	// The client's name is sanitised, never refused.
	for _, c := range []struct{ in, want string }{
		{"../../etc/passwd.pdf", "passwd.pdf"},
		{`C:\Users\me\label.pdf`, "label.pdf"},
		{"la\x00bel\r\n.pdf", "label.pdf"},
		{"inv\u202eoice\u202c.pdf", "invoice.pdf"},
		{"  .hidden. ", "hidden"},
		{"a\"b<c>.pdf", "a_b_c_.pdf"},
		{"/", "file"},
	} {
		f := uploaded(t, upload(e.gql, sh.ID, "LABEL", c.in, samplePDF[:100]))
		if f.Name != c.want {
			t.Errorf("name %q stored as %q, want %q", c.in, f.Name, c.want)
		}
	}
}

// TestUploadOutOfOrder: files whose parts come in another order than the
// resolver reads them are spooled, not deadlocked.
func TestUploadOutOfOrder(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	sh := e.create(createInput(activeCustomer, "DHL"))
	ops, _ := json.Marshal(map[string]any{"query": uploadManyMutation, "variables": map[string]any{"s": sh.ID, "files": []any{
		map[string]any{"kind": "LABEL", "file": nil}, map[string]any{"kind": "INVOICE", "file": nil},
	}}})
	body, ct := testutil.Multipart(t,
		testutil.Part{Name: "operations", Body: ops},
		testutil.Part{Name: "map", Body: []byte(`{"b":["variables.files.1.file"],"a":["variables.files.0.file"]}`)},
		testutil.Part{Name: "b", FileName: "invoice.csv", Body: sampleCSV},
		testutil.Part{Name: "unmapped", FileName: "x", Body: []byte("ignored")},
		testutil.Part{Name: "a", FileName: "label.pdf", Body: samplePDF},
	)
	r := e.gql.RawH(http.MethodPost, "/graphql", map[string]string{"Content-Type": ct, "Apollo-Require-Preflight": "1"}, body)
	var out struct {
		UploadShipmentFiles []fileJSON `json:"uploadShipmentFiles"`
	}
	if err := json.Unmarshal(r.Data, &out); err != nil || len(r.Errors) > 0 || len(out.UploadShipmentFiles) != 2 {
		t.Fatalf("%s", r.Raw)
	}
	if out.UploadShipmentFiles[0].Sha256 != sha(samplePDF) || out.UploadShipmentFiles[1].Sha256 != sha(sampleCSV) {
		t.Fatalf("files = %+v", out.UploadShipmentFiles)
	}
}

// TestUploadBatchIsAtomic: one bad file in a batch stores none of them.
func TestUploadBatchIsAtomic(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	sh := e.create(createInput(activeCustomer, "DHL"))
	r := e.gql.Upload(uploadManyMutation, map[string]any{"s": sh.ID, "files": []any{
		map[string]any{"kind": "LABEL", "file": nil}, map[string]any{"kind": "INVOICE", "file": nil},
	}},
		testutil.File{Var: "variables.files.0.file", Name: "label.pdf", Body: samplePDF},
		testutil.File{Var: "variables.files.1.file", Name: "invoice.html", Body: sampleHTML})
	if got := r.Codes(); len(got) != 1 || got[0] != "UNSUPPORTED_FILE_TYPE" || r.Errors[0].Extensions["field"] != "files.1.file" {
		t.Fatalf("%s", r.Raw)
	}
	if n, objs := e.fileRows(), e.objects(); n != 0 || len(objs) != 0 {
		t.Fatalf("rows %d, objects %v after a failed batch", n, objs)
	}
}

// TestUploadStorageDown: a store that cannot be reached is a clear error
// and no row.
func TestUploadStorageDown(t *testing.T) {
	_, access, secret := testutil.S3()
	e := newEnv(t, testutil.SQLite, "FILESYSTEM_DISK=s3", "AWS_BUCKET=nowhere", "AWS_ENDPOINT=http://127.0.0.1:1",
		"AWS_USE_PATH_STYLE_ENDPOINT=true", "AWS_ACCESS_KEY_ID="+access, "AWS_SECRET_ACCESS_KEY="+secret)
	sh := e.create(createInput(activeCustomer, "DHL"))
	r := upload(e.gql, sh.ID, "LABEL", "label.pdf", samplePDF)
	if got := r.Codes(); len(got) != 1 || got[0] != "STORAGE_UNAVAILABLE" {
		t.Fatalf("%s", r.Raw)
	}
	if strings.Contains(string(r.Raw), "127.0.0.1:1") {
		t.Errorf("the error leaks the store's address: %s", r.Raw)
	}
	if n := e.fileRows(); n != 0 {
		t.Fatalf("%d rows", n)
	}
}

// TestUploadDatabaseFailure: when the row cannot be written after the
// object was, the object is deleted; if even that fails (a crash), the
// sweeper removes it, and only it.
func TestUploadDatabaseFailure(t *testing.T) {
	disks(t, func(t *testing.T, disk string, extra []string) {
		e := newEnv(t, testutil.SQLite, extra...)
		sh := e.create(createInput(activeCustomer, "DHL"))
		kept := uploaded(t, upload(e.gql, sh.ID, "LABEL", "kept.pdf", samplePDF))

		e.app.Client.File.Use(failCreates)
		r := upload(e.gql, sh.ID, "INVOICE", "invoice.pdf", samplePDF)
		if got := r.Codes(); len(got) != 1 || got[0] != "INTERNAL" {
			t.Fatalf("%s", r.Raw)
		}
		if objs := e.objects(); len(objs) != 1 {
			t.Fatalf("objects after a failed insert: %v (want only the kept file)", objs)
		}

		// A crash between the object write and the commit: simulated by an
		// object written without its row.
		orphan := files.KeyPrefix + "2020/01/01/00000000000000000000000000000000"
		if err := e.app.Files.Store().Put(context.Background(), orphan, bytes.NewReader(samplePDF), storage.Meta{}); err != nil {
			t.Fatal(err)
		}
		res, err := e.app.Files.Sweep(context.Background(), time.Hour)
		if err != nil || res.Deleted != 0 {
			t.Fatalf("sweep within the grace period: %+v %v", res, err)
		}
		wantFailed := 0
		if local, ok := e.app.Files.Store().(*storage.Local); ok {
			// A stray file with a key this service never writes is left
			// alone, and does not stop the sweep.
			stray := filepath.Join(local.Root(), "files", "2020", "01", "01", "Backup~")
			if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			wantFailed = 1
		}
		res, err = e.app.Files.Sweep(context.Background(), -time.Minute)
		if err != nil || res.Deleted != 1 || res.Checked != 2 || res.Failed != wantFailed {
			t.Fatalf("sweep: %+v %v", res, err)
		}
		objs := e.objects()
		if len(objs) != 1+wantFailed {
			t.Fatalf("objects after the sweep: %v", objs)
		}
		resp, body := e.fetch(e.fileURL(kept.ID, 60), nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, samplePDF) {
			t.Fatalf("the referenced file was swept: %d", resp.StatusCode)
		}
	})
}

// failCreates makes every file insert fail, as a database failing after the
// object write would.
func failCreates(next ent.Mutator) ent.Mutator {
	return hook.FileFunc(func(ctx context.Context, m *ent.FileMutation) (ent.Value, error) {
		if m.Op().Is(ent.OpCreate) {
			return nil, errors.New("database failure injected by the test")
		}
		return next.Mutate(ctx, m)
	})
}

// FuzzUpload sends arbitrary multipart bodies to /graphql: whatever the
// parts say, the answer is a JSON error or result with a client status,
// never a 5xx or an INTERNAL error, and no temporary file is left behind.
func FuzzUpload(f *testing.F) {
	e := newEnv(f, testutil.SQLite, "FILE_MAX_BYTES=2048", "FILE_MAX_REQUEST_BYTES=16384", "FILE_MAX_FILES=4",
		"FILE_UPLOAD_TIMEOUT=20s", "FILE_SWEEP_GRACE=10m")
	sh := e.create(createInput(activeCustomer, "DHL"))
	const boundary = "fuzzboundary"
	seed := func(parts ...testutil.Part) {
		body, ct := testutil.Multipart(f, parts...)
		_, params, _ := strings.Cut(ct, "boundary=")
		f.Add(bytes.ReplaceAll(body, []byte(params), []byte(boundary)))
	}
	ops, _ := json.Marshal(map[string]any{"query": uploadOneMutation, "variables": map[string]any{"s": sh.ID, "k": "LABEL", "f": nil}})
	many, _ := json.Marshal(map[string]any{"query": uploadManyMutation, "variables": map[string]any{"s": sh.ID, "files": []any{
		map[string]any{"kind": "LABEL", "file": nil}, map[string]any{"kind": "INVOICE", "file": nil}}}})
	pdf := testutil.Part{Name: "0", FileName: "a.pdf", Body: samplePDF[:300]}
	seed(testutil.Part{Name: "operations", Body: ops}, testutil.Part{Name: "map", Body: []byte(`{"0":["variables.f"]}`)}, pdf)
	seed(testutil.Part{Name: "operations", Body: many}, testutil.Part{Name: "map", Body: []byte(`{"1":["variables.files.1.file"],"0":["variables.files.0.file"]}`)},
		testutil.Part{Name: "1", FileName: "i.csv", Body: sampleCSV}, pdf)
	seed(testutil.Part{Name: "operations", Body: ops}, pdf)
	seed(testutil.Part{Name: "map", Body: []byte(`{}`)})
	seed(testutil.Part{Name: "operations", Body: ops}, testutil.Part{Name: "map", Body: []byte(`{}`)})
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{__typename}\"}\r\n--" + boundary))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		start := time.Now()
		r := e.gql.With(t).RawH(http.MethodPost, "/graphql", map[string]string{
			"Content-Type": "multipart/form-data; boundary=" + boundary, "Apollo-Require-Preflight": "1",
		}, body)
		if r.Status >= 500 || !strings.Contains(r.Header.Get("Content-Type"), "json") {
			t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
		}
		// Nothing here waits on the network: a slow answer is a request that
		// hung until FILE_UPLOAD_TIMEOUT.
		if d := time.Since(start); d > 15*time.Second {
			t.Fatalf("the request took %s: %s", d, r.Raw)
		}
		for _, er := range r.Errors {
			if er.Code() == "INTERNAL" || er.Code() == "" {
				t.Fatalf("error without a client code: %s", r.Raw)
			}
		}
		if res, err := e.app.Files.Sweep(context.Background(), time.Hour); err != nil || res.TempFiles != 0 {
			t.Fatalf("sweep: %+v %v", res, err)
		}
	})
}

// TestUploadConcurrencyCap: past FILE_MAX_CONCURRENT_UPLOADS uploads in
// progress, the next one is turned away with 429 and Retry-After, and the
// slot comes back when the upload ends.
func TestUploadConcurrencyCap(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "FILE_MAX_CONCURRENT_UPLOADS=1")
	sh := e.create(createInput(activeCustomer, "DHL"))
	ops, _ := json.Marshal(map[string]any{"query": uploadOneMutation, "variables": map[string]any{"s": sh.ID, "k": "LABEL", "f": nil}})
	body, ct := testutil.Multipart(t,
		testutil.Part{Name: "operations", Body: ops}, testutil.Part{Name: "map", Body: []byte(`{"0":["variables.f"]}`)},
		testutil.Part{Name: "0", FileName: "a.pdf", Body: samplePDF})
	// The first upload sends all but its last bytes, then waits.
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	go func() { _, _ = pw.Write(body[:len(body)-100]) }()
	req, _ := http.NewRequest(http.MethodPost, e.gql.URL()+"/graphql", pr)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Apollo-Require-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+e.adminKey)
	first := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		first <- resp
	}()
	for deadline := time.Now().Add(30 * time.Second); e.app.UploadsInProgress() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first upload never started")
		}
	}
	r := upload(e.gql, sh.ID, "LABEL", "b.pdf", samplePDF)
	if m := e.gql.RawH(http.MethodGet, "/metrics", nil, nil); !strings.Contains(string(m.Raw), "shipmentapp_uploads_in_progress 1") {
		t.Errorf("metrics do not show the upload in progress")
	}
	if r.Status != http.StatusTooManyRequests || r.Codes()[0] != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("second upload: %d %s", r.Status, r.Raw)
	}
	_, _ = pw.Write(body[len(body)-100:])
	_ = pw.Close()
	resp := <-first
	if resp == nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("first upload: %v", resp)
	}
	_ = resp.Body.Close()
	uploaded(t, upload(e.gql, sh.ID, "LABEL", "c.pdf", samplePDF))
}

// TestUploadSlowOperations: a client that trickles the operations part is
// cut off after HTTP_REQUEST_TIMEOUT with 408 TIMEOUT, and the answer names
// none of the server's addresses.
func TestUploadSlowOperations(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "HTTP_REQUEST_TIMEOUT=1s")
	c, err := net.Dial("tcp", strings.TrimPrefix(e.gql.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nApollo-Require-Preflight: 1\r\n"+
		"Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n"+
		"--XX\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":", e.adminKey)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"TIMEOUT"`) || strings.Contains(string(b), "127.0.0.1") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
