package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/playground"
	"github.com/shipmentapp/shipmentapp/internal/subtransport"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// credential returns the API key or token a request carries, from
// "Authorization: Bearer ..." or "X-API-Key: ...".
func credential(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, token, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return "" // another scheme: not ours
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// authenticate identifies the viewer of every GraphQL request: no
// credentials, or credentials that do not verify, are 401 UNAUTHENTICATED.
func (a *App) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		token := credential(r)
		if token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="shipmentapp"`)
			apperr.WriteHTTP(w, http.StatusUnauthorized, apperr.Unauthenticated,
				"credentials required: send Authorization: Bearer <API key or token>, or X-API-Key: <API key>")
			return
		}
		v, err := a.verify(r.Context(), token)
		switch {
		case errors.Is(err, auth.ErrNoRole):
			apperr.WriteHTTP(w, http.StatusForbidden, apperr.Forbidden, "your account has no role in shipmentapp")
			return
		case errors.Is(err, auth.ErrInvalidCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="shipmentapp", error="invalid_token"`)
			apperr.WriteHTTP(w, http.StatusUnauthorized, apperr.Unauthenticated, "invalid, expired or revoked credentials")
			return
		case err != nil && apperr.ClientGone(r.Context()):
			return // the client went away: the access log says 499
		case err != nil:
			a.Logger.ErrorContext(r.Context(), "authenticate", "request_id", apperr.RequestID(r.Context()), "error", err.Error())
			a.reporter.Error(r.Context(), fmt.Errorf("authenticate: %w", err))
			code := apperr.Internal
			if apperr.CodeOf(err) == apperr.Unavailable {
				code = apperr.Unavailable
				w.Header().Set("Retry-After", "1")
			}
			apperr.WriteHTTP(w, http.StatusServiceUnavailable, code, "could not check credentials; retry")
			return
		}
		next.ServeHTTP(w, r.WithContext(withViewer(r.Context(), v)))
	})
}

// verify returns the viewer of an API key or token.
func (a *App) verify(ctx context.Context, token string) (*viewer.Viewer, error) {
	switch {
	case a.devSessions != nil && playground.IsDevSession(token):
		return a.verifyDevSession(token)
	case strings.HasPrefix(token, auth.KeyPrefix):
		return a.Keys.Authenticate(ctx, token)
	case a.OIDC != nil:
		return a.OIDC.Authenticate(ctx, token)
	}
	return nil, auth.ErrInvalidCredentials
}

// withViewer is the context of v's operations.
func withViewer(ctx context.Context, v *viewer.Viewer) context.Context {
	return viewer.NewContext(ctx, v)
}

// subscriptionAuth verifies the credentials of a websocket's connection_init.
func (a *App) subscriptionAuth(ctx context.Context, token string) (context.Context, subtransport.Session, error) {
	v, err := a.verify(ctx, token)
	if errors.Is(err, auth.ErrNoRole) {
		return nil, subtransport.Session{}, subtransport.ErrForbidden
	}
	if err != nil {
		return nil, subtransport.Session{}, err
	}
	return withViewer(ctx, v), sessionOf(v), nil
}

func sessionOf(v *viewer.Viewer) subtransport.Session {
	if v == nil {
		return subtransport.Session{}
	}
	return subtransport.Session{Credential: v.Credential(), ExpiresAt: v.ExpiresAt}
}
