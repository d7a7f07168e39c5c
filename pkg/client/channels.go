package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Connection states of a channel (State).
const (
	StateInactive       = "inactive"
	StateInitializing   = "initializing"
	StateQRPending      = "qr_pending"
	StateAuthenticating = "authenticating"
	StateConnecting     = "connecting"
	StateActive         = "active"
	StateDisconnected   = "disconnected"
	StateLoggedOut      = "logged_out"
	StateBanned         = "banned"
	StateError          = "error"
)

// Settings are a channel's overrides of fleet defaults; a zero field means
// the default applies.
type Settings struct {
	// SendRate is the outbound limit as "<count>/<s|m|h|d>", or "0" for
	// unlimited.
	SendRate string `json:"send_rate,omitempty"`
	// WarmupDays is how many days a newly paired number ramps up.
	WarmupDays *int `json:"warmup_days,omitempty"`
	// TypingMS shows "typing…" this many milliseconds before each send.
	TypingMS *int `json:"typing_ms,omitempty"`
	// MaxQueue is how many messages may wait before a send answers 429.
	MaxQueue *int `json:"max_queue,omitempty"`
	// RejectCalls rejects every incoming call at once.
	RejectCalls *bool `json:"reject_calls,omitempty"`
	// RejectCallsReply is sent to a caller whose call was rejected.
	RejectCallsReply string `json:"reject_calls_reply,omitempty"`
	// HistoryDays is how many days of the history WhatsApp sends after
	// pairing are imported (0: none).
	HistoryDays *int `json:"history_days,omitempty"`
	// Media is what the worker fetches from WhatsApp as soon as it
	// arrives.
	Media *MediaSettings `json:"media,omitempty"`
	// Presence is what the channel shows of itself and learns of its
	// contacts.
	Presence *PresenceSettings `json:"presence,omitempty"`
	// Proxy is the proxy the channel reaches WhatsApp through, with its
	// password masked (socks5://user:***@host:1080); "" when none.
	Proxy string `json:"proxy,omitempty"`
}

// PresenceSettings: with Online (the default) the channel sends
// "available" after connecting and follows its chats' presence; false
// keeps the phone's notifications and receives no presence events.
type PresenceSettings struct {
	Online *bool `json:"online,omitempty"`
}

// SettingsPatch changes settings: a set field is changed, a name in Remove
// goes back to the default (sent as null).
type SettingsPatch struct {
	SendRate         *string
	WarmupDays       *int
	TypingMS         *int
	MaxQueue         *int
	RejectCalls      *bool
	RejectCallsReply *string
	HistoryDays      *int
	Media            *MediaSettings
	Presence         *PresenceSettings
	// Proxy is a proxy URL: socks5://, http:// or https://, with optional
	// user:password. The channel reconnects through it.
	Proxy *string
	// Remove lists settings (JSON names: "send_rate", …) to reset.
	Remove []string
}

// MarshalJSON writes the set fields and a null per removed setting.
func (p SettingsPatch) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for _, k := range p.Remove {
		m[k] = nil
	}
	set := func(k string, v any, ok bool) {
		if ok {
			m[k] = v
		}
	}
	set("send_rate", p.SendRate, p.SendRate != nil)
	set("warmup_days", p.WarmupDays, p.WarmupDays != nil)
	set("typing_ms", p.TypingMS, p.TypingMS != nil)
	set("max_queue", p.MaxQueue, p.MaxQueue != nil)
	set("reject_calls", p.RejectCalls, p.RejectCalls != nil)
	set("reject_calls_reply", p.RejectCallsReply, p.RejectCallsReply != nil)
	set("history_days", p.HistoryDays, p.HistoryDays != nil)
	set("media", p.Media, p.Media != nil)
	set("presence", p.Presence, p.Presence != nil)
	set("proxy", p.Proxy, p.Proxy != nil)
	return json.Marshal(m)
}

