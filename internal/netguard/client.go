package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// The client's defaults and bounds.
const (
	// DefaultConnectTimeout bounds each dial (and the TLS handshake) when
	// ClientOptions.ConnectTimeout is zero.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultTimeout bounds a whole request, reading the body included,
	// when ClientOptions.Timeout is zero.
	DefaultTimeout = 15 * time.Second
	// MaxConnsPerHost bounds the connections the client holds to one
	// receiver, so that a slow receiver cannot take every socket.
	MaxConnsPerHost = 4
	// maxDiscard is how much of a response ReadLimited drains after the
	// bytes it keeps, so that the connection can be reused; a longer body
	// costs the connection, not the time to read it.
	maxDiscard = 64 << 10
	// maxHeaderBytes bounds a response's headers.
	maxHeaderBytes = 64 << 10
)

// ClientOptions tunes the client Policy.Client returns.
type ClientOptions struct {
	ConnectTimeout time.Duration // per dial, default 5s
	Timeout        time.Duration // whole request incl. reading the body, default 15s
	TLSConfig      *tls.Config   // nil: system roots (tests pass a config trusting httptest's cert)
}

// Client returns an *http.Client for outbound requests under p: its
// Transport resolves the host itself, checks each address with Blocked, and
// dials the checked address (never re-resolving: no DNS rebinding between
// check and connect), with a net.Dialer Control hook that re-checks the
// address actually connected; Proxy: nil (never a proxy from the
// environment); no redirects followed (CheckRedirect returns
// http.ErrUseLastResponse); HTTP/1.1 and HTTP/2 over TLS with ServerName the
// URL's host; keep-alives fine but MaxConnsPerHost bounded; response headers
// timeout; errors from a refused address surface as *Error via errors.As.
//
// A request whose scheme p refuses (http without AllowHTTP) or whose URL
// carries credentials is refused with *Error before any lookup. A host that
// does not resolve is an ordinary (wrapped) error, not an *Error: it may
// resolve on the next attempt.
func (p Policy) Client(o ClientOptions) *http.Client {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		tlsConfig = o.TLSConfig.Clone()
		// The transport fills in each request's host.
		tlsConfig.ServerName = ""
	}
	d := p.newDialer(o.ConnectTimeout)
	base := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.dial,
		TLSClientConfig:        tlsConfig,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    o.ConnectTimeout,
		ResponseHeaderTimeout:  o.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxConnsPerHost:        MaxConnsPerHost,
		MaxIdleConnsPerHost:    2,
		MaxIdleConns:           64,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
		// Bytes read are bytes sent: no gzip bomb behind a small body.
		DisableCompression: true,
	}
	return &http.Client{
		Transport: &transport{policy: p, base: base},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: o.Timeout,
	}
}

// transport refuses, before the base transport sees them, requests whose
// URL p would refuse for its shape.
type transport struct {
	policy Policy
	base   *http.Transport
}

// RoundTrip checks req's scheme and user info, then sends it.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	reason := t.policy.checkScheme(req.URL.Scheme)
	if reason == "" && req.URL.User != nil {
		reason = "a URL with credentials is refused"
	}
	if reason != "" {
		if req.Body != nil {
			// A RoundTripper closes the body, errors included.
			_ = req.Body.Close()
		}
		return nil, &Error{URL: shownURL("", req.URL), Reason: reason}
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections closes the base transport's idle connections
// (http.Client.CloseIdleConnections calls it).
func (t *transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// dialer dials only addresses its policy allows.
type dialer struct {
	policy Policy
	net    net.Dialer
}

// newDialer returns the client's dialer: each dial bounded by timeout, and
// the address connected re-checked in Control.
func (p Policy) newDialer(timeout time.Duration) *dialer {
	return &dialer{
		policy: p,
		net: net.Dialer{
			Timeout:   timeout,
			KeepAlive: 30 * time.Second,
			Control:   p.control,
		},
	}
}

// dial resolves address's host once, refuses it when any of its addresses
// is blocked, and dials the checked addresses in turn by IP.
func (d *dialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("netguard: dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, &Error{Reason: "the port must be a number from 1 to 65535"}
	}
	addrs, refused, lookupErr := d.policy.resolve(ctx, host)
	if lookupErr != nil {
		return nil, lookupErr
	}
	if refused != nil {
		return nil, refused
	}
	var errs []error
	for _, addr := range addrs {
		conn, err := d.net.DialContext(ctx, network, netip.AddrPortFrom(addr, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		var refused *Error
		if ctx.Err() != nil || errors.As(err, &refused) {
			break
		}
	}
	return nil, fmt.Errorf("netguard: dial %s: %w", address, errors.Join(errs...))
}

// control is the dialer's last word: it refuses the address about to be
// connected when p blocks it, whatever resolved it.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{Reason: fmt.Sprintf("the address connected (%q) is not an IP address", address)}
	}
	if why := p.Blocked(ap.Addr()); why != "" {
		return &Error{Reason: fmt.Sprintf("the address %s is %s", ap.Addr(), why)}
	}
	return nil
}

// ReadLimited reads at most n bytes of r into a slice and discards (up to a
// further bound of 64 KiB, then stops) the rest, for keeping the first 1 KiB
// of a response. An error while discarding is not reported: it costs only
// the connection's reuse.
func ReadLimited(r io.Reader, n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("netguard: read limited: negative limit %d", n)
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return b, fmt.Errorf("netguard: read response: %w", err)
	}
	_, _ = io.CopyN(io.Discard, r, maxDiscard)
	return b, nil
}
