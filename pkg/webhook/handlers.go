package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/ssrf"
	"github.com/wagate/wagate/pkg/store"
)

// HandlersConfig configures the webhook routes of the API.
type HandlersConfig struct {
	// Store holds channels and endpoints (required).
	Store *store.Store
	// Secrets seals the signing secrets stored in Postgres (required).
	Secrets *secretbox.Box
	// Bus, when set, announces endpoint changes on names.WebhooksChanged so
	// dispatchers reload at once rather than within their CacheTTL.
	Bus *bus.Bus
	// AllowPrivate accepts receiver URLs on private and loopback addresses
	// (WAGATE_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	// Resolver resolves receiver host names at registration (default
	// net.DefaultResolver).
	Resolver ssrf.Resolver
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// EndpointConcurrency is the dispatchers' Config.EndpointConcurrency,
	// shown as the max_in_flight of endpoints that set none (default
	// DefaultEndpointConcurrency).
	EndpointConcurrency int
}

// Handlers serves the webhook routes: endpoints, rotation, the delivery
// log, replays and dead letters.
type Handlers struct {
	cfg   HandlersConfig
	db    db
	guard ssrf.Guard
}

// NewHandlers returns the handlers; mount them with Mount.
func NewHandlers(cfg HandlersConfig) (*Handlers, error) {
	if cfg.Store == nil || cfg.Secrets == nil {
		return nil, errors.New("webhook: HandlersConfig.Store and Secrets are required")
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.EndpointConcurrency <= 0 {
		cfg.EndpointConcurrency = DefaultEndpointConcurrency
	}
	return &Handlers{cfg: cfg, db: db{pool: cfg.Store.Pool, box: cfg.Secrets}, guard: ssrf.Guard{AllowPrivate: cfg.AllowPrivate}}, nil
}

// Mount registers the routes on r behind auth, the bearer-token middleware
// (httpapi.Authenticator). Per channel, for the admin token or the
// channel's token:
//
//	POST   /v1/channels/:id/webhooks                      create (answer holds the secret)
//	GET    /v1/channels/:id/webhooks                      list
//	GET    /v1/channels/:id/webhooks/dead-letters         dead letters of the channel's endpoints
//	GET    /v1/channels/:id/webhooks/:wid                 read
//	PATCH  /v1/channels/:id/webhooks/:wid                 update url, events, headers, enabled, description, max_in_flight
//	DELETE /v1/channels/:id/webhooks/:wid                 delete with its delivery log
//	POST   /v1/channels/:id/webhooks/:wid/rotate          new secret {grace_period}
//	GET    /v1/channels/:id/webhooks/:wid/deliveries      delivery log (?status=&event_id=&before=&limit=)
//	GET    /v1/channels/:id/webhooks/:wid/deliveries/:did one delivery with its attempts
//	POST   /v1/channels/:id/webhooks/:wid/replay          {event_id} or {since, status}
//
// and the same under /v1/webhooks for admin-level endpoints (admin token
// only), whose GET /v1/webhooks/dead-letters lists every dead letter of
// the fleet.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	for _, g := range []*gin.RouterGroup{
		r.Group("/v1/channels/:id/webhooks", auth, h.channelScope),
		r.Group("/v1/webhooks", auth, httpapi.RequireAdmin(), h.adminScope),
	} {
		g.POST("", h.create)
		g.GET("", h.list)
		g.GET("/dead-letters", h.deadLetters)
		g.GET("/:wid", h.get)
		g.PATCH("/:wid", h.update)
		g.DELETE("/:wid", h.delete)
		g.POST("/:wid/rotate", h.rotate)
		g.GET("/:wid/deliveries", h.deliveries)
		g.GET("/:wid/deliveries/:did", h.delivery)
		g.POST("/:wid/replay", h.replay)
	}
}

const scopeKey = "wagate.webhook.scope"

// Errors of the webhook routes.
var (
	errEndpointNF = &httpapi.Error{Status: http.StatusNotFound, Code: "webhook_not_found", Message: "no webhook endpoint with this id here"}
	errDeliveryNF = &httpapi.Error{Status: http.StatusNotFound, Code: "delivery_not_found", Message: "no delivery matches"}
	errLimitReach = &httpapi.Error{Status: http.StatusConflict, Code: "webhook_limit_reached", Message: "at most 20 webhook endpoints per channel (and 20 admin-level ones); delete one first"}
	errDisabled   = &httpapi.Error{Status: http.StatusConflict, Code: "webhook_disabled", Message: "the endpoint is disabled; enable it (PATCH {\"enabled\": true}) before replaying"}
)

