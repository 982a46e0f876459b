package playground

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// DevSessionPrefix starts every development session token, so that the
// server tells one from an API key (sa_…) or an OIDC token without trying
// each verifier.
const DevSessionPrefix = "sapgdev_"

// DevSessionTTL is how long a development session lasts: a working day. The
// page shows when it ends; reloading the page issues a new one.
const DevSessionTTL = 12 * time.Hour

// ErrInvalidDevSession is returned by DevSessions.Verify for a token it did
// not issue, one issued before the process started, or an expired one.
var ErrInvalidDevSession = errors.New("invalid or expired development session")

// DevSessions issues and verifies the playground's development sessions:
// short-lived bearer tokens that stand for the development admin. A token is
// its expiry and an HMAC-SHA256 of it under a key drawn at random when the
// process starts and never stored, so nothing needs to be kept (the
// development admin key's secret is not stored either: a session does not
// need it) and every token dies with the process.
type DevSessions struct {
	key [32]byte
	ttl time.Duration
	now func() time.Time
}

// NewDevSessions returns a DevSessions with a fresh random key whose tokens
// last ttl (DevSessionTTL when ttl is not positive).
func NewDevSessions(ttl time.Duration) (*DevSessions, error) {
	if ttl <= 0 {
		ttl = DevSessionTTL
	}
	s := &DevSessions{ttl: ttl, now: time.Now}
	if _, err := rand.Read(s.key[:]); err != nil {
		return nil, fmt.Errorf("playground: draw the development session key: %w", err)
	}
	return s, nil
}

// Issue returns a new token and when it expires.
func (s *DevSessions) Issue() (token string, expires time.Time) {
	expires = s.now().Add(s.ttl).Truncate(time.Second)
	var exp [8]byte
	binary.BigEndian.PutUint64(exp[:], uint64(expires.Unix()))
	return DevSessionPrefix + base64.RawURLEncoding.EncodeToString(append(exp[:], s.mac(exp[:])...)), expires
}

// Verify returns when token expires, or ErrInvalidDevSession.
func (s *DevSessions) Verify(token string) (expires time.Time, err error) {
	raw, ok := strings.CutPrefix(token, DevSessionPrefix)
	if !ok {
		return time.Time{}, ErrInvalidDevSession
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) != 8+sha256.Size {
		return time.Time{}, ErrInvalidDevSession
	}
	if !hmac.Equal(b[8:], s.mac(b[:8])) {
		return time.Time{}, ErrInvalidDevSession
	}
	expires = time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	if !s.now().Before(expires) {
		return time.Time{}, ErrInvalidDevSession
	}
	return expires, nil
}

func (s *DevSessions) mac(exp []byte) []byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte("shipmentapp playground development session v1\x00"))
	m.Write(exp)
	return m.Sum(nil)
}

// IsDevSession reports whether token has the form of a development session
// token (DevSessionPrefix), verified or not.
func IsDevSession(token string) bool { return strings.HasPrefix(token, DevSessionPrefix) }

// LoopbackRequest reports whether r came from this machine to a loopback
// address and names a loopback host: its peer is a loopback address, the
// connection arrived on one, its Host is localhost or a loopback address
// (a page of another site that rebinds its DNS name to 127.0.0.1 sends its
// own name) and it carries no forwarding header (a proxy on this machine
// may be relaying someone else).
func LoopbackRequest(r *http.Request) bool {
	if !loopbackHostPort(r.RemoteAddr) {
		return false
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); !ok || !loopbackHostPort(la.String()) {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !loopbackHost(host) {
		return false
	}
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return true
}

// LoopbackAddr reports whether a listen address (APP_ADDR, host:port) binds
// loopback only: "127.0.0.1:8080", "[::1]:8080", "localhost:8080"; not
// ":8080" or "0.0.0.0:8080", which bind every interface.
func LoopbackAddr(addr string) bool { return loopbackHostPort(addr) }

func loopbackHostPort(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	return err == nil && loopbackHost(host)
}

func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
