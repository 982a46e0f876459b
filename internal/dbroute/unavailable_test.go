package dbroute_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
)

// fakeTx fails its statements and its commit with err.
type fakeTx struct{ err error }

func (t fakeTx) Query(context.Context, string, any, any) error { return t.err }
func (t fakeTx) Exec(context.Context, string, any, any) error  { return t.err }
func (t fakeTx) Commit() error                                 { return t.err }
func (t fakeTx) Rollback() error                               { return t.err }

// txFake opens transactions that fail with txErr.
type txFake struct {
	fake
	txErr error
}

func (f *txFake) Tx(context.Context) (dialect.Tx, error) { return fakeTx{f.txErr}, nil }

func TestPrimaryUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("connect: %w", syscall.ECONNREFUSED)}
	for _, c := range []struct {
		name string
		err  error
		want apperr.Code // "": returned unchanged
	}{
		{"refused", refused, apperr.Unavailable},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), apperr.Unavailable},
		{"mysql invalid connection", mysql.ErrInvalidConn, apperr.Unavailable},
		{"bad connection", driver.ErrBadConn, apperr.Unavailable},
		{"connection done", sql.ErrConnDone, apperr.Unavailable},
		{"unexpected EOF", fmt.Errorf("read packet: %w", io.ErrUnexpectedEOF), apperr.Unavailable},
		{"pg connect", &pgconn.ConnectError{}, apperr.Unavailable},
		// pgx 5.13: a connection the server closed, met when a transaction
		// begins ("begin transaction: ... conn closed"; TestFaultPrimaryDown).
		{"pg conn closed", fmt.Errorf("begin transaction: ent: starting a transaction: %w", pgconn.ErrConnClosed), apperr.Unavailable},
		{"mysql error", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}, ""},
		{"pg error", &pgconn.PgError{Code: "23505"}, ""},
		{"deadline", context.DeadlineExceeded, ""},
		{"no rows", sql.ErrNoRows, ""},
		{"scan", errors.New("sql: Scan error on column index 0"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			router := dbroute.NewRouter(&txFake{fake: fake{err: c.err}, txErr: c.err}, nil, dbroute.Options{})
			ctx := context.Background()
			tx, err := router.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for name, got := range map[string]error{
				"query":    router.Query(ctx, "SELECT 1", nil, nil),
				"exec":     router.Exec(ctx, "UPDATE t SET a = 1", nil, nil),
				"tx query": tx.Query(ctx, "SELECT 1", nil, nil),
				"tx exec":  tx.Exec(ctx, "UPDATE t SET a = 1", nil, nil),
				"commit":   tx.Commit(),
				"rollback": tx.Rollback(),
				"begin": func() error {
					_, err := dbroute.NewRouter(&fake{err: c.err}, nil, dbroute.Options{}).Tx(ctx)
					return err
				}(),
			} {
				if code := apperr.CodeOf(got); code != c.want {
					t.Errorf("%s: code %q, want %q (%v)", name, code, c.want, got)
				}
				if !errors.Is(got, c.err) {
					t.Errorf("%s: the cause is lost: %v", name, got)
				}
				if c.want != "" && (errors.Is(got, c.err) && got.(*apperr.Error).Message != "the database is unavailable; retry later") {
					t.Errorf("%s: message %q", name, got.(*apperr.Error).Message)
				}
			}
		})
	}
	// The caller gave up: its own error, not the database's unavailability.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := dbroute.NewRouter(&fake{err: refused}, nil, dbroute.Options{}).Query(ctx, "SELECT 1", nil, nil); apperr.CodeOf(err) != "" {
		t.Errorf("a canceled request's error became %s", apperr.CodeOf(err))
	}
}
