package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/app"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// cliEnv points the commands at fresh databases of b: the main database and
// a Dolibarr with the demo data (Dolibarr is MariaDB, or SQLite when it does
// not answer, as testutil.NewDolibarr decides).
func cliEnv(t *testing.T, b testutil.Backend) (testutil.Database, testutil.Database) {
	t.Helper()
	mainDB := testutil.NewDatabase(t, b)
	dolibarrDB := testutil.NewDolibarr(t, b)
	t.Setenv("APP_DATA_DIR", t.TempDir())
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("DOLIBARR_DEMO_SEED", "false")
	for _, kv := range append(mainDB.Env("DB"), dolibarrDB.Env("DOLIBARR_DB")...) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if out, err := run(t, "migrate", "up"); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	return mainDB, dolibarrDB
}

func customerGID(rowid int) string { return gid.New(gid.TypeCustomer, rowid).String() }

// TestAPIKeyCreateChecksCustomers: the command line refuses a PARTNER key for
// a customer the API would refuse (one Dolibarr does not show), as
// createAPIKey does.
func TestAPIKeyCreateChecksCustomers(t *testing.T) {
	// Demo Dolibarr rowids (internal/dolibarr/demodata.go).
	const (
		active      = 1
		otherActive = 16
		closed      = 10 // status 0: exists, may still ship
		prospect    = 51
		supplier    = 54
		otherEntity = 57
		missing     = 999999
	)
	cases := []struct {
		name      string
		customers []int
		refused   int // the rowid named in the refusal; 0: accepted
	}{
		{"active customers", []int{active, otherActive}, 0},
		{"a closed customer", []int{closed}, 0},
		{"no such rowid", []int{active, missing}, missing},
		{"a prospect only", []int{prospect}, prospect},
		{"a supplier only", []int{supplier}, supplier},
		{"another entity's customer", []int{otherEntity}, otherEntity},
	}
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			testutil.Require(t, b)
			cliEnv(t, b)
			for _, c := range cases {
				ids := make([]string, len(c.customers))
				for i, n := range c.customers {
					ids[i] = customerGID(n)
				}
				out, err := run(t, "apikey", "create", "--name", c.name, "--role", "PARTNER", "--customers", strings.Join(ids, ","))
				if c.refused == 0 {
					if err != nil || !strings.Contains(out, "created API key") {
						t.Errorf("%s: refused: %v\n%s", c.name, err, out)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: accepted a customer Dolibarr does not have:\n%s", c.name, out)
					continue
				}
				if msg := err.Error(); !strings.Contains(msg, "--customers") || !strings.Contains(msg, customerGID(c.refused)) || !strings.Contains(msg, "no customer with this ID in Dolibarr") {
					t.Errorf("%s: the refusal does not say which customer and why: %v", c.name, err)
				}
			}
			out, err := run(t, "apikey", "list")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				if c.refused != 0 && strings.Contains(out, c.name) {
					t.Errorf("%s: a refused key was stored:\n%s", c.name, out)
				}
			}
		})
	}
}

// TestAPIKeyListStateMatchesAPI: apikey list shows each key in the state the
// API gives it (apiKeys.state) and treats it by (authenticated or not).
func TestAPIKeyListStateMatchesAPI(t *testing.T) {
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			testutil.Require(t, b)
			mainDB, dolibarrDB := cliEnv(t, b)
			create := func(args ...string) (id, secret string) {
				t.Helper()
				out, err := run(t, append([]string{"apikey", "create"}, args...)...)
				if err != nil {
					t.Fatalf("create %v: %v\n%s", args, err, out)
				}
				lines := strings.Split(strings.TrimSpace(out), "\n")
				return strings.Fields(lines[0])[3], lines[len(lines)-1]
			}
			adminID, admin := create("--name", "admin", "--role", "ADMIN")
			cases := []struct {
				name  string
				args  []string
				state string
			}{
				{"active", []string{"--name", "active", "--role", "STAFF"}, "active"},
				{"active until later", []string{"--name", "later", "--role", "STAFF", "--expires", "720h"}, "active"},
				{"partner", []string{"--name", "partner", "--role", "PARTNER", "--customers", customerGID(1)}, "active"},
				// Expiring soon (an expiry must be in the future when the key
				// is made), expired by the time the keys are listed.
				{"expired", []string{"--name", "expired", "--role", "STAFF", "--expires", "100ms"}, "expired"},
				{"revoked", []string{"--name", "revoked", "--role", "STAFF"}, "revoked"},
				{"revoked and expired", []string{"--name", "both", "--role", "STAFF", "--expires", "100ms"}, "revoked"},
			}
			ids := make([]string, len(cases))
			secrets := make([]string, len(cases))
			for i, c := range cases {
				ids[i], secrets[i] = create(c.args...)
				if c.state == "revoked" {
					if out, err := run(t, "apikey", "revoke", ids[i]); err != nil {
						t.Fatalf("revoke: %v\n%s", err, out)
					}
				}
			}

			time.Sleep(200 * time.Millisecond) // the 100ms keys have expired
			out, err := run(t, "apikey", "list")
			if err != nil {
				t.Fatal(err)
			}
			listed := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
				f := strings.Fields(line)
				listed[f[0]] = f[len(f)-1]
			}

			a, err := app.New(context.Background(), testutil.Config(t, mainDB, dolibarrDB), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(a.Close)
			gql := testutil.NewClient(t, a.Handler)
			var data struct {
				APIKeys []struct{ ID, State string }
			}
			r := gql.As(admin).Do(`{ apiKeys { id state } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("apiKeys: %s", r.Raw)
			}
			if err := json.Unmarshal(r.Data, &data); err != nil {
				t.Fatal(err)
			}
			api := map[string]string{}
			for _, k := range data.APIKeys {
				api[k.ID] = strings.ToLower(k.State)
			}
			if listed[adminID] != "active" || api[adminID] != "active" {
				t.Errorf("the admin key: list %q, API %q", listed[adminID], api[adminID])
			}
			for i, c := range cases {
				auth := gql.As(secrets[i]).Do(`{ viewer { kind } }`, nil)
				authenticated := auth.Status == 200 && len(auth.Errors) == 0
				if listed[ids[i]] != c.state || api[ids[i]] != c.state || authenticated != (c.state == "active") {
					t.Errorf("%s: list says %q, apiKeys.state %q, authenticates %v; want %q", c.name, listed[ids[i]], api[ids[i]], authenticated, c.state)
				}
			}
		})
	}
}
