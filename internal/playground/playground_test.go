package playground_test

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	gqlplayground "github.com/99designs/gqlgen/graphql/playground"

	"github.com/shipmentapp/shipmentapp/internal/playground"
)

// server mounts the playground as internal/app does.
func server(t *testing.T, endpoint string) *httptest.Server {
	t.Helper()
	pg, err := playground.NewHandler(playground.Options{Title: "shipmentapp", Endpoint: endpoint, Introspection: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /playground", pg)
	mux.Handle("GET "+playground.AssetsPath, pg)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// Ask for gzip ourselves, or the transport would decode it unseen.
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// ref is a file the page loads: a <script src> or a <link href>.
type ref struct {
	tag, url, integrity string
}

var (
	tagRe  = regexp.MustCompile(`<(script|link)\b[^>]*>`)
	attrRe = regexp.MustCompile(`\b(src|href|integrity|rel)="([^"]*)"`)
)

func refs(page string) []ref {
	var out []ref
	for _, tag := range tagRe.FindAllStringSubmatch(page, -1) {
		r := ref{tag: tag[1]}
		for _, a := range attrRe.FindAllStringSubmatch(tag[0], -1) {
			switch v := html.UnescapeString(a[2]); a[1] {
			case "src", "href":
				r.url = v
			case "integrity":
				r.integrity = v
			}
		}
		if r.url != "" {
			out = append(out, r)
		}
	}
	return out
}

func TestPageLoadsOnlyItsOwnAssets(t *testing.T) {
	srv := server(t, "/graphql")
	resp, body := get(t, srv.URL+"/playground", nil)
	page := string(body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /playground: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if m := regexp.MustCompile(`(?i)(https?:|wss?:|["'(=]\s*)//[a-z0-9.-]+`).FindAllString(page, -1); len(m) > 0 {
		t.Errorf("the page names other hosts: %q", m)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self';", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy allows unsafe sources: %q", csp)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<style") || strings.Contains(page, " style=") {
		t.Error("the page has inline script or styles, which its policy forbids")
	}
	if !strings.Contains(page, `data-endpoint="/graphql"`) {
		t.Error("the page does not name its endpoint")
	}

	loaded := 0
	for _, r := range refs(page) {
		if r.url == "data:," { // the empty favicon
			continue
		}
		if !strings.HasPrefix(r.url, playground.AssetsPath) {
			t.Errorf("<%s> loads %q, not one of the embedded assets", r.tag, r.url)
			continue
		}
		loaded++
		wantType := map[string]string{"script": "text/javascript", "link": "text/css"}[r.tag]
		resp, body := get(t, srv.URL+r.url, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", r.url, resp.StatusCode)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
			t.Errorf("GET %s: Content-Type %q, want %s", r.url, ct, wantType)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("GET %s: Cache-Control %q", r.url, cc)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", r.url)
		}
		if got := sri(body); r.integrity != got {
			t.Errorf("%s: the page says integrity %q, the body served hashes to %q", r.url, r.integrity, got)
		}
		// Compressed for browsers that ask, the same bytes once decoded.
		resp, gz := get(t, srv.URL+r.url, map[string]string{"Accept-Encoding": "gzip, deflate, br"})
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("GET %s with Accept-Encoding gzip: Content-Encoding %q", r.url, resp.Header.Get("Content-Encoding"))
			continue
		}
		zr, err := gzip.NewReader(strings.NewReader(string(gz)))
		if err != nil {
			t.Fatal(err)
		}
		if plain, err := io.ReadAll(zr); err != nil || sri(plain) != r.integrity {
			t.Errorf("GET %s gzipped: decodes to other bytes (%v)", r.url, err)
		}
	}
	// React, ReactDOM, GraphiQL's script and styles, the page's script and styles.
	if loaded != 6 {
		t.Errorf("the page loads %d assets, want 6: %+v", loaded, refs(page))
	}
}

func TestUnknownAsset(t *testing.T) {
	srv := server(t, "/graphql")
	for _, path := range []string{
		playground.AssetsPath + "nope.js",
		playground.AssetsPath,
		playground.AssetsPath + "graphiql-4.1.2.min.js.map",
		playground.AssetsPath + "page.js", // only under its hashed name
		playground.AssetsPath + "..%2fplayground.go",
	} {
		if resp, _ := get(t, srv.URL+path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestSameFilesAsGqlgen: the embedded files are those gqlgen's own
// playground loads from jsDelivr, byte for byte (its SRI hashes). When a
// gqlgen upgrade moves its defaults, this fails: run
// scripts/playground-assets.sh with the versions it names.
func TestSameFilesAsGqlgen(t *testing.T) {
	rec := httptest.NewRecorder()
	gqlplayground.Handler("x", "/graphql").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	cdn := map[string]string{} // gqlgen's URL -> its integrity
	for _, r := range refs(rec.Body.String()) {
		cdn[r.url] = r.integrity
	}
	ours := map[string]string{
		"https://cdn.jsdelivr.net/npm/graphiql@4.1.2/graphiql.min.js":                   "graphiql-4.1.2.min.js",
		"https://cdn.jsdelivr.net/npm/graphiql@4.1.2/graphiql.min.css":                  "graphiql-4.1.2.min.css",
		"https://cdn.jsdelivr.net/npm/react@18.2.0/umd/react.production.min.js":         "react-18.2.0.production.min.js",
		"https://cdn.jsdelivr.net/npm/react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom-18.2.0.production.min.js",
	}
	assets := playground.Assets()
	for url, want := range cdn {
		name, ok := ours[url]
		if !ok {
			t.Errorf("gqlgen's playground now loads %s: update the versions in scripts/playground-assets.sh and internal/playground, run the script", url)
			continue
		}
		a := assets[name]
		if a == nil {
			t.Errorf("%s is not embedded (run scripts/playground-assets.sh)", name)
			continue
		}
		if a.Integrity != want || sri(a.Body) != want {
			t.Errorf("%s: embedded %s, gqlgen expects %s: the vendored file is not the published one", name, sri(a.Body), want)
		}
	}
	for url := range ours {
		if _, ok := cdn[url]; !ok {
			t.Errorf("gqlgen's playground no longer loads %s", url)
		}
	}
}

func TestAbsoluteEndpoint(t *testing.T) {
	srv := server(t, "https://api.example.com/graphql")
	resp, _ := get(t, srv.URL+"/playground", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.example.com wss://api.example.com;") {
		t.Errorf("Content-Security-Policy %q does not let the page reach its endpoint", csp)
	}
}
