package app_test

import (
	"context"
	"io"
	"log"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	// The driver's own log of dropped idle connections (retried by
	// database/sql) would only clutter test output; serve sets it to slog.
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	// go-redis logs every failed dial; the tests that cut Redis expect them.
	redis.SetLogger(discardRedisLogger{})
	os.Exit(m.Run())
}

type discardRedisLogger struct{}

func (discardRedisLogger) Printf(context.Context, string, ...any) {}