// channelScope admits the admin token or the channel's own token to the
// routes of an existing channel.
func (h *Handlers) channelScope(c *gin.Context) {
	id := c.Param("id")
	if !httpapi.PrincipalOf(c).CanAccess(id) {
		httpapi.Abort(c, httpapi.ErrChannelNF)
		return
	}
	if _, err := h.cfg.Store.Channel(c.Request.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = httpapi.ErrChannelNF
		}
		httpapi.Abort(c, err)
		return
	}
	c.Set(scopeKey, id)
	c.Next()
}

// adminScope selects the admin-level endpoints (no channel).
func (h *Handlers) adminScope(c *gin.Context) {
	c.Set(scopeKey, "")
	c.Next()
}

func scopeOf(c *gin.Context) string { return c.GetString(scopeKey) }

// announce tells the dispatchers that endpoints changed.
func (h *Handlers) announce() {
	if h.cfg.Bus == nil {
		return
	}
	if err := h.cfg.Bus.Conn.Publish(h.cfg.Bus.Names.WebhooksChanged(), nil); err != nil {
		h.cfg.Logger.Warn("announcing a webhook endpoint change; dispatchers see it within their cache TTL", "error", err)
	}
}

type createRequest struct {
	URL         string            `json:"url"`
	Description string            `json:"description"`
	Events      []string          `json:"events"`
	Headers     map[string]string `json:"headers"`
	Enabled     *bool             `json:"enabled"`
	// MaxInFlight is absent or null for the dispatchers' default.
	MaxInFlight *int `json:"max_in_flight"`
}

