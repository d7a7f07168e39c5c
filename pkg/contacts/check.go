package contacts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/names"
)

// Servers of user JIDs.
const (
	UserServer = "s.whatsapp.net"
	LIDServer  = "lid"
)

// NormalizePhone turns a phone number as people write it ("+1 (555)
// 123-4567") into digits; ok is false when it is not a number in
// international form (8 to 15 digits, no leading 0).
func NormalizePhone(v string) (digits string, ok bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(v) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')', r == '.':
		default:
			return "", false
		}
	}
	d := b.String()
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	return d, true
}

// NormalizeContact accepts a phone number, a phone-number JID (a device
// part is dropped) or a LID, and returns the user JID.
func NormalizeContact(v string) (string, bool) {
	user, server, isJID := strings.Cut(strings.TrimSpace(v), "@")
	if !isJID {
		d, ok := NormalizePhone(v)
		return d + "@" + UserServer, ok
	}
	user, _, _ = strings.Cut(user, ":")
	if user == "" || strings.Trim(user, "0123456789") != "" || (server != UserServer && server != LIDServer) {
		return "", false
	}
	return user + "@" + server, true
}

// CheckTTL is how long a number's answer is cached.
const CheckTTL = 24 * time.Hour

// Cache keeps number checks in Redis, per channel.
type Cache struct {
	rdb  redis.Cmdable
	keys names.Redis
}

// NewCache returns a Cache.
func NewCache(rdb redis.Cmdable, keys names.Redis) *Cache { return &Cache{rdb: rdb, keys: keys} }

// Get returns the cached answers among phones (digits), by phone.
func (c *Cache) Get(ctx context.Context, channel string, phones []string) (map[string]Check, error) {
	if len(phones) == 0 {
		return map[string]Check{}, nil
	}
	keys := make([]string, len(phones))
	for i, p := range phones {
		keys[i] = c.keys.ContactCheck(channel, p)
	}
	vals, err := c.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("contacts: read cached checks: %w", err)
	}
	out := make(map[string]Check, len(phones))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var ch Check
		if json.Unmarshal([]byte(s), &ch) == nil && ch.Phone == phones[i] {
			out[phones[i]] = ch
		}
	}
	return out, nil
}

// Put caches checks for CheckTTL.
func (c *Cache) Put(ctx context.Context, channel string, checks []Check) error {
	if len(checks) == 0 {
		return nil
	}
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ch := range checks {
			raw, _ := json.Marshal(ch) // plain strings and a bool
			p.Set(ctx, c.keys.ContactCheck(channel, ch.Phone), raw, CheckTTL)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("contacts: cache checks: %w", err)
	}
	return nil
}
