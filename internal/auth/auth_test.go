package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/auth"
)

func TestParseKey(t *testing.T) {
	good := "sa_abcdefghijklmnop_" + strings.Repeat("A", 43)
	if id, ok := auth.ParseKey(good); !ok || id != "abcdefghijklmnop" {
		t.Errorf("ParseKey(good) = %q, %v", id, ok)
	}
	for _, bad := range []string{
		"", "sa_", good[:len(good)-1], good + "A", "sk_abcdefghijklmnop_" + strings.Repeat("A", 43),
		"sa_ABCDEFGHIJKLMNOP_" + strings.Repeat("A", 43), // key IDs are lower case base32
		"sa_abcdefghijklmnop-" + strings.Repeat("A", 43),
		"sa_abcdefghijklmnop_" + strings.Repeat("+", 43),
		"sa_abcdefghijklmn01_" + strings.Repeat("A", 43), // 0 and 1 are not base32
	} {
		if _, ok := auth.ParseKey(bad); ok {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

func TestViewer(t *testing.T) {
	p := &auth.Viewer{Role: auth.RolePartner, Customers: []int{3}}
	s := &auth.Viewer{Role: auth.RoleStaff}
	a := &auth.Viewer{Role: auth.RoleAdmin}
	var none *auth.Viewer
	if !p.Sees(3) || p.Sees(4) || !s.Sees(4) || none.Sees(3) || p.Can(auth.RoleStaff) || !s.Can(auth.RoleStaff) || s.Can(auth.RoleAdmin) || !a.Can(auth.RoleStaff) || none.Can(auth.RolePartner) {
		t.Error("roles")
	}
	var r auth.Role
	if err := r.UnmarshalGQL("STAFF"); err != nil || r != auth.RoleStaff {
		t.Error(err)
	}
	if err := r.UnmarshalGQL("ROOT"); err == nil {
		t.Error("ROOT accepted")
	}
}

// FuzzParseKey: never panics; what it accepts has the key's exact shape.
func FuzzParseKey(f *testing.F) {
	f.Add("sa_abcdefghijklmnop_" + strings.Repeat("A", 43))
	f.Add("sa_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := auth.ParseKey(s)
		if ok && (len(s) != 63 || !strings.HasPrefix(s, "sa_"+id+"_") || len(id) != 16) {
			t.Fatalf("accepted %q as %q", s, id)
		}
	})
}

// FuzzOIDCToken: any bearer string is refused without a panic (no key in the
// set can have signed a random string).
func FuzzOIDCToken(f *testing.F) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{}})
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o, err := auth.NewOIDC(ctx, auth.OIDCConfig{JWKSURL: srv.URL, Issuer: "i", Audience: "a", RolesClaim: "roles", CustomersClaim: "customers"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		v, err := o.Authenticate(ctx, token)
		if err == nil || v != nil {
			t.Fatalf("token %q accepted", token)
		}
		if !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("token %q: unexpected error %v", token, err)
		}
	})
}
