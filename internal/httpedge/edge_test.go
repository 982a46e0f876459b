package httpedge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/httpedge"
)

// trace is a layer that records its name on the way in.
func trace(name string, seen *[]string) httpedge.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*seen = append(*seen, name)
			next.ServeHTTP(w, r)
		})
	}
}

// TestStackOrder: each mount runs the layers that name it, in the stack's
// order (the first is the outermost), and Names says the same.
func TestStackOrder(t *testing.T) {
	var seen []string
	stack := httpedge.Stack{
		{Name: "a", On: httpedge.All, Wrap: trace("a", &seen)},
		{Name: "b", On: httpedge.API | httpedge.SSE, Wrap: trace("b", &seen)},
		{Name: "c", On: httpedge.API, Wrap: trace("c", &seen)},
		{Name: "d", On: httpedge.WebSocket, Wrap: trace("d", &seen)},
		{Name: "e", On: httpedge.SSE | httpedge.WebSocket, Wrap: trace("e", &seen)},
	}
	end := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { seen = append(seen, "handler") })
	h := stack.Handler(func(r *http.Request) httpedge.Mount {
		switch r.URL.Query().Get("mount") {
		case "ws":
			return httpedge.WebSocket
		case "sse":
			return httpedge.SSE
		case "none":
			return 0
		}
		return httpedge.API
	}, end)
	for _, c := range []struct {
		query string
		mount httpedge.Mount
		want  []string
	}{
		{"mount=api", httpedge.API, []string{"a", "b", "c"}},
		{"mount=ws", httpedge.WebSocket, []string{"a", "d", "e"}},
		{"mount=sse", httpedge.SSE, []string{"a", "b", "e"}},
		{"mount=none", httpedge.API, []string{"a", "b", "c"}}, // not a mount: the API's chain
	} {
		seen = nil
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/graphql?"+c.query, nil))
		if want := append(slices.Clone(c.want), "handler"); !slices.Equal(seen, want) {
			t.Errorf("%s ran %v, want %v", c.query, seen, want)
		}
		if got := stack.Names(c.mount); !slices.Equal(got, c.want) {
			t.Errorf("Names(%s) = %v, want %v", c.mount, got, c.want)
		}
	}
	if got := httpedge.All.String(); got != "api|websocket|sse" {
		t.Errorf("All is %q", got)
	}
}

// TestCSRF: what a browser sends cross-site without a preflight is 400
// CSRF_PREVENTED; what needs a preflight, or says it had one, passes.
func TestCSRF(t *testing.T) {
	for _, c := range []struct {
		name, method, contentType, header string
		pass                              bool
	}{
		{"json post", http.MethodPost, "application/json", "", true},
		{"json post with charset", http.MethodPost, "application/json; charset=utf-8", "", true},
		{"graphql-response post", http.MethodPost, "application/graphql-response+json", "", true},
		{"plain get", http.MethodGet, "", "", false},
		{"get with Apollo-Require-Preflight", http.MethodGet, "", "Apollo-Require-Preflight", true},
		{"get with GraphQL-Require-Preflight", http.MethodGet, "", "GraphQL-Require-Preflight", true},
		{"get with X-Apollo-Operation-Name", http.MethodGet, "", "X-Apollo-Operation-Name", true},
		// Credentials in a header that is not CORS-safelisted: a browser
		// preflights it cross-site, so it cannot be a forgery (urql's GETs).
		{"get with Authorization", http.MethodGet, "", "Authorization: Bearer k", true},
		{"get with Authorization, any case", http.MethodGet, "", "Authorization: bearer k", true},
		{"get with X-API-Key", http.MethodGet, "", "X-API-Key", true},
		{"text/plain post with Authorization", http.MethodPost, "text/plain", "Authorization: Bearer k", true},
		// A browser attaches the Basic (Digest, Negotiate) credentials it
		// cached for the site to cross-site requests itself, say for a
		// proxy's login in front of the API.
		{"get with Authorization: Basic", http.MethodGet, "", "Authorization: Basic dTpw", false},
		{"get with Authorization: Negotiate", http.MethodGet, "", "Authorization: Negotiate x", false},
		{"get with Authorization: Bearer alone", http.MethodGet, "", "Authorization: Bearer", false},
		// Headers a browser adds itself, or safelisted ones: no proof.
		{"get with Cookie", http.MethodGet, "", "Cookie", false},
		{"get with Origin", http.MethodGet, "", "Origin", false},
		{"get with Sec-Fetch-Site", http.MethodGet, "", "Sec-Fetch-Site", false},
		{"get with Accept", http.MethodGet, "", "Accept", false},
		{"get with X-Other", http.MethodGet, "", "X-Other", false},
		{"text/plain post", http.MethodPost, "text/plain", "", false},
		{"form post", http.MethodPost, "application/x-www-form-urlencoded", "", false},
		{"multipart post", http.MethodPost, "multipart/form-data; boundary=x", "", false},
		{"multipart post with preflight header", http.MethodPost, "multipart/form-data; boundary=x", "Apollo-Require-Preflight", true},
		{"unparsable content type", http.MethodPost, "text/plain;;;=", "", false},
		{"options", http.MethodOptions, "", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			passed := false
			h := httpedge.CSRF(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true }))
			r := httptest.NewRequest(c.method, "/graphql", nil)
			if c.contentType != "" {
				r.Header.Set("Content-Type", c.contentType)
			}
			if c.header != "" {
				name, value, ok := strings.Cut(c.header, ": ")
				if !ok {
					value = "1"
				}
				r.Header.Set(name, value)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if passed != c.pass {
				t.Fatalf("passed %v, want %v", passed, c.pass)
			}
			if !c.pass && (w.Code != http.StatusBadRequest || code(t, w) != string(apperr.CSRFPrevented)) {
				t.Errorf("refused with HTTP %d %s", w.Code, w.Body)
			}
		})
	}
}

