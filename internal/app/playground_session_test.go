package app_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/playground"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

var sessionRe = regexp.MustCompile(`data-session="([^"]*)"`)

// openPlayground gets /playground from server as a browser on this machine
// would (host: its Host header, "" for the server's address; header: more
// headers) and returns the development session the page carries, if any.
func openPlayground(t *testing.T, server, host string, header map[string]string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, server+"/playground", nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /playground: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), `id="key-form"`) {
		t.Error("the page has no key form")
	}
	m := sessionRe.FindStringSubmatch(string(body))
	if m == nil {
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("a page without a session: Cache-Control %q, want no-cache", cc)
		}
		return ""
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("a page with a development session: Cache-Control %q, want no-store", cc)
	}
	return m[1]
}

const whoAmI = `{ shipments(first: 1) { totalCount } }`

// TestPlaygroundDevSession: the development playground is signed in as the
// development admin for a browser on this machine, and only there: not for
// another Host (DNS rebinding), not through a proxy, not with
// PLAYGROUND_DEV_AUTH=off, not when APP_ADDR binds every interface, never
// outside development; and a session is good only in the process that
// issued it.
func TestPlaygroundDevSession(t *testing.T) {
	e := newEnv(t, testutil.SQLite)
	server := e.gql.URL()

	token := openPlayground(t, server, "", nil)
	if !playground.IsDevSession(token) {
		t.Fatalf("the development playground opened from 127.0.0.1 carries no development session (%q)", token)
	}
	if r := e.gql.Anonymous().As(token).Do(whoAmI, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("a query with the page's development session: %d %s", r.Status, r.Raw)
	}
	// An admin-only operation: the session is the development admin.
	if r := e.gql.Anonymous().As(token).Do(`{ apiKeys { id role } }`, nil); r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"role":"ADMIN"`) {
		t.Errorf("the development session may not list the API keys, as an admin may: %d %s", r.Status, r.Raw)
	}
	if got := openPlayground(t, server, "localhost"+server[strings.LastIndex(server, ":"):], nil); got == "" {
		t.Error("no development session for Host: localhost")
	}
	for name, tc := range map[string]struct {
		host   string
		header map[string]string
	}{
		"another Host (DNS rebinding)": {host: "evil.example"},
		"through a proxy":              {header: map[string]string{"X-Forwarded-For": "203.0.113.9"}},
		"Forwarded":                    {header: map[string]string{"Forwarded": "for=203.0.113.9"}},
	} {
		if got := openPlayground(t, server, tc.host, tc.header); got != "" {
			t.Errorf("%s: the page carries a development session", name)
		}
	}

	// Every other app refuses this session: its key is per process.
	for name, extra := range map[string][]string{
		"PLAYGROUND_DEV_AUTH=off":        {"PLAYGROUND_DEV_AUTH=off"},
		"APP_ADDR on every interface":    {"APP_ADDR=0.0.0.0:8080"},
		"production":                     nil,
		"another process in development": nil,
	} {
		t.Run(name, func(t *testing.T) {
			var other *testutil.Client
			if name == "production" {
				other, _ = productionPlayground(t)
			} else {
				other = newEnv(t, testutil.SQLite, extra...).gql
			}
			got := openPlayground(t, other.URL(), "", nil)
			if name == "another process in development" {
				if got == "" {
					t.Fatal("no development session")
				}
			} else if got != "" {
				t.Errorf("the page carries a development session")
			}
			if r := other.Anonymous().As(token).Do(whoAmI, nil); r.Status != http.StatusUnauthorized {
				t.Errorf("another app's development session: %d %s, want 401", r.Status, r.Raw)
			}
		})
	}
}

// productionPlayground is a production app with the playground on, a
// client of it and the admin key the client sends.
func productionPlayground(t *testing.T) (*testutil.Client, string) {
	t.Helper()
	a := productionApp(t, "GRAPHQL_PLAYGROUND=true")
	key := newKey(t, a, auth.RoleAdmin)
	return testutil.NewClient(t, a.Handler).As(key), key
}

func TestPlaygroundDevAuthOnlyInDevelopment(t *testing.T) {
	db := testutil.NewDatabase(t, testutil.SQLite)
	dol := testutil.NewDolibarr(t, testutil.SQLite)
	for _, tc := range []struct {
		env     []string
		wantErr string
	}{
		{env: []string{"APP_ENV=production", "PLAYGROUND_DEV_AUTH=on"}, wantErr: "PLAYGROUND_DEV_AUTH: may only be on in development"},
		{env: []string{"PLAYGROUND_DEV_AUTH=yes"}, wantErr: "PLAYGROUND_DEV_AUTH: must be auto, on or off"},
		{env: []string{"PLAYGROUND_DEV_AUTH=on"}},
	} {
		env := append(append(append([]string{"APP_DATA_DIR=" + t.TempDir(), "APP_URL=https://api.example.com", "FILE_SIGNING_KEY=0123456789abcdef0123456789abcdef"},
			db.Env("DB")...), dol.Env("DOLIBARR_DB")...), tc.env...)
		_, err := config.Load("", env)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: error %v, want %q", tc.env, err, tc.wantErr)
		}
	}
}
