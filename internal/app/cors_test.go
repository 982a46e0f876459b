package app_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestCORS(t *testing.T) {
	e := newEnv(t, testutil.SQLite, "HTTP_CORS_ORIGINS=https://staff.example.com, https://portal.example.com/")
	do := func(method, origin string, headers map[string]string, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/graphql", strings.NewReader(body))
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		e.app.Handler.ServeHTTP(rec, req)
		return rec
	}
	pre := do(http.MethodOptions, "https://staff.example.com", map[string]string{
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}, "")
	if pre.Code != http.StatusNoContent || pre.Header().Get("Access-Control-Allow-Origin") != "https://staff.example.com" ||
		!strings.Contains(pre.Header().Get("Access-Control-Allow-Headers"), "Authorization") || pre.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight: %d %v", pre.Code, pre.Header())
	}
	res := do(http.MethodPost, "https://portal.example.com", map[string]string{
		"Content-Type": "application/json", "Authorization": "Bearer " + e.adminKey}, `{"query":"{ viewer { role } }"}`)
	if res.Code != 200 || res.Header().Get("Access-Control-Allow-Origin") != "https://portal.example.com" {
		t.Errorf("allowed origin: %d %v", res.Code, res.Header())
	}
	// The page's script may read the rate limits, to slow down in time.
	exposed := strings.Split(res.Header().Get("Access-Control-Expose-Headers"), ", ")
	for _, h := range []string{"X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy"} {
		if !slices.Contains(exposed, h) {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, h)
		}
	}
	for _, origin := range []string{"https://evil.example.com", "https://staff.example.com.evil.com", "null"} {
		r := do(http.MethodOptions, origin, map[string]string{"Access-Control-Request-Method": "POST"}, "")
		if r.Header().Get("Access-Control-Allow-Origin") != "" || r.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s got CORS headers: %v", origin, r.Header())
		}
	}
}

// TestWebsocketSameOrigin: a websocket from the request's own origin is
// accepted without being listed (browsers' same-origin rule); its scheme is
// https over TLS or when a trusted proxy says so in X-Forwarded-Proto, never
// because an untrusted peer says so.
func TestWebsocketSameOrigin(t *testing.T) {
	cases := []struct {
		name   string
		env    []string
		origin string // "{self}" is replaced by the test server's host:port
		proto  string // X-Forwarded-Proto
		ok     bool
	}{
		{"own origin", nil, "http://{self}", "", true},
		{"APP_URL's origin", nil, "https://app.example.com", "", true},
		{"own host, another scheme", nil, "https://{self}", "", false},
		{"https said by an untrusted peer", nil, "https://{self}", "https", false},
		{"foreign origin", nil, "https://evil.example", "", false},
		{"https said by a trusted proxy", []string{"HTTP_TRUSTED_PROXIES=127.0.0.1"}, "https://{self}", "https", true},
		{"http origin when a trusted proxy says https", []string{"HTTP_TRUSTED_PROXIES=127.0.0.1"}, "http://{self}", "https", false},
		{"a trusted proxy's first hop", []string{"HTTP_TRUSTED_PROXIES=127.0.0.1"}, "https://{self}", "HTTPS, http", true},
		{"a trusted proxy saying nonsense", []string{"HTTP_TRUSTED_PROXIES=127.0.0.1"}, "ftp://{self}", "ftp", false},
		{"foreign origin behind a trusted proxy", []string{"HTTP_TRUSTED_PROXIES=127.0.0.1"}, "https://evil.example", "https", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, testutil.SQLite, append([]string{"APP_URL=https://app.example.com"}, c.env...)...)
			server := e.gql.URL()
			origin := strings.ReplaceAll(c.origin, "{self}", strings.TrimPrefix(server, "http://"))
			h := http.Header{"Origin": {origin}}
			if c.proto != "" {
				h.Set("X-Forwarded-Proto", c.proto)
			}
			ws, resp, err := testutil.DialWS(t, server, "graphql-transport-ws", h)
			switch {
			case c.ok && err != nil:
				t.Fatalf("origin %s refused: %v", origin, err)
			case c.ok:
				ws.Init(map[string]any{"authorization": "Bearer " + e.adminKey})
			case err == nil || resp == nil || resp.StatusCode != http.StatusForbidden:
				t.Fatalf("origin %s: want 403, got %v %v", origin, resp, err)
			}
		})
	}
}
