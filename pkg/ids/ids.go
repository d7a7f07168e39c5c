// Package ids makes the identifiers wagate hands out: a short type prefix
// and 26 characters of Crockford base32 (48 bits of milliseconds, then 80
// random bits), so ids sort by creation time and are valid NATS tokens.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

var enc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// Prefixes of the ids, so an id says what it names.
const (
	Channel  = "ch_"
	Event    = "evt_"
	Message  = "msg_"
	Webhook  = "wh_"
	Delivery = "dlv_"
)

// New returns prefix followed by a time-ordered random id.
func New(prefix string) string {
	return prefix + At(time.Now())
}

// At returns the id body for time t (exposed for tests with stub clocks).
func At(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	_, _ = rand.Read(b[6:])
	return enc.EncodeToString(b[:])[:26]
}

// Token returns a random secret of n bytes with prefix, for API tokens and
// webhook secrets.
func Token(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + strings.ToLower(enc.EncodeToString(b))
}
