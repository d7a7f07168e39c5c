package relay

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/store"
)

// StreamTokenPrefix starts every stream token.
const StreamTokenPrefix = "wgs_"

// DefaultTokenTTL is how long a stream token lives: long enough for
// EventSource to reconnect by itself a few times, short enough that a
// token seen in a URL is soon worthless.
const DefaultTokenTTL = 5 * time.Minute

// ErrInvalidToken is returned by Tokens.Verify for an unknown or expired token.
var ErrInvalidToken = errors.New("relay: invalid or expired stream token")

// ChannelFinder tells whether a channel exists; *store.Store is one.
type ChannelFinder interface {
	Channel(ctx context.Context, id string) (*store.Channel, error)
}

var _ ChannelFinder = (*store.Store)(nil)

// TokensConfig configures the stream-token issuer and verifier.
type TokensConfig struct {
	// Redis stores the token hashes (required).
	Redis *redis.Client
	// Keys builds Redis keys under WAGATE_REDIS_PREFIX.
	Keys names.Redis
	// TTL is the lifetime of a token (default DefaultTokenTTL).
	TTL time.Duration
	// Store, when set, lets the admin ask only for tokens of existing
	// channels (404 channel_not_found otherwise).
	Store ChannelFinder
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WithDefaults returns c with its zero optional fields set.
func (c TokensConfig) WithDefaults() TokensConfig {
	if c.TTL <= 0 {
		c.TTL = DefaultTokenTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Tokens issues and verifies stream tokens. Safe for concurrent use.
type Tokens struct {
	cfg TokensConfig
}

// NewTokens returns the issuer and verifier of stream tokens.
func NewTokens(cfg TokensConfig) (*Tokens, error) {
	cfg = cfg.WithDefaults()
	if cfg.Redis == nil {
		return nil, errors.New("relay: TokensConfig.Redis is required")
	}
	return &Tokens{cfg: cfg}, nil
}

// scope is what a stream token grants, as stored in Redis.
type scope struct {
	Admin     bool   `json:"admin,omitempty"`
	ChannelID string `json:"channel_id,omitempty"`
}

// key is the Redis key of a token: only its hash is ever stored.
func (t *Tokens) key(token string) string {
	return t.cfg.Keys.Prefix() + "streamtoken:" + hex.EncodeToString(httpapi.HashToken(token))
}

// Issue returns a new token granting p's access (the admin streams, or one
// channel's) and when it expires.
func (t *Tokens) Issue(ctx context.Context, p httpapi.Principal) (token string, expiresAt time.Time, err error) {
	if !p.Admin && p.ChannelID == "" {
		return "", time.Time{}, errors.New("relay: a stream token needs the admin scope or a channel")
	}
	raw, _ := json.Marshal(scope{Admin: p.Admin, ChannelID: p.ChannelID})
	token = ids.Token(StreamTokenPrefix, 32)
	expiresAt = t.cfg.Now().Add(t.cfg.TTL).UTC().Truncate(time.Second)
	if err := t.cfg.Redis.Set(ctx, t.key(token), raw, t.cfg.TTL).Err(); err != nil {
		return "", time.Time{}, fmt.Errorf("relay: store stream token: %w", err)
	}
	return token, expiresAt, nil
}

// Verify returns the principal a token grants, or ErrInvalidToken.
func (t *Tokens) Verify(ctx context.Context, token string) (httpapi.Principal, error) {
	raw, err := t.cfg.Redis.Get(ctx, t.key(token)).Bytes()
	if errors.Is(err, redis.Nil) {
		return httpapi.Principal{}, ErrInvalidToken
	}
	if err != nil {
		return httpapi.Principal{}, fmt.Errorf("relay: read stream token: %w", err)
	}
	var s scope
	if err := json.Unmarshal(raw, &s); err != nil || (!s.Admin && s.ChannelID == "") {
		return httpapi.Principal{}, ErrInvalidToken
	}
	return httpapi.Principal{Admin: s.Admin, ChannelID: s.ChannelID}, nil
}

// TokenRequest is the body of POST /v1/stream-tokens.
type TokenRequest struct {
	// ChannelID scopes the token to one channel; the admin may omit it to
	// get a token for the streams of every channel.
	ChannelID *string `json:"channel_id"`
}

// TokenResponse answers POST /v1/stream-tokens.
type TokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	// ChannelID is the channel the token reaches; empty for an admin token.
	ChannelID string `json:"channel_id,omitempty"`
	// Streams are the paths the token opens, with ?stream_token= appended.
	Streams []string `json:"streams"`
}

const tokenRequestKey = "wagate.relay.token_request"

// Mount adds POST /v1/stream-tokens. auth is the bearer-token middleware:
// a channel token must name its channel in channel_id.
func (t *Tokens) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	r.POST("/v1/stream-tokens", t.bindRequest, auth, t.issue)
}

// bindRequest reads the body before auth runs and exposes channel_id as
// the ":id" parameter, so the bearer middleware checks a channel token
// against the channel it asks for.
func (t *Tokens) bindRequest(c *gin.Context) {
	var req TokenRequest
	if err := httpapi.Bind(c, &req, 4<<10, true); err != nil {
		httpapi.Abort(c, err)
		return
	}
	if req.ChannelID != nil {
		if !names.ValidToken(*req.ChannelID) {
			httpapi.Abort(c, httpapi.Validation("channel_id", "must be a channel id such as ch_…, not %q", *req.ChannelID))
			return
		}
		c.AddParam("id", *req.ChannelID)
	}
	c.Set(tokenRequestKey, req)
	c.Next()
}

func (t *Tokens) issue(c *gin.Context) {
	req, _ := c.MustGet(tokenRequestKey).(TokenRequest)
	p := httpapi.PrincipalOf(c)
	grant := httpapi.Principal{Admin: true}
	if req.ChannelID != nil {
		grant = httpapi.Principal{ChannelID: *req.ChannelID}
		if !p.CanAccess(grant.ChannelID) {
			httpapi.Abort(c, httpapi.ErrForbidden)
			return
		}
		if p.Admin && t.cfg.Store != nil {
			if _, err := t.cfg.Store.Channel(c.Request.Context(), grant.ChannelID); errors.Is(err, store.ErrNotFound) {
				httpapi.Abort(c, httpapi.ErrChannelNF)
				return
			} else if err != nil {
				httpapi.Abort(c, err)
				return
			}
		}
	} else if !p.Admin {
		httpapi.Abort(c, httpapi.ErrAdminRequired)
		return
	}
	token, exp, err := t.Issue(c.Request.Context(), grant)
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	streams := []string{"/v1/events", "/v1/ws"}
	if grant.ChannelID != "" {
		streams = []string{"/v1/channels/" + grant.ChannelID + "/events", "/v1/channels/" + grant.ChannelID + "/ws"}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, TokenResponse{Token: token, ExpiresAt: exp, ChannelID: grant.ChannelID, Streams: streams})
}