// Channel is one WhatsApp number linked (or to be linked) to the gateway.
type Channel struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Shard          int       `json:"shard"`
	Driver         string    `json:"driver"`
	DesiredState   string    `json:"desired_state"`
	State          string    `json:"state"`
	StateReason    string    `json:"state_reason"`
	StateChangedAt time.Time `json:"state_changed_at"`
	// StateExpiresAt is when the current state ends by itself (the end of
	// a temporary ban); zero in every other state.
	StateExpiresAt time.Time `json:"state_expires_at,omitzero"`
	JID            string    `json:"jid,omitempty"`
	Phone          string    `json:"phone,omitempty"`
	PushName       string    `json:"push_name,omitempty"`
	PairedAt       time.Time `json:"paired_at,omitzero"`
	Settings       Settings  `json:"settings"`
	// HealthBand is good, fair or poor once the score was computed.
	HealthBand string    `json:"health_band,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ChannelCreated is a new channel with its token, shown only once.
type ChannelCreated struct {
	Channel
	Token string `json:"token"`
}

// ChannelList is one page of channels.
type ChannelList struct {
	Data []Channel `json:"data"`
	// NextAfter is the cursor of the next page; nil on the last page.
	NextAfter *string `json:"next_after"`
}

// CreateChannelRequest creates a channel.
type CreateChannelRequest struct {
	Name string `json:"name"`
	// Driver is whatsmeow or sim; empty for the server's default.
	Driver   string    `json:"driver,omitempty"`
	Settings *Settings `json:"settings,omitempty"`
}

// UpdateChannelRequest changes a channel's name or settings.
type UpdateChannelRequest struct {
	Name     string
	Settings *SettingsPatch
	// ClearSettings removes every setting (sends "settings": null).
	ClearSettings bool
}

// MarshalJSON writes only what changes.
func (r UpdateChannelRequest) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if r.Name != "" {
		m["name"] = r.Name
	}
	switch {
	case r.ClearSettings:
		m["settings"] = nil
	case r.Settings != nil:
		m["settings"] = r.Settings
	}
	return json.Marshal(m)
}

// ListChannelsParams filter and page GET /v1/channels.
type ListChannelsParams struct {
	// Limit is the page size (1 to 500; 0 for the server's 100).
	Limit int
	// After is the cursor: the previous page's NextAfter.
	After string
	// State lists only channels in this state.
	State string
}

// CommandAccepted answers a lifecycle command.
type CommandAccepted struct {
	ID           string `json:"id"`
	Action       string `json:"action"`
	State        string `json:"state"`
	DesiredState string `json:"desired_state"`
	RequestID    string `json:"request_id"`
}

// Bulk actions (BulkRequest.Action).
const (
	ActionStart   = "start"
	ActionStop    = "stop"
	ActionRestart = "restart"
	ActionLogout  = "logout"
	ActionDelete  = "delete"
)

// BulkRequest applies one lifecycle action to up to 500 channels.
type BulkRequest struct {
	Action string   `json:"action"`
	IDs    []string `json:"ids"`
}

// BulkResponse has each channel's outcome.
type BulkResponse struct {
	Action    string       `json:"action"`
	RequestID string       `json:"request_id"`
	Results   []BulkResult `json:"results"`
}

// BulkResult is one channel's outcome: accepted, not_found or failed.
type BulkResult struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  *struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details,omitempty"`
	} `json:"error,omitempty"`
}

// HistoryEntry is one transition of a channel's connection state.
type HistoryEntry struct {
	ID     int64     `json:"id"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail,omitempty"`
	Epoch  int64     `json:"epoch"`
	Worker string    `json:"worker"`
	At     time.Time `json:"at"`
	// Count is how many times the transition happened in a row; LastAt
	// when it last did (Count > 1).
	Count  int       `json:"count"`
	LastAt time.Time `json:"last_at,omitzero"`
}

// HistoryPage is one page of history, newest first.
type HistoryPage struct {
	Data []HistoryEntry `json:"data"`
	// NextBefore is the cursor of older entries; nil on the last page.
	NextBefore *int64 `json:"next_before"`
}

// HistoryParams page GET …/history.
type HistoryParams struct {
	Limit  int
	Before int64
}

// ChannelHealth is a channel's health score and what lowered it.
type ChannelHealth struct {
	Score   int      `json:"score"`
	Band    string   `json:"band"`
	Reasons []string `json:"reasons"`
	Metrics struct {
		Uptime24h      float64 `json:"uptime_24h"`
		Disconnects24h int     `json:"disconnects_24h"`
		SentToday      int     `json:"sent_today"`
		FailedToday    int     `json:"failed_today"`
		FailureRate    float64 `json:"failure_rate"`
		BannedRecently bool    `json:"banned_recently"`
	} `json:"metrics"`
	State string `json:"state"`
	// Warming is the warm-up of a newly paired number; nil when not warming.
	Warming *Warming `json:"warming"`
}

// Warming is today's warm-up limit of a newly paired number.
type Warming struct {
	Day        int    `json:"day"`
	DailyLimit int    `json:"daily_limit"`
	Rate       string `json:"rate"`
}

// Usage is one day of a channel's counters.
type Usage struct {
	Day         string `json:"day"` // YYYY-MM-DD
	Sent        int    `json:"sent"`
	Delivered   int    `json:"delivered"`
	Read        int    `json:"read"`
	Failed      int    `json:"failed"`
	Received    int    `json:"received"`
	Disconnects int    `json:"disconnects"`
}

// UsageList has one entry per day, oldest first.
type UsageList struct {
	Data []Usage `json:"data"`
}

// CreateChannel creates a channel (admin token); the answer holds its token.
func (c *Client) CreateChannel(ctx context.Context, r CreateChannelRequest) (*ChannelCreated, error) {
	var out ChannelCreated
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/channels", body: r}, &out)
	return ret(&out, err)
}

// ListChannels returns one page of channels (admin token); see
// ChannelsAll for every page.
func (c *Client) ListChannels(ctx context.Context, p ListChannelsParams) (*ChannelList, error) {
	q := url.Values{}
	setInt(q, "limit", p.Limit)
	setStr(q, "after", p.After)
	setStr(q, "state", p.State)
	var out ChannelList
	_, err := c.do(ctx, request{method: http.MethodGet, path: withQuery("/v1/channels", q)}, &out)
	return ret(&out, err)
}

