package viewer_test

import (
	"context"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

func TestViewer(t *testing.T) {
	p := &viewer.Viewer{Role: viewer.RolePartner, Customers: []int{3}}
	s := &viewer.Viewer{Role: viewer.RoleStaff}
	a := &viewer.Viewer{Role: viewer.RoleAdmin}
	var none *viewer.Viewer
	if !p.Sees(3) || p.Sees(4) || !s.Sees(4) || none.Sees(3) || p.Can(viewer.RoleStaff) || !s.Can(viewer.RoleStaff) || s.Can(viewer.RoleAdmin) || !a.Can(viewer.RoleStaff) || none.Can(viewer.RolePartner) {
		t.Error("roles")
	}
	var r viewer.Role
	if err := r.UnmarshalGQL("STAFF"); err != nil || r != viewer.RoleStaff {
		t.Error(err)
	}
	if err := r.UnmarshalGQL("ROOT"); err == nil {
		t.Error("ROOT accepted")
	}
}

// TestIdentity: the one viewer in a context gives the actor recorded on
// changes and the credential that revocations and read-your-writes go by.
func TestIdentity(t *testing.T) {
	cases := []struct {
		name       string
		v          *viewer.Viewer
		actor      string
		credential string
	}{
		{"no viewer", nil, viewer.Anonymous, ""},
		{"API key", &viewer.Viewer{Kind: viewer.KindAPIKey, ID: "abc", Role: viewer.RoleStaff}, "key:abc", "api_key:abc"},
		{"user", &viewer.Viewer{Kind: viewer.KindUser, ID: "sub-1", Role: viewer.RoleAdmin}, "user:sub-1", "user:sub-1"},
		{"background work", viewer.System("demo-seed"), "system:demo-seed", "system:demo-seed"},
	}
	for _, c := range cases {
		ctx := context.Background()
		if c.v != nil {
			ctx = viewer.NewContext(ctx, c.v)
		}
		if got := viewer.FromContext(ctx); got != c.v {
			t.Errorf("%s: FromContext = %v", c.name, got)
		}
		if got := viewer.Actor(ctx); got != c.actor {
			t.Errorf("%s: Actor = %q, want %q", c.name, got, c.actor)
		}
		if got := viewer.FromContext(ctx).Credential(); got != c.credential {
			t.Errorf("%s: Credential = %q, want %q", c.name, got, c.credential)
		}
	}
	if sys := viewer.System("job"); sys.Can(viewer.RolePartner) || sys.Role.Valid() {
		t.Error("background work has a role")
	}
}
