package observability

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

func TestRecoverReportsPanics(t *testing.T) {
	dsn, received := testutil.FakeSentry(t)
	r, err := NewReporter(dsn, "test", "v1")
	if err != nil {
		t.Fatal(err)
	}
	h := Recover(r, slog.New(slog.DiscardHandler), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom in a handler")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"INTERNAL"`) || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("got %d %s", rec.Code, rec.Body.String())
	}
	r.Flush(5 * time.Second)
	if got := received(); !strings.Contains(got, "panic: boom in a handler") || !strings.Contains(got, `"environment":"test"`) {
		t.Fatalf("sentry received %q", got)
	}
}

func TestNilReporterReportsNothing(t *testing.T) {
	r, err := NewReporter("", "test", "v1")
	if err != nil || r != nil {
		t.Fatalf("%v %v", r, err)
	}
	r.Error(context.Background(), io.EOF) // no panic
	r.Flush(time.Millisecond)
}
