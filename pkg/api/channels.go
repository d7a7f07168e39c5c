package api

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

// TokenPrefix starts every channel token.
const TokenPrefix = "wgc_"

// Page sizes of the list endpoints.
const (
	defaultPage = 100
	maxPage     = 500
)

// maxNameLen is the longest channel name, in characters.
const maxNameLen = 100

const channelKey = "wagate.channel"

// loadChannel reads the channel of the path for the handlers after it. The
// authenticator has already checked a channel token against it; an admin
// naming an unknown channel gets 404 channel_not_found.
func (s *Server) loadChannel(c *gin.Context) {
	ch, err := s.cfg.Store.Channel(c.Request.Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		abort(c, httpapi.ErrChannelNF)
		return
	}
	if err != nil {
		abort(c, err)
		return
	}
	c.Set(channelKey, ch)
	c.Next()
}

func channelOf(c *gin.Context) *store.Channel {
	ch, _ := c.MustGet(channelKey).(*store.Channel)
	return ch
}

type createRequest struct {
	Name     *string         `json:"name"`
	Driver   *string         `json:"driver"`
	Settings json.RawMessage `json:"settings"`
}

// createdChannel is a new channel with its token, shown only here.
type createdChannel struct {
	*store.Channel
	Token string `json:"token"`
}

func (s *Server) createChannel(c *gin.Context) {
	var req createRequest
	if err := httpapi.Bind(c, &req, s.cfg.MaxBody, false); err != nil {
		abort(c, err)
		return
	}
	if req.Name == nil {
		abort(c, httpapi.Validation("name", "is required (1 to %d characters)", maxNameLen))
		return
	}
	name, verr := validName(*req.Name)
	if verr != nil {
		abort(c, verr)
		return
	}
	driver := s.cfg.DefaultDriver
	if req.Driver != nil {
		driver = *req.Driver
	}
	switch {
	case driver == config.DriverSim && !s.cfg.SimEnabled:
		abort(c, httpapi.Validation("driver", "the simulator is not enabled on this server (WAGATE_DRIVER=sim enables it)"))
		return
	case driver != config.DriverWhatsmeow && driver != config.DriverSim:
		abort(c, httpapi.Validation("driver", `must be "whatsmeow" or "sim", not %q`, driver))
		return
	}
	settings, _, verr := parseSettings(req.Settings, s.cfg.Secrets, "")
	if verr != nil {
		abort(c, verr)
		return
	}

	token := ids.Token(TokenPrefix, 32)
	ch := &store.Channel{
		ID:        ids.New(ids.Channel),
		Name:      name,
		TokenHash: httpapi.HashToken(token),
		Driver:    driver,
		Settings:  settings.json(),
	}
	if settings.proxy != nil {
		ch.Proxy = *settings.proxy
	}
	ch.Shard = shard.Of(ch.ID, s.cfg.Shards)
	if err := s.cfg.Store.CreateChannel(c.Request.Context(), ch); err != nil {
		abort(c, err)
		return
	}
	c.Header("Location", "/v1/channels/"+ch.ID)
	c.JSON(http.StatusCreated, createdChannel{Channel: ch, Token: token})
}

func validName(name string) (string, *httpapi.Error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 || n > maxNameLen {
		return "", httpapi.Validation("name", "must be 1 to %d characters, not %d", maxNameLen, n)
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return "", httpapi.Validation("name", "must not contain control characters")
	}
	return name, nil
}

type channelList struct {
	Data []*store.Channel `json:"data"`
	// NextAfter is the cursor of the next page (?after=), null on the last.
	NextAfter *string `json:"next_after"`
}

