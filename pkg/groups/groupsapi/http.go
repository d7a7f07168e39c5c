// Package groupsapi serves the group routes of the HTTP API under
// /v1/channels/{id}/groups. It validates requests, checks that the
// channel is active, and asks the worker running the channel's session
// through package groups' request/reply protocol; the worker's answer, or
// why there was none, becomes the HTTP answer.
package groupsapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/store"
)

// Config configures the group routes.
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

// Handlers serves the group routes.
type Handlers struct {
	cfg    Config
	client *groups.Client
}

// NewHandlers returns the handlers.
func NewHandlers(cfg Config) *Handlers {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handlers{cfg: cfg, client: groups.NewClient(groups.ClientConfig{
		Conn: cfg.Bus.Conn, Names: cfg.Bus.Names, Shards: cfg.Shards, Timeout: cfg.Timeout,
	})}
}

// Mount registers the routes behind auth.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	g := r.Group("/v1/channels/:id/groups", auth, httpapi.LoadChannel(h.cfg.Store), httpapi.RequireActive("groups"))
	g.GET("", h.list)
	g.POST("", h.create)
	g.GET("/:gid", h.info)
	g.POST("/:gid/participants", h.participants)
	g.POST("/:gid/leave", h.leave)
}

// call asks the channel's worker, decoding its result into result. When
// it fails it answers the request and returns false.
func (h *Handlers) call(c *gin.Context, method string, p groups.Params, result any) bool {
	return Ask(c, h.client, h.cfg.Logger, method, p, result, nil)
}

// Ask sends method with params to the worker running the loaded channel
// (httpapi.LoadChannel) and decodes its result into result. When the
// request fails it answers the HTTP request — the worker's error with the
// status statusOf gives its code (nil or 0: groups.Status), 503 with
// Retry-After when nothing ran — and returns false. Feature packages
// (contacts, calls, blocklist) answer through it as the group routes do.
func Ask(c *gin.Context, client *groups.Client, log *slog.Logger, method string, params, result any, statusOf func(code string) int) bool {
	ch := httpapi.ChannelOf(c)
	replayed, err := client.CallReplay(c.Request.Context(), ch.ID, method, params, result)
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
			log.Warn("request to the channel's worker failed", "channel_id", ch.ID, "method", method, "code", e.Code, "err", e.Message)
		}
		httpapi.Abort(c, &httpapi.Error{Status: st, Code: e.Code, Message: e.Message, Details: e.Details})
	case c.Request.Context().Err() != nil:
		c.Abort() // the client went away
	default:
		log.Warn("request to the channel's worker not sent", "channel_id", ch.ID, "method", method, "err", err)
		c.Header("Retry-After", "1")
		httpapi.Abort(c, httpapi.Errorf(http.StatusServiceUnavailable, "bus_unavailable", "the request could not reach the workers; retry shortly"))
	}
	return false
}

// GroupList is the answer of GET …/groups.
type GroupList struct {
	Data []groups.Group `json:"data"`
}

func (h *Handlers) list(c *gin.Context) {
	var list []groups.Group
	if !h.call(c, groups.MethodList, groups.Params{}, &list) {
		return
	}
	if list == nil {
		list = []groups.Group{}
	}
	c.JSON(http.StatusOK, GroupList{Data: list})
}

func (h *Handlers) info(c *gin.Context) {
	gid, err := groupID(c.Param("gid"))
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	var g groups.Group
	if h.call(c, groups.MethodInfo, groups.Params{Group: gid}, &g) {
		c.JSON(http.StatusOK, g)
	}
}

// CreateRequest is the body of POST …/groups.
type CreateRequest struct {
	Name         string   `json:"name"`
	Participants []string `json:"participants"`
}

func (h *Handlers) create(c *gin.Context) {
	var r CreateRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	r.Name = strings.TrimSpace(r.Name)
	if n := utf8.RuneCountInString(r.Name); n == 0 || n > groups.MaxNameLength {
		httpapi.Abort(c, httpapi.Validation("name", "is required: 1 to %d characters", groups.MaxNameLength))
		return
	}
	jids, verr := participants(r.Participants)
	if verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	key, kerr := httpapi.IdempotencyKey(c)
	if kerr != nil {
		httpapi.Abort(c, kerr)
		return
	}
	var g groups.Created
	if h.call(c, groups.MethodCreate, groups.Params{Name: r.Name, Participants: jids, Key: key}, &g) {
		c.JSON(http.StatusCreated, g)
	}
}

// ParticipantsRequest is the body of POST …/groups/{gid}/participants.
type ParticipantsRequest struct {
	Action       string   `json:"action"`
	Participants []string `json:"participants"`
}

func (h *Handlers) participants(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	var r ParticipantsRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	if !slices.Contains(groups.Actions, r.Action) {
		httpapi.Abort(c, httpapi.Validation("action", "must be one of %s", strings.Join(groups.Actions, ", ")))
		return
	}
	jids, verr := participants(r.Participants)
	if verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	var res groups.Changed
	if h.call(c, groups.MethodParticipants, groups.Params{Group: gid, Action: r.Action, Participants: jids}, &res) {
		c.JSON(http.StatusOK, res)
	}
}

func (h *Handlers) leave(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	var empty struct{}
	if err := httpapi.Bind(c, &empty, 0, true); err != nil {
		httpapi.Abort(c, err)
		return
	}
	var res groups.Left
	if h.call(c, groups.MethodLeave, groups.Params{Group: gid}, &res) {
		c.JSON(http.StatusOK, res)
	}
}

var groupRE = regexp.MustCompile(`^[0-9]{5,20}(-[0-9]{5,20})?@g\.us$`)

// groupID accepts a group's JID, or its number alone.
func groupID(v string) (string, *httpapi.Error) {
	if !strings.Contains(v, "@") {
		v += "@g.us"
	}
	if !groupRE.MatchString(v) {
		return "", httpapi.Validation("gid", "%q is not a group id (a JID like 120363012345678901@g.us, or its number)", v)
	}
	return v, nil
}

// participants normalises phone numbers and JIDs of people to JIDs,
// dropping duplicates.
func participants(vs []string) ([]string, *httpapi.Error) {
	if len(vs) == 0 || len(vs) > groups.MaxParticipants {
		return nil, httpapi.Validation("participants", "needs 1 to %d phone numbers or JIDs", groups.MaxParticipants)
	}
	out := make([]string, 0, len(vs))
	for i, v := range vs {
		jid, ok := messaging.NormalizeRecipient(v)
		if !ok || strings.HasSuffix(jid, "@g.us") {
			field := fmt.Sprintf("participants[%d]", i)
			return nil, httpapi.Validation(field, "%q is not a phone number in international form or a user JID", v)
		}
		if !slices.Contains(out, jid) {
			out = append(out, jid)
		}
	}
	return out, nil
}
