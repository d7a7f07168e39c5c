// Package callsapi serves POST /v1/channels/{id}/calls/{call_id}/reject
// (package calls).
package callsapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/calls"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/ownerclient"
)

// Config configures the route.
type Config struct {
	ownerclient.Config
	// Redis holds the calls seen (calls.Caller).
	Redis *redis.Client
	Keys  names.Redis
}

// Handlers serves the route.
type Handlers struct {
	*ownerclient.Client
	cfg Config
}

// NewHandlers returns the handlers.
func NewHandlers(cfg Config) *Handlers {
	return &Handlers{Client: ownerclient.New(cfg.Config), cfg: cfg}
}

// Mount registers the route behind auth.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	h.Routes(r, "/calls", auth, "rejecting a call").POST("/:call_id/reject", h.reject)
}

// RejectRequest is the optional body of POST …/calls/{call_id}/reject.
type RejectRequest struct {
	// From is the caller, for a call this gateway did not see arrive
	// (default: the caller of the call.received with this id).
	From string `json:"from"`
}

func (h *Handlers) reject(c *gin.Context) {
	var r RejectRequest
	if err := httpapi.Bind(c, &r, 0, true); err != nil {
		httpapi.Abort(c, err)
		return
	}
	callID := c.Param("call_id")
	if len(callID) > 128 {
		httpapi.Abort(c, httpapi.Validation("call_id", "is at most 128 characters"))
		return
	}
	ch := httpapi.ChannelOf(c)
	from, fromLID := r.From, ""
	if from != "" {
		jid, ok := contacts.NormalizeContact(from)
		if !ok {
			httpapi.Abort(c, httpapi.Validation("from", "%q is not a phone number in international form, a user JID or a LID", from))
			return
		}
		from = jid
		if strings.HasSuffix(jid, "@lid") {
			fromLID = jid
		}
	} else {
		var err error
		from, fromLID, err = calls.Caller(c.Request.Context(), h.cfg.Redis, h.cfg.Keys, ch.ID, callID)
		switch {
		case errors.Is(err, calls.ErrCallNotFound):
			httpapi.Abort(c, httpapi.Errorf(http.StatusNotFound, calls.CodeCallNotFound,
				"no call %s reached channel %s in the last %s; give its caller as from to reject it anyway", callID, ch.ID, calls.RememberFor))
			return
		case err != nil:
			h.Logger().Warn("redis unavailable", "err", err)
			c.Header("Retry-After", "1")
			httpapi.Abort(c, httpapi.Errorf(http.StatusServiceUnavailable, "redis_unavailable", "the call cannot be looked up now; retry shortly"))
			return
		}
	}
	var res calls.Rejected
	if h.Ask(c, calls.MethodReject, calls.Params{CallID: callID, From: from, FromLID: fromLID}, &res, calls.Status) {
		c.JSON(http.StatusOK, res)
	}
}
