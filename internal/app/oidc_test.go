package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// provider is a stand-in OIDC provider: a JWKS endpoint whose keys the test
// can rotate, and a signer.
type provider struct {
	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
	srv  *httptest.Server
}

func newProvider(t *testing.T) *provider {
	p := &provider{keys: map[string]*rsa.PrivateKey{}}
	p.addKey(t, "k1")
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		for kid, k := range p.keys {
			set.Keys = append(set.Keys, map[string]string{
				"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) addKey(t *testing.T, kid string) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys[kid] = k
	p.mu.Unlock()
	return k
}

const (
	issuer   = "https://login.example.com/"
	audience = "shipmentapp"
)

func claims(roles any, mutate ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "user-42", "name": "Ada Lovelace",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "roles": roles}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func sign(t *testing.T, method jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOIDCTokens(t *testing.T) {
	p := newProvider(t)
	e := newEnv(t, testutil.SQLite, "OIDC_JWKS_URL="+p.srv.URL, "OIDC_ISSUER="+issuer, "OIDC_AUDIENCE="+audience)
	k1 := p.keys["k1"]
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	viewer := func(token string) *testutil.Response {
		return e.gql.Anonymous().As(token).Do(`{ viewer { kind name role customerIds } shipments { totalCount } }`, nil)
	}

	ok := viewer(sign(t, jwt.SigningMethodRS256, "k1", k1, claims([]any{"staff"})))
	var v struct {
		Viewer struct {
			Kind, Name, Role string
			CustomerIds      []string
		}
	}
	_ = json.Unmarshal(ok.Data, &v)
	if ok.Status != 200 || len(ok.Errors) > 0 || v.Viewer.Kind != "user" || v.Viewer.Role != "STAFF" || v.Viewer.Name != "Ada Lovelace" {
		t.Fatalf("valid staff token: %s", ok.Raw)
	}
	partner := viewer(sign(t, jwt.SigningMethodRS256, "k1", k1, claims("partner", func(c jwt.MapClaims) {
		c["customers"] = []any{customerID(activeCustomer), 16}
	})))
	_ = json.Unmarshal(partner.Data, &v)
	if v.Viewer.Role != "PARTNER" || len(v.Viewer.CustomerIds) != 2 {
		t.Errorf("partner token: %s", partner.Raw)
	}
	if r := viewer(sign(t, jwt.SigningMethodRS256, "k1", k1, claims([]any{"PARTNER", "ADMIN"}))); !contains(string(r.Raw), `"role":"ADMIN"`) {
		t.Errorf("the highest role wins: %s", r.Raw)
	}

	// The provider rotates its keys: a token with a new key ID makes the
	// key set refresh.
	k2 := p.addKey(t, "k2")
	if r := viewer(sign(t, jwt.SigningMethodRS256, "k2", k2, claims("staff"))); r.Status != 200 || len(r.Errors) > 0 {
		t.Errorf("token signed with a rotated-in key: HTTP %d %s", r.Status, r.Raw)
	}

	// Forged key IDs cannot make it refetch more than every 30 s.
	refused := map[string]string{
		"wrong issuer":   sign(t, jwt.SigningMethodRS256, "k1", k1, claims("staff", func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" })),
		"wrong audience": sign(t, jwt.SigningMethodRS256, "k1", k1, claims("staff", func(c jwt.MapClaims) { c["aud"] = "another-api" })),
		"expired":        sign(t, jwt.SigningMethodRS256, "k1", k1, claims("staff", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })),
		"no expiry":      sign(t, jwt.SigningMethodRS256, "k1", k1, claims("staff", func(c jwt.MapClaims) { delete(c, "exp") })),
		"not yet valid":  sign(t, jwt.SigningMethodRS256, "k1", k1, claims("staff", func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })),
		"no subject":     sign(t, jwt.SigningMethodRS256, "k1", k1, claims("staff", func(c jwt.MapClaims) { delete(c, "sub") })),
		"wrong key":      sign(t, jwt.SigningMethodRS256, "k1", other, claims("staff")),
		"unknown kid":    sign(t, jwt.SigningMethodRS256, "k9", other, claims("staff")),
		"alg none":       sign(t, jwt.SigningMethodNone, "k1", jwt.UnsafeAllowNoneSignatureType, claims("admin")),
		"HS256 with the public key": sign(t, jwt.SigningMethodHS256, "k1",
			[]byte(base64.RawURLEncoding.EncodeToString(k1.N.Bytes())), claims("admin")),
		"ES256 not in the key set": sign(t, jwt.SigningMethodES256, "k1", ec, claims("admin")),
		"garbage":                  "not.a.jwt",
	}
	for name, token := range refused {
		if r := viewer(token); r.Status != 401 || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Errorf("%s: HTTP %d %s", name, r.Status, r.Raw)
		}
	}
	if r := viewer(sign(t, jwt.SigningMethodRS256, "k1", k1, claims([]any{"viewer", "guest"}))); r.Status != 403 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Errorf("a token with no role here: HTTP %d %s", r.Status, r.Raw)
	}

}
