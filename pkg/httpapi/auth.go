package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"
)

// Principal is who a request acts as.
type Principal struct {
	// Admin reaches every channel.
	Admin bool
	// ChannelID is the one channel a channel token reaches.
	ChannelID string
}

// CanAccess reports whether p may act on channel id.
func (p Principal) CanAccess(id string) bool { return p.Admin || p.ChannelID == id }

// HashToken is how channel tokens are stored: SHA-256. Tokens carry 256
// random bits, so a fast hash is enough; comparisons are constant-time.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// TokenHashes finds the stored token hash of a channel: ok is false when
// the channel does not exist.
type TokenHashes interface {
	ChannelTokenHash(ctx context.Context, channelID string) (hash []byte, ok bool, err error)
}

// Authenticator resolves bearer tokens to principals.
type Authenticator struct {
	adminHash []byte
	hashes    TokenHashes
}

// NewAuthenticator checks tokens against adminToken and the channels' hashes.
func NewAuthenticator(adminToken string, hashes TokenHashes) *Authenticator {
	return &Authenticator{adminHash: HashToken(adminToken), hashes: hashes}
}

const principalKey = "wagate.principal"

// Bearer extracts the bearer token of the request.
func Bearer(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// Middleware authenticates every request. A channel token must name the
// channel of the path (":id"); the check of which channel it reaches
// happens in RequireChannel, because a token alone does not say which
// channel it belongs to.
func (a *Authenticator) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		tok := Bearer(c)
		if tok == "" {
			Abort(c, ErrUnauthorized)
			return
		}
		h := HashToken(tok)
		if subtle.ConstantTimeCompare(h, a.adminHash) == 1 {
			c.Set(principalKey, Principal{Admin: true})
			c.Next()
			return
		}
		id := c.Param("id")
		if id == "" {
			// Only the admin token reaches routes without a channel.
			Abort(c, ErrAdminRequired)
			return
		}
		stored, ok, err := a.hashes.ChannelTokenHash(c.Request.Context(), id)
		if err != nil {
			Abort(c, err)
			return
		}
		if !ok || subtle.ConstantTimeCompare(h, stored) != 1 {
			// The same answer for an unknown channel and a wrong token, so
			// tokens cannot probe which channel ids exist.
			Abort(c, ErrUnauthorized)
			return
		}
		c.Set(principalKey, Principal{ChannelID: id})
		c.Next()
	}
}

// PrincipalOf returns the authenticated principal of the request.
func PrincipalOf(c *gin.Context) Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(Principal)
	return pr
}

// RequireAdmin rejects channel tokens.
func RequireAdmin() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !PrincipalOf(c).Admin {
			Abort(c, ErrForbidden)
			return
		}
		c.Next()
	}
}
