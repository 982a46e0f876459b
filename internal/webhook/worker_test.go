package webhook

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{"99999999", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
	}
	for _, c := range cases {
		if got := retryAfter(c.in, now); got != c.want {
			t.Errorf("retryAfter(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestOutcome: which answers succeed, which are retried, which are final
// (the rule: 4xx other than 408, 409 and 429 is final).
func TestOutcome(t *testing.T) {
	code := func(c int) *int { return &c }
	cases := []struct {
		name      string
		o         outcome
		ok, retry bool
	}{
		{"200", outcome{status: code(200)}, true, false},
		{"204", outcome{status: code(204)}, true, false},
		{"2xx cut short", outcome{err: "the answer was cut short"}, false, true},
		{"no answer", outcome{err: "timed out"}, false, true},
		{"301", outcome{status: code(301), err: "HTTP 301"}, false, false},
		{"400", outcome{status: code(400), err: "HTTP 400"}, false, false},
		{"401", outcome{status: code(401), err: "HTTP 401"}, false, false},
		{"404", outcome{status: code(404), err: "HTTP 404"}, false, false},
		{"408", outcome{status: code(408), err: "HTTP 408"}, false, true},
		{"409", outcome{status: code(409), err: "HTTP 409"}, false, true},
		{"410", outcome{status: code(410), err: "HTTP 410"}, false, false},
		{"429", outcome{status: code(429), err: "HTTP 429"}, false, true},
		{"500", outcome{status: code(500), err: "HTTP 500"}, false, true},
		{"503", outcome{status: code(503), err: "HTTP 503"}, false, true},
	}
	for _, c := range cases {
		if c.o.ok() != c.ok || (!c.ok && c.o.retryable() != c.retry) {
			t.Errorf("%s: ok %v retryable %v, want %v %v", c.name, c.o.ok(), c.o.retryable(), c.ok, c.retry)
		}
	}
}

func TestClip(t *testing.T) {
	if got := clip("héllo", 2); got != "h" {
		t.Errorf("clip cut a rune: %q", got)
	}
	if got := clip("abc", 5); got != "abc" {
		t.Errorf("clip: %q", got)
	}
}
