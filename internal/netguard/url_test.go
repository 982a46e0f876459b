package netguard

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// fakeResolver answers from a table: each name has a list of answers, one
// per lookup in turn, the last repeated. A name not in the table does not
// resolve. It counts lookups.
type fakeResolver struct {
	answers map[string][][]netip.Addr

	mu    sync.Mutex
	calls map[string]int
}

// resolverOf answers each name with the same addresses every time.
func resolverOf(hosts map[string][]string) *fakeResolver {
	r := &fakeResolver{answers: map[string][][]netip.Addr{}}
	for host, addrs := range hosts {
		r.answers[host] = [][]netip.Addr{parseAddrs(addrs...)}
	}
	return r
}

func parseAddrs(addrs ...string) []netip.Addr {
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// errNoSuchHost is the fake resolver's answer for a name it does not know.
var errNoSuchHost = errors.New("no such host")

func (r *fakeResolver) LookupNetIP(ctx context.Context, _, host string) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	n := r.calls[host]
	r.calls[host]++
	answers, ok := r.answers[strings.ToLower(strings.TrimSuffix(host, "."))] // DNS names are case-insensitive
	if !ok {
		return nil, errNoSuchHost
	}
	return answers[min(n, len(answers)-1)], nil
}

func (r *fakeResolver) lookups(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

// testHosts is the name table of the CheckURL tests.
var testHosts = map[string][]string{
	"example.com":              {"93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"},
	"hooks.example.com":        {"93.184.215.14"},
	"localhost":                {"127.0.0.1", "::1"},
	"metadata.google.internal": {"169.254.169.254"},
	"mixed.example.com":        {"93.184.215.14", "10.0.0.5"}, // one bad address among good ones
	"mapped.example.com":       {"::ffff:127.0.0.1"},
	"intranet.example.com":     {"10.20.3.4"},
}

func TestCheckURLRefused(t *testing.T) {
	strict := Policy{Resolver: resolverOf(testHosts)}
	lax := Policy{AllowHTTP: true, Resolver: resolverOf(testHosts)}
	tests := []struct {
		name   string
		policy Policy
		raw    string
		reason string // a part of the reason
	}{
		{"loopback", lax, "http://127.0.0.1", "the address 127.0.0.1 is loopback"},
		{"loopback https", strict, "https://127.0.0.1/hook", "loopback"},
		{"IPv6 loopback", lax, "http://[::1]", "loopback"},
		{"IPv4-mapped loopback", lax, "http://[::ffff:127.0.0.1]", "loopback"},
		{"IPv4-mapped hex", lax, "http://[::ffff:7f00:1]", "loopback"},
		{"IPv4-compatible", lax, "http://[::127.0.0.1]", "IPv4-compatible"},
		{"hex IPv4", lax, "http://0x7f000001", "unusual notation"},
		{"decimal IPv4", lax, "http://2130706433", "unusual notation"},
		{"octal IPv4", lax, "http://017700000001", "unusual notation"},
		{"short IPv4", lax, "http://127.1", "unusual notation"},
		{"dotted hex IPv4", lax, "http://0x7f.0.0.1", "unusual notation"},
		{"leading zero IPv4", lax, "http://127.000.000.001", "unusual notation"},
		{"localhost", lax, "http://localhost", "the address 127.0.0.1 of localhost is loopback"},
		{"localhost with dot", lax, "http://localhost./", "loopback"},
		{"localhost port", strict, "https://localhost:8443/x", "loopback"},
		{"metadata", lax, "http://169.254.169.254/latest/meta-data", "cloud metadata"},
		{"metadata IPv6", lax, "http://[fd00:ec2::254]", "cloud metadata"},
		{"metadata alibaba", lax, "http://100.100.100.200/latest/meta-data", "cloud metadata"},
		{"metadata by name", lax, "http://metadata.google.internal/computeMetadata/v1/", "the address 169.254.169.254 of metadata.google.internal is a cloud metadata address"},
		{"one private address of many", strict, "https://mixed.example.com", "the address 10.0.0.5 of mixed.example.com is private"},
		{"resolved to mapped loopback", strict, "https://mapped.example.com", "loopback"},
		{"credentials", lax, "http://user:pw@example.com", "a URL with credentials is refused"},
		{"user only", strict, "https://user@example.com", "credentials"},
		{"empty user", strict, "https://@example.com", "credentials"},
		{"ftp", lax, "ftp://example.com/file", "only http and https"},
		{"file", lax, "file:///etc/passwd", "only http and https"},
		{"gopher", lax, "gopher://127.0.0.1:6379/_INFO", "only http and https"},
		{"dict", strict, "dict://example.com:11211/stat", "only https"},
		{"javascript", strict, "javascript:alert(1)", "only https"},
		{"http when https required", strict, "http://example.com", "https is required"},
		{"empty", lax, "", "the URL is empty"},
		{"relative", lax, "/x", "absolute"},
		{"scheme relative", lax, "//example.com/x", "absolute"},
		{"no host", lax, "http:///x", "no host"},
		{"opaque", lax, "http:example.com", "no host"},
		{"port 0", lax, "http://example.com:0", "port"},
		{"port too big", lax, "http://example.com:99999", "port"},
		{"port 65536", strict, "https://example.com:65536", "port"},
		{"empty port", strict, "https://example.com:/x", "port"},
		{"long", lax, "http://example.com/" + strings.Repeat("a", 3000), "longer than 2048 bytes"},
		{"zone", lax, "http://[fe80::1%25eth0]", "zone"},
		{"link-local IPv6", lax, "http://[fe80::1]", "link-local"},
		{"NAT64 of 10.0.0.1", lax, "http://[64:ff9b::a00:1]", "NAT64 and its IPv4 address 10.0.0.1 is private"},
		{"6to4 of 192.168.1.1", lax, "http://[2002:c0a8:101::1]", "6to4 and its IPv4 address 192.168.1.1 is private"},
		{"Teredo", lax, "http://[2001::1]", "Teredo"},
		{"site-local", lax, "http://[fec0::1]", "site-local"},
		{"unspecified", lax, "http://0.0.0.0:8080", "unspecified"},
		{"unspecified IPv6", lax, "http://[::]", "unspecified"},
		{"private", strict, "https://10.0.0.5", "private"},
		{"CGNAT", strict, "https://100.64.1.1", "carrier-grade NAT"},
		{"broadcast", strict, "https://255.255.255.255", "broadcast"},
		{"fragment", strict, "https://example.com/#x", "fragment"},
		{"empty fragment", strict, "https://example.com/#", "fragment"},
		{"does not resolve", strict, "https://nowhere.example.org/hook", "nowhere.example.org does not resolve"},
		{"bad name", strict, "https://exa_mple!.com", "not a valid"},
		{"empty label", strict, "https://a..example.com", "not a valid name"},
		{"non-ASCII", strict, "https://bücher.example", "xn--"},
		{"escaped non-ASCII", strict, "https://b%C3%BCcher.example", "xn--"},
		{"invalid escape", strict, "https://%31%32%37.0.0.1", "not valid"},
		{"space", strict, "https://exa mple.com", "not valid"},
		{"not in allowlist", Policy{AllowHTTP: true, Allowed: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}, "http://10.21.0.1", "private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.policy.CheckURL(context.Background(), tt.raw)
			if err == nil {
				t.Fatalf("CheckURL(%q) = %v, want refused", tt.raw, u)
			}
			var refused *Error
			if !errors.As(err, &refused) {
				t.Fatalf("CheckURL(%q) error %v (%T), want *Error", tt.raw, err, err)
			}
			if u != nil {
				t.Errorf("CheckURL(%q) returned a URL with its error", tt.raw)
			}
			if !strings.Contains(refused.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", refused.Reason, tt.reason)
			}
			if strings.Contains(refused.URL, "pw") || strings.Contains(err.Error(), "pw@") {
				t.Errorf("the error shows the password: %q", err)
			}
			if len(refused.URL) > 110 {
				t.Errorf("Error.URL is %d bytes long", len(refused.URL))
			}
		})
	}
}

