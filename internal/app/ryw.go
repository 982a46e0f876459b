package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/httpedge"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// rywCookie carries, across instances, until when a browser that wrote reads
// from the primary. A forged value can only send its own reads to the primary.
const rywCookie = "shipmentapp_rw"

// readYourWrites identifies the viewer of each request and sends its reads to
// the primary when it wrote recently, here or (by cookie) on another instance.
func (a *App) readYourWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		key := viewer.FromContext(ctx).Credential()
		if key == "" {
			key = viewerKey(r)
		}
		if a.Router.WroteRecently(key) || cookieRecent(r) {
			ctx = dbroute.UsePrimary(ctx)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// aroundMutations runs every mutation (and the fields it returns) on the
// primary and starts its viewer's read-your-writes window.
func (a *App) aroundMutations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return next(ctx)
	}
	window := a.Router.ReadYourWritesWindow()
	a.Router.NoteWrite(viewer.FromContext(ctx).Credential())
	if window > 0 {
		httpedge.SetCookie(ctx, &http.Cookie{
			Name:     rywCookie,
			Value:    strconv.FormatInt(time.Now().Add(window).UnixMilli(), 10),
			Path:     "/",
			MaxAge:   int((window + time.Second - 1) / time.Second),
			HttpOnly: true,
			Secure:   strings.HasPrefix(a.Config.URL, "https://"),
			SameSite: http.SameSiteLaxMode,
		})
	}
	return next(dbroute.UsePrimary(ctx))
}

func cookieRecent(r *http.Request) bool {
	c, err := r.Cookie(rywCookie)
	if err != nil {
		return false
	}
	until, err := strconv.ParseInt(c.Value, 10, 64)
	return err == nil && time.Now().UnixMilli() < until
}

// viewerKey identifies who is asking before authentication has run (the
// rate limiter, and requests authentication did not mark): the credentials it
// sends (hashed, never kept), else its address.
// credKey names the rate-limit bucket of a credential header's value.
func credKey(header string) string {
	sum := sha256.Sum256([]byte(header))
	return "cred:" + hex.EncodeToString(sum[:12])
}

func viewerKey(r *http.Request) string {
	for _, h := range []string{"Authorization", "X-API-Key"} {
		if v := r.Header.Get(h); v != "" {
			return credKey(v)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}
