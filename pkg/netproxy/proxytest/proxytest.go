// Package proxytest runs small SOCKS5 (RFC 1928, RFC 1929) and HTTP
// CONNECT proxies for tests. They record every CONNECT they are asked for
// — the target and the credentials — and then either refuse it (as a proxy
// without internet access does) or accept it and hold the connection open
// until the client closes it; they never dial the target.
package proxytest

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Connect is one CONNECT request a proxy received.
type Connect struct {
	// Target is the host:port the client asked for.
	Target string
	// User and Password are the credentials the client gave ("" when none).
	User, Password string
}

// Proxy is a running test proxy.
type Proxy struct {
	// URL is the proxy's URL without credentials, e.g. socks5://127.0.0.1:41234.
	URL string
	// Addr is its listening address.
	Addr string

	ln     net.Listener
	accept bool
	user   string
	pass   string

	mu       sync.Mutex
	connects []Connect
}

// Option configures a proxy.
type Option func(*Proxy)

// Accept makes the proxy answer CONNECT with success (the default is to
// refuse: SOCKS5 reply 4, host unreachable; HTTP 502).
func Accept() Option { return func(p *Proxy) { p.accept = true } }

// Auth makes the proxy require these credentials (SOCKS5 user/password
// authentication; HTTP Proxy-Authorization Basic). Wrong ones are refused
// after being recorded.
func Auth(user, pass string) Option { return func(p *Proxy) { p.user, p.pass = user, pass } }

// SOCKS5 starts a SOCKS5 proxy closed with the test.
func SOCKS5(t testing.TB, opts ...Option) *Proxy { return start(t, "socks5", opts) }

// HTTP starts an HTTP CONNECT proxy closed with the test.
func HTTP(t testing.TB, opts ...Option) *Proxy { return start(t, "http", opts) }

func start(t testing.TB, scheme string, opts []Option) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxytest: listen: %v", err)
	}
	p := &Proxy{ln: ln, Addr: ln.Addr().String(), URL: scheme + "://" + ln.Addr().String()}
	for _, o := range opts {
		o(p)
	}
	serve := p.socks
	if scheme == "http" {
		serve = p.http
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return p
}

// Connects returns the CONNECT requests received so far.
func (p *Proxy) Connects() []Connect {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Connect(nil), p.connects...)
}

func (p *Proxy) record(c Connect) bool {
	p.mu.Lock()
	p.connects = append(p.connects, c)
	p.mu.Unlock()
	return p.accept && (p.user == "" || (c.User == p.user && c.Password == p.pass))
}

// hold keeps an accepted tunnel open until the client closes it.
func hold(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// socks serves one SOCKS5 client: greeting, optional user/password
// sub-negotiation, one CONNECT.
func (p *Proxy) socks(c net.Conn) {
	r := bufio.NewReader(c)
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(r, methods); err != nil {
		return
	}
	want := byte(0) // no authentication
	if p.user != "" {
		want = 2 // user/password
	}
	if !strings.ContainsRune(string(methods), rune(want)) {
		_, _ = c.Write([]byte{5, 0xff})
		return
	}
	_, _ = c.Write([]byte{5, want})
	var user, pass string
	if want == 2 {
		// RFC 1929: ver, ulen, user, plen, pass.
		var v [2]byte
		if _, err := io.ReadFull(r, v[:]); err != nil {
			return
		}
		u := make([]byte, v[1])
		if _, err := io.ReadFull(r, u); err != nil {
			return
		}
		if _, err := io.ReadFull(r, v[:1]); err != nil {
			return
		}
		pw := make([]byte, v[0])
		if _, err := io.ReadFull(r, pw); err != nil {
			return
		}
		user, pass = string(u), string(pw)
		status := byte(0)
		if user != p.user || pass != p.pass {
			status = 1
		}
		if status != 0 {
			// Recorded before the answer: the client may look as soon as
			// it has it.
			p.record(Connect{User: user, Password: pass})
			_, _ = c.Write([]byte{1, status})
			return
		}
		_, _ = c.Write([]byte{1, status})
	}
	// Request: ver, cmd, rsv, atyp, addr, port.
	var req [4]byte
	if _, err := io.ReadFull(r, req[:]); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1, 4: // IPv4, IPv6
		ip := make([]byte, 4)
		if req[3] == 4 {
			ip = make([]byte, 16)
		}
		if _, err := io.ReadFull(r, ip); err != nil {
			return
		}
		host = net.IP(ip).String()
	case 3: // domain name
		n, err := r.ReadByte()
		if err != nil {
			return
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(r, name); err != nil {
			return
		}
		host = string(name)
	default:
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(r, port[:]); err != nil {
		return
	}
	target := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:]))))
	reply := byte(4) // host unreachable
	ok := p.record(Connect{Target: target, User: user, Password: pass})
	if ok {
		reply = 0
	}
	_, _ = c.Write([]byte{5, reply, 0, 1, 0, 0, 0, 0, 0, 0})
	if ok {
		hold(c)
	}
}

// http serves one HTTP CONNECT client.
func (p *Proxy) http(c net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		_, _ = io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	var user, pass string
	if raw, ok := strings.CutPrefix(req.Header.Get("Proxy-Authorization"), "Basic "); ok {
		if b, err := base64.StdEncoding.DecodeString(raw); err == nil {
			user, pass, _ = strings.Cut(string(b), ":")
		}
	}
	ok := p.record(Connect{Target: req.Host, User: user, Password: pass})
	switch {
	case ok:
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		hold(c)
	case p.user != "" && (user != p.user || pass != p.pass):
		_, _ = io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxytest\"\r\nContent-Length: 0\r\n\r\n")
	default:
		_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
	}
}
