package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Event is the envelope of every event (schemas/events/envelope.json), as
// streams, webhooks and NATS carry it.
type Event struct {
	// ID is the event id (evt_…); de-duplicate by it.
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	ChannelID string    `json:"channel_id"`
	CreatedAt time.Time `json:"created_at"`
	// Epoch is the fencing epoch of the worker that published the event.
	Epoch int64 `json:"epoch"`
	// Data is the data of the event's type (schemas/events/<type>.json).
	Data json.RawMessage `json:"data"`
	// Seq is the event's sequence in the event stream, set on webhook
	// bodies: increasing with publication order, with gaps.
	Seq uint64 `json:"seq,omitempty"`
}

// DataInto decodes the event's data into v.
func (e *Event) DataInto(v any) error { return json.Unmarshal(e.Data, v) }

// StreamTokenRequest asks for a stream token: of one channel, or (admin
// token, ChannelID empty) of every channel.
type StreamTokenRequest struct {
	ChannelID string `json:"channel_id,omitempty"`
}

// StreamToken is a short-lived token (5 minutes) for the event streams,
// passed as ?stream_token= where headers cannot be sent.
type StreamToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	ChannelID string    `json:"channel_id,omitempty"`
	// Streams are the paths the token opens.
	Streams []string `json:"streams"`
}

// CreateStreamToken issues a stream token. Go programs can stream with
// their bearer token directly; stream tokens are for browsers.
func (c *Client) CreateStreamToken(ctx context.Context, r StreamTokenRequest) (*StreamToken, error) {
	var out StreamToken
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/stream-tokens", body: r}, &out)
	return ret(&out, err)
}
