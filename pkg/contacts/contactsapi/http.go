// Package contactsapi serves the contact and profile routes of the HTTP
// API: POST /v1/channels/{id}/contacts/check, GET …/contacts[/{contact}
// [/picture]], GET/PATCH …/profile and PUT …/profile/picture. It validates
// requests, checks that the channel is active, answers number checks from
// the cache where it can, limits the checks that reach WhatsApp, and asks
// the worker running the channel's session for the rest (package
// contacts).
package contactsapi

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/ownerclient"
	"github.com/wagate/wagate/pkg/ratelimit"
	"github.com/wagate/wagate/pkg/store"
)

// Config configures the routes.
type Config struct {
	ownerclient.Config
	// Redis holds the number check cache and the check limits.
	Redis *redis.Client
	Keys  names.Redis
	// SendRate and WarmupDays are the fleet's defaults of the send limit,
	// which number checks that reach WhatsApp obey too.
	SendRate   config.Rate
	WarmupDays int
}

// Handlers serves the routes.
type Handlers struct {
	*ownerclient.Client
	cfg     Config
	cache   *contacts.Cache
	limiter *ratelimit.Limiter
}

// NewHandlers returns the handlers.
func NewHandlers(cfg Config) *Handlers {
	return &Handlers{
		Client:  ownerclient.New(cfg.Config),
		cfg:     cfg,
		cache:   contacts.NewCache(cfg.Redis, cfg.Keys),
		limiter: ratelimit.New(cfg.Redis, cfg.Keys),
	}
}

// Mount registers the routes behind auth.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	c := h.Routes(r, "/contacts", auth, "contacts")
	c.POST("/check", h.check)
	c.GET("", h.list)
	c.GET("/:contact", h.info)
	c.GET("/:contact/picture", h.picture)
	p := h.Routes(r, "/profile", auth, "the profile")
	p.GET("", h.profile)
	p.PATCH("", h.setProfile)
	p.PUT("/picture", h.setPicture)
}

func (h *Handlers) ask(c *gin.Context, method string, p contacts.Params, result any) bool {
	return h.Ask(c, method, p, result, contacts.Status)
}

// CheckRequest is the body of POST …/contacts/check.
type CheckRequest struct {
	Phones []string `json:"phones"`
}

// CheckList is the answer of POST …/contacts/check: one check per
// distinct number, in the order asked.
type CheckList struct {
	Data []contacts.Check `json:"data"`
}

