package apperr_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
)

// TestPresenterCancellation: an error of a request whose client went away
// is CANCELLED and not logged; a request past its deadline is TIMEOUT; a
// context.Canceled that is not the request's (something of ours cancelled
// its own work) is still INTERNAL, logged.
func TestPresenterCancellation(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	// A request context cancelled under the operation's own deadline, as
	// the limits middleware derives it.
	goneWithDeadline, cancel2 := context.WithTimeout(gone, time.Hour)
	defer cancel2()
	late, cancel3 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel3()
	live := context.Background()
	for _, c := range []struct {
		name   string
		ctx    context.Context
		err    error
		code   apperr.Code
		logged bool
	}{
		{"client gone, dataloader error", gone, fmt.Errorf("load files: %w", context.Canceled), apperr.Cancelled, false},
		{"client gone under a deadline", goneWithDeadline, fmt.Errorf("load files: %w", context.Canceled), apperr.Cancelled, false},
		{"client gone, driver error without the cause", gone, errors.New("driver: bad connection"), apperr.Cancelled, false},
		{"client gone, a client error stays", gone, apperr.NotFoundf("no such shipment"), apperr.NotFound, false},
		{"deadline", late, fmt.Errorf("load files: %w", context.DeadlineExceeded), apperr.Timeout, false},
		{"our own cancellation", live, fmt.Errorf("load files: %w", context.Canceled), apperr.Internal, true},
		{"internal", live, errors.New("boom"), apperr.Internal, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			present := apperr.Presenter(slog.New(slog.NewTextHandler(&logs, nil)), false)
			e := present(c.ctx, c.err)
			if got := e.Extensions["code"]; got != string(c.code) {
				t.Errorf("code %v, want %s (%s)", got, c.code, e.Message)
			}
			if logged := logs.Len() > 0; logged != c.logged {
				t.Errorf("logged %v, want %v: %s", logged, c.logged, logs.String())
			}
		})
	}
	if apperr.ClientGone(late) || !apperr.ClientGone(goneWithDeadline) || apperr.ClientGone(live) {
		t.Error("ClientGone mistakes a deadline for a client gone, or the reverse")
	}
}
