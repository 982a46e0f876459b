package testutil

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// FakeSentry is an HTTP server that records what a Sentry SDK posts to it;
// dsn points an SDK at it, received returns everything posted so far.
func FakeSentry(t testing.TB) (dsn string, received func() string) {
	t.Helper()
	var (
		mu   sync.Mutex
		body bytes.Buffer
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body.Write(b)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return "http://publickey@" + strings.TrimPrefix(srv.URL, "http://") + "/42", func() string {
		mu.Lock()
		defer mu.Unlock()
		return body.String()
	}
}
