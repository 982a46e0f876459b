package dbroute

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"entgo.io/ent/dialect"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// unavailableMessage is what a client is told when the primary cannot be
// reached: no address or driver text.
const unavailableMessage = "the database is unavailable; retry later"

// unavailable wraps the primary's driver so that a failure to reach it (a
// refused, reset or broken connection, as opposed to the database answering
// with an SQL error, or the request's own deadline) is an apperr UNAVAILABLE
// error, in or out of a transaction: clients are told to retry, and the
// whole-request path answers 503.
type unavailable struct {
	dialect.Driver
}

func (u unavailable) Exec(ctx context.Context, query string, args, v any) error {
	return asUnavailable(ctx, u.Driver.Exec(ctx, query, args, v))
}

func (u unavailable) Query(ctx context.Context, query string, args, v any) error {
	return asUnavailable(ctx, u.Driver.Query(ctx, query, args, v))
}

func (u unavailable) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := u.Driver.Tx(ctx)
	if err != nil {
		return nil, asUnavailable(ctx, err)
	}
	return unavailableTx{Tx: tx, ctx: ctx}, nil
}

// BeginTx opens a transaction with options when the driver can.
func (u unavailable) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := u.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return u.Tx(ctx)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, asUnavailable(ctx, err)
	}
	return unavailableTx{Tx: tx, ctx: ctx}, nil
}

type unavailableTx struct {
	dialect.Tx
	ctx context.Context // the transaction's, for Commit and Rollback
}

func (t unavailableTx) Exec(ctx context.Context, query string, args, v any) error {
	return asUnavailable(ctx, t.Tx.Exec(ctx, query, args, v))
}

func (t unavailableTx) Query(ctx context.Context, query string, args, v any) error {
	return asUnavailable(ctx, t.Tx.Query(ctx, query, args, v))
}

func (t unavailableTx) Commit() error { return asUnavailable(t.ctx, t.Tx.Commit()) }

func (t unavailableTx) Rollback() error { return asUnavailable(t.ctx, t.Tx.Rollback()) }

// asUnavailable returns err as an UNAVAILABLE apperr.Error when it is a
// failure to reach the database, and unchanged otherwise.
func asUnavailable(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !IsConnError(err) {
		return err
	}
	return &apperr.Error{Code: apperr.Unavailable, Message: unavailableMessage, Err: err}
}

// IsConnError reports whether err is a failure to reach a database or a
// connection lost under a statement: refused, reset, closed, timed out on the
// wire. SQL errors (the database answered) and context errors (the caller
// gave up) are not.
func IsConnError(err error) bool {
	if err == nil || isServerError(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connectErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.SafeToRetry(err)
}
