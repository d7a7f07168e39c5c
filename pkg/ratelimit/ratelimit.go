// Package ratelimit spaces each channel's outbound messages, with the state
// in Redis so the limit holds across workers: when a channel moves to
// another worker mid-burst, the new owner continues the same schedule.
//
// The limiter is GCRA (a theoretical arrival time per channel): every send
// reserves the next slot, one interval after the previous one, where the
// interval is Per/N stretched by a random jitter so sends never look
// machine-regular. A newly paired number is warming: for WarmupDays its
// rate is scaled by day/WarmupDays and its daily total is capped (20 on
// day one, doubling each day).
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/names"
)

// Limiter reserves send slots.
type Limiter struct {
	rdb  *redis.Client
	keys names.Redis
	// Jitter stretches each interval by up to this fraction (default 0.3).
	Jitter float64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New returns a Limiter.
func New(rdb *redis.Client, keys names.Redis) *Limiter {
	return &Limiter{rdb: rdb, keys: keys, Jitter: 0.3, Now: time.Now}
}

// gcra: KEYS[1] arrival time, KEYS[2] day counter; ARGV: now ms, interval ms,
// day cap (0 = none), ms until the day ends. Returns ms to wait (0 = go).
var gcra = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
if cap > 0 then
  local used = tonumber(redis.call("GET", KEYS[2]) or "0")
  if used >= cap then return tonumber(ARGV[4]) end
end
local tat = tonumber(redis.call("GET", KEYS[1]) or "0")
if tat > now then return tat - now end
redis.call("SET", KEYS[1], now + interval, "PX", interval + 60000)
if cap > 0 then
  redis.call("INCR", KEYS[2])
  redis.call("PEXPIRE", KEYS[2], tonumber(ARGV[4]) + 3600000)
end
return 0`)

// Plan is the limit in force for a channel.
type Plan struct {
	Rate config.Rate
	// Warming is true while the number is newer than the warm-up period.
	Warming bool
	// Day of the warm-up (1-based) and today's cap of sends (0 = none).
	Day, DailyCap int
}

// PlanFor computes the plan of a channel paired at pairedAt (nil: not
// paired) with the full rate and the warm-up length.
func PlanFor(rate config.Rate, warmupDays int, pairedAt *time.Time, now time.Time) Plan {
	p := Plan{Rate: rate}
	if rate.Unlimited() || warmupDays <= 0 || pairedAt == nil {
		return p
	}
	age := now.Sub(*pairedAt)
	if age >= time.Duration(warmupDays)*24*time.Hour {
		return p
	}
	p.Warming = true
	p.Day = int(age/(24*time.Hour)) + 1
	p.Rate.N = max(1, rate.N*p.Day/warmupDays)
	p.DailyCap = 20 << (p.Day - 1)
	return p
}

// Reserve takes the next send slot of channel under plan. It returns 0 when
// the message may go now, or how long to wait before asking again.
func (l *Limiter) Reserve(ctx context.Context, channel string, plan Plan) (time.Duration, error) {
	return l.ReserveKey(ctx, l.keys.SendRate(channel), plan)
}

// ReserveKey is Reserve on the schedule kept under key, for work limited
// like sends but counted apart from them (number checks).
func (l *Limiter) ReserveKey(ctx context.Context, key string, plan Plan) (time.Duration, error) {
	if plan.Rate.Unlimited() {
		return 0, nil
	}
	now := l.Now()
	interval := float64(plan.Rate.Per) / float64(plan.Rate.N)
	interval *= 1 + rand.Float64()*l.Jitter
	endOfDay := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now)
	dayKey := key + ":day:" + now.UTC().Format("20060102")
	wait, err := gcra.Run(ctx, l.rdb, []string{key, dayKey},
		now.UnixMilli(), int64(math.Max(1, interval/float64(time.Millisecond))), plan.DailyCap, endOfDay.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("ratelimit: reserve %s: %w", key, err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}

// SentToday returns how many sends the daily cap has counted today.
func (l *Limiter) SentToday(ctx context.Context, channel string) (int, error) {
	v, err := l.rdb.Get(ctx, l.keys.SendRate(channel)+":day:"+l.Now().UTC().Format("20060102")).Result()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}
