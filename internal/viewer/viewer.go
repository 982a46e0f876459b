// Package viewer carries, through a request's context, the two facts about its
// caller that the rest of the code needs without depending on internal/auth:
// the actor recorded as created_by/updated_by (set by authentication, e.g.
// "key:<id>" or "user:<sub>"; background work sets "system:..."), and the
// stable key that read-your-writes remembers.
package viewer

import "context"

type ctxKey struct{}

// Anonymous is the actor of a context nobody set one on (tests that call
// services directly); every API request has an authenticated actor.
const Anonymous = "anonymous"

// WithActor returns a context whose actor is name.
func WithActor(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, ctxKey{}, name)
}

// Actor returns the name recorded as created_by/updated_by for changes made
// with ctx.
func Actor(ctx context.Context) string {
	if v, ok := ctx.Value(ctxKey{}).(string); ok && v != "" {
		return v
	}
	return Anonymous
}

type keyCtxKey struct{}

// WithKey returns a context whose viewer is identified by key: the stable
// identity that read-your-writes remembers ("api_key:<id>" or "user:<sub>",
// set by authentication).
func WithKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtxKey{}, key)
}

// Key returns the viewer key of ctx, or "".
func Key(ctx context.Context) string {
	k, _ := ctx.Value(keyCtxKey{}).(string)
	return k
}
