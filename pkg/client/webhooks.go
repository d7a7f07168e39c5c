package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Webhook is a webhook endpoint (without its secret).
type Webhook struct {
	ID string `json:"id"`
	// ChannelID is the endpoint's channel; nil for an admin-level endpoint.
	ChannelID   *string           `json:"channel_id"`
	URL         string            `json:"url"`
	Description string            `json:"description"`
	Events      []string          `json:"events"`
	Headers     map[string]string `json:"headers"`
	Enabled     bool              `json:"enabled"`
	MaxInFlight int               `json:"max_in_flight"`
	// DisabledReason says why the endpoint is disabled.
	DisabledReason          string    `json:"disabled_reason,omitempty"`
	DisabledAt              time.Time `json:"disabled_at,omitzero"`
	FailingSince            time.Time `json:"failing_since,omitzero"`
	BackoffUntil            time.Time `json:"backoff_until,omitzero"`
	PreviousSecretExpiresAt time.Time `json:"previous_secret_expires_at,omitzero"`
	CreatedAt               time.Time `json:"created_at"`
	UpdatedAt               time.Time `json:"updated_at"`
}

// WebhookWithSecret is an endpoint with its signing secret, shown only when
// created or rotated.
type WebhookWithSecret struct {
	Webhook
	// Secret is the Standard Webhooks signing secret (whsec_…).
	Secret string `json:"secret"`
}

// WebhookList lists endpoints, ordered by id.
type WebhookList struct {
	Data []Webhook `json:"data"`
}

// CreateWebhookRequest registers an endpoint.
type CreateWebhookRequest struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
	// Events are filters ("*", "message.*", "connection.status_changed");
	// empty for every event.
	Events  []string          `json:"events,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// MaxInFlight bounds the requests in flight to the endpoint (1 to 64;
	// nil for the dispatcher's default).
	MaxInFlight *int `json:"max_in_flight,omitempty"`
}

// UpdateWebhookRequest changes an endpoint; nil fields stay as they are.
type UpdateWebhookRequest struct {
	URL         *string
	Description *string
	Events      []string
	Headers     map[string]string
	Enabled     *bool
	MaxInFlight *int
	// DefaultMaxInFlight returns the endpoint to the dispatcher's default
	// (sends "max_in_flight": null).
	DefaultMaxInFlight bool
}

// MarshalJSON writes only what changes.
func (r UpdateWebhookRequest) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if r.URL != nil {
		m["url"] = *r.URL
	}
	if r.Description != nil {
		m["description"] = *r.Description
	}
	if r.Events != nil {
		m["events"] = r.Events
	}
	if r.Headers != nil {
		m["headers"] = r.Headers
	}
	if r.Enabled != nil {
		m["enabled"] = *r.Enabled
	}
	switch {
	case r.DefaultMaxInFlight:
		m["max_in_flight"] = nil
	case r.MaxInFlight != nil:
		m["max_in_flight"] = *r.MaxInFlight
	}
	return json.Marshal(m)
}

// RotateWebhookRequest rotates an endpoint's secret.
type RotateWebhookRequest struct {
	// GracePeriod is how long the replaced secret keeps signing ("0s" to
	// "168h"; empty for 24h).
	GracePeriod string `json:"grace_period,omitempty"`
}

// Delivery statuses.
const (
	DeliveryPending    = "pending"
	DeliveryDelivering = "delivering"
	DeliveryFailed     = "failed"
	DeliveryDelivered  = "delivered"
	DeliveryDead       = "dead"
)

// Delivery is one event for one endpoint, with every attempt.
type Delivery struct {
	ID         string `json:"id"`
	EndpointID string `json:"endpoint_id"`
	ChannelID  string `json:"channel_id"`
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	// EventSeq is the event's sequence in the event stream (seq).
	EventSeq       uint64            `json:"event_seq"`
	Status         string            `json:"status"`
	AttemptCount   int               `json:"attempt_count"`
	NextAttemptAt  time.Time         `json:"next_attempt_at,omitzero"`
	LastAttemptAt  time.Time         `json:"last_attempt_at,omitzero"`
	LastStatusCode int               `json:"last_status_code,omitempty"`
	LastError      string            `json:"last_error,omitempty"`
	DeliveredAt    time.Time         `json:"delivered_at,omitzero"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	Attempts       []DeliveryAttempt `json:"attempts"`
}

// DeliveryAttempt is one attempt of a delivery.
type DeliveryAttempt struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	// StatusCode is the receiver's status; 0 when no answer came.
	StatusCode      int    `json:"status_code,omitempty"`
	LatencyMS       int64  `json:"latency_ms"`
	Error           string `json:"error,omitempty"`
	ResponseSnippet string `json:"response_snippet,omitempty"`
	Dispatcher      string `json:"dispatcher,omitempty"`
	// Probe is true for an attempt that probed a failing endpoint.
	Probe bool `json:"probe,omitempty"`
}