func (h *Handlers) create(c *gin.Context) {
	var req createRequest
	if err := httpapi.Bind(c, &req, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	e := &Endpoint{ID: ids.New(ids.Webhook), ChannelID: scopeOf(c), Enabled: req.Enabled == nil || *req.Enabled, Secret: NewSecret()}
	var verr *httpapi.Error
	if e.URL, verr = h.checkURL(c.Request.Context(), req.URL); verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	if e.Description, verr = checkDescription(req.Description); verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	if e.Events, verr = checkEvents(req.Events); verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	if e.Headers, verr = checkHeaders(req.Headers); verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	if req.MaxInFlight != nil {
		if e.MaxInFlight, verr = checkMaxInFlight(*req.MaxInFlight); verr != nil {
			httpapi.Abort(c, verr)
			return
		}
	}
	got, err := h.db.createEndpoint(c.Request.Context(), e)
	if errors.Is(err, errLimit) {
		httpapi.Abort(c, errLimitReach)
		return
	}
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	h.announce()
	c.JSON(http.StatusCreated, got.view(true, h.cfg.EndpointConcurrency))
}

type endpointList struct {
	Data []endpointJSON `json:"data"`
}

func (h *Handlers) list(c *gin.Context) {
	list, err := h.db.listEndpoints(c.Request.Context(), scopeOf(c))
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	out := endpointList{Data: make([]endpointJSON, 0, len(list))}
	for _, e := range list {
		out.Data = append(out.Data, e.view(false, h.cfg.EndpointConcurrency))
	}
	c.JSON(http.StatusOK, out)
}

// endpointOf reads the endpoint of the path within the scope.
func (h *Handlers) endpointOf(c *gin.Context) (*Endpoint, bool) {
	e, err := h.db.endpoint(c.Request.Context(), scopeOf(c), c.Param("wid"))
	if errors.Is(err, store.ErrNotFound) {
		httpapi.Abort(c, errEndpointNF)
		return nil, false
	}
	if err != nil {
		httpapi.Abort(c, err)
		return nil, false
	}
	return e, true
}

func (h *Handlers) get(c *gin.Context) {
	if e, ok := h.endpointOf(c); ok {
		c.JSON(http.StatusOK, e.view(false, h.cfg.EndpointConcurrency))
	}
}

type updateRequest struct {
	URL         *string            `json:"url"`
	Description *string            `json:"description"`
	Events      *[]string          `json:"events"`
	Headers     *map[string]string `json:"headers"`
	Enabled     *bool              `json:"enabled"`
	// MaxInFlight null returns the endpoint to the dispatchers' default.
	MaxInFlight optionalInt `json:"max_in_flight"`
}

// optionalInt is a JSON member that may be absent (set false), null
// (set, v nil) or an integer.
type optionalInt struct {
	set bool
	v   *int
}

func (o *optionalInt) UnmarshalJSON(b []byte) error {
	o.set = true
	return json.Unmarshal(b, &o.v)
}

func (h *Handlers) update(c *gin.Context) {
	var req updateRequest
	if err := httpapi.Bind(c, &req, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	var p endpointPatch
	var verr *httpapi.Error
	if req.URL != nil {
		u, verr := h.checkURL(c.Request.Context(), *req.URL)
		if verr != nil {
			httpapi.Abort(c, verr)
			return
		}
		p.URL = &u
	}
	if req.Description != nil {
		d, verr := checkDescription(*req.Description)
		if verr != nil {
			httpapi.Abort(c, verr)
			return
		}
		p.Description = &d
	}
	if req.Events != nil {
		if p.Events, verr = checkEvents(*req.Events); verr != nil {
			httpapi.Abort(c, verr)
			return
		}
	}
	if req.Headers != nil {
		if p.Headers, verr = checkHeaders(*req.Headers); verr != nil {
			httpapi.Abort(c, verr)
			return
		}
	}
	if req.MaxInFlight.set {
		p.SetMaxInFlight = true
		if req.MaxInFlight.v != nil {
			if p.MaxInFlight, verr = checkMaxInFlight(*req.MaxInFlight.v); verr != nil {
				httpapi.Abort(c, verr)
				return
			}
		}
	}
	p.Enabled = req.Enabled
	e, err := h.db.updateEndpoint(c.Request.Context(), scopeOf(c), c.Param("wid"), p)
	if errors.Is(err, store.ErrNotFound) {
		httpapi.Abort(c, errEndpointNF)
		return
	}
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	h.announce()
	c.JSON(http.StatusOK, e.view(false, h.cfg.EndpointConcurrency))
}

func (h *Handlers) delete(c *gin.Context) {
	err := h.db.deleteEndpoint(c.Request.Context(), scopeOf(c), c.Param("wid"))
	if errors.Is(err, store.ErrNotFound) {
		httpapi.Abort(c, errEndpointNF)
		return
	}
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	h.announce()
	c.Status(http.StatusNoContent)
}

// Rotation grace periods.
const (
	defaultGrace = 24 * time.Hour
	maxGrace     = 7 * 24 * time.Hour
)

type rotateRequest struct {
	// GracePeriod is how long the replaced secret keeps signing, as a Go
	// duration ("24h", "90m", "0s" to revoke it at once).
	GracePeriod *string `json:"grace_period"`
}

func (h *Handlers) rotate(c *gin.Context) {
	var req rotateRequest
	if err := httpapi.Bind(c, &req, 0, true); err != nil {
		httpapi.Abort(c, err)
		return
	}
	grace := defaultGrace
	if req.GracePeriod != nil {
		d, err := time.ParseDuration(*req.GracePeriod)
		if err != nil || d < 0 || d > maxGrace {
			httpapi.Abort(c, httpapi.Validation("grace_period", `must be a duration from "0s" to "168h", such as "24h"`))
			return
		}
		grace = d
	}
	e, err := h.db.rotateSecret(c.Request.Context(), scopeOf(c), c.Param("wid"), NewSecret(), grace)
	if errors.Is(err, store.ErrNotFound) {
		httpapi.Abort(c, errEndpointNF)
		return
	}
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	h.announce()
	c.JSON(http.StatusOK, e.view(true, h.cfg.EndpointConcurrency))
}

// Page sizes of the delivery lists.
const (
	defaultPage = 50
	maxPage     = 200
)

type deliveryPage struct {
	Data []*Delivery `json:"data"`
	// NextBefore is the cursor of older deliveries (?before=), null on the
	// last page.
	NextBefore *string `json:"next_before"`
}

// pageFilter reads the list parameters shared by the delivery log and the
// dead-letter lists.
func pageFilter(c *gin.Context) (deliveryFilter, *httpapi.Error) {
	f := deliveryFilter{Status: c.Query("status"), EventID: c.Query("event_id"), Before: c.Query("before"), Limit: defaultPage}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return f, httpapi.Validation("status", "must be one of %s", strings.Join(statuses, ", ")).
			WithDetails(map[string]any{"field": "status", "allowed": statuses})
	}
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return f, httpapi.Validation("limit", "must be an integer from 1 to %d", maxPage)
		}
		f.Limit = n
	}
	return f, nil
}

func (h *Handlers) writePage(c *gin.Context, f deliveryFilter) {
	list, err := h.db.deliveries(c.Request.Context(), f)
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	out := deliveryPage{Data: list}
	if out.Data == nil {
		out.Data = []*Delivery{}
	}
	if len(list) == f.Limit {
		next := list[len(list)-1].ID
		out.NextBefore = &next
	}
	c.JSON(http.StatusOK, out)
}

func (h *Handlers) deliveries(c *gin.Context) {
	e, ok := h.endpointOf(c)
	if !ok {
		return
	}
	f, verr := pageFilter(c)
	if verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	f.EndpointID = e.ID
	h.writePage(c, f)
}

func (h *Handlers) delivery(c *gin.Context) {
	e, ok := h.endpointOf(c)
	if !ok {
		return
	}
	list, err := h.db.deliveries(c.Request.Context(), deliveryFilter{EndpointID: e.ID, Delivery: c.Param("did"), Limit: 1})
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	if len(list) == 0 {
		httpapi.Abort(c, errDeliveryNF)
		return
	}
	c.JSON(http.StatusOK, list[0])
}

