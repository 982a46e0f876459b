package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength is the longest URL CheckURL accepts, in bytes.
const MaxURLLength = 2048

// Error is a refused URL or address; Reason is safe to show to the API user
// (e.g. "the address 10.0.0.5 of hooks.example.com is private", "https is
// required", "a URL with credentials is refused").
type Error struct {
	// URL is the refused URL with any password redacted, shortened when
	// long; "" when the refusal came from a dial that knew no URL.
	URL string
	// Reason says why, in plain words.
	Reason string
}

// Error returns the reason with the URL it concerns.
func (e *Error) Error() string {
	if e.URL == "" {
		return "netguard: " + e.Reason
	}
	return fmt.Sprintf("netguard: %s: %s", e.URL, e.Reason)
}

// shownURL is the form of a URL an Error carries: no password, at most 100
// bytes (a refused URL may be 3,000 bytes of anything).
func shownURL(raw string, u *url.URL) string {
	if u != nil {
		raw = u.Redacted()
	}
	const max = 100
	if len(raw) > max {
		raw = strings.ToValidUTF8(raw[:max], "") + "…"
	}
	return raw
}

// CheckURL parses raw and checks it: absolute http(s) URL (https unless
// AllowHTTP or Open), a host, no user info, no fragment, at most 2048 bytes,
// port 1-65535; then resolves the host (a literal IP is not resolved) and
// checks EVERY address. Returns *Error for every refusal (wrap nothing else
// in it); a DNS failure is an *Error too ("hooks.example.com does not
// resolve").
//
// A host must be a DNS name in ASCII (an internationalized name in its xn--
// form) or an IP address in its usual notation: 0x7f000001, 2130706433,
// 017700000001 and 127.1 are refused rather than left to a resolver that may
// read them as 127.0.0.1.
func (p Policy) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	u, reason := p.checkShape(raw)
	if reason != "" {
		return nil, &Error{URL: shownURL(raw, u), Reason: reason}
	}
	_, refused, lookupErr := p.resolve(ctx, u.Hostname())
	if lookupErr != nil && ctx.Err() != nil {
		// Not a refusal: the caller gave up.
		return nil, fmt.Errorf("netguard: check %s: %w", shownURL(raw, u), ctx.Err())
	}
	if refused != nil {
		refused.URL = shownURL(raw, u)
		return nil, refused
	}
	return u, nil
}

// checkShape parses raw and checks everything but the addresses; it returns
// the URL (when it parsed) and the reason for a refusal ("" when none).
func (p Policy) checkShape(raw string) (*url.URL, string) {
	switch {
	case raw == "":
		return nil, "the URL is empty"
	case len(raw) > MaxURLLength:
		return nil, fmt.Sprintf("the URL is longer than %d bytes", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "the URL is not valid"
	}
	if !u.IsAbs() {
		return u, "the URL must be absolute, starting with https://"
	}
	if reason := p.checkScheme(u.Scheme); reason != "" {
		return u, reason
	}
	if u.User != nil {
		return u, "a URL with credentials is refused"
	}
	if strings.Contains(raw, "#") {
		return u, "a URL with a fragment is refused"
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return u, "the URL has no host"
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return u, "the port must be a number from 1 to 65535"
		}
	}
	if reason := checkHost(u.Hostname()); reason != "" {
		return u, reason
	}
	return u, ""
}

// checkScheme refuses every scheme but https, and http unless allowed.
func (p Policy) checkScheme(scheme string) string {
	switch scheme {
	case "https":
		return ""
	case "http":
		if p.AllowHTTP || p.Open {
			return ""
		}
		return "https is required"
	}
	if p.AllowHTTP || p.Open {
		return "only http and https URLs are accepted"
	}
	return "only https URLs are accepted"
}

// checkHost refuses a host that is neither an IP address in its usual
// notation nor a DNS name in ASCII.
func checkHost(host string) string {
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return "the host is not a valid name"
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "the host is not a valid name"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= 0x80:
				return "the host must be written in ASCII (an internationalized name in its xn-- form)"
			default:
				return "the host is not a valid name"
			}
		}
	}
	// A name whose last label is a number is an IPv4 address to a URL
	// parser (WHATWG) and to getaddrinfo: 2130706433, 0x7f000001, 127.1.
	if last := strings.ToLower(labels[len(labels)-1]); isNumber(last) {
		return "the host is an IP address in an unusual notation; write IPv4 addresses as four decimal numbers (a.b.c.d)"
	}
	return ""
}

// isNumber reports whether s is a decimal, octal or 0x-hexadecimal number.
func isNumber(s string) bool {
	digits := "0123456789"
	if strings.HasPrefix(s, "0x") {
		s, digits = s[2:], "0123456789abcdef"
		if s == "" {
			return true
		}
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(digits, rune(s[i])) {
			return false
		}
	}
	return s != ""
}

// resolve returns host's addresses (a literal IP is its own), each checked
// with Blocked, or a refusal (*Error without URL), or the lookup's own error
// (lookupErr, with the refusal "… does not resolve" beside it). The addresses
// are unmapped: an IPv4 address a resolver returns in IPv4-mapped form is
// dialled as IPv4.
func (p Policy) resolve(ctx context.Context, host string) (addrs []netip.Addr, refused *Error, lookupErr error) {
	if reason := checkHost(host); reason != "" {
		return nil, &Error{Reason: reason}, nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if why := p.Blocked(addr); why != "" {
			return nil, &Error{Reason: fmt.Sprintf("the address %s is %s", addr, why)}, nil
		}
		return []netip.Addr{addr.Unmap()}, nil, nil
	}
	var r Resolver = net.DefaultResolver
	if p.Resolver != nil {
		r = p.Resolver
	}
	found, err := r.LookupNetIP(ctx, "ip", host)
	if err == nil && len(found) == 0 {
		err = fmt.Errorf("no addresses")
	}
	if err != nil {
		return nil, &Error{Reason: fmt.Sprintf("%s does not resolve", host)}, fmt.Errorf("netguard: look up %s: %w", host, err)
	}
	out := make([]netip.Addr, 0, len(found))
	for _, addr := range found {
		if why := p.Blocked(addr); why != "" {
			return nil, &Error{Reason: fmt.Sprintf("the address %s of %s is %s", addr, host, why)}, nil
		}
		out = append(out, addr.Unmap())
	}
	return out, nil, nil
}