func (h *Handlers) check(c *gin.Context) {
	var r CheckRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	if len(r.Phones) == 0 || len(r.Phones) > contacts.MaxCheck {
		httpapi.Abort(c, httpapi.Validation("phones", "needs 1 to %d phone numbers", contacts.MaxCheck))
		return
	}
	var phones []string
	seen := map[string]bool{}
	for i, v := range r.Phones {
		d, ok := contacts.NormalizePhone(v)
		if !ok {
			httpapi.Abort(c, httpapi.Validation(fmt.Sprintf("phones[%d]", i), "%q is not a phone number in international form (8 to 15 digits)", v))
			return
		}
		if !seen[d] {
			seen[d] = true
			phones = append(phones, d)
		}
	}
	ch := httpapi.ChannelOf(c)
	ctx := c.Request.Context()
	known, err := h.cache.Get(ctx, ch.ID, phones)
	if err != nil {
		h.unavailable(c, err)
		return
	}
	var missing []string
	for _, p := range phones {
		if _, ok := known[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		wait, err := h.limiter.ReserveKey(ctx, h.cfg.Keys.ContactCheckRate(ch.ID), h.plan(ch))
		if err != nil {
			h.unavailable(c, err)
			return
		}
		if wait > 0 {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			httpapi.Abort(c, httpapi.Errorf(http.StatusTooManyRequests, contacts.CodeRateLimited,
				"number checks that reach WhatsApp are limited like sends (%s); retry in %s (numbers checked in the last day are answered from the cache without limit)",
				h.plan(ch).Rate, wait.Round(time.Second)))
			return
		}
		var fresh []contacts.Check
		if !h.ask(c, contacts.MethodCheck, contacts.Params{Phones: missing}, &fresh) {
			return
		}
		for _, f := range fresh {
			known[f.Phone] = f
		}
		if err := h.cache.Put(ctx, ch.ID, fresh); err != nil {
			h.Logger().Warn("number checks not cached", "channel_id", ch.ID, "err", err)
		}
	}
	out := CheckList{Data: make([]contacts.Check, 0, len(phones))}
	for _, p := range phones {
		f, ok := known[p]
		if !ok {
			f = contacts.Check{Phone: p} // WhatsApp did not answer for it: not on WhatsApp
		}
		out.Data = append(out.Data, f)
	}
	c.JSON(http.StatusOK, out)
}

// plan is the channel's send limit (its settings, else the fleet's).
func (h *Handlers) plan(ch *store.Channel) ratelimit.Plan {
	var s struct {
		SendRate   *string `json:"send_rate"`
		WarmupDays *int    `json:"warmup_days"`
	}
	_ = json.Unmarshal(ch.Settings, &s)
	rate, warmup := h.cfg.SendRate, h.cfg.WarmupDays
	if s.SendRate != nil {
		if r, err := config.ParseRate(*s.SendRate); err == nil {
			rate = r
		}
	}
	if s.WarmupDays != nil {
		warmup = *s.WarmupDays
	}
	return ratelimit.PlanFor(rate, warmup, ch.PairedAt, time.Now())
}

func (h *Handlers) unavailable(c *gin.Context, err error) {
	h.Logger().Warn("redis unavailable", "err", err)
	c.Header("Retry-After", "1")
	httpapi.Abort(c, httpapi.Errorf(http.StatusServiceUnavailable, "redis_unavailable", "the cache is unavailable; retry shortly"))
}

// ContactList is the answer of GET …/contacts.
type ContactList struct {
	Data []contacts.Contact `json:"data"`
}

func (h *Handlers) list(c *gin.Context) {
	var list []contacts.Contact
	if h.ask(c, contacts.MethodList, contacts.Params{}, &list) {
		if list == nil {
			list = []contacts.Contact{}
		}
		c.JSON(http.StatusOK, ContactList{Data: list})
	}
}

func contactParam(c *gin.Context) (string, bool) {
	v := c.Param("contact")
	jid, ok := contacts.NormalizeContact(v)
	if !ok {
		httpapi.Abort(c, httpapi.Validation("contact", "%q is not a phone number in international form, a user JID (…@s.whatsapp.net) or a LID (…@lid)", v))
	}
	return jid, ok
}

func (h *Handlers) info(c *gin.Context) {
	jid, ok := contactParam(c)
	if !ok {
		return
	}
	var ct contacts.Contact
	if h.ask(c, contacts.MethodInfo, contacts.Params{Contact: jid}, &ct) {
		c.JSON(http.StatusOK, ct)
	}
}

func (h *Handlers) picture(c *gin.Context) {
	jid, ok := contactParam(c)
	if !ok {
		return
	}
	preview := false
	if v, set := c.GetQuery("preview"); set {
		b, err := strconv.ParseBool(v)
		if err != nil {
			httpapi.Abort(c, httpapi.Validation("preview", "must be true or false, not %q", v))
			return
		}
		preview = b
	}
	var p contacts.Picture
	if h.ask(c, contacts.MethodPicture, contacts.Params{Contact: jid, Preview: preview}, &p) {
		c.JSON(http.StatusOK, p)
	}
}

func (h *Handlers) profile(c *gin.Context) {
	var p contacts.Profile
	if h.ask(c, contacts.MethodProfile, contacts.Params{}, &p) {
		c.JSON(http.StatusOK, p)
	}
}

// ProfileRequest is the body of PATCH …/profile.
type ProfileRequest struct {
	PushName *string `json:"push_name"`
	About    *string `json:"about"`
}

func (h *Handlers) setProfile(c *gin.Context) {
	var r ProfileRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	if r.PushName == nil && r.About == nil {
		httpapi.Abort(c, httpapi.Validation("push_name", "give push_name, about or both"))
		return
	}
	if r.PushName != nil {
		*r.PushName = strings.TrimSpace(*r.PushName)
		if n := utf8.RuneCountInString(*r.PushName); n == 0 || n > contacts.MaxPushName || strings.ContainsRune(*r.PushName, 0) {
			httpapi.Abort(c, httpapi.Validation("push_name", "needs 1 to %d characters", contacts.MaxPushName))
			return
		}
	}
	if r.About != nil {
		if n := utf8.RuneCountInString(*r.About); n > contacts.MaxAbout || strings.ContainsRune(*r.About, 0) {
			httpapi.Abort(c, httpapi.Validation("about", "has at most %d characters", contacts.MaxAbout))
			return
		}
	}
	var p contacts.Profile
	if h.ask(c, contacts.MethodSetProfile, contacts.Params{Update: &contacts.ProfileUpdate{PushName: r.PushName, About: r.About}}, &p) {
		c.JSON(http.StatusOK, p)
	}
}

// PictureSet is the answer of PUT …/profile/picture.
type PictureSet = contacts.PictureSet

func (h *Handlers) setPicture(c *gin.Context) {
	body, err := httpapi.ReadJPEG(c, contacts.MaxPicture, "a profile picture")
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	var res contacts.PictureSet
	if h.ask(c, contacts.MethodProfilePicture, contacts.Params{JPEG: body}, &res) {
		c.JSON(http.StatusOK, res)
	}
}