// deadLetters lists dead deliveries: of the channel's endpoints, or of
// every endpoint of the fleet for the admin route.
func (h *Handlers) deadLetters(c *gin.Context) {
	f, verr := pageFilter(c)
	if verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	if f.Status != "" && f.Status != StatusDead {
		httpapi.Abort(c, httpapi.Validation("status", "dead letters all have status dead"))
		return
	}
	f.Status = StatusDead
	f.Channel = scopeOf(c)
	f.EndpointID = c.Query("endpoint_id")
	h.writePage(c, f)
}

type replayRequest struct {
	EventID string     `json:"event_id"`
	Since   *time.Time `json:"since"`
	// Status is "failed" (failed and dead deliveries, the default) or "dead".
	Status string `json:"status"`
}

type replayAnswer struct {
	Replayed int64 `json:"replayed"`
}

// replay re-sends one event's delivery, or every failed delivery created
// since a time, through the durable retry path (with a fresh schedule).
func (h *Handlers) replay(c *gin.Context) {
	var req replayRequest
	if err := httpapi.Bind(c, &req, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	e, ok := h.endpointOf(c)
	if !ok {
		return
	}
	var sts []string
	switch {
	case req.EventID != "" && (req.Since != nil || req.Status != ""):
		httpapi.Abort(c, httpapi.Validation("event_id", "give either event_id, or since with an optional status, not both"))
		return
	case req.EventID == "" && req.Since == nil:
		httpapi.Abort(c, httpapi.Validation("since", `give event_id, or since (RFC 3339) with status "failed" or "dead"`))
		return
	case req.EventID == "":
		switch req.Status {
		case "", "failed":
			sts = []string{StatusFailed, StatusDead}
		case StatusDead:
			sts = []string{StatusDead}
		default:
			httpapi.Abort(c, httpapi.Validation("status", `must be "failed" (failed and dead deliveries) or "dead"`))
			return
		}
	}
	if !e.Enabled {
		httpapi.Abort(c, errDisabled)
		return
	}
	var since time.Time
	if req.Since != nil {
		since = *req.Since
	}
	n, err := h.db.replay(c.Request.Context(), e.ID, req.EventID, since, sts)
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	if n == 0 && req.EventID != "" {
		httpapi.Abort(c, errDeliveryNF.WithDetails(map[string]string{"event_id": req.EventID}))
		return
	}
	h.announce()
	c.JSON(http.StatusAccepted, replayAnswer{Replayed: n})
}

// checkURL validates a receiver URL and, unless private addresses are
// allowed, refuses one whose host is or now resolves to a refused address.
func (h *Handlers) checkURL(ctx context.Context, raw string) (string, *httpapi.Error) {
	u, why := checkURL(raw)
	if why != "" {
		return "", httpapi.Validation("url", "%s", why)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := h.guard.CheckHost(ctx, h.cfg.Resolver, u.Hostname())
	switch {
	case errors.Is(err, ssrf.ErrRefused):
		return "", httpapi.Errorf(http.StatusBadRequest, "url_not_allowed",
			"url: %s; webhooks may not reach loopback, private, link-local or metadata addresses", err.Error()).
			WithDetails(map[string]string{"field": "url"})
	case errors.Is(err, ssrf.ErrUnresolvable):
		return "", httpapi.Errorf(http.StatusBadRequest, "url_unresolvable",
			"url: the host %q does not resolve; check the name", u.Hostname()).
			WithDetails(map[string]string{"field": "url"})
	case err != nil:
		return "", httpapi.Validation("url", "%s", err.Error())
	}
	return u.String(), nil
}

func checkDescription(s string) (string, *httpapi.Error) {
	if len(s) > maxDescriptionLen {
		return "", httpapi.Validation("description", "must be at most %d bytes", maxDescriptionLen)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return "", httpapi.Validation("description", "must not contain control characters")
	}
	return s, nil
}

func checkEvents(events []string) ([]string, *httpapi.Error) {
	out, why := normalizeFilters(events)
	if why != "" {
		return nil, httpapi.Validation("events", "%s", why)
	}
	return out, nil
}

func checkMaxInFlight(n int) (int, *httpapi.Error) {
	if n < 1 || n > MaxInFlightLimit {
		return 0, httpapi.Validation("max_in_flight", "must be an integer from 1 to %d, or null for the default", MaxInFlightLimit)
	}
	return n, nil
}

func checkHeaders(h map[string]string) (map[string]string, *httpapi.Error) {
	out, name, why := normalizeHeaders(h)
	if why != "" {
		if name != "" {
			return nil, httpapi.Validation("headers", "%q %s", name, why).WithDetails(map[string]string{"field": "headers", "header": name})
		}
		return nil, httpapi.Validation("headers", "%s", why)
	}
	return out, nil
}
