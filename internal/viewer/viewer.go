// Package viewer carries who is making a request through its context. Until
// authentication exists every request is "anonymous"; seeding runs as "system".
package viewer

import "context"

type ctxKey struct{}

// Anonymous is the actor of unauthenticated requests.
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
// identity that read-your-writes remembers (until authentication exists, a
// hash of the credentials the client sends, or its address).
func WithKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtxKey{}, key)
}

// Key returns the viewer key of ctx, or "".
func Key(ctx context.Context) string {
	k, _ := ctx.Value(keyCtxKey{}).(string)
	return k
}
