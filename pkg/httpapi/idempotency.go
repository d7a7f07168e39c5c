package httpapi

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// HeaderIdempotencyKey makes a request safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

// MaxIdempotencyKey is the longest accepted Idempotency-Key.
const MaxIdempotencyKey = 255

// IdempotencyKey reads the optional Idempotency-Key header: empty, or 1 to
// MaxIdempotencyKey visible ASCII characters (400 validation_failed
// otherwise).
func IdempotencyKey(c *gin.Context) (string, *Error) {
	key := c.GetHeader(HeaderIdempotencyKey)
	if len(key) > MaxIdempotencyKey || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", Validation(HeaderIdempotencyKey, "must be 1 to %d visible ASCII characters", MaxIdempotencyKey)
	}
	return key, nil
}
