// Package ownerclient is the API side of a request to the worker that owns
// a channel's shard (the request/reply protocol of package groups): the
// feature API packages (groupsapi, contactsapi, callsapi, blocklistapi,
// chatsapi) embed a Client, mount their routes with Routes and answer
// through Ask.
//
// Ask answers the HTTP request itself whenever the owner did not return a
// result: the worker's error with the status its code maps to, 503 with
// Retry-After when nothing ran (no owner, a busy owner, NATS down), 504
// owner_timeout when the owner did not answer in time.
package ownerclient

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/store"
)

// Config configures a Client; feature API packages embed it in theirs.
type Config struct {
	Store *store.Store
	Bus   *bus.Bus
	// Shards is the fleet's shard count (WAGATE_SHARDS).
	Shards int
	// Timeout bounds the wait for a worker's answer (default
	// groups.DefaultTimeout, 10 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Client asks the owners of channels from HTTP handlers.
type Client struct {
	cfg Config
	rpc *groups.Client
}

// New returns a Client.
func New(cfg Config) *Client {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var rpc groups.ClientConfig
	if cfg.Bus != nil {
		rpc = groups.ClientConfig{Conn: cfg.Bus.Conn, Names: cfg.Bus.Names, Shards: cfg.Shards, Timeout: cfg.Timeout}
	}
	return &Client{cfg: cfg, rpc: groups.NewClient(rpc)}
}

// Store is the store of the Config.
func (o *Client) Store() *store.Store { return o.cfg.Store }

// Logger is the logger of the Config.
func (o *Client) Logger() *slog.Logger { return o.cfg.Logger }

// Routes is the route group under /v1/channels/{id}+path behind auth, with
// the channel loaded (httpapi.ChannelOf) and refused with 409
// channel_not_active unless active; what names the feature in that answer.
func (o *Client) Routes(r gin.IRouter, path string, auth gin.HandlerFunc, what string) *gin.RouterGroup {
	return r.Group("/v1/channels/:id"+path, auth, httpapi.LoadChannel(o.cfg.Store), httpapi.RequireActive(what))
}

// ChannelRoutes is the route group under /v1/channels/{id}+path behind
// auth with the channel loaded, whatever its state: for routes that read
// what the store holds.
func (o *Client) ChannelRoutes(r gin.IRouter, path string, auth gin.HandlerFunc) *gin.RouterGroup {
	return r.Group("/v1/channels/:id"+path, auth, httpapi.LoadChannel(o.cfg.Store))
}

// Ask sends method with params to the worker running the loaded channel
// (httpapi.ChannelOf) and decodes its result into result. When the
// request fails it answers the HTTP request — the worker's error with the
// status statusOf gives its code (nil or 0: groups.Status), 503 with
// Retry-After when nothing ran — and returns false.
func (o *Client) Ask(c *gin.Context, method string, params, result any, statusOf func(code string) int) bool {
	ch := httpapi.ChannelOf(c)
	replayed, err := o.rpc.CallReplay(c.Request.Context(), ch.ID, method, params, result)
	var e *groups.Error
	switch {
	case err == nil:
		if replayed {
			c.Header("Idempotent-Replayed", "true")
		}
		return true
	case errors.As(err, &e):
		st := 0
		if statusOf != nil {
			st = statusOf(e.Code)
		}
		if st == 0 {
			st = groups.Status(e.Code)
		}
		if st == http.StatusServiceUnavailable {
			c.Header("Retry-After", "1")
		}
		if st >= 500 && st != http.StatusServiceUnavailable {
			o.cfg.Logger.Warn("request to the channel's worker failed", "channel_id", ch.ID, "method", method, "code", e.Code, "err", e.Message)
		}
		httpapi.Abort(c, &httpapi.Error{Status: st, Code: e.Code, Message: e.Message, Details: e.Details})
	case c.Request.Context().Err() != nil:
		c.Abort() // the client went away
	default:
		o.cfg.Logger.Warn("request to the channel's worker not sent", "channel_id", ch.ID, "method", method, "err", err)
		c.Header("Retry-After", "1")
		httpapi.Abort(c, httpapi.Errorf(http.StatusServiceUnavailable, "bus_unavailable", "the request could not reach the workers; retry shortly"))
	}
	return false
}
