// Package playground serves the GraphiQL playground from the binary: the page
// and every file it loads (React, ReactDOM and GraphiQL, the versions gqlgen's
// playground.Handler loads from jsDelivr, vendored by
// scripts/playground-assets.sh) are embedded, so the playground works offline
// and depends on no CDN.
//
// The page is served with a Content-Security-Policy that allows nothing but
// this origin (no inline script, no eval); each file is referenced with the
// Subresource Integrity hash of its embedded bytes.
//
// The package also owns how the page signs in: in development, from this
// machine, it carries a short-lived development session (DevSessions,
// LoopbackRequest) and opens ready to use; elsewhere it asks for an API key
// in a form and stores nothing unless the person opts in. Its tabs are the
// README's example queries (Examples, checked against the README by its
// tests).
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// AssetsPath is where the page's files are served; every name under it is
// immutable (versioned or content-addressed).
const AssetsPath = "/playground/assets/"

// Vendored files, as scripts/playground-assets.sh names them.
const (
	reactFile    = "react-18.2.0.production.min.js"
	reactDOMFile = "react-dom-18.2.0.production.min.js"
	graphiqlJS   = "graphiql-4.1.2.min.js"
	graphiqlCSS  = "graphiql-4.1.2.min.css"
)

var (
	//go:embed assets
	vendored embed.FS
	//go:embed page.html page.js page.css
	own embed.FS
)

// Asset is one file served under AssetsPath.
type Asset struct {
	// URL is the path the page references.
	URL         string
	ContentType string
	// Integrity is the SRI value (sha256) of Body.
	Integrity string
	Body      []byte

	gzipOnce sync.Once
	gzipped  []byte
}

var page = template.Must(template.ParseFS(own, "page.html"))

// catalog is every file served under AssetsPath, by name, and the page's
// own script and styles among them.
type catalog struct {
	byName          map[string]*Asset
	pageJS, pageCSS *Asset
}

// load hashes the embedded files once, when the playground is first used:
// a process that never serves it (production, the CLI) never pays for it.
var load = sync.OnceValue(func() *catalog {
	c := &catalog{byName: map[string]*Asset{}}
	entries, err := fs.ReadDir(vendored, "assets")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(vendored, "assets/"+e.Name())
		if err != nil {
			panic(err)
		}
		c.add(e.Name(), b)
	}
	// The page's own script and styles change with the app: their names
	// carry their content's hash.
	c.pageJS, c.pageCSS = c.addOwn("page.js"), c.addOwn("page.css")
	return c
})

func (c *catalog) addOwn(name string) *Asset {
	b, err := fs.ReadFile(own, name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	ext := path.Ext(name)
	return c.add(strings.TrimSuffix(name, ext)+"-"+hex.EncodeToString(sum[:6])+ext, b)
}

func (c *catalog) add(name string, b []byte) *Asset {
	sum := sha256.Sum256(b)
	a := &Asset{
		URL:         AssetsPath + name,
		ContentType: contentType(name),
		Integrity:   "sha256-" + base64.StdEncoding.EncodeToString(sum[:]),
		Body:        b,
	}
	c.byName[name] = a
	return a
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default:
		return "text/plain; charset=utf-8"
	}
}

// Assets returns the files served under AssetsPath, by name.
func Assets() map[string]*Asset { return load().byName }

// Handler serves the playground page (at any path but AssetsPath's) and its
// files (under AssetsPath). Mount it on "GET /playground" and
// "GET /playground/assets/".
type Handler struct {
	data    pageData
	page    []byte // the page without a development session
	csp     string
	session func(*http.Request) (string, time.Time, bool)
}

// Options configures a Handler.
type Options struct {
	// Title is the page's title.
	Title string
	// Endpoint is where GraphiQL sends its operations: a path of this origin
	// ("/graphql") or an absolute URL; subscriptions go to the same URL over
	// ws:// or wss://.
	Endpoint string
	// Introspection says whether the endpoint answers introspection: when
	// it does not, GraphiQL does not ask (and shows no error for it).
	Introspection bool
	// Examples are the tabs the page opens with when the browser has none
	// saved (Examples: the README's).
	Examples []Example
	// DevSession, when set, is asked for each page request: when it returns
	// ok, the page is signed in with token (until expires) and asks for no
	// key. It must return ok only in development (see DevSessions and
	// LoopbackRequest). Without it, or when it returns false, the page asks
	// for an API key.
	DevSession func(r *http.Request) (token string, expires time.Time, ok bool)
}

// pageData is what page.html is rendered from.
type pageData struct {
	Title, Endpoint, Introspection, Examples              string
	Session, SessionExpires                               string
	React, ReactDOM, GraphiQL, GraphiQLCSS, Page, PageCSS *Asset
}

// NewHandler returns the playground configured by o.
func NewHandler(o Options) (*Handler, error) {
	c := load()
	examples := o.Examples
	if examples == nil {
		examples = []Example{}
	}
	ex, err := json.Marshal(examples)
	if err != nil {
		return nil, fmt.Errorf("playground: encode the example tabs: %w", err)
	}
	data := pageData{
		Title: o.Title, Endpoint: o.Endpoint, Introspection: "off", Examples: string(ex),
		React: c.byName[reactFile], ReactDOM: c.byName[reactDOMFile],
		GraphiQL: c.byName[graphiqlJS], GraphiQLCSS: c.byName[graphiqlCSS],
		Page: c.pageJS, PageCSS: c.pageCSS,
	}
	if o.Introspection {
		data.Introspection = "on"
	}
	for _, a := range []*Asset{data.React, data.ReactDOM, data.GraphiQL, data.GraphiQLCSS} {
		if a == nil {
			return nil, errors.New("playground: a vendored file is missing from internal/playground/assets (scripts/playground-assets.sh)")
		}
	}
	h := &Handler{data: data, csp: policy(o.Endpoint), session: o.DevSession}
	if h.page, err = h.render(data); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Handler) render(data pageData) ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("playground: render the page: %w", err)
	}
	return buf.Bytes(), nil
}

// policy allows the page this origin only, plus endpoint's origin when it is
// another one. GraphiQL's fonts and icons are data: URLs.
func policy(endpoint string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		ws := "ws"
		if u.Scheme == "https" {
			ws = "wss"
		}
		connect += fmt.Sprintf(" %s://%s %s://%s", u.Scheme, u.Host, ws, u.Host)
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; " +
		"connect-src " + connect + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// ServeHTTP serves the page or one of its files.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, AssetsPath); ok {
		serveAsset(w, r, load().byName[name])
		return
	}
	body, cache := h.page, "no-cache"
	if h.session != nil {
		if token, expires, ok := h.session(r); ok {
			data := h.data
			data.Session, data.SessionExpires = token, expires.UTC().Format(time.RFC3339)
			b, err := h.render(data)
			if err != nil {
				http.Error(w, "the playground page could not be rendered", http.StatusInternalServerError)
				return
			}
			// A credential: kept by no cache, offered to no other page.
			body, cache = b, "no-store"
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", cache)
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(body)
}

func serveAsset(w http.ResponseWriter, r *http.Request, a *Asset) {
	if a == nil {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ContentType)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	body := a.Body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = a.gzip()
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	_, _ = w.Write(body)
}

// gzip compresses the asset once, on first demand.
func (a *Asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.Body)
		_ = zw.Close()
		a.gzipped = buf.Bytes()
	})
	return a.gzipped
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if strings.TrimSpace(strings.ToLower(coding)) != "gzip" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
