package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/store"
)

// TokenGrace is how long a rotated channel token stays valid by default:
// long enough to roll the new one out to every client of the channel.
const TokenGrace = 24 * time.Hour

// maxTokenGrace bounds the grace period a rotation may ask for.
const maxTokenGrace = 7 * 24 * time.Hour

type rotateTokenRequest struct {
	// GracePeriod is how long the replaced token stays valid, as a Go
	// duration ("24h", "0s" revokes it at once); default TokenGrace.
	GracePeriod *string `json:"grace_period"`
}

type rotateTokenResponse struct {
	ID                     string     `json:"id"`
	Token                  string     `json:"token"`
	PreviousTokenExpiresAt *time.Time `json:"previous_token_expires_at,omitempty"`
}

// rotateToken gives the channel a new token; the replaced one is accepted
// until the grace period ends, then refused. The admin token or the
// channel's own token (current or, within its grace, previous) may rotate.
func (s *Server) rotateToken(c *gin.Context) {
	var req rotateTokenRequest
	if err := httpapi.Bind(c, &req, s.cfg.MaxBody, true); err != nil {
		abort(c, err)
		return
	}
	grace := TokenGrace
	if req.GracePeriod != nil {
		d, err := time.ParseDuration(*req.GracePeriod)
		if err != nil || d < 0 || d > maxTokenGrace {
			abort(c, httpapi.Errorf(http.StatusBadRequest, "invalid_grace_period",
				"grace_period must be a duration from 0s to 168h such as \"24h\"; got %q", *req.GracePeriod))
			return
		}
		grace = d
	}
	id := channelOf(c).ID
	token := ids.Token(TokenPrefix, 32)
	until, err := s.cfg.Store.RotateChannelToken(c.Request.Context(), id, httpapi.HashToken(token), grace)
	s.announce(id)
	if errors.Is(err, store.ErrNotFound) {
		abort(c, httpapi.ErrChannelNF)
		return
	}
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusOK, rotateTokenResponse{ID: id, Token: token, PreviousTokenExpiresAt: until})
}
