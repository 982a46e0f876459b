package app_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/shipmentapp/shipmentapp/internal/httpedge"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// rawGet sends a request whose body comes back as the server wrote it (no
// transparent decompression) and returns the answer and its raw body.
func rawDo(t testing.TB, ctx context.Context, method, url string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// decoded undoes a Content-Encoding of gzip or zstd.
func decoded(t testing.TB, enc string, raw []byte) []byte {
	t.Helper()
	switch enc {
	case "":
		return raw
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case "zstd":
		d, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out, err := d.DecodeAll(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatalf("Content-Encoding %q", enc)
	return nil
}

func varyAcceptEncoding(h http.Header) bool {
	return strings.Contains(strings.ToLower(strings.Join(h.Values("Vary"), ",")), "accept-encoding")
}

// TestCompressedAnswers: the nested list of 50 shipments, /schema.graphql
// and the playground's files come compressed as the client asks, and decode
// to the uncompressed answer; file downloads and event streams are left
// alone; HTTP_COMPRESSION=off turns it all off.
func TestCompressedAnswers(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "DEMO_SEED=true", "GRAPHQL_INTROSPECTION=true", "GRAPHQL_PLAYGROUND=true")
	off := newEnv(t, testutil.SQLite, "DEMO_SEED=true", "GRAPHQL_INTROSPECTION=true", "HTTP_COMPRESSION=off")
	srv, offSrv := httptest.NewServer(e.app.Handler), httptest.NewServer(off.app.Handler)
	defer srv.Close()
	defer offSrv.Close()

	list, _ := json.Marshal(map[string]any{"query": nestedList})
	gqlHeader := func(ae string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + e.adminKey}}
		if ae != "" {
			h.Set("Accept-Encoding", ae)
		}
		return h
	}
	_, identity := rawDo(t, t.Context(), http.MethodPost, srv.URL+"/graphql", gqlHeader(""), list)
	if !bytes.Contains(identity, []byte(`"totalCount"`)) || len(identity) < 4096 {
		t.Fatalf("the nested list: %.300s", identity)
	}
	// The off server's own answer: the two servers seed their demo data
	// each at its own time, so their lists differ in the timestamps.
	offHeader := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + off.adminKey}}
	_, offIdentity := rawDo(t, t.Context(), http.MethodPost, offSrv.URL+"/graphql", offHeader, list)
	_, page := rawDo(t, t.Context(), http.MethodGet, srv.URL+"/playground", nil, nil)
	asset := regexp.MustCompile(`src="(/playground/assets/[^"]+\.js)"`).FindSubmatch(page)
	if asset == nil {
		t.Fatalf("no script under /playground/assets/ in %.500s", page)
	}
	_, schema := rawDo(t, t.Context(), http.MethodGet, srv.URL+"/schema.graphql", nil, nil)

	for _, c := range []struct {
		name     string
		method   string
		url      string
		header   http.Header
		body     []byte
		wantEnc  string
		wantVary bool
		want     []byte // the decoded body, when known
	}{
		{"list, gzip", http.MethodPost, srv.URL + "/graphql", gqlHeader("gzip"), list, "gzip", true, identity},
		{"list, zstd", http.MethodPost, srv.URL + "/graphql", gqlHeader("zstd"), list, "zstd", true, identity},
		{"list, a browser's Accept-Encoding", http.MethodPost, srv.URL + "/graphql", gqlHeader("gzip, deflate, br, zstd"), list, "zstd", true, identity},
		{"list, gzip;q=0", http.MethodPost, srv.URL + "/graphql", gqlHeader("gzip;q=0"), list, "", true, identity},
		{"list, not asked", http.MethodPost, srv.URL + "/graphql", gqlHeader(""), list, "", true, identity},
		{"small answer, below the threshold", http.MethodPost, srv.URL + "/graphql", gqlHeader("gzip, zstd"), []byte(`{"query":"{ __typename }"}`), "", true, []byte(`{"data":{"__typename":"Query"}}`)},
		{"list, GET", http.MethodGet, srv.URL + "/graphql?query=" + url.QueryEscape(nestedList), gqlHeader("gzip"), nil, "gzip", true, nil},
		{"schema", http.MethodGet, srv.URL + "/schema.graphql", http.Header{"Accept-Encoding": {"gzip"}}, nil, "gzip", true, schema},
		{"schema, HEAD", http.MethodHead, srv.URL + "/schema.graphql", http.Header{"Accept-Encoding": {"gzip"}}, nil, "", true, []byte{}},
		{"playground script", http.MethodGet, srv.URL + string(asset[1]), http.Header{"Accept-Encoding": {"zstd"}}, nil, "zstd", true, nil},
		{"file download", http.MethodGet, srv.URL + "/files/1/missing.pdf", http.Header{"Accept-Encoding": {"gzip"}}, nil, "", false, nil},
		{"off: list", http.MethodPost, offSrv.URL + "/graphql", http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + off.adminKey}, "Accept-Encoding": {"gzip"}}, list, "", false, offIdentity},
		{"off: schema", http.MethodGet, offSrv.URL + "/schema.graphql", http.Header{"Accept-Encoding": {"gzip"}}, nil, "", false, schema},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, raw := rawDo(t, t.Context(), c.method, c.url, c.header, c.body)
			if c.name != "file download" && resp.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d: %.300s", resp.StatusCode, raw)
			}
			if got := resp.Header.Get("Content-Encoding"); got != c.wantEnc {
				t.Errorf("Content-Encoding %q, want %q", got, c.wantEnc)
			}
			if got := varyAcceptEncoding(resp.Header); got != c.wantVary {
				t.Errorf("Vary %q: Accept-Encoding listed %v, want %v", resp.Header.Values("Vary"), got, c.wantVary)
			}
			if c.wantEnc != "" {
				if resp.ContentLength > 0 && resp.ContentLength != int64(len(raw)) {
					t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(raw))
				}
			}
			body := decoded(t, c.wantEnc, raw)
			if c.want != nil && !bytes.Equal(body, c.want) {
				t.Errorf("decoded answer (%d bytes) differs from the uncompressed one (%d bytes): %.200s", len(body), len(c.want), body)
			}
			// JSON lists repeat their keys: several times smaller. Other
			// text at least smaller.
			ratio := 1
			if c.body != nil || strings.Contains(c.url, "/graphql") {
				ratio = 4
			}
			if c.wantEnc != "" && len(raw)*ratio >= len(body) {
				t.Errorf("%s: %d bytes for %d: not %d times smaller", c.wantEnc, len(raw), len(body), ratio)
			}
		})
	}

	t.Run("event stream", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		body, _ := json.Marshal(map[string]any{"query": eventsSubscription})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header = gqlHeader("gzip, zstd")
		req.Header.Set("Accept", "text/event-stream")
		resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if enc := resp.Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("event stream with Content-Encoding %q", enc)
		}
	})
}

