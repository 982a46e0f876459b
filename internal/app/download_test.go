package app_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// countFirst counts the database statements of each request it serves,
// making the counter current before the request is served (the client may
// have the whole answer before the handler returns). Requests one at a time.
type countFirst struct {
	h    http.Handler
	mu   sync.Mutex
	last *dbroute.Counter
}

func (c *countFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, counter := dbroute.WithCounter(r.Context())
	c.mu.Lock()
	c.last = counter
	c.mu.Unlock()
	c.h.ServeHTTP(w, r.WithContext(ctx))
}

func (c *countFirst) Last() *dbroute.Counter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// TestDownloadLinkSignatureFirst: a local download link is checked from the
// link alone, before any database read, so that a link not signed for its
// path answers 403 whether the file it names exists or not (issue 18,
// defect 5); only a correctly signed link to a deleted file answers 404.
// Credentials change nothing: the signed link is the permission.
func TestDownloadLinkSignatureFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := newEnv(t, b)
		counting := &countFirst{h: e.app.Handler}
		srv := httptest.NewServer(counting)
		t.Cleanup(srv.Close)

		sh := e.create(createInput(activeCustomer, "DHL"))
		label := uploaded(t, upload(e.gql, sh.ID, "LABEL", "label.pdf", samplePDF))
		other := uploaded(t, upload(e.gql, sh.ID, "INVOICE", "invoice.csv", sampleCSV))
		gone := uploaded(t, upload(e.gql, sh.ID, "OTHER", "gone.csv", sampleCSV))
		local, err := gid.ParseAs(gid.TypeFile, gone.ID)
		if err != nil {
			t.Fatal(err)
		}
		missing := gid.New(gid.TypeFile, local+1000).String() // never existed
		goneURL := e.fileURL(gone.ID, 600)
		e.gql.As(e.key(auth.RoleStaff)).MustData(`mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": gone.ID}, nil)
		expired := e.fileURL(label.ID, 1)
		expiredMissing := strings.Replace(expired, label.ID, missing, 1)
		time.Sleep(2100 * time.Millisecond)
		valid := e.fileURL(label.ID, 600)

		// withQuery returns link with its query parameter key set to value.
		withQuery := func(link, key, value string) string {
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
		sig := func(link string) string {
			u, _ := url.Parse(link)
			return u.Query().Get("signature")
		}

		cases := []struct {
			name string
			link string
			want int
			// reads is whether the request may read the database.
			reads bool
		}{
			{"valid link", valid, http.StatusOK, true},
			{"tampered id of an existing file", strings.Replace(valid, label.ID, other.ID, 1), http.StatusForbidden, false},
			{"tampered id of a missing file", strings.Replace(valid, label.ID, missing, 1), http.StatusForbidden, false},
			{"tampered id of a deleted file", strings.Replace(valid, label.ID, gone.ID, 1), http.StatusForbidden, false},
			{"tampered id that is not a file's", strings.Replace(valid, label.ID, sh.ID, 1), http.StatusForbidden, false},
			{"tampered signature", withQuery(valid, "signature", flip(sig(valid))), http.StatusForbidden, false},
			{"no signature", withQuery(valid, "signature", ""), http.StatusForbidden, false},
			{"tampered expiry", withQuery(valid, "expires", "99999999999"), http.StatusForbidden, false},
			{"expired", expired, http.StatusForbidden, false},
			{"expired, tampered id of a missing file", expiredMissing, http.StatusForbidden, false},
			{"valid signature, deleted file", goneURL, http.StatusNotFound, true},
		}
		for _, tc := range cases {
			for _, creds := range []string{"", e.adminKey} {
				name := tc.name
				if creds != "" {
					name += " with credentials"
				}
				t.Run(name, func(t *testing.T) {
					link := tc.link
					if !strings.HasPrefix(link, e.app.Config.URL+"/files/") {
						t.Fatalf("link %s is not this API's", link)
					}
					req, err := http.NewRequest(http.MethodGet, srv.URL+strings.TrimPrefix(link, e.app.Config.URL), nil)
					if err != nil {
						t.Fatal(err)
					}
					if creds != "" {
						req.Header.Set("Authorization", "Bearer "+creds)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != tc.want {
						t.Fatalf("%s: status %d, want %d (%s)", link, resp.StatusCode, tc.want, bytes.TrimSpace(body))
					}
					if tc.want == http.StatusOK && !bytes.Equal(body, samplePDF) {
						t.Fatalf("body: %d bytes, want the label", len(body))
					}
					if tc.want != http.StatusOK && bytes.Contains(body, samplePDF[:20]) {
						t.Fatal("a refused link served the file")
					}
					if n := counting.Last().Total(); !tc.reads && n != 0 {
						t.Errorf("%d database statements for a link not signed for its path, want 0", n)
					}
				})
			}
		}
	})
}
