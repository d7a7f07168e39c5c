package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Message types (SendMessageRequest.Type).
const (
	TypeText     = "text"
	TypeImage    = "image"
	TypeVideo    = "video"
	TypeAudio    = "audio"
	TypeDocument = "document"
	TypeSticker  = "sticker"
	TypeLocation = "location"
	TypeContact  = "contact"
	TypeReaction = "reaction"
	TypeReply    = "reply"
	TypeEdit     = "edit"
	TypeDelete   = "delete"
	TypePoll     = "poll"
)

// Message statuses: outbound queued → sending → sent → delivered → read
// (played for voice notes) or failed; inbound received.
const (
	StatusQueued    = "queued"
	StatusSending   = "sending"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
	StatusReceived  = "received"
)

// SendMessageRequest is a message to send: To and Type, and the member
// named after the type (Text for text and reply, Media for image, video,
// audio, document and sticker, …). It is also the body of a send command
// published to NATS.
type SendMessageRequest struct {
	// To is a phone number in international form, or a user, group or
	// LID JID.
	To       string         `json:"to"`
	Type     string         `json:"type"`
	Text     string         `json:"text,omitempty"`
	Media    *MediaInput    `json:"media,omitempty"`
	Location *LocationInput `json:"location,omitempty"`
	Contact  *ContactInput  `json:"contact,omitempty"`
	Reaction *ReactionInput `json:"reaction,omitempty"`
	Edit     *EditInput     `json:"edit,omitempty"`
	Delete   *DeleteInput   `json:"delete,omitempty"`
	Poll     *PollInput     `json:"poll,omitempty"`
	// Voice sends audio as a voice note.
	Voice bool `json:"voice,omitempty"`
	// ReplyTo is the quoted message of a reply.
	ReplyTo  string   `json:"reply_to,omitempty"`
	Mentions []string `json:"mentions,omitempty"`
	// TypingMS shows "typing…" this long before sending (nil: the
	// channel's setting).
	TypingMS *int `json:"typing_ms,omitempty"`
}

// MediaInput is a file: exactly one of URL and Base64.
type MediaInput struct {
	URL      string `json:"url,omitempty"`
	Base64   string `json:"base64,omitempty"`
	Mime     string `json:"mime,omitempty"`
	Filename string `json:"filename,omitempty"`
	Caption  string `json:"caption,omitempty"`
	// Thumbnail is a JPEG preview (images, videos), Seconds the length
	// (audio, videos), Waveform a voice note's 64 values from 0 to 100;
	// computed from the file when absent, where that can be done.
	Thumbnail []byte `json:"thumbnail,omitempty"`
	Seconds   int    `json:"seconds,omitempty"`
	Waveform  []int  `json:"waveform,omitempty"`
}

// LocationInput is a location to send.
type LocationInput struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// ContactInput is a contact card: VCard as is, or one built from Name and
// Phone.
type ContactInput struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	VCard string `json:"vcard,omitempty"`
}

// ReactionInput reacts to a message; an empty Emoji removes the reaction.
type ReactionInput struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
	Sender    string `json:"sender,omitempty"`
}

// EditInput edits one of our messages.
type EditInput struct {
	MessageID string `json:"message_id"`
	Text      string `json:"text"`
}

// DeleteInput revokes a message for everyone.
type DeleteInput struct {
	MessageID string `json:"message_id"`
	Sender    string `json:"sender,omitempty"`
}

// PollInput is a poll.
type PollInput struct {
	Name    string   `json:"name"`
	Options []string `json:"options"`
	// Selectable is how many options one may pick (0 or 1: one).
	Selectable int `json:"selectable,omitempty"`
}

// MessageAccepted answers a send.
type MessageAccepted struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Chat      string    `json:"chat"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	// Replayed is true when the answer is the message an earlier request
	// with the same Idempotency-Key stored (header Idempotent-Replayed).
	Replayed bool `json:"-"`
}

// Message is one message of the log.
type Message struct {
	ID             string `json:"id"`
	ChannelID      string `json:"channel_id"`
	Direction      string `json:"direction"` // outbound or inbound
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	Chat           string `json:"chat"`
	ChatLID        string `json:"chat_lid,omitempty"`
	From           string `json:"from,omitempty"`
	FromLID        string `json:"from_lid,omitempty"`
	Type           string `json:"type"`
	// Body is the send request as validated (outbound) or the data of its
	// message.received event (inbound).
	Body   json.RawMessage `json:"body"`
	Status string          `json:"status"`
	Reason string          `json:"reason,omitempty"`
	// Code is the stable code of a failure (not_on_whatsapp,
	// rejected_by_server, invalid_media, send_retries_exhausted,
	// undeliverable, ...); empty unless Status is failed.
	Code        string    `json:"code,omitempty"`
	WAID        string    `json:"wa_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	SentAt      time.Time `json:"sent_at,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	ReadAt      time.Time `json:"read_at,omitzero"`
}

