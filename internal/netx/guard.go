package netx

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// Guard decides which addresses a dialer may connect to. Without AllowInternal
// it refuses loopback, private, link-local, shared (CGNAT), multicast,
// unspecified and reserved addresses, and so every cloud metadata service. The
// check runs on the IP actually dialled (net.Dialer.Control), after name
// resolution, so a public name that resolves, or re-resolves, to an internal
// address is refused all the same (DNS rebinding).
type Guard struct {
	// AllowInternal lets every address through (--allow-internal).
	AllowInternal bool
	// allow holds host:port pairs the operator named (an --endpoint, a proxy):
	// those may resolve to internal addresses.
	allow map[string]bool
}

// Allow lets the origin of rawURL (scheme://host[:port]) reach internal
// addresses: the operator named it. A URL that does not parse is ignored.
func (g *Guard) Allow(rawURL string) {
	if k := dialKey(rawURL); k != "" {
		if g.allow == nil {
			g.allow = map[string]bool{}
		}
		g.allow[k] = true
	}
}

// Allowed reports whether the origin of rawURL may reach internal addresses.
func (g *Guard) Allowed(rawURL string) bool {
	return g.AllowInternal || g.allow[dialKey(rawURL)]
}

// AllowProxies allows the proxies named in the environment (HTTPS_PROXY,
// HTTP_PROXY, ALL_PROXY, upper or lower case): the operator configured them.
func (g *Guard) AllowProxies() {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		v := strings.TrimSpace(os.Getenv(k))
		if v == "" {
			continue
		}
		if !strings.Contains(v, "://") {
			v = "http://" + v
		}
		g.Allow(v)
	}
}

// dialKey is "host:port" as the HTTP transport dials it, lower-case, with the
// scheme's default port filled in.
func dialKey(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		case "socks5", "socks5h":
			port = "1080"
		default:
			return ""
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// RefusedError is a dial the guard refused.
type RefusedError struct {
	Addr   string // the address requested, host:port
	IP     string // the address it resolved to
	Reason string // e.g. "a loopback address"
}

func (e *RefusedError) Error() string {
	host, _, _ := net.SplitHostPort(e.Addr)
	what := e.Addr
	if host != e.IP {
		what = e.Addr + " (" + e.IP + ")"
	}
	return fmt.Sprintf("refused to connect to %s: %s; name the host with --endpoint if you mean it, or pass --allow-internal", what, e.Reason)
}

// DialContext returns a dial function for http.Transport that applies the
// guard. base may be nil (a dialer with Go's defaults).
func (g *Guard) DialContext(base *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if base == nil {
		base = &net.Dialer{}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := *base
		if !g.AllowInternal && !g.allow[strings.ToLower(addr)] {
			prev := base.Control
			d.Control = func(network, address string, c syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return &RefusedError{Addr: addr, IP: address, Reason: "not an IP address"}
				}
				if reason, bad := Internal(ap.Addr()); bad {
					return &RefusedError{Addr: addr, IP: ap.Addr().String(), Reason: reason}
				}
				if prev != nil {
					return prev(network, address, c)
				}
				return nil
			}
		}
		return d.DialContext(ctx, network, addr)
	}
}

var refusedPrefixes = []struct {
	p      netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a 'this network' address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (CGNAT) address, where some cloud metadata services live"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address, where some cloud metadata services live"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
}

var metadata = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, OpenStack …
	netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS over IPv6
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
	netip.MustParseAddr("192.0.0.192"):     true, // Oracle Cloud
}

// Internal reports whether ip is an address verification must not reach
// uninvited, and why. IPv4 embedded in IPv6 (mapped, NAT64, 6to4) is judged
// as the IPv4 address.
func Internal(ip netip.Addr) (reason string, internal bool) {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case netip.MustParsePrefix("64:ff9b::/96").Contains(ip):
			return Internal(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case netip.MustParsePrefix("2002::/16").Contains(ip):
			return Internal(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	switch {
	case metadata[ip]:
		return "a cloud metadata address", true
	case ip.IsLoopback():
		return "a loopback address", true
	case ip.IsPrivate():
		return "a private address", true
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address", true
	case ip.IsUnspecified():
		return "an unspecified address", true
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address", true
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address", true
	}
	for _, r := range refusedPrefixes {
		if r.p.Contains(ip) {
			return r.reason, true
		}
	}
	return "", false
}

// InternalHost reports whether host (a URL's host name) is an IP literal that
// Internal refuses, or localhost. It is the check for requests that go through
// a proxy, where the dialled address is the proxy's.
func InternalHost(host string) (string, bool) {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return "a loopback host", true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return "", false
	}
	return Internal(ip)
}
