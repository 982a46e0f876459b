package migrate_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// TestMigrationWebhookDescriptionNull writes endpoints the way they were
// written when a description was "" when none, migrates up (a blank
// description becomes NULL, a written one stays), then one step down (NULL is
// "" again under NOT NULL) and up again, on every dialect.
func TestMigrationWebhookDescriptionNull(t *testing.T) {
	for _, b := range testutil.All() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sqlDB, m := migratedUpToBefore(t, b, "_webhook_description_null.sql")
			const at = "2026-01-02 03:04:05"
			for id, desc := range map[int]string{1: "", 2: "ERP of A", 3: "  "} {
				// Literal values: the placeholders differ by dialect.
				if _, err := sqlDB.ExecContext(ctx, fmt.Sprintf(`INSERT INTO webhook_endpoints (id, owner_id, url, description, document, secret, state, created_at, created_by, updated_at)
					VALUES (%d, 1, 'https://example.com/hook', '%s', 'subscription { shipmentEvents { cursor } }', 'sealed', 'ENABLED', '%s', 'test', '%s')`, id, desc, at, at)); err != nil {
					t.Fatalf("insert %d: %v", id, err)
				}
			}
			read := func() map[int]*string {
				t.Helper()
				rows, err := sqlDB.QueryContext(ctx, `SELECT id, description FROM webhook_endpoints ORDER BY id`)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = rows.Close() }()
				got := map[int]*string{}
				for rows.Next() {
					var id int
					var desc sql.NullString
					if err := rows.Scan(&id, &desc); err != nil {
						t.Fatal(err)
					}
					if desc.Valid {
						got[id] = &desc.String
					} else {
						got[id] = nil
					}
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				return got
			}
			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}
			got := read()
			if got[1] != nil || got[3] != nil || got[2] == nil || *got[2] != "ERP of A" {
				t.Errorf("after up: %s", showDescriptions(got))
			}
			// Down (the last migration is this one unless a later one exists:
			// step down to it).
			for {
				r, err := m.Down(ctx)
				if err != nil {
					t.Fatalf("down: %v", err)
				}
				if strings.HasSuffix(r.Name, "_webhook_description_null.sql") {
					break
				}
			}
			got = read()
			if got[1] == nil || *got[1] != "" || got[2] == nil || *got[2] != "ERP of A" {
				t.Errorf("after down: %s", showDescriptions(got))
			}
			if _, err := m.Up(ctx); err != nil {
				t.Fatalf("up again: %v", err)
			}
		})
	}
}

func showDescriptions(m map[int]*string) string {
	var b strings.Builder
	for id := 1; id <= len(m); id++ {
		if m[id] == nil {
			b.WriteString(" NULL")
		} else {
			b.WriteString(" " + `"` + *m[id] + `"`)
		}
	}
	return b.String()
}
