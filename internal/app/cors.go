package app

import (
	"net/http"
	"slices"
	"strings"
)

// corsHeaders are the request headers a browser may send cross-origin.
var corsHeaders = strings.Join([]string{
	"Authorization", "Content-Type", "X-API-Key", "X-Request-ID",
	"Apollo-Require-Preflight", "GraphQL-Require-Preflight", "X-Apollo-Operation-Name",
}, ", ")

// cors lets the browser origins of HTTP_CORS_ORIGINS call /graphql (with
// credentials, for the read-your-writes cookie) and answers their preflights;
// other origins get no CORS headers, so browsers keep them out.
func (a *App) cors(next http.Handler) http.Handler {
	origins, _ := a.Config.Limits.Origins() // validated by config
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		if origin == "" || !slices.Contains(origins, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
