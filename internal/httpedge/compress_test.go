package httpedge_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/shipmentapp/shipmentapp/internal/httpedge"
)

// jsonBody is a compressible answer of n bytes or more.
func jsonBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":{"shipments":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"` + strconv.Itoa(i) + `","reference":"SHP-` + strconv.Itoa(i) + `","status":"IN_TRANSIT"}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

// answer serves body with contentType, status and extra headers.
func answer(status int, contentType string, body []byte, extra http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range extra {
			w.Header()[k] = v
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// decode undoes the Content-Encoding of a recorded answer.
func decode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	switch enc {
	case "":
		return body
	case "gzip":
		r, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		return out
	case "zstd":
		d, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out, err := d.DecodeAll(body, nil)
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		return out
	}
	t.Fatalf("unexpected Content-Encoding %q", enc)
	return nil
}

// TestCompression: what each Accept-Encoding, size, type and kind of answer
// gets, and that a compressed body decodes to the uncompressed one.
func TestCompression(t *testing.T) {
	const min = 1024
	big, small := jsonBody(8*min), jsonBody(min/4)
	mw, err := httpedge.Compression{MinBytes: min}.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		method      string
		reqHeader   http.Header
		h           http.Handler
		body        []byte // what the handler wrote
		wantEnc     string
		wantVary    bool
		wantNoBody  bool
		wantStatus  int
		wantHeaders http.Header // must be present as given
	}{
		{name: "no Accept-Encoding", reqHeader: nil, body: big, wantEnc: "", wantVary: true},
		{name: "gzip", reqHeader: http.Header{"Accept-Encoding": {"gzip"}}, body: big, wantEnc: "gzip", wantVary: true},
		{name: "zstd", reqHeader: http.Header{"Accept-Encoding": {"zstd"}}, body: big, wantEnc: "zstd", wantVary: true},
		{name: "both, same q: zstd", reqHeader: http.Header{"Accept-Encoding": {"gzip, deflate, br, zstd"}}, body: big, wantEnc: "zstd", wantVary: true},
		{name: "gzip preferred by q", reqHeader: http.Header{"Accept-Encoding": {"zstd;q=0.5, gzip;q=1"}}, body: big, wantEnc: "gzip", wantVary: true},
		{name: "zstd refused by q=0", reqHeader: http.Header{"Accept-Encoding": {"gzip, zstd;q=0"}}, body: big, wantEnc: "gzip", wantVary: true},
		{name: "gzip;q=0 means no", reqHeader: http.Header{"Accept-Encoding": {"gzip;q=0"}}, body: big, wantEnc: "", wantVary: true},
		{name: "identity only", reqHeader: http.Header{"Accept-Encoding": {"identity"}}, body: big, wantEnc: "", wantVary: true},
		{name: "br only", reqHeader: http.Header{"Accept-Encoding": {"br"}}, body: big, wantEnc: "", wantVary: true},
		{name: "below the threshold", reqHeader: http.Header{"Accept-Encoding": {"gzip, zstd"}}, body: small, wantEnc: "", wantVary: true},
		{name: "already compressed type", reqHeader: http.Header{"Accept-Encoding": {"gzip"}},
			h: answer(200, "application/zip", big, nil), body: big, wantEnc: "", wantVary: true},
		{name: "image", reqHeader: http.Header{"Accept-Encoding": {"gzip"}},
			h: answer(200, "image/jpeg", big, nil), body: big, wantEnc: "", wantVary: true},
		{name: "already has a Content-Encoding", reqHeader: http.Header{"Accept-Encoding": {"gzip"}},
			h:    answer(200, "application/json", big, http.Header{"Content-Encoding": {"br"}}),
			body: big, wantEnc: "br", wantVary: true},
		{name: "schema text", reqHeader: http.Header{"Accept-Encoding": {"gzip"}},
			h: answer(200, "text/plain; charset=utf-8", big, nil), body: big, wantEnc: "gzip", wantVary: true},
		{name: "HEAD goes as it is", method: http.MethodHead, reqHeader: http.Header{"Accept-Encoding": {"gzip"}},
			body: big, wantEnc: "", wantVary: true, wantNoBody: true},
		{name: "304 without body", reqHeader: http.Header{"Accept-Encoding": {"gzip"}},
			h: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("ETag", `"v1"`)
				w.WriteHeader(http.StatusNotModified)
			}), wantEnc: "", wantVary: true, wantNoBody: true, wantStatus: http.StatusNotModified,
			wantHeaders: http.Header{"Etag": {`"v1"`}}},
		{name: "error answers are compressed too", reqHeader: http.Header{"Accept-Encoding": {"gzip"}},
			h: answer(http.StatusBadRequest, "application/graphql-response+json", big, nil), body: big,
			wantEnc: "gzip", wantVary: true, wantStatus: http.StatusBadRequest},
		{name: "event stream untouched", reqHeader: http.Header{"Accept-Encoding": {"gzip"}, "Accept": {"text/event-stream"}},
			h: answer(200, "text/event-stream", big, nil), body: big, wantEnc: "", wantVary: false},
		{name: "event stream type untouched whatever the Accept", reqHeader: http.Header{"Accept-Encoding": {"gzip"}},
			h: answer(200, "text/event-stream", big, nil), body: big, wantEnc: "", wantVary: true},
		{name: "websocket upgrade untouched", reqHeader: http.Header{"Accept-Encoding": {"gzip"}, "Connection": {"Upgrade"}, "Upgrade": {"websocket"}},
			body: big, wantEnc: "", wantVary: false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := c.h
			if h == nil {
				h = answer(200, "application/graphql-response+json; charset=utf-8", c.body, nil)
			}
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			srv := httptest.NewServer(mw(h))
			defer srv.Close()
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.reqHeader {
				req.Header[k] = v
			}
			// A transport that leaves the body as it came.
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			want := c.wantStatus
			if want == 0 {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Errorf("status %d, want %d", resp.StatusCode, want)
			}
			enc := resp.Header.Get("Content-Encoding")
			if enc != c.wantEnc {
				t.Errorf("Content-Encoding %q, want %q", enc, c.wantEnc)
			}
			vary := strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding")
			if vary != c.wantVary {
				t.Errorf("Vary %q: Accept-Encoding listed %v, want %v", resp.Header.Values("Vary"), vary, c.wantVary)
			}
			for k, v := range c.wantHeaders {
				if got := resp.Header.Values(k); strings.Join(got, ",") != strings.Join(v, ",") {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			if c.wantNoBody {
				if len(raw) != 0 {
					t.Errorf("a body of %d bytes, want none", len(raw))
				}
				if method == http.MethodHead && resp.ContentLength != int64(len(c.body)) {
					t.Errorf("HEAD Content-Length %d, want the identity length %d", resp.ContentLength, len(c.body))
				}
				return
			}
			if c.wantEnc == "gzip" || c.wantEnc == "zstd" {
				if len(raw) >= len(c.body)/2 {
					t.Errorf("%s answer of %d bytes for %d: not smaller", c.wantEnc, len(raw), len(c.body))
				}
				// The length, if sent, is the compressed one.
				if resp.ContentLength != -1 && resp.ContentLength != int64(len(raw)) {
					t.Errorf("Content-Length %d for a body of %d bytes", resp.ContentLength, len(raw))
				}
			}
			if c.wantEnc == "br" {
				if !bytes.Equal(raw, c.body) {
					t.Error("an answer already encoded was changed")
				}
				return
			}
			if got := decode(t, c.wantEnc, raw); !bytes.Equal(got, c.body) {
				t.Errorf("decoded body (%d bytes) differs from the handler's (%d bytes)", len(got), len(c.body))
			}
		})
	}
}

// TestCompressionStreams: an answer flushed in parts reaches the client part
// by part, compressed, and decodes to the whole.
func TestCompressionStreams(t *testing.T) {
	mw, err := httpedge.Compression{MinBytes: 16}.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Repeat([]byte(`{"part":1,"data":"aaaaaaaaaaaaaaaa"}`), 10)
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "multipart/mixed; boundary=-")
		_, _ = w.Write(first)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		<-release
		_, _ = w.Write([]byte(`{"part":2}`))
	})
	srv := httptest.NewServer(mw(h))
	defer srv.Close()
	defer close(release)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// The first part decodes before the handler writes the second.
	got := make([]byte, len(first))
	if _, err := io.ReadFull(zr, got); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("first part: %v, %q", err, got)
	}
}

// TestCompressionConfig: a negative threshold is refused.
func TestCompressionConfig(t *testing.T) {
	for _, c := range []struct {
		min     int
		wantErr bool
	}{{-1, true}, {0, false}, {httpedge.DefaultCompressMinBytes, false}} {
		_, err := httpedge.Compression{MinBytes: c.min}.Middleware()
		if (err != nil) != c.wantErr {
			t.Errorf("MinBytes %d: error %v, want error %v", c.min, err, c.wantErr)
		}
	}
}