func code(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("not one GraphQL error: %s", w.Body)
	}
	c, _ := body.Errors[0].Extensions["code"].(string)
	return c
}

// TestLimits: a body over MaxBody is 413 REQUEST_TOO_LARGE (by its length
// or by reading it) and never reaches the handler; a body within it
// reaches the handler whole, with a deadline of Timeout; an upload is not
// read and gets UploadTimeout.
func TestLimits(t *testing.T) {
	l := httpedge.Limits{MaxBody: 10, Timeout: time.Minute, UploadTimeout: time.Hour}
	for _, c := range []struct {
		name        string
		body        io.Reader
		length      int64 // -1: unknown (chunked)
		contentType string
		status      int
		deadline    time.Duration
		wantBody    string
	}{
		{"small", strings.NewReader("0123456789"), 10, "application/json", 200, time.Minute, "0123456789"},
		{"no body", http.NoBody, 0, "", 200, time.Minute, ""},
		{"declared too long", strings.NewReader("01234567890"), 11, "application/json", 413, 0, ""},
		{"chunked too long", strings.NewReader("01234567890"), -1, "application/json", 413, 0, ""},
		{"upload", strings.NewReader(strings.Repeat("x", 100)), 100, "multipart/form-data; boundary=x", 200, time.Hour, strings.Repeat("x", 100)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got string
			var left time.Duration
			reached := false
			h := l.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				reached = true
				b, _ := io.ReadAll(r.Body)
				got = string(b)
				if d, ok := r.Context().Deadline(); ok {
					left = time.Until(d)
				}
			}))
			r := httptest.NewRequest(http.MethodPost, "/graphql", c.body)
			r.ContentLength = c.length
			if c.contentType != "" {
				r.Header.Set("Content-Type", c.contentType)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.status == 413 {
				if reached || code(t, w) != string(apperr.RequestTooLarge) || w.Header().Get("Connection") != "close" {
					t.Errorf("reached %v, %s, Connection %q", reached, w.Body, w.Header().Get("Connection"))
				}
				return
			}
			if got != c.wantBody {
				t.Errorf("the handler read %q, want %q", got, c.wantBody)
			}
			if left <= c.deadline-time.Minute/2 || left > c.deadline {
				t.Errorf("deadline in %v, want %v", left, c.deadline)
			}
		})
	}
}

// recordLogs keeps the records of a logger.
type recordLogs struct{ records []slog.Record }

func (h *recordLogs) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordLogs) Handle(_ context.Context, r slog.Record) error {
	h.records = append(h.records, r)
	return nil
}
func (h *recordLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordLogs) WithGroup(string) slog.Handler      { return h }

