package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// QR is the QR code to scan now.
type QR struct {
	// Code is the QR payload.
	Code string `json:"code"`
	// ImagePNGBase64 is the code as a 256×256 PNG, base64-encoded.
	ImagePNGBase64 string    `json:"image_png_base64"`
	ExpiresAt      time.Time `json:"expires_at"`
	// Attempt is the number of this code (from 1) of MaxAttempts.
	Attempt     int `json:"attempt"`
	MaxAttempts int `json:"max_attempts"`
}

// PairPhoneRequest links a channel by pairing code.
type PairPhoneRequest struct {
	Phone string `json:"phone"`
}

// PairPhoneAccepted answers PairPhone.
type PairPhoneAccepted struct {
	ID           string `json:"id"`
	Action       string `json:"action"`
	State        string `json:"state"`
	DesiredState string `json:"desired_state"`
	RequestID    string `json:"request_id"`
	// Phone is the normalized number.
	Phone string `json:"phone"`
}

// PairingCode is the code to type on the phone (XXXX-XXXX).
type PairingCode struct {
	Code      string    `json:"code"`
	Phone     string    `json:"phone"`
	ExpiresAt time.Time `json:"expires_at"`
}

// GetQR returns the current QR code; 404 qr_not_available when there is
// none (see the error's details for the channel's state).
func (c *Client) GetQR(ctx context.Context, id string) (*QR, error) {
	var out QR
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", id, "/qr")}, &out)
	return ret(&out, err)
}

// GetQRPNG returns the current QR code as a PNG image.
func (c *Client) GetQRPNG(ctx context.Context, id string) ([]byte, error) {
	raw, _, err := c.doRaw(ctx, request{method: http.MethodGet, path: path("/v1/channels/", id, "/qr"), accept: "image/png"})
	return raw, err
}

// PairPhone links the channel with a pairing code instead of a QR scan;
// the code arrives as connection.pairing_code and at GetPairingCode.
func (c *Client) PairPhone(ctx context.Context, id string, r PairPhoneRequest, opts ...CallOption) (*PairPhoneAccepted, error) {
	var out PairPhoneAccepted
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", id, "/pair-phone"), body: r, opts: opts}, &out)
	return ret(&out, err)
}

// GetPairingCode returns the current pairing code.
func (c *Client) GetPairingCode(ctx context.Context, id string) (*PairingCode, error) {
	var out PairingCode
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", id, "/pairing-code")}, &out)
	return ret(&out, err)
}

// Simulator actions (Simulate).
const (
	SimScan           = "scan"
	SimInbound        = "inbound"
	SimReceipt        = "receipt"
	SimReaction       = "reaction"
	SimPresence       = "presence"
	SimGroup          = "group"
	SimCall           = "call"
	SimContact        = "contact"
	SimDisconnect     = "disconnect"
	SimLogout         = "logout"
	SimBan            = "ban"
	SimStreamReplaced = "stream_replaced"
	SimConnectFailure = "connect_failure"
	SimClientOutdated = "client_outdated"
	SimSendFailure    = "send_failure"
	SimVote           = "vote"
	SimRetryReceipt   = "retry_receipt"
	SimChat           = "chat"
)

// SimAccepted answers Simulate.
type SimAccepted struct {
	ID        string          `json:"id"`
	Action    string          `json:"action"`
	Args      json.RawMessage `json:"args"`
	RequestID string          `json:"request_id"`
}

// Simulate makes the simulated phone or WhatsApp server do something on a
// channel of the simulator driver (only when the server runs with
// WAGATE_DRIVER=sim): action is one of the Sim… constants, args its
// arguments: the action's Sim…Args (SimScanArgs for SimScan, …) or any
// value that encodes to that object, nil for none. Arguments that do not
// match the action's schema answer 400 invalid_body.
func (c *Client) Simulate(ctx context.Context, id, action string, args any, opts ...CallOption) (*SimAccepted, error) {
	if args == nil {
		args = struct{}{}
	}
	var out SimAccepted
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/sim/channels/", id, "/", action), body: args, opts: opts}, &out)
	return ret(&out, err)
}
