package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls one wagate API with one bearer token (the admin token or a
// channel's token).
type Client struct {
	base  string
	token string
	http  *http.Client
	agent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc (default
// http.DefaultClient). Streams ignore hc's Timeout: they stay open.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// New returns a client of the API at baseURL (e.g. http://localhost:8080)
// that authenticates with token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: http.DefaultClient, agent: "wagate-go-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// WithToken returns a copy of c that authenticates with token (a channel's
// token, say) and shares everything else.
func (c *Client) WithToken(token string) *Client {
	d := *c
	d.token = token
	return &d
}

// BaseURL is the API's base URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	idempotencyKey string
	header         http.Header
}

// WithIdempotencyKey sends an Idempotency-Key: a retry with the same key
// answers the first request's result instead of acting again. The routes
// that honour it say so in the API document (sends, lifecycle, pairing,
// bulk, group creation, simulator controls); others ignore it.
func WithIdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// WithHeader sends an extra header with the call.
func WithHeader(name, value string) CallOption {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Add(name, value)
	}
}

// request describes one call.
type request struct {
	method string
	path   string // escaped path with query
	body   any    // JSON-encoded unless raw is set
	raw    []byte // sent as is with contentType
	ctype  string
	accept string
	opts   []CallOption
}

// path builds an escaped path from literal segments and parameters: odd
// arguments are parameters and are escaped.
func path(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString(url.PathEscape(p))
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}

func withQuery(p string, q url.Values) string {
	if len(q) == 0 {
		return p
	}
	return p + "?" + q.Encode()
}

func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	var body io.Reader
	ctype := r.ctype
	switch {
	case r.raw != nil:
		body = bytes.NewReader(r.raw)
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("client: encode %s %s: %w", r.method, r.path, err)
		}
		body = bytes.NewReader(b)
		ctype = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, body)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", r.method, r.path, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	var o callOptions
	for _, opt := range r.opts {
		opt(&o)
	}
	if o.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", o.idempotencyKey)
	}
	for k, vs := range o.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req, nil
}

// maxBody bounds what is read of an answer: the largest documented answers
// (a page of 500 messages with their bodies) stay far below it.
const maxBody = 64 << 20

// do sends r and decodes a 2xx JSON answer into out (when not nil). It
// returns the answer's header for the callers that read it.
func (c *Client) do(ctx context.Context, r request, out any) (http.Header, error) {
	raw, h, err := c.doRaw(ctx, r)
	if err != nil {
		return h, err
	}
	if out != nil && len(raw) > 0 {
		if err := decodeJSON(raw, out); err != nil {
			return h, fmt.Errorf("client: decode answer of %s %s: %w", r.method, r.path, err)
		}
	}
	return h, nil
}

// doRaw sends r and returns a 2xx answer's body, or an *Error.
func (c *Client) doRaw(ctx context.Context, r request) ([]byte, http.Header, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, resp.Header, fmt.Errorf("client: read answer of %s %s: %w", r.method, r.path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, resp.Header, errorFrom(resp, raw)
	}
	return raw, resp.Header, nil
}

// strictJSON makes decoding refuse members the client's types lack; the
// package's tests set it, so an answer with a member a type misses fails
// them.
var strictJSON bool

func decodeJSON(raw []byte, out any) error {
	if !strictJSON {
		return json.Unmarshal(raw, out)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(out)
}
