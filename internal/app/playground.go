package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/playground"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// devPlaygroundViewer is who a development session signs in as.
const devPlaygroundViewer = "development-playground"

// startDevSessions sets up the playground's development sessions, in
// development only and unless PLAYGROUND_DEV_AUTH=off. With "auto", they
// are offered only while APP_ADDR binds loopback (and then only to requests
// from this machine, playgroundSession); "on" offers them to any request.
func (a *App) startDevSessions() error {
	mode := a.Config.GraphQL.PlaygroundDevAuth
	if !a.Config.IsDevelopment() || !a.Config.GraphQL.Playground || mode == "off" {
		return nil
	}
	if mode != "on" && !playground.LoopbackAddr(a.Config.Addr) {
		a.Logger.Info("the playground asks for an API key: APP_ADDR is not a loopback address (PLAYGROUND_DEV_AUTH=on signs it in anyway)",
			slog.String("addr", a.Config.Addr))
		return nil
	}
	s, err := playground.NewDevSessions(playground.DevSessionTTL)
	if err != nil {
		return fmt.Errorf("playground development sessions: %w", err)
	}
	if mode == "on" {
		a.Logger.Warn("PLAYGROUND_DEV_AUTH=on: whoever opens /playground is signed in as the development admin, from any address")
	}
	a.devSessions = s
	return nil
}

// playgroundSession is the playground's DevSession: a development session
// for requests from this machine (any request with PLAYGROUND_DEV_AUTH=on);
// none outside development (devSessions is nil there).
func (a *App) playgroundSession(r *http.Request) (string, time.Time, bool) {
	if a.devSessions == nil {
		return "", time.Time{}, false
	}
	if a.Config.GraphQL.PlaygroundDevAuth != "on" && !playground.LoopbackRequest(r) {
		return "", time.Time{}, false
	}
	token, expires := a.devSessions.Issue()
	return token, expires, true
}

// verifyDevSession returns the development admin of a development session.
func (a *App) verifyDevSession(token string) (*viewer.Viewer, error) {
	expires, err := a.devSessions.Verify(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", auth.ErrInvalidCredentials, err)
	}
	return &viewer.Viewer{
		Kind: viewer.KindUser, ID: devPlaygroundViewer, Name: "development admin (playground)",
		Role: viewer.RoleAdmin, ExpiresAt: expires,
	}, nil
}

// playgroundHandler is /playground: signed in at once in development (a
// development session), asking for an API key elsewhere.
func (a *App) playgroundHandler() (*playground.Handler, error) {
	examples, err := playground.Examples()
	if err != nil {
		return nil, err
	}
	opts := playground.Options{
		Title: "shipmentapp", Endpoint: "/graphql",
		Introspection: a.Config.GraphQL.Introspection,
		Examples:      examples,
	}
	if a.devSessions != nil {
		opts.DevSession = a.playgroundSession
	}
	return playground.NewHandler(opts)
}
