// Package ssrf keeps outbound webhook requests away from the fleet's own
// network: loopback, private, carrier-grade NAT, link-local (and so cloud
// metadata at 169.254.169.254), unique-local, multicast, unspecified and
// reserved addresses are refused.
//
// The check that matters happens at dial time, on the address actually
// dialled after name resolution (Guard.Control as a net.Dialer Control
// hook). Checking a URL's host name once, when it is registered, cannot
// be enough: DNS may answer differently later (rebinding), so
// CheckURL at registration only gives an early, clear error for what is
// already known to be refused.
//
// Guard{AllowPrivate: true} allows everything (development, tests whose
// receivers listen on 127.0.0.1).
package ssrf