// MessageList is one page of the message log, newest first.
type MessageList struct {
	Data []Message `json:"data"`
	// NextBefore is the cursor of older messages; nil on the last page.
	NextBefore *string `json:"next_before"`
}

// ListMessagesParams filter and page the message log.
type ListMessagesParams struct {
	Chat      string
	Direction string // inbound or outbound
	Status    string
	Since     time.Time
	Until     time.Time
	// Before is the cursor: the previous page's NextBefore.
	Before string
	// Limit is the page size (1 to 500; 0 for the server's 50).
	Limit int
}

// ReadRequest marks messages of a chat read.
type ReadRequest struct {
	Chat       string   `json:"chat"`
	MessageIDs []string `json:"message_ids"`
	Sender     string   `json:"sender,omitempty"`
}

// Presence states (PresenceRequest.State).
const (
	PresenceAvailable   = "available"
	PresenceUnavailable = "unavailable"
	PresenceComposing   = "composing"
	PresenceRecording   = "recording"
	PresencePaused      = "paused"
)

// PresenceRequest sends a presence: online state, or typing in a chat.
type PresenceRequest struct {
	State string `json:"state"`
	// Chat is required for composing, recording and paused.
	Chat string `json:"chat,omitempty"`
}

// ChannelCommandQueued answers MarkRead and SendPresence.
type ChannelCommandQueued struct {
	// RequestID is the command's id, also its Nats-Msg-Id.
	RequestID string `json:"request_id"`
	Action    string `json:"action"`
}

// SendMessage queues a message. With WithIdempotencyKey a retry answers
// the original message (Replayed set) and never sends twice; the same key
// with another request is refused with 422 idempotency_key_reused. A full
// queue answers 429 queue_full with RetryAfter.
func (c *Client) SendMessage(ctx context.Context, channelID string, m SendMessageRequest, opts ...CallOption) (*MessageAccepted, error) {
	var out MessageAccepted
	h, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/messages"), body: m, opts: opts}, &out)
	if err != nil {
		return nil, err
	}
	out.Replayed = h.Get("Idempotent-Replayed") == "true"
	return &out, nil
}

// ListMessages returns one page of the message log, newest first; see
// MessagesAll for every page.
func (c *Client) ListMessages(ctx context.Context, channelID string, p ListMessagesParams) (*MessageList, error) {
	q := url.Values{}
	setStr(q, "chat", p.Chat)
	setStr(q, "direction", p.Direction)
	setStr(q, "status", p.Status)
	setTime(q, "since", p.Since)
	setTime(q, "until", p.Until)
	setStr(q, "before", p.Before)
	setInt(q, "limit", p.Limit)
	var out MessageList
	_, err := c.do(ctx, request{method: http.MethodGet, path: withQuery(path("/v1/channels/", channelID, "/messages"), q)}, &out)
	return ret(&out, err)
}

// GetMessage reads one message with its current status.
func (c *Client) GetMessage(ctx context.Context, channelID, messageID string) (*Message, error) {
	var out Message
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/messages/", messageID)}, &out)
	return ret(&out, err)
}

// MarkRead queues read receipts for messages of a chat (the channel must
// be active).
func (c *Client) MarkRead(ctx context.Context, channelID string, r ReadRequest) (*ChannelCommandQueued, error) {
	var out ChannelCommandQueued
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/read"), body: r}, &out)
	return ret(&out, err)
}

// SendPresence queues a presence update (the channel must be active).
func (c *Client) SendPresence(ctx context.Context, channelID string, r PresenceRequest) (*ChannelCommandQueued, error) {
	var out ChannelCommandQueued
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/presence"), body: r}, &out)
	return ret(&out, err)
}

func setTime(q url.Values, k string, t time.Time) {
	if !t.IsZero() {
		q.Set(k, t.Format(time.RFC3339Nano))
	}
}

// ErrMediaPending: the file is still being fetched from WhatsApp; ask
// again after a moment (the API answered 202 with Retry-After).
var ErrMediaPending = errors.New("client: media is still being fetched")

// GetMessageMedia returns the file of a media message and its content
// type (ErrMediaPending while it is being fetched).
func (c *Client) GetMessageMedia(ctx context.Context, channelID, messageID string) ([]byte, string, error) {
	raw, h, err := c.doRaw(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/messages/", messageID, "/media"), accept: "*/*"})
	if err != nil {
		return nil, "", err
	}
	ct := h.Get("Content-Type")
	if h.Get("Retry-After") != "" && strings.HasPrefix(ct, "application/json") {
		return nil, "", ErrMediaPending
	}
	return raw, ct, nil
}
