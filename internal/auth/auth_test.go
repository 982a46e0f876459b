package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
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

// TestKeyState: the one rule of a key's state, that authentication, the
// API's apiKeys.state and apikey list all apply. A key is expired from its
// expiry instant on (the command line once said "active" at that instant,
// where authentication already refused it).
func TestKeyState(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	cases := []struct {
		name    string
		expires *time.Time
		revoked *time.Time
		want    auth.KeyState
	}{
		{"no expiry", nil, nil, auth.KeyActive},
		{"expires later", at(time.Microsecond), nil, auth.KeyActive},
		{"expires now", at(0), nil, auth.KeyExpired},
		{"expired", at(-time.Hour), nil, auth.KeyExpired},
		{"revoked", nil, at(-time.Hour), auth.KeyRevoked},
		{"revoked and expired", at(-time.Hour), at(-2 * time.Hour), auth.KeyRevoked},
		{"revoked, expires later", at(time.Hour), at(-time.Hour), auth.KeyRevoked},
	}
	for _, c := range cases {
		if got := auth.StateAt(&ent.APIKey{ExpiresAt: c.expires, RevokedAt: c.revoked}, now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
