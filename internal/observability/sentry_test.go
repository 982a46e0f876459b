package observability

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSentry records the envelopes posted to it.
func fakeSentry(t *testing.T) (dsn string, received func() string) {
	var (
		mu   sync.Mutex
		body bytes.Buffer
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body.Write(b)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return "http://publickey@" + strings.TrimPrefix(srv.URL, "http://") + "/42", func() string {
		mu.Lock()
		defer mu.Unlock()
		return body.String()
	}
}

func TestRecoverReportsPanics(t *testing.T) {
	dsn, received := fakeSentry(t)
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