func TestCheckURLAllowed(t *testing.T) {
	r := resolverOf(testHosts)
	company := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}
	tests := []struct {
		name   string
		policy Policy
		raw    string
		host   string // the URL's Hostname
	}{
		{"public name", Policy{Resolver: r}, "https://example.com", "example.com"},
		{"path query port", Policy{Resolver: r}, "https://hooks.example.com:8443/hooks/1?a=b", "hooks.example.com"},
		{"trailing dot", Policy{Resolver: r}, "https://example.com./x", "example.com."},
		{"upper case", Policy{Resolver: r}, "HTTPS://EXAMPLE.COM/X", "EXAMPLE.COM"},
		{"public IPv4", Policy{}, "https://93.184.215.14/x", "93.184.215.14"},
		{"public IPv6", Policy{}, "https://[2606:4700:4700::1111]/x", "2606:4700:4700::1111"},
		{"NAT64 of a public address", Policy{}, "https://[64:ff9b::808:808]/", "64:ff9b::808:808"},
		{"http allowed", Policy{AllowHTTP: true, Resolver: r}, "http://example.com", "example.com"},
		{"allowlisted IP", Policy{Allowed: company}, "https://10.20.1.2", "10.20.1.2"},
		{"allowlisted name", Policy{Allowed: company, Resolver: r}, "https://intranet.example.com/h", "intranet.example.com"},
		{"open", Policy{Open: true, Resolver: r}, "http://localhost:8080/h", "localhost"},
		{"open metadata", Policy{Open: true}, "http://169.254.169.254/", "169.254.169.254"},
		{"2048 bytes", Policy{Resolver: r}, "https://example.com/" + strings.Repeat("a", 2048-len("https://example.com/")), "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.policy.CheckURL(context.Background(), tt.raw)
			if err != nil {
				t.Fatalf("CheckURL(%q): %v", tt.raw, err)
			}
			if u.Hostname() != tt.host {
				t.Errorf("Hostname() = %q, want %q", u.Hostname(), tt.host)
			}
		})
	}
}

func TestCheckURLCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Policy{Resolver: resolverOf(testHosts)}.CheckURL(ctx, "https://example.com")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	var refused *Error
	if errors.As(err, &refused) {
		t.Fatalf("a canceled check is an *Error: %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{URL: "https://x.example", Reason: "https is required"}, "netguard: https://x.example: https is required"},
		{&Error{Reason: "the address 10.0.0.1 is private"}, "netguard: the address 10.0.0.1 is private"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
