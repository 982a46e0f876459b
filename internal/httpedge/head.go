package httpedge

import (
	"context"
	"net/http"
	"sync"
)

// head is the head of a request's response as code below the edge (gqlgen
// extensions, operation interceptors) may add to it, without the
// http.ResponseWriter: headers and cookies, set before the body is written.
type head struct {
	mu     sync.Mutex
	header http.Header
}

type headKey struct{}

// Head is the middleware that lets SetHeader and SetCookie reach the
// response of each request it serves.
func Head(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), headKey{}, &head{header: w.Header()})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// SetHeader sets a header of the response of ctx's request. Without Head
// on the way (a websocket message), or once the body is being written, it
// does nothing.
func SetHeader(ctx context.Context, key, value string) {
	if h, ok := ctx.Value(headKey{}).(*head); ok {
		h.mu.Lock()
		h.header.Set(key, value)
		h.mu.Unlock()
	}
}

// SetCookie adds a Set-Cookie header to the response of ctx's request,
// as http.SetCookie does (and, like SetHeader, nothing without Head).
func SetCookie(ctx context.Context, c *http.Cookie) {
	if h, ok := ctx.Value(headKey{}).(*head); ok {
		if v := c.String(); v != "" {
			h.mu.Lock()
			h.header.Add("Set-Cookie", v)
			h.mu.Unlock()
		}
	}
}
