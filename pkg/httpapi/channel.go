package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

const channelKey = "wagate.channel"

// LoadChannel finds the live channel of the path's :id and puts it in the
// request context (ChannelOf), or answers 404 channel_not_found. Put it
// after the authentication middleware, which checked the token reaches :id.
func LoadChannel(st *store.Store) gin.HandlerFunc { return LoadChannelFrom(st) }

// ChannelOf returns the channel LoadChannel found.
func ChannelOf(c *gin.Context) *store.Channel { return c.MustGet(channelKey).(*store.Channel) }

// NotActive is the 409 channel_not_active answer for work that needs a
// connected session; what names the work.
func NotActive(ch *store.Channel, what string) *Error {
	return Errorf(http.StatusConflict, "channel_not_active",
		"channel %s is %s; %s needs an active channel (start it, and pair it if needed)", ch.ID, ch.State, what).
		WithDetails(map[string]string{"state": ch.State})
}

// RequireActive answers 409 channel_not_active unless the loaded channel
// is active.
func RequireActive(what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if ch := ChannelOf(c); ch.State != state.Active {
			Abort(c, NotActive(ch, what))
			return
		}
		c.Next()
	}
}
