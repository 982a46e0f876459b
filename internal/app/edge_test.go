package app

import (
	"slices"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/httpedge"
)

// TestEdgeOrder: the one declared stack gives each /graphql mount its
// middleware in this order. CORS answers preflights before anything can
// refuse them; the rate limit runs before authentication spends a database
// read; read-your-writes needs the viewer; the dataloaders and the limits
// serve requests only (websockets and event streams get dataloaders per
// response, and are not bounded in time).
func TestEdgeOrder(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	stack := (&App{Config: cfg}).edge()
	for _, c := range []struct {
		mount httpedge.Mount
		want  []string
	}{
		{httpedge.API, []string{"compress", "cors", "rate limit", "csrf", "authenticate", "read your writes", "response head", "batch metrics", "dataloaders", "limits"}},
		{httpedge.WebSocket, []string{"rate limit"}},
		{httpedge.SSE, []string{"cors", "rate limit", "csrf", "authenticate"}},
	} {
		if got := stack.Names(c.mount); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.mount, got, c.want)
		}
	}
}
