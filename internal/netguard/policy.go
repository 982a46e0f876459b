// Package netguard owns the outbound HTTP requests whose receiver someone
// outside the server chose (webhooks: a partner registers a URL, the server
// POSTs signed events to it). Such a URL must not be usable to reach the
// server's own network (SSRF): loopback, private networks, link-local and
// cloud metadata endpoints, and the many IPv6 and IPv4 spellings that lead
// there.
//
// It checks twice. CheckURL, when a URL is registered, refuses a URL whose
// shape is wrong or whose host resolves to any address Blocked refuses. The
// client from Client, at delivery, resolves the host again itself, checks
// every address, dials only a checked address (no second lookup a DNS
// rebinding attacker could answer differently) and re-checks the address
// actually connected in the dialer's Control hook. It uses no proxy from the
// environment and follows no redirect.
//
// A refusal is an *Error whose Reason is safe to show to the API user.
package netguard

import (
	"context"
	"fmt"
	"net/netip"
)

// Policy says which receivers outbound requests may reach. The zero Policy
// is the strict one: https only, public unicast addresses only.
type Policy struct {
	// Open turns the address checks off (development): any scheme
	// http/https, any address.
	Open bool
	// AllowHTTP permits http:// (otherwise only https:// outside Open).
	AllowHTTP bool
	// Allowed are networks that may be reached even though they are
	// private/loopback/etc. (an allowlist for receivers inside a company
	// network), e.g. 10.20.0.0/16. A zoned address is never allowed.
	Allowed []netip.Prefix
	// Resolver looks names up; nil: net.DefaultResolver. (Tests inject one:
	// a name that resolves to a public address at creation and a private
	// one at delivery.)
	Resolver Resolver
}

// Resolver looks a host name up; *net.Resolver is one. network is "ip",
// "ip4" or "ip6".
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Blocked reports why addr may not be reached under p ("" when it may). The
// reason completes "the address … is …", e.g. "loopback" or "private
// (10.0.0.0/8)".
func (p Policy) Blocked(addr netip.Addr) string {
	if !addr.IsValid() {
		return "not a valid IP address"
	}
	if p.Open {
		return ""
	}
	if addr.Zone() != "" {
		return "an IPv6 address with a zone (link-scoped)"
	}
	if p.allowed(addr) {
		return ""
	}
	return category(addr)
}

// allowed reports whether addr, or the IPv4 address an IPv4-mapped addr
// stands for, is in one of p.Allowed.
func (p Policy) allowed(addr netip.Addr) bool {
	for _, pfx := range p.Allowed {
		if pfx.Contains(addr) || pfx.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// A rule is a refused network and the words that say why.
type rule struct {
	prefix netip.Prefix
	reason string
}

// The refused IPv4 networks, the more specific before the networks holding
// them (169.254.169.254 is named as cloud metadata, not as link-local).
var v4Rules = []rule{
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified (0.0.0.0)"},
	{netip.MustParsePrefix("0.0.0.0/8"), "in 0.0.0.0/8 (\"this network\")"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (10.0.0.0/8)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (172.16.0.0/12)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (192.168.0.0/16)"},
	{netip.MustParsePrefix("100.100.100.200/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (carrier-grade NAT, 100.64.0.0/10)"},
	{netip.MustParsePrefix("169.254.169.254/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved for protocol assignments (192.0.0.0/24)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "reserved for documentation (192.0.2.0/24)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "reserved for documentation (198.51.100.0/24)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "reserved for documentation (203.0.113.0/24)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved for benchmarking (198.18.0.0/15)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
}

// The refused IPv6 networks that embed no IPv4 address, the more specific
// first. Anything outside global unicast 2000::/3 is refused after them.
var v6Rules = []rule{
	{netip.MustParsePrefix("::/128"), "unspecified (::)"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated, ::a.b.c.d)"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "a cloud metadata address"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local, fc00::/7)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated, fec0::/10)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
	{netip.MustParsePrefix("100::/64"), "reserved for discarding (100::/64)"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo tunnel address (2001::/32)"},
	{netip.MustParsePrefix("2001:2::/48"), "reserved for benchmarking (2001:2::/48)"},
	{netip.MustParsePrefix("2001:10::/28"), "an ORCHID identifier, not routable (2001:10::/28)"},
	{netip.MustParsePrefix("2001:20::/28"), "an ORCHID identifier, not routable (2001:20::/28)"},
	{netip.MustParsePrefix("2001:db8::/32"), "reserved for documentation (2001:db8::/32)"},
	{netip.MustParsePrefix("3fff::/20"), "reserved for documentation (3fff::/20)"},
}

var (
	globalUnicast = netip.MustParsePrefix("2000::/3")
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local    = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour     = netip.MustParsePrefix("2002::/16")
)

// category names the refused network addr is in ("" when none). IPv6
// addresses that carry an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged
// by it.
func category(addr netip.Addr) string {
	if addr.Is4In6() {
		if why := category(addr.Unmap()); why != "" {
			return fmt.Sprintf("IPv4-mapped and %s is %s", addr.Unmap(), why)
		}
		return ""
	}
	if addr.Is4() {
		return match(v4Rules, addr)
	}
	b := addr.As16()
	switch {
	case nat64.Contains(addr):
		return embedded("NAT64", netip.AddrFrom4([4]byte(b[12:16])))
	case nat64Local.Contains(addr):
		// RFC 8215's local-use prefix may be used with any of RFC 6052's
		// prefix lengths, so where the IPv4 address sits is unknown (read
		// both ways, nearly every address holds 0.0.0.0 in one of them);
		// and its translator is by definition inside a local network.
		return "a local-use NAT64 address (64:ff9b:1::/48), translated inside a private network"
	case sixToFour.Contains(addr):
		return embedded("6to4", netip.AddrFrom4([4]byte(b[2:6])))
	}
	if why := match(v6Rules, addr); why != "" {
		return why
	}
	if !globalUnicast.Contains(addr) {
		return "reserved (outside global unicast 2000::/3)"
	}
	return ""
}

// embedded judges an IPv6 address of the given kind by the IPv4 address v4
// it carries.
func embedded(kind string, v4 netip.Addr) string {
	if why := category(v4); why != "" {
		return fmt.Sprintf("%s and its IPv4 address %s is %s", kind, v4, why)
	}
	return ""
}

// match returns the reason of the first rule holding addr.
func match(rules []rule, addr netip.Addr) string {
	for _, r := range rules {
		if r.prefix.Contains(addr) {
			return r.reason
		}
	}
	return ""
}
