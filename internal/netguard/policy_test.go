package netguard

import (
	"net/netip"
	"strings"
	"testing"
)

func TestBlocked(t *testing.T) {
	strict := Policy{}
	company := Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd12:3456::/32")}}
	open := Policy{Open: true}
	tests := []struct {
		addr   string
		policy Policy
		want   string // a word of the reason; "" when the address may be reached
	}{
		// Refused IPv4.
		{"0.0.0.0", strict, "unspecified"},
		{"0.1.2.3", strict, "this network"},
		{"127.0.0.1", strict, "loopback"},
		{"127.255.255.254", strict, "loopback"},
		{"10.0.0.5", strict, "private"},
		{"172.16.0.1", strict, "private"},
		{"172.31.255.255", strict, "private"},
		{"192.168.1.1", strict, "private"},
		{"100.64.0.1", strict, "carrier-grade NAT"},
		{"100.127.255.255", strict, "carrier-grade NAT"},
		{"169.254.1.1", strict, "link-local"},
		{"169.254.169.254", strict, "cloud metadata"},
		{"100.100.100.200", strict, "cloud metadata"},
		{"224.0.0.1", strict, "multicast"},
		{"239.255.255.250", strict, "multicast"},
		{"255.255.255.255", strict, "broadcast"},
		{"240.0.0.1", strict, "reserved"},
		{"192.0.0.8", strict, "protocol assignments"},
		{"198.18.0.1", strict, "benchmarking"},
		{"198.19.255.255", strict, "benchmarking"},
		{"192.0.2.1", strict, "documentation"},
		{"198.51.100.7", strict, "documentation"},
		{"203.0.113.9", strict, "documentation"},
		// Refused IPv6.
		{"::", strict, "unspecified"},
		{"::1", strict, "loopback"},
		{"::ffff:127.0.0.1", strict, "loopback"},
		{"::ffff:10.1.2.3", strict, "private"},
		{"::ffff:169.254.169.254", strict, "cloud metadata"},
		{"::127.0.0.1", strict, "IPv4-compatible"},
		{"::8.8.8.8", strict, "IPv4-compatible"},
		{"64:ff9b::a00:1", strict, "NAT64 and its IPv4 address 10.0.0.1 is private"},
		{"64:ff9b::7f00:1", strict, "loopback"},
		{"64:ff9b:1::a9fe:a9fe", strict, "local-use NAT64"},
		{"64:ff9b:1:808:8:800::", strict, "local-use NAT64"}, // 8.8.8.8 in RFC 6052's /48 format
		{"64:ff9b:1::808:808", strict, "local-use NAT64"},
		{"2002:c0a8:101::1", strict, "6to4 and its IPv4 address 192.168.1.1 is private"},
		{"2002:7f00:1::", strict, "loopback"},
		{"2001::1", strict, "Teredo"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", strict, "Teredo"},
		{"fc00::1", strict, "private"},
		{"fd12:3456::1", strict, "private"},
		{"fd00:ec2::254", strict, "cloud metadata"},
		{"fe80::1", strict, "link-local"},
		{"fe80::1%eth0", strict, "zone"},
		{"fec0::1", strict, "site-local"},
		{"ff02::1", strict, "multicast"},
		{"2001:db8::1", strict, "documentation"},
		{"3fff::1", strict, "documentation"},
		{"100::1", strict, "discarding"},
		{"2001:2::1", strict, "benchmarking"},
		{"2001:10::1", strict, "ORCHID"},
		{"4000::1", strict, "outside global unicast"},
		{"::2", strict, "IPv4-compatible"},
		// Allowed.
		{"93.184.215.14", strict, ""},
		{"8.8.8.8", strict, ""},
		{"1.1.1.1", strict, ""},
		{"100.63.255.255", strict, ""},
		{"100.128.0.0", strict, ""},
		{"172.32.0.1", strict, ""},
		{"198.20.0.1", strict, ""},
		{"::ffff:8.8.8.8", strict, ""},
		{"64:ff9b::808:808", strict, ""},
		{"2002:808:808::1", strict, ""},
		{"2606:4700:4700::1111", strict, ""},
		{"2a00:1450:4001:82b::200e", strict, ""},
		// The allowlist.
		{"10.20.1.2", company, ""},
		{"::ffff:10.20.1.2", company, ""},
		{"10.21.1.2", company, "private"},
		{"fd12:3456::1", company, ""},
		{"127.0.0.1", company, "loopback"},
		{"fe80::1%eth0", Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("fe80::/10")}}, "zone"},
		// Open.
		{"127.0.0.1", open, ""},
		{"169.254.169.254", open, ""},
		{"fe80::1%eth0", open, ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			addr := netip.MustParseAddr(tt.addr)
			got := tt.policy.Blocked(addr)
			if tt.want == "" {
				if got != "" {
					t.Fatalf("Blocked(%s) = %q, want allowed", addr, got)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("Blocked(%s) = %q, want a reason with %q", addr, got, tt.want)
			}
		})
	}
}

func TestBlockedInvalid(t *testing.T) {
	for _, p := range []Policy{{}, {Open: true}} {
		if got := p.Blocked(netip.Addr{}); got == "" {
			t.Errorf("%+v: the zero Addr is allowed", p)
		}
	}
}
