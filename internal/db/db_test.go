package db_test

import (
	"strings"
	"testing"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/db"
)

// TestMySQLInterpolation: read-only targets (Dolibarr) inline parameters
// (one round trip per statement); writable ones keep server-side prepared
// statements (MySQL 8 refuses JSON from the binary strings inlining makes).
func TestMySQLInterpolation(t *testing.T) {
	for _, ro := range []bool{true, false} {
		_, dsn, err := db.DSN(db.Target{Driver: config.DriverMySQL, Host: "127.0.0.1", Port: 3306, Database: "d", Username: "u", ReadOnly: ro})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(dsn, "interpolateParams=true"); got != ro {
			t.Errorf("read-only %v: interpolateParams %v in %s", ro, got, dsn)
		}
	}
}