// DeliveryPage is one page of deliveries, newest first.
type DeliveryPage struct {
	Data []Delivery `json:"data"`
	// NextBefore is the cursor of older deliveries; nil on the last page.
	NextBefore *string `json:"next_before"`
}

// DeliveryParams filter and page delivery logs and dead letters.
type DeliveryParams struct {
	// Status lists only deliveries in this status (dead letters: "dead"
	// or empty).
	Status  string
	EventID string
	// EndpointID lists only this endpoint's dead letters (dead-letter
	// lists only).
	EndpointID string
	// Before is the cursor: the previous page's NextBefore.
	Before string
	// Limit is the page size (1 to 200; 0 for the server's 50).
	Limit int
}

func (p DeliveryParams) query() url.Values {
	q := url.Values{}
	setStr(q, "status", p.Status)
	setStr(q, "event_id", p.EventID)
	setStr(q, "endpoint_id", p.EndpointID)
	setStr(q, "before", p.Before)
	setInt(q, "limit", p.Limit)
	return q
}

// ReplayRequest re-sends deliveries: EventID, or Since with an optional
// Status (failed, the default, or dead) — not both.
type ReplayRequest struct {
	EventID string    `json:"event_id,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Status  string    `json:"status,omitempty"`
}

// ReplayAccepted tells how many deliveries were made due again.
type ReplayAccepted struct {
	Replayed int `json:"replayed"`
}

// webhookScope is the path prefix of a channel's endpoints or of the
// admin-level ones.
func webhookScope(channelID string) string {
	if channelID == "" {
		return "/v1/webhooks"
	}
	return path("/v1/channels/", channelID, "/webhooks")
}

func (c *Client) createWebhook(ctx context.Context, scope string, r CreateWebhookRequest) (*WebhookWithSecret, error) {
	var out WebhookWithSecret
	_, err := c.do(ctx, request{method: http.MethodPost, path: scope, body: r}, &out)
	return ret(&out, err)
}

func (c *Client) listWebhooks(ctx context.Context, scope string) (*WebhookList, error) {
	var out WebhookList
	_, err := c.do(ctx, request{method: http.MethodGet, path: scope}, &out)
	return ret(&out, err)
}

func (c *Client) getWebhook(ctx context.Context, scope, id string) (*Webhook, error) {
	var out Webhook
	_, err := c.do(ctx, request{method: http.MethodGet, path: scope + path("/", id)}, &out)
	return ret(&out, err)
}

func (c *Client) updateWebhook(ctx context.Context, scope, id string, r UpdateWebhookRequest) (*Webhook, error) {
	var out Webhook
	_, err := c.do(ctx, request{method: http.MethodPatch, path: scope + path("/", id), body: r}, &out)
	return ret(&out, err)
}

func (c *Client) deleteWebhook(ctx context.Context, scope, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: scope + path("/", id)}, nil)
	return err
}

func (c *Client) rotateWebhook(ctx context.Context, scope, id string, r RotateWebhookRequest) (*WebhookWithSecret, error) {
	var out WebhookWithSecret
	_, err := c.do(ctx, request{method: http.MethodPost, path: scope + path("/", id, "/rotate"), body: r}, &out)
	return ret(&out, err)
}

func (c *Client) deliveries(ctx context.Context, p string, q url.Values) (*DeliveryPage, error) {
	var out DeliveryPage
	_, err := c.do(ctx, request{method: http.MethodGet, path: withQuery(p, q)}, &out)
	return ret(&out, err)
}

func (c *Client) getDelivery(ctx context.Context, scope, id, deliveryID string) (*Delivery, error) {
	var out Delivery
	_, err := c.do(ctx, request{method: http.MethodGet, path: scope + path("/", id, "/deliveries/", deliveryID)}, &out)
	return ret(&out, err)
}

func (c *Client) replay(ctx context.Context, scope, id string, r ReplayRequest) (*ReplayAccepted, error) {
	var out ReplayAccepted
	_, err := c.do(ctx, request{method: http.MethodPost, path: scope + path("/", id, "/replay"), body: r}, &out)
	return ret(&out, err)
}

// CreateChannelWebhook registers a receiver of the channel's events; the
// answer holds the signing secret.
func (c *Client) CreateChannelWebhook(ctx context.Context, channelID string, r CreateWebhookRequest) (*WebhookWithSecret, error) {
	return c.createWebhook(ctx, webhookScope(channelID), r)
}

// ListChannelWebhooks lists the channel's endpoints.
func (c *Client) ListChannelWebhooks(ctx context.Context, channelID string) (*WebhookList, error) {
	return c.listWebhooks(ctx, webhookScope(channelID))
}

// GetChannelWebhook reads one of the channel's endpoints.
func (c *Client) GetChannelWebhook(ctx context.Context, channelID, webhookID string) (*Webhook, error) {
	return c.getWebhook(ctx, webhookScope(channelID), webhookID)
}

// UpdateChannelWebhook changes one of the channel's endpoints.
func (c *Client) UpdateChannelWebhook(ctx context.Context, channelID, webhookID string, r UpdateWebhookRequest) (*Webhook, error) {
	return c.updateWebhook(ctx, webhookScope(channelID), webhookID, r)
}

// DeleteChannelWebhook removes one of the channel's endpoints.
func (c *Client) DeleteChannelWebhook(ctx context.Context, channelID, webhookID string) error {
	return c.deleteWebhook(ctx, webhookScope(channelID), webhookID)
}

// RotateChannelWebhookSecret issues a new secret; the old one keeps
// signing for the grace period.
func (c *Client) RotateChannelWebhookSecret(ctx context.Context, channelID, webhookID string, r RotateWebhookRequest) (*WebhookWithSecret, error) {
	return c.rotateWebhook(ctx, webhookScope(channelID), webhookID, r)
}

// ListChannelWebhookDeliveries returns one page of an endpoint's delivery
// log; see DeliveriesAll for every page.
func (c *Client) ListChannelWebhookDeliveries(ctx context.Context, channelID, webhookID string, p DeliveryParams) (*DeliveryPage, error) {
	p.EndpointID = ""
	return c.deliveries(ctx, webhookScope(channelID)+path("/", webhookID, "/deliveries"), p.query())
}

// GetChannelWebhookDelivery reads one delivery with its attempts.
func (c *Client) GetChannelWebhookDelivery(ctx context.Context, channelID, webhookID, deliveryID string) (*Delivery, error) {
	return c.getDelivery(ctx, webhookScope(channelID), webhookID, deliveryID)
}

// ReplayChannelWebhook re-sends deliveries of one of the channel's
// endpoints.
func (c *Client) ReplayChannelWebhook(ctx context.Context, channelID, webhookID string, r ReplayRequest) (*ReplayAccepted, error) {
	return c.replay(ctx, webhookScope(channelID), webhookID, r)
}

// ListChannelDeadLetters returns one page of the dead letters of the
// channel's endpoints.
func (c *Client) ListChannelDeadLetters(ctx context.Context, channelID string, p DeliveryParams) (*DeliveryPage, error) {
	return c.deliveries(ctx, webhookScope(channelID)+"/dead-letters", p.query())
}

// CreateAdminWebhook registers a receiver of every channel's events
// (admin token).
func (c *Client) CreateAdminWebhook(ctx context.Context, r CreateWebhookRequest) (*WebhookWithSecret, error) {
	return c.createWebhook(ctx, webhookScope(""), r)
}

// ListAdminWebhooks lists the admin-level endpoints.
func (c *Client) ListAdminWebhooks(ctx context.Context) (*WebhookList, error) {
	return c.listWebhooks(ctx, webhookScope(""))
}

// GetAdminWebhook reads an admin-level endpoint.
func (c *Client) GetAdminWebhook(ctx context.Context, webhookID string) (*Webhook, error) {
	return c.getWebhook(ctx, webhookScope(""), webhookID)
}

// UpdateAdminWebhook changes an admin-level endpoint.
func (c *Client) UpdateAdminWebhook(ctx context.Context, webhookID string, r UpdateWebhookRequest) (*Webhook, error) {
	return c.updateWebhook(ctx, webhookScope(""), webhookID, r)
}

// DeleteAdminWebhook removes an admin-level endpoint.
func (c *Client) DeleteAdminWebhook(ctx context.Context, webhookID string) error {
	return c.deleteWebhook(ctx, webhookScope(""), webhookID)
}

// RotateAdminWebhookSecret issues a new secret for an admin-level endpoint.
func (c *Client) RotateAdminWebhookSecret(ctx context.Context, webhookID string, r RotateWebhookRequest) (*WebhookWithSecret, error) {
	return c.rotateWebhook(ctx, webhookScope(""), webhookID, r)
}

// ListAdminWebhookDeliveries returns one page of an admin-level endpoint's
// delivery log.
func (c *Client) ListAdminWebhookDeliveries(ctx context.Context, webhookID string, p DeliveryParams) (*DeliveryPage, error) {
	p.EndpointID = ""
	return c.deliveries(ctx, webhookScope("")+path("/", webhookID, "/deliveries"), p.query())
}

// GetAdminWebhookDelivery reads one delivery of an admin-level endpoint.
func (c *Client) GetAdminWebhookDelivery(ctx context.Context, webhookID, deliveryID string) (*Delivery, error) {
	return c.getDelivery(ctx, webhookScope(""), webhookID, deliveryID)
}

// ReplayAdminWebhook re-sends deliveries of an admin-level endpoint.
func (c *Client) ReplayAdminWebhook(ctx context.Context, webhookID string, r ReplayRequest) (*ReplayAccepted, error) {
	return c.replay(ctx, webhookScope(""), webhookID, r)
}

// ListDeadLetters returns one page of the dead letters of every endpoint
// (admin token).
func (c *Client) ListDeadLetters(ctx context.Context, p DeliveryParams) (*DeliveryPage, error) {
	return c.deliveries(ctx, webhookScope("")+"/dead-letters", p.query())
}
