package app

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// liveStatus tells subscribers when this instance has lost its notifications
// from the others (Redis pub/sub down): every subscription result then
// carries extensions.live = {"degraded": true, "pollInterval": "5s"}. The
// events still come, from the database, up to the poll interval late; when
// Redis is back the extension is gone. Nothing else changes for them: no
// disconnect, no resume needed.
func (a *App) liveStatus(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || a.Live == nil || !a.Live.Degraded() || !graphql.HasOperationContext(ctx) {
		return resp
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Subscription {
		return resp
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	resp.Extensions["live"] = map[string]any{"degraded": true, "pollInterval": a.Live.PollInterval().String()}
	return resp
}
