package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/store"
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

// TokenHashes finds the stored token hashes of a channel: ok is false when
// the channel does not exist.
type TokenHashes interface {
	ChannelTokenHashes(ctx context.Context, channelID string) (hashes store.TokenHashes, ok bool, err error)
}

var _ TokenHashes = (*store.Store)(nil)
var _ TokenHashes = (*ChannelCache)(nil)

// Authenticator resolves bearer tokens to principals, and answers 429 to
// client addresses that failed too often (FailureLimit).
type Authenticator struct {
	adminHashes [][]byte
	hashes      TokenHashes
	limit       *failureLimiter
}

// NewAuthenticator checks tokens against the admin tokens (several may be
// valid at once, so the admin token can be rotated without downtime) and
// the channels' hashes, with DefaultFailureLimit.
func NewAuthenticator(adminTokens []string, hashes TokenHashes) *Authenticator {
	return NewAuthenticatorWithLimit(adminTokens, hashes, DefaultFailureLimit)
}

// NewAuthenticatorWithLimit is NewAuthenticator with another failure limit.
func NewAuthenticatorWithLimit(adminTokens []string, hashes TokenHashes, limit FailureLimit) *Authenticator {
	a := &Authenticator{hashes: hashes, limit: newFailureLimiter(limit)}
	for _, t := range adminTokens {
		if t != "" {
			a.adminHashes = append(a.adminHashes, HashToken(t))
		}
	}
	return a
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

// isAdmin compares h with every admin hash (constant time each, and all
// of them every time).
func (a *Authenticator) isAdmin(h []byte) bool {
	ok := 0
	for _, ah := range a.adminHashes {
		ok |= subtle.ConstantTimeCompare(h, ah)
	}
	return ok == 1
}

// Middleware authenticates every request. A channel token must name the
// channel of the path (":id"); the check of which channel it reaches
// happens in RequireChannel, because a token alone does not say which
// channel it belongs to. A channel's previous token (rotation) is accepted
// until it expires.
func (a *Authenticator) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		addr := c.ClientIP()
		if wait := a.limit.blocked(addr); wait > 0 {
			authFailures.WithLabelValues("rate_limited").Inc()
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			Abort(c, ErrTooManyFailures)
			return
		}
		fail := func(err error) {
			a.limit.fail(addr)
			authFailures.WithLabelValues("refused").Inc()
			Abort(c, err)
		}
		tok := Bearer(c)
		if tok == "" {
			fail(ErrUnauthorized)
			return
		}
		h := HashToken(tok)
		if a.isAdmin(h) {
			c.Set(principalKey, Principal{Admin: true})
			c.Next()
			return
		}
		id := c.Param("id")
		if id == "" {
			// Only the admin token reaches routes without a channel.
			fail(ErrAdminRequired)
			return
		}
		stored, ok, err := a.hashes.ChannelTokenHashes(c.Request.Context(), id)
		if err != nil {
			Abort(c, err)
			return
		}
		if !ok || !stored.Accepts(h, time.Now()) {
			// The same answer for an unknown channel and a wrong token, so
			// tokens cannot probe which channel ids exist.
			fail(ErrUnauthorized)
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
