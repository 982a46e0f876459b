package netguard

import (
	"context"
	"errors"
	"hash/fnv"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// hashResolver answers every name with one to three addresses of a pool of
// allowed and refused ones, chosen by the name's hash: the same name, the
// same answer. Names starting with "nx" do not resolve.
type hashResolver struct{}

var fuzzPool = parseAddrs(
	"93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "10.20.1.2",
	"127.0.0.1", "10.0.0.5", "169.254.169.254", "::1", "::ffff:127.0.0.1",
	"64:ff9b::a00:1", "2002:c0a8:101::1", "fe80::1", "100.64.0.1", "0.0.0.0",
)

func (hashResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	host = strings.ToLower(host)
	if strings.HasPrefix(host, "nx") {
		return nil, errNoSuchHost
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(host))
	sum := h.Sum64()
	out := make([]netip.Addr, 1+sum%3)
	for i := range out {
		out[i] = fuzzPool[(sum>>(8*(i+1)))%uint64(len(fuzzPool))]
	}
	return out, nil
}

// FuzzCheckURL: CheckURL never panics; a refusal is an *Error with a reason;
// a URL it passes has the accepted shape and none of its host's addresses is
// blocked.
func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{
		"https://example.com/hook",
		"http://hooks.example.com:8080/a?b=c",
		"https://10.20.1.2/x",
		"http://127.0.0.1", "http://[::1]", "http://[::ffff:127.0.0.1]",
		"http://0x7f000001", "http://2130706433", "http://017700000001", "http://127.1",
		"http://localhost", "http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]",
		"http://metadata.google.internal", "http://user:pw@example.com", "ftp://example.com",
		"file:///etc/passwd", "gopher://x", "", "/x", "//example.com", "http://example.com:0",
		"http://example.com:99999", "http://[fe80::1%25eth0]", "http://[64:ff9b::a00:1]",
		"http://[2002:c0a8:101::1]", "https://nx.example.com", "https://example.com/#f",
		"https://bücher.example", "https://EXAMPLE.com./", "http://[::]:80", "https://a..b",
		"https://" + strings.Repeat("a", 63) + ".com", "https://example.com:/",
		"HTTP://Example.COM:443/%2e%2e/", "https://[2606:4700:4700::1111]:443/",
	} {
		f.Add(seed)
	}
	p := Policy{
		AllowHTTP: true,
		Allowed:   []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")},
		Resolver:  hashResolver{},
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := p.CheckURL(context.Background(), raw)
		if err != nil {
			var refused *Error
			if !errors.As(err, &refused) {
				t.Fatalf("CheckURL(%q) error %v (%T), want *Error", raw, err, err)
			}
			if refused.Reason == "" {
				t.Fatalf("CheckURL(%q): an empty reason", raw)
			}
			if u != nil {
				t.Fatalf("CheckURL(%q): a URL with the error", raw)
			}
			return
		}
		if u == nil {
			t.Fatalf("CheckURL(%q): neither URL nor error", raw)
		}
		if len(raw) > MaxURLLength || (u.Scheme != "https" && u.Scheme != "http") ||
			u.User != nil || strings.Contains(raw, "#") || u.Hostname() == "" {
			t.Fatalf("CheckURL(%q) passed a URL of the wrong shape: %#v", raw, u)
		}
		if port := u.Port(); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				t.Fatalf("CheckURL(%q) passed port %q", raw, port)
			}
		}
		host := u.Hostname()
		addrs := []netip.Addr{}
		if addr, err := netip.ParseAddr(host); err == nil {
			addrs = append(addrs, addr)
		} else {
			name := strings.ToLower(strings.TrimSuffix(host, "."))
			if isNumber(name[strings.LastIndexByte(name, '.')+1:]) {
				t.Fatalf("CheckURL(%q) passed a numeric host %q", raw, host)
			}
			if addrs, err = (hashResolver{}).LookupNetIP(context.Background(), "ip", host); err != nil {
				t.Fatalf("CheckURL(%q) passed a host that does not resolve", raw)
			}
		}
		for _, addr := range addrs {
			if why := p.Blocked(addr); why != "" {
				t.Fatalf("CheckURL(%q) passed, but the address %s of %s is %s", raw, addr, host, why)
			}
		}
	})
}