func attrs(r slog.Record) map[string]any {
	m := map[string]any{}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.Any(); return true })
	return m
}

// TestAccessLog: one INFO line per request, with its ID (kept from the
// client when sane, else made), status and size; the ID is in the context
// and the response.
func TestAccessLog(t *testing.T) {
	for _, c := range []struct {
		name, sentID string
		keep         bool
		status       int
		body         string
	}{
		{"kept id", "lb-1234_abc", true, 201, "hello"},
		{"no id", "", false, 200, "x"},
		{"id with a newline", "a\nb", false, 404, ""},
		{"id too long", strings.Repeat("a", 65), false, 200, "x"},
		{"implicit 200", "id-1", true, 0, "body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			logs := &recordLogs{}
			logger := slog.New(logs)
			var ctxID string
			h := httpedge.AccessLog(func() *slog.Logger { return logger }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctxID = apperr.RequestID(r.Context())
				if c.status != 0 {
					w.WriteHeader(c.status)
				}
				_, _ = io.WriteString(w, c.body)
			}))
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			if c.sentID != "" {
				r.Header["X-Request-Id"] = []string{c.sentID}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			id := w.Header().Get("X-Request-ID")
			if c.keep && id != c.sentID || !c.keep && (id == c.sentID || !httpedge.ValidRequestID(id)) || ctxID != id {
				t.Errorf("sent %q: response id %q, context id %q", c.sentID, id, ctxID)
			}
			if len(logs.records) != 1 {
				t.Fatalf("%d log records", len(logs.records))
			}
			rec := logs.records[0]
			a := attrs(rec)
			status := c.status
			if status == 0 {
				status = 200
			}
			if rec.Level != slog.LevelInfo || rec.Message != "request" || a["request_id"] != id ||
				a["status"] != int64(status) || a["bytes"] != int64(len(c.body)) || a["path"] != "/graphql" || a["method"] != "POST" {
				t.Errorf("log line %s %q %v", rec.Level, rec.Message, a)
			}
		})
	}
}

// TestHead: below Head, SetHeader and SetCookie reach the response; without
// it they do nothing (and do not fail).
func TestHead(t *testing.T) {
	set := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpedge.SetHeader(r.Context(), "Cache-Control", "no-store")
		httpedge.SetCookie(r.Context(), &http.Cookie{Name: "a", Value: "1", Path: "/"})
		httpedge.SetCookie(r.Context(), &http.Cookie{Name: "b", Value: "2"})
		httpedge.SetCookie(r.Context(), &http.Cookie{Name: "bad name", Value: "x"}) // invalid: dropped
		_, _ = io.WriteString(w, "ok")
	})
	w := httptest.NewRecorder()
	httpedge.Head(set).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := w.Header().Values("Set-Cookie"); !slices.Equal(got, []string{"a=1; Path=/", "b=2"}) {
		t.Errorf("Set-Cookie %q", got)
	}
	w = httptest.NewRecorder()
	set.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if len(w.Header()) != 1 || !bytes.Equal(w.Body.Bytes(), []byte("ok")) { // Content-Type only
		t.Errorf("without Head: %v %s", w.Header(), w.Body)
	}
}

// TestAccessLogClientGone: a request whose client went away (its context
// cancelled) is logged once, at INFO, with status 499 whatever the handler
// wrote; one past its deadline keeps the status written.
func TestAccessLogClientGone(t *testing.T) {
	for _, c := range []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		status int64
	}{
		{"client gone", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, apperr.StatusClientClosedRequest},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, http.StatusServiceUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			logs := &recordLogs{}
			logger := slog.New(logs)
			h := httpedge.AccessLog(func() *slog.Logger { return logger }, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			ctx, cancel := c.ctx()
			defer cancel()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil).WithContext(ctx))
			if len(logs.records) != 1 {
				t.Fatalf("%d log records", len(logs.records))
			}
			if r := logs.records[0]; r.Level != slog.LevelInfo || attrs(r)["status"] != c.status {
				t.Errorf("%s status %v, want INFO status %d", r.Level, attrs(r)["status"], c.status)
			}
		})
	}
}
