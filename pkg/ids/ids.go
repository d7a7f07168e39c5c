// Package ids makes the identifiers wagate hands out: a short type prefix
// and 26 characters of Crockford base32 (48 bits of milliseconds, then 80
// random bits), so ids sort by creation time and are valid NATS tokens.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"sync"
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

// New returns prefix followed by a time-ordered random id. The ids one
// process makes sort in the order it made them: within a millisecond (or
// after the clock stepped back) the random bits count up from the first
// id's, so a batch of messages lists in the order it was sent.
func New(prefix string) string {
	return prefix + next(time.Now())
}

// last is the newest id New made: its milliseconds and random bits.
var last struct {
	sync.Mutex
	ms   uint64
	rand [10]byte
}

func next(t time.Time) string {
	ms := uint64(max(t.UnixMilli(), 0))
	last.Lock()
	defer last.Unlock()
	if ms > last.ms || !increment(&last.rand) {
		// A new millisecond, or 2^80 ids in one (the next millisecond then).
		last.ms = max(ms, last.ms+1)
		_, _ = rand.Read(last.rand[:])
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], last.ms<<16)
	copy(b[6:], last.rand[:])
	return enc.EncodeToString(b[:])[:26]
}

// increment adds one to the big-endian number r and reports whether it
// did not overflow.
func increment(r *[10]byte) bool {
	for i := len(r) - 1; i >= 0; i-- {
		r[i]++
		if r[i] != 0 {
			return true
		}
	}
	return false
}

// At returns the id body for time t (exposed for tests with stub clocks,
// and for ids of past messages): random within its millisecond.
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
