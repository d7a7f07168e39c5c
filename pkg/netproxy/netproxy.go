package netproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/proxy"
)

// ErrInvalid: the text is not a proxy URL this package accepts.
var ErrInvalid = errors.New("invalid proxy URL")

// defaultPorts are the ports of the schemes, used when a URL names none.
var defaultPorts = map[string]string{"socks5": "1080", "http": "80", "https": "443"}

// Parse checks raw and returns it as a URL with an explicit port. Errors
// wrap ErrInvalid and say what is wrong without repeating the password.
func Parse(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL (socks5://user:password@host:1080 or http://host:3128)", ErrInvalid)
	}
	port, ok := defaultPorts[strings.ToLower(u.Scheme)]
	if !ok {
		return nil, fmt.Errorf("%w: scheme %q is not socks5, http or https", ErrInvalid, u.Scheme)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: no host (socks5://host:1080)", ErrInvalid)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("%w: a proxy URL has no path, query or fragment", ErrInvalid)
	}
	if strings.ContainsAny(u.Hostname(), " \t\r\n") {
		return nil, fmt.Errorf("%w: host %q is not a host name or address", ErrInvalid, u.Hostname())
	}
	if p := u.Port(); p != "" {
		port = p
	}
	if n, err := parsePort(port); err != nil || n == 0 {
		return nil, fmt.Errorf("%w: port %q is not from 1 to 65535", ErrInvalid, port)
	}
	if u.User != nil && u.User.Username() == "" {
		return nil, fmt.Errorf("%w: credentials without a user name", ErrInvalid)
	}
	return &url.URL{Scheme: u.Scheme, User: u.User, Host: net.JoinHostPort(u.Hostname(), port)}, nil
}

func parsePort(s string) (int, error) {
	n := 0
	if s == "" || len(s) > 5 {
		return 0, ErrInvalid
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, ErrInvalid
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0, ErrInvalid
	}
	return n, nil
}

// Masked is what stands for a password in Mask's answer.
const Masked = "***"

// Mask returns u as text with its password, if any, replaced by Masked.
func Mask(u *url.URL) string {
	m := *u
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			m.User = url.UserPassword(u.User.Username(), Masked)
		}
	}
	// url.URL escapes "*" in a password; the mask reads better plain.
	return strings.Replace(m.String(), ":%2A%2A%2A@", ":"+Masked+"@", 1)
}

// Dial connects to target (host:port) through the proxy u, as whatsmeow's
// transport does: a SOCKS5 CONNECT, or an HTTP CONNECT (over TLS to an
// https proxy) with the credentials as Proxy-Authorization. timeout bounds
// the whole exchange. Errors read like the transport's: "socks connect …"
// and "proxyconnect tcp: …".
func Dial(ctx context.Context, u *url.URL, target string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	forward := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if u.Scheme == "socks5" {
		d, err := proxy.FromURL(u, forward)
		if err != nil {
			return nil, err
		}
		return d.(proxy.ContextDialer).DialContext(ctx, "tcp", target)
	}
	conn, err := forward.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
	}
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
		}
		conn = tc
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if u.User != nil {
		pw, _ := u.User.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		conn.Close()
		return nil, &net.OpError{Op: "proxyconnect", Net: "tcp", Err: err}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, fmt.Errorf("proxyconnect tcp: the proxy answered CONNECT %s with %s", target, resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}
