package app

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestBoundedCache: the parsed-query cache keeps no document over
// maxCachedQuery (each would hold its whole text).
func TestBoundedCache(t *testing.T) {
	c := boundedCache{lru.New[*ast.QueryDocument](10)}
	ctx := context.Background()
	small, big := "{ a }", "{ a }"+strings.Repeat("#", maxCachedQuery)
	c.Add(ctx, small, &ast.QueryDocument{})
	c.Add(ctx, big, &ast.QueryDocument{})
	if _, ok := c.Get(ctx, small); !ok {
		t.Error("a small document was not kept")
	}
	if _, ok := c.Get(ctx, big); ok {
		t.Error("a document over the bound was kept")
	}
}
