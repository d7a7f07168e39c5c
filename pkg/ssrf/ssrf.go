package ssrf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused is returned (wrapped) for an address the guard refuses.
var ErrRefused = errors.New("ssrf: address not allowed")

// refused lists the ranges no webhook may reach unless AllowPrivate.
// IPv4-mapped IPv6 addresses are unmapped first, so ::ffff:127.0.0.1 is
// caught by 127.0.0.0/8.
var refused = func() []netip.Prefix {
	cidrs := []string{
		"0.0.0.0/8",       // "this network", includes 0.0.0.0
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata 169.254.169.254
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, includes broadcast
		"::/96",           // unspecified, loopback and IPv4-compatible (::a.b.c.d, deprecated): embeds an IPv4 address
		"::ffff:0:0:0/96", // IPv4-translated (SIIT): embeds an IPv4 address
		"100:0:0:1::/64",  // dummy prefix
		"2001::/23",       // IETF protocol assignments: Teredo (embeds an IPv4 address), ORCHID, benchmarking, AMT
		"3fff::/20",       // documentation
		"5f00::/16",       // SRv6 segment identifiers
		"64:ff9b::/96",    // NAT64: would reach an IPv4 address chosen by the name owner
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4: embeds an IPv4 address
		"fc00::/7",        // unique-local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
	}
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}()

// Guard decides which addresses outbound requests may reach.
type Guard struct {
	// AllowPrivate turns the guard off (WAGATE_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
}

// CheckAddr returns an error wrapping ErrRefused when addr may not be
// reached.
func (g Guard) CheckAddr(addr netip.Addr) error {
	if g.AllowPrivate {
		return nil
	}
	if !addr.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrRefused)
	}
	a := addr.Unmap().WithZone("")
	for _, p := range refused {
		if p.Contains(a) {
			return fmt.Errorf("%w: %s is in the refused range %s (private, loopback, link-local, metadata or reserved)", ErrRefused, a, p)
		}
	}
	return nil
}

// Control is a net.Dialer Control hook: it runs after name resolution,
// before connecting, with the address about to be dialled.
func (g Guard) Control(network, address string, _ syscall.RawConn) error {
	if g.AllowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read dial address %q", ErrRefused, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: dial address %q is not an IP address", ErrRefused, address)
	}
	return g.CheckAddr(ip)
}

// Dialer returns a dialer that refuses what g refuses, at connect time.
func (g Guard) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.Control}
}

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// ErrUnresolvable is returned by CheckHost when the name has no address.
var ErrUnresolvable = errors.New("ssrf: host name does not resolve")

// CheckHost checks a URL host (a name or an IP literal, without port) the
// way a dial would now: every address the name resolves to must be
// allowed. It is an early check for registration; the dial-time Control
// hook remains the guard.
func (g Guard) CheckHost(ctx context.Context, r Resolver, host string) error {
	if g.AllowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return g.CheckAddr(ip)
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("%w: %s: %v", ErrUnresolvable, host, err)
	}
	for _, a := range addrs {
		if err := g.CheckAddr(a); err != nil {
			return fmt.Errorf("%s resolves to a refused address: %w", host, err)
		}
	}
	return nil
}