// BenchmarkCompression is workload (a), the nested list of 50 shipments,
// answered as it is, gzip and zstd, side by side: bytes of the answer on the
// wire per request (answer-bytes/op), the ratio to the uncompressed answer,
// and the CPU time of the process per request (cpu-ns/op, from getrusage:
// less disturbed by other work on a shared machine than ns/op). "request"
// runs the whole request; "encode" only the compression middleware around
// a handler writing the stored answer, to isolate what compressing costs.
// docs/BENCHMARKS.md has the figures.
func BenchmarkCompression(b *testing.B) {
	e := newEnv(b, testutil.SQLite, "DEMO_SEED=true")
	body, _ := json.Marshal(map[string]any{"query": nestedList})
	post := func(h http.Handler, ae string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.adminKey)
		if ae != "" {
			req.Header.Set("Accept-Encoding", ae)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	answer := post(e.app.Handler, "")
	if answer.Code != http.StatusOK || bytes.Contains(answer.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("HTTP %d: %.300s", answer.Code, answer.Body.Bytes())
	}
	plain := answer.Body.Bytes()
	compress, err := httpedge.Compression{MinBytes: httpedge.DefaultCompressMinBytes}.Middleware()
	if err != nil {
		b.Fatal(err)
	}
	stored := compress(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/graphql-response+json; charset=utf-8")
		_, _ = w.Write(plain)
	}))
	for _, part := range []struct {
		name string
		h    http.Handler
	}{{"request", e.app.Handler}, {"encode", stored}} {
		for _, enc := range []string{"none", "gzip", "zstd"} {
			ae := strings.TrimPrefix(enc, "none")
			b.Run(part.name+"/"+enc, func(b *testing.B) {
				var wire int
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					rec := post(part.h, ae)
					if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != ae {
						b.Fatalf("HTTP %d, Content-Encoding %q, want %q", rec.Code, rec.Header().Get("Content-Encoding"), ae)
					}
					wire = rec.Body.Len()
				}
				cpu = processCPU() - cpu
				b.StopTimer()
				if got := decoded(b, ae, post(part.h, ae).Body.Bytes()); !bytes.Equal(got, plain) {
					b.Fatalf("decoded answer differs: %.300s", got)
				}
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(wire), "answer-bytes/op")
				b.ReportMetric(float64(len(plain))/float64(wire), "ratio")
			})
		}
	}
}
