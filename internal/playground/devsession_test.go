package playground_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/playground"
)

func TestDevSessions(t *testing.T) {
	s, err := playground.NewDevSessions(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := playground.NewDevSessions(time.Hour) // another process
	if err != nil {
		t.Fatal(err)
	}
	token, expires := s.Issue()
	if !playground.IsDevSession(token) || !strings.HasPrefix(token, playground.DevSessionPrefix) {
		t.Fatalf("token %q lacks the prefix %q", token, playground.DevSessionPrefix)
	}
	if d := time.Until(expires); d <= 59*time.Minute || d > time.Hour {
		t.Errorf("expires in %s, want an hour", d)
	}
	got, err := s.Verify(token)
	if err != nil || !got.Equal(expires) {
		t.Fatalf("Verify(issued) = %v, %v; want %v", got, err, expires)
	}
	expired, err := playground.NewDevSessions(time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := expired.Issue()
	flip := []byte(token)
	flip[len(flip)-1] ^= 1
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"an API key", "sa_abc_def"},
		{"prefix only", playground.DevSessionPrefix},
		{"not base64", playground.DevSessionPrefix + "!!!"},
		{"tampered", string(flip)},
		{"truncated", token[:len(token)-2]},
		{"issued by another process", func() string { t, _ := other.Issue(); return t }()},
	} {
		if _, err := s.Verify(tc.token); !errors.Is(err, playground.ErrInvalidDevSession) {
			t.Errorf("%s: Verify = %v, want ErrInvalidDevSession", tc.name, err)
		}
	}
	if _, err := expired.Verify(old); !errors.Is(err, playground.ErrInvalidDevSession) {
		t.Errorf("expired: Verify = %v, want ErrInvalidDevSession", err)
	}
}

func TestLoopbackRequest(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, tc := range []struct {
		name         string
		remote, host string
		localAddr    net.Addr
		header       map[string]string
		want         bool
	}{
		{"127.0.0.1", "127.0.0.1:50000", "127.0.0.1:8080", local, nil, true},
		{"localhost", "127.0.0.1:50000", "localhost:8080", local, nil, true},
		{"ipv6", "[::1]:50000", "[::1]:8080", &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, nil, true},
		{"another machine", "192.168.1.20:50000", "127.0.0.1:8080", local, nil, false},
		{"arrived on another interface", "127.0.0.1:50000", "127.0.0.1:8080", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 8080}, nil, false},
		{"no local address", "127.0.0.1:50000", "127.0.0.1:8080", nil, nil, false},
		{"DNS rebinding", "127.0.0.1:50000", "evil.example:8080", local, nil, false},
		{"a proxy on this machine", "127.0.0.1:50000", "127.0.0.1:8080", local, map[string]string{"X-Forwarded-For": "203.0.113.9"}, false},
		{"Forwarded", "127.0.0.1:50000", "127.0.0.1:8080", local, map[string]string{"Forwarded": "for=203.0.113.9"}, false},
		{"X-Real-IP", "127.0.0.1:50000", "localhost", local, map[string]string{"X-Real-IP": "203.0.113.9"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/playground", nil)
			r.RemoteAddr, r.Host = tc.remote, tc.host
			if tc.localAddr != nil {
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tc.localAddr))
			}
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if got := playground.LoopbackRequest(r); got != tc.want {
				t.Errorf("LoopbackRequest = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "127.0.0.2:80": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.168.1.5:8080": false, "example.com:80": false, "127.0.0.1": false,
	} {
		if got := playground.LoopbackAddr(addr); got != want {
			t.Errorf("LoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestPageSession: the page carries a development session only when
// DevSession grants one, and then is kept by no cache.
func TestPageSession(t *testing.T) {
	s, err := playground.NewDevSessions(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	examples, err := playground.Examples()
	if err != nil {
		t.Fatal(err)
	}
	grant := true
	h, err := playground.NewHandler(playground.Options{
		Title: "shipmentapp", Endpoint: "/graphql", Introspection: true, Examples: examples,
		DevSession: func(*http.Request) (string, time.Time, bool) {
			if !grant {
				return "", time.Time{}, false
			}
			token, exp := s.Issue()
			return token, exp, true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		grant       bool
		wantSession bool
		wantCache   string
	}{
		{"granted", true, true, "no-store"},
		{"refused", false, false, "no-cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			grant = tc.grant
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/playground", nil))
			page := rec.Body.String()
			if got := strings.Contains(page, `data-session="`+playground.DevSessionPrefix); got != tc.wantSession {
				t.Errorf("the page carries a session: %v, want %v", got, tc.wantSession)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != tc.wantCache {
				t.Errorf("Cache-Control %q, want %q", cc, tc.wantCache)
			}
			if !strings.Contains(page, `id="key-form"`) || !strings.Contains(page, `data-introspection="on"`) {
				t.Error("the page lacks its key form or the introspection switch")
			}
			if !strings.Contains(page, "query LatestShipments") {
				t.Error("the page lacks the example tabs")
			}
		})
	}
}
