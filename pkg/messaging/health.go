package messaging

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

// Health bands.
const (
	BandGood = "good"
	BandFair = "fair"
	BandPoor = "poor"
)

// Health is a channel's health score (0–100) with the reasons behind it.
type Health struct {
	Score   int      `json:"score"`
	Band    string   `json:"band"`
	Reasons []string `json:"reasons"`
	Metrics struct {
		Uptime24h      float64 `json:"uptime_24h"`
		Disconnects24h int     `json:"disconnects_24h"`
		SentToday      int     `json:"sent_today"`
		FailedToday    int     `json:"failed_today"`
		FailureRate    float64 `json:"failure_rate"`
		BannedRecently bool    `json:"banned_recently"`
	} `json:"metrics"`
}

// ComputeHealth scores a channel from uptime over the last day (40
// points), disconnects (20), today's send failure rate (25) and ban
// signals (15). A banned channel scores at most 10.
func ComputeHealth(ctx context.Context, st *store.Store, ch *store.Channel, now time.Time) (Health, error) {
	var h Health
	// Uptime counts from the first time the channel was active (pairing
	// takes as long as the user needs), over at most a day.
	window := 24 * time.Hour
	first, err := st.FirstActive(ctx, ch.ID)
	if err != nil {
		return h, fmt.Errorf("messaging: health: %w", err)
	}
	var share float64
	var drops int
	if first != nil {
		if age := now.Sub(*first); age < window {
			window = age
		}
		share = 1
		if window > time.Millisecond {
			if share, drops, err = st.ActiveShare(ctx, ch.ID, window, now); err != nil {
				return h, fmt.Errorf("messaging: health: %w", err)
			}
		}
	}
	days, err := st.UsageDays(ctx, ch.ID, 1, now)
	if err != nil {
		return h, fmt.Errorf("messaging: health: %w", err)
	}
	banned, err := st.BannedSince(ctx, ch.ID, now.Add(-7*24*time.Hour))
	if err != nil {
		return h, fmt.Errorf("messaging: health: %w", err)
	}
	m := &h.Metrics
	m.Uptime24h = math.Round(share*1000) / 1000
	m.Disconnects24h = drops
	if len(days) == 1 {
		m.SentToday, m.FailedToday = days[0].Sent, days[0].Failed
	}
	if total := m.SentToday + m.FailedToday; total > 0 {
		m.FailureRate = math.Round(float64(m.FailedToday)/float64(total)*1000) / 1000
	}
	m.BannedRecently = banned

	score := 40*share + 20*math.Max(0, 1-float64(drops)/5) + 25*(1-m.FailureRate)
	if !banned {
		score += 15
	}
	if first == nil {
		h.Reasons = append(h.Reasons, "never connected yet")
	} else if share < 0.95 {
		h.Reasons = append(h.Reasons, fmt.Sprintf("active %.0f%% of the last %s", share*100, human(window)))
	}
	if drops > 0 {
		h.Reasons = append(h.Reasons, fmt.Sprintf("%d disconnects in the last %s", drops, human(window)))
	}
	if m.FailureRate > 0 {
		h.Reasons = append(h.Reasons, fmt.Sprintf("%.0f%% of today's sends failed", m.FailureRate*100))
	}
	if banned {
		h.Reasons = append(h.Reasons, "temporarily banned in the last 7 days: slow down and warm the number up")
	}
	if ch.State == state.Banned {
		score = math.Min(score, 10)
	}
	h.Score = int(math.Round(score))
	switch {
	case h.Score >= 80:
		h.Band = BandGood
	case h.Score >= 50:
		h.Band = BandFair
	default:
		h.Band = BandPoor
	}
	if h.Reasons == nil {
		h.Reasons = []string{}
	}
	return h, nil
}

func human(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%.0f h", d.Hours())
	case d >= time.Minute:
		return fmt.Sprintf("%.0f min", d.Minutes())
	default:
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
}
