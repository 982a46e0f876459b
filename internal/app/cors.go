package app

import (
	"net"
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
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, RateLimit, RateLimit-Policy")
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

// requestOrigin returns the origin a request was sent to, as a browser on a
// page of this server names it in Origin: the request's Host, with https when
// the request came over TLS or, from a trusted proxy (HTTP_TRUSTED_PROXIES,
// the proxies whose X-Forwarded-For is believed), when the proxy says so in
// X-Forwarded-Proto. The proxies of deploy/ pass the client's Host on, so
// X-Forwarded-Host is not read.
func (a *App) requestOrigin() func(r *http.Request) string {
	trusted, _ := a.Config.Limits.TrustedNets() // validated by config
	return func(r *http.Request) string {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if fromTrustedProxy(r, trusted) {
			proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
			if p := strings.ToLower(strings.TrimSpace(proto)); p == "http" || p == "https" {
				scheme = p
			}
		}
		return scheme + "://" + r.Host
	}
}

// fromTrustedProxy reports whether r's peer is one of the trusted proxies.
func fromTrustedProxy(r *http.Request, trusted []*net.IPNet) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && slices.ContainsFunc(trusted, func(n *net.IPNet) bool { return n.Contains(ip) })
}