// GetChannel reads a channel.
func (c *Client) GetChannel(ctx context.Context, id string) (*Channel, error) {
	var out Channel
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", id)}, &out)
	return ret(&out, err)
}

// UpdateChannel changes a channel's name or settings.
func (c *Client) UpdateChannel(ctx context.Context, id string, r UpdateChannelRequest) (*Channel, error) {
	var out Channel
	_, err := c.do(ctx, request{method: http.MethodPatch, path: path("/v1/channels/", id), body: r}, &out)
	return ret(&out, err)
}

// DeleteChannel deletes a channel (logging its device out).
func (c *Client) DeleteChannel(ctx context.Context, id string, opts ...CallOption) (*CommandAccepted, error) {
	return c.lifecycle(ctx, http.MethodDelete, path("/v1/channels/", id), opts)
}

// StartChannel queues start: the channel connects, or shows QR codes.
func (c *Client) StartChannel(ctx context.Context, id string, opts ...CallOption) (*CommandAccepted, error) {
	return c.lifecycle(ctx, http.MethodPost, path("/v1/channels/", id, "/start"), opts)
}

// StopChannel queues stop; the device stays linked.
func (c *Client) StopChannel(ctx context.Context, id string, opts ...CallOption) (*CommandAccepted, error) {
	return c.lifecycle(ctx, http.MethodPost, path("/v1/channels/", id, "/stop"), opts)
}

// RestartChannel queues restart (disconnect, then connect again).
func (c *Client) RestartChannel(ctx context.Context, id string, opts ...CallOption) (*CommandAccepted, error) {
	return c.lifecycle(ctx, http.MethodPost, path("/v1/channels/", id, "/restart"), opts)
}

// LogoutChannel queues logout, which unlinks the device.
func (c *Client) LogoutChannel(ctx context.Context, id string, opts ...CallOption) (*CommandAccepted, error) {
	return c.lifecycle(ctx, http.MethodPost, path("/v1/channels/", id, "/logout"), opts)
}

func (c *Client) lifecycle(ctx context.Context, method, p string, opts []CallOption) (*CommandAccepted, error) {
	var out CommandAccepted
	_, err := c.do(ctx, request{method: method, path: p, opts: opts}, &out)
	return ret(&out, err)
}

// BulkLifecycle applies one lifecycle action to many channels (admin
// token). A 503 bus_unavailable carries the per-channel results in its
// details.
func (c *Client) BulkLifecycle(ctx context.Context, r BulkRequest, opts ...CallOption) (*BulkResponse, error) {
	var out BulkResponse
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/channels/bulk", body: r, opts: opts}, &out)
	return ret(&out, err)
}

// ChannelHistory returns one page of the channel's connection history,
// newest first; see ChannelHistoryAll for every page.
func (c *Client) ChannelHistory(ctx context.Context, id string, p HistoryParams) (*HistoryPage, error) {
	q := url.Values{}
	setInt(q, "limit", p.Limit)
	if p.Before > 0 {
		q.Set("before", strconv.FormatInt(p.Before, 10))
	}
	var out HistoryPage
	_, err := c.do(ctx, request{method: http.MethodGet, path: withQuery(path("/v1/channels/", id, "/history"), q)}, &out)
	return ret(&out, err)
}

// ChannelHealth returns the channel's health score.
func (c *Client) ChannelHealth(ctx context.Context, id string) (*ChannelHealth, error) {
	var out ChannelHealth
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", id, "/health")}, &out)
	return ret(&out, err)
}

// ChannelUsage returns the channel's daily counters of the last days
// (0 for the server's default).
func (c *Client) ChannelUsage(ctx context.Context, id string, days int) (*UsageList, error) {
	q := url.Values{}
	setInt(q, "days", days)
	var out UsageList
	_, err := c.do(ctx, request{method: http.MethodGet, path: withQuery(path("/v1/channels/", id, "/usage"), q)}, &out)
	return ret(&out, err)
}

// ret returns out, or nil with err.
func ret[T any](out *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return out, nil
}

func setInt(q url.Values, k string, v int) {
	if v != 0 {
		q.Set(k, strconv.Itoa(v))
	}
}

func setStr(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// RotateTokenRequest rotates a channel's token.
type RotateTokenRequest struct {
	// GracePeriod is how long the replaced token stays valid ("0s" to
	// "168h"; empty for 24h).
	GracePeriod string `json:"grace_period,omitempty"`
}

// RotatedToken is a channel's new token, shown only in this answer.
type RotatedToken struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	// PreviousTokenExpiresAt is when the replaced token stops being
	// accepted; nil when it was revoked at once.
	PreviousTokenExpiresAt *time.Time `json:"previous_token_expires_at,omitempty"`
}

// RotateChannelToken gives the channel a new token; the old one stays
// valid for the grace period, then is refused. A client holding the
// channel's token should switch to the new one (WithToken or a new
// Client).
func (c *Client) RotateChannelToken(ctx context.Context, id string, r RotateTokenRequest) (*RotatedToken, error) {
	var out RotatedToken
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", id, "/token/rotate"), body: r}, &out)
	return ret(&out, err)
}
