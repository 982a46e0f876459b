package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// OIDCConfig configures user tokens.
type OIDCConfig struct {
	// JWKSURL is where the provider publishes its signing keys.
	JWKSURL  string
	Issuer   string
	Audience string
	// RolesClaim names the claim (a string or a list) holding the user's roles.
	RolesClaim string
	// CustomersClaim names the claim listing a partner user's customers
	// (Customer global IDs or Dolibarr rowids).
	CustomersClaim string
}

// OIDC verifies JWTs from the company's OIDC provider.
type OIDC struct {
	cfg OIDCConfig
	kf  keyfunc.Keyfunc
}

// allowedAlgs are the asymmetric signatures accepted: never "none", never an
// HMAC keyed with the public key.
var allowedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// NewOIDC fetches the provider's key set (and refreshes it hourly, and when a
// token names an unknown key ID) until ctx ends.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
		// A token naming an unknown key ID refetches the key set (a key
		// rotation), at most every 30 s so forged key IDs cannot hammer the
		// provider; the set is also refetched hourly.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(30*time.Second), 1),
		// ...and a request never waits for that budget: it is refused at once.
		RateLimitWaitMax: 50 * time.Millisecond,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				slog.WarnContext(ctx, "refresh OIDC key set", slog.String("url", u), slog.String("error", err.Error()))
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("oidc: key set %s: %w", cfg.JWKSURL, err)
	}
	return &OIDC{cfg: cfg, kf: kf}, nil
}

// ErrNoRole is returned for a valid token that grants no role here.
var ErrNoRole = errors.New("the token grants no shipmentapp role")

// Authenticate verifies a token's signature, issuer, audience and lifetime
// and returns its viewer.
func (o *OIDC) Authenticate(ctx context.Context, token string) (*viewer.Viewer, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, o.kf.KeyfuncCtx(ctx),
		jwt.WithValidMethods(allowedAlgs),
		jwt.WithIssuer(o.cfg.Issuer),
		jwt.WithAudience(o.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
	)
	if err != nil {
		return nil, ErrInvalidCredentials
	}
	sub, _ := claims.GetSubject()
	if sub == "" {
		return nil, ErrInvalidCredentials
	}
	role := highestRole(claims[o.cfg.RolesClaim])
	if role == "" {
		return nil, ErrNoRole
	}
	v := &viewer.Viewer{Kind: viewer.KindUser, ID: sub, Name: sub, Role: role}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		v.ExpiresAt = exp.Time
	}
	if name, ok := claims["name"].(string); ok && name != "" {
		v.Name = name
	}
	if role == RolePartner {
		v.Customers = customerIDs(claims[o.cfg.CustomersClaim])
	}
	return v, nil
}

func highestRole(claim any) Role {
	var names []string
	switch c := claim.(type) {
	case string:
		names = strings.Fields(strings.ReplaceAll(c, ",", " "))
	case []any:
		for _, x := range c {
			if s, ok := x.(string); ok {
				names = append(names, s)
			}
		}
	}
	var best Role
	for _, n := range names {
		if r := Role(strings.ToUpper(strings.TrimSpace(n))); r.Valid() && !best.AtLeast(r) {
			best = r
		}
	}
	return best
}

func customerIDs(claim any) []int {
	list, _ := claim.([]any)
	var out []int
	for _, x := range list {
		switch v := x.(type) {
		case float64:
			if v > 0 && v == float64(int(v)) {
				out = append(out, int(v))
			}
		case string:
			if n, err := gid.ParseAs(gid.TypeCustomer, v); err == nil {
				out = append(out, n)
			} else if n, err := strconv.Atoi(v); err == nil && n > 0 {
				out = append(out, n)
			}
		}
	}
	return out
}
