package app_test

import (
	"net/http"
	"net/http/httptest"
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
	for _, origin := range []string{"https://evil.example.com", "https://staff.example.com.evil.com", "null"} {
		r := do(http.MethodOptions, origin, map[string]string{"Access-Control-Request-Method": "POST"}, "")
		if r.Header().Get("Access-Control-Allow-Origin") != "" || r.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s got CORS headers: %v", origin, r.Header())
		}
	}
}
