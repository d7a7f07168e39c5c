// Package blocklistapi serves GET /v1/channels/{id}/blocklist and
// PUT/DELETE …/blocklist/{contact} (package blocklist).
package blocklistapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/blocklist"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ownerclient"
)

// Config configures the routes.
type Config = ownerclient.Config

// Handlers serves the routes.
type Handlers struct {
	*ownerclient.Client
}

// NewHandlers returns the handlers.
func NewHandlers(cfg Config) *Handlers {
	return &Handlers{Client: ownerclient.New(cfg)}
}

// Mount registers the routes behind auth.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	g := h.Routes(r, "/blocklist", auth, "the blocklist")
	g.GET("", h.list)
	g.PUT("/:contact", func(c *gin.Context) { h.set(c, true) })
	g.DELETE("/:contact", func(c *gin.Context) { h.set(c, false) })
}

// List is the answer of GET …/blocklist.
type List struct {
	Data []blocklist.Entry `json:"data"`
}

func (h *Handlers) list(c *gin.Context) {
	var l []blocklist.Entry
	if h.Ask(c, blocklist.MethodGet, struct{}{}, &l, contacts.Status) {
		if l == nil {
			l = []blocklist.Entry{}
		}
		c.JSON(http.StatusOK, List{Data: l})
	}
}

func (h *Handlers) set(c *gin.Context, blocked bool) {
	v := c.Param("contact")
	jid, ok := contacts.NormalizeContact(v)
	if !ok {
		httpapi.Abort(c, httpapi.Validation("contact", "%q is not a phone number in international form, a user JID (…@s.whatsapp.net) or a LID (…@lid)", v))
		return
	}
	var res blocklist.Changed
	if h.Ask(c, blocklist.MethodSet, blocklist.Params{Contact: jid, Blocked: blocked}, &res, contacts.Status) {
		c.JSON(http.StatusOK, res)
	}
}
