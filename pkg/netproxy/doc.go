// Package netproxy reads, checks and masks the proxy a channel connects to
// WhatsApp through (settings.proxy), and dials through it.
//
// A proxy is a URL: socks5://[user[:password]@]host[:port] (port 1080 by
// default) or http(s)://[user[:password]@]host[:port] (80 or 443), an HTTP
// proxy that answers CONNECT. Nothing else is accepted: no path, query or
// fragment, no other scheme (whatsmeow's SetProxyAddress knows these three).
//
// Invariants:
//
//   - Parse returns the URL with its port made explicit, so the URL shown
//     and the one dialled agree.
//   - Mask never returns the password: the API shows a proxy as
//     socks5://user:***@host:1080, and the URL with the password is stored
//     only sealed (package secretbox).
//   - Dial talks to the proxy as whatsmeow's transports do (golang.org/x/net/proxy
//     for SOCKS5, an HTTP CONNECT for http and https), so the simulator
//     driver sees the same failures from a dead proxy as the whatsmeow
//     driver.
package netproxy