func (s *Server) listChannels(c *gin.Context) {
	limit, verr := queryInt(c, "limit", defaultPage, 1, maxPage)
	if verr != nil {
		abort(c, verr)
		return
	}
	st := c.Query("state")
	if st != "" && !state.Valid(st) {
		abort(c, httpapi.Validation("state", "must be one of %s, not %q", strings.Join(state.All, ", "), st).
			WithDetails(map[string]any{"field": "state", "allowed": state.All}))
		return
	}
	list, err := s.cfg.Store.ListChannels(c.Request.Context(), store.ListFilter{State: st, After: c.Query("after"), Limit: limit})
	if err != nil {
		abort(c, err)
		return
	}
	out := channelList{Data: list}
	if out.Data == nil {
		out.Data = []*store.Channel{}
	}
	// A full page may be followed by more; an empty next page ends the walk.
	if len(list) == limit {
		next := list[len(list)-1].ID
		out.NextAfter = &next
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getChannel(c *gin.Context) { c.JSON(http.StatusOK, channelOf(c)) }

type patchRequest struct {
	Name     *string         `json:"name"`
	Settings json.RawMessage `json:"settings"`
}

func (s *Server) patchChannel(c *gin.Context) {
	var req patchRequest
	if err := httpapi.Bind(c, &req, s.cfg.MaxBody, true); err != nil {
		abort(c, err)
		return
	}
	if req.Name != nil {
		name, verr := validName(*req.Name)
		if verr != nil {
			abort(c, verr)
			return
		}
		req.Name = &name
	}
	before := channelOf(c)
	patch, removeAll, verr := parseSettings(req.Settings, s.cfg.Secrets, proxySetting(before.Settings))
	if verr != nil {
		abort(c, verr)
		return
	}
	if removeAll {
		patch.remove = settingKeys
		patch.proxy = new(string)
	}
	ch, err := s.cfg.Store.PatchChannel(c.Request.Context(), before.ID, req.Name, patch.json(), patch.remove, patch.proxy)
	s.announce(before.ID)
	if errors.Is(err, store.ErrNotFound) {
		abort(c, httpapi.ErrChannelNF)
		return
	}
	if err != nil {
		abort(c, err)
		return
	}
	if ch.Proxy != before.Proxy && ch.DesiredState == store.DesiredRunning {
		// A proxy applies from the next connection: make it now. Should
		// the bus not take the command, the change stays stored and
		// applies at the next reconnection.
		env := s.envelope(c)
		if err := s.command(c.Request.Context(), ch.ID, action{verb: command.Restart}, env, env.RequestID+":proxy"); err != nil {
			s.log.Warn("channel not restarted for its new proxy", "channel_id", ch.ID, "error", err)
		}
	}
	c.JSON(http.StatusOK, ch)
}

// proxySetting is settings.proxy of stored settings, "" when none.
func proxySetting(settings json.RawMessage) string {
	var s struct {
		Proxy string `json:"proxy"`
	}
	_ = json.Unmarshal(settings, &s)
	return s.Proxy
}

type historyPage struct {
	Data []store.HistoryEntry `json:"data"`
	// NextBefore is the cursor of older entries (?before=), null on the last page.
	NextBefore *int64 `json:"next_before"`
}

func (s *Server) history(c *gin.Context) {
	limit, verr := queryInt(c, "limit", defaultPage, 1, maxPage)
	if verr != nil {
		abort(c, verr)
		return
	}
	before, verr := queryInt(c, "before", 0, 1, math.MaxInt)
	if verr != nil {
		abort(c, verr)
		return
	}
	list, err := s.cfg.Store.History(c.Request.Context(), channelOf(c).ID, int64(before), limit)
	if err != nil {
		abort(c, err)
		return
	}
	out := historyPage{Data: list}
	if out.Data == nil {
		out.Data = []store.HistoryEntry{}
	}
	if len(list) == limit {
		next := list[len(list)-1].ID
		out.NextBefore = &next
	}
	c.JSON(http.StatusOK, out)
}

// queryInt reads an optional integer query parameter in [lo, hi].
func queryInt(c *gin.Context, name string, def, lo, hi int) (int, *httpapi.Error) {
	v, ok := c.GetQuery(name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err == nil && n >= lo && n <= hi:
		return n, nil
	case hi == math.MaxInt:
		return 0, httpapi.Validation(name, "must be an integer of at least %d, not %q", lo, v)
	default:
		return 0, httpapi.Validation(name, "must be an integer from %d to %d, not %q", lo, hi, v)
	}
}
