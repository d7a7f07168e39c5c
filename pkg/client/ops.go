package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// Health answers /healthz.
type Health struct {
	Status string `json:"status"`
}

// Ready answers /readyz when every dependency answers.
type Ready struct {
	Status string `json:"status"`
}

// Healthz reports whether the server process is alive.
func (c *Client) Healthz(ctx context.Context) (*Health, error) {
	var out Health
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/healthz"}, &out)
	return ret(&out, err)
}

// Readyz reports whether the server's dependencies answer. When they do
// not, the *Error has code not_ready and the failing dependencies with
// their errors (postgres, redis, nats) as details.
func (c *Client) Readyz(ctx context.Context) (*Ready, error) {
	var out Ready
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/readyz"}, &out)
	if e, ok := errors.AsType[*Error](err); ok && e.Code == "" {
		var nr struct {
			Status string          `json:"status"`
			Failed json.RawMessage `json:"failed"`
		}
		if json.Unmarshal([]byte(e.Message), &nr) == nil && nr.Status == "not_ready" {
			e.Code, e.Message, e.Details = nr.Status, "dependencies do not answer", nr.Failed
		}
	}
	return ret(&out, err)
}

// Metrics returns the Prometheus metrics in the text format.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	raw, _, err := c.doRaw(ctx, request{method: http.MethodGet, path: "/metrics", accept: "text/plain"})
	return raw, err
}

// OpenAPI returns the API's OpenAPI document (YAML).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	raw, _, err := c.doRaw(ctx, request{method: http.MethodGet, path: "/v1/openapi.yaml", accept: "application/yaml"})
	return raw, err
}
