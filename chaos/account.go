package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/pkg/natsauth"
)

// result is the accounting of one scenario.
type result struct {
	name, fault    string
	faultSeconds   float64
	issued         int // keys the client issued
	accepted       int // keys answered 2xx
	unaccepted     int // keys never accepted although retried (API never came back)
	rejected       int // keys answered a 4xx
	sent           int // accepted messages with status sent or later
	lost           int // accepted messages without a final status
	failed         int // accepted messages that failed
	duplicated     int // messages received twice by the phone, keys answered with two ids
	statusesShort  int // sent messages that never reached read
	eventsLost     int // statuses recorded without their event in WA_EVT
	webhooksLost   int // events in WA_EVT never received by the receiver
	eventRepeats   int // one status published under several event ids (informational)
	webhookRepeats int // webhooks received more than once (at-least-once; informational)
	recovery       float64
	hookRecovery   float64
	notes          []string
	failures       []string
}

// never marks a recovery that did not happen.
const never = -1.0

var statusRank = map[string]int{"sent": 1, "delivered": 2, "read": 3, "played": 3}

// settleAndAccount waits until every accepted message is read and every
// event of them has reached the receiver (or the settle time ends), then
// accounts for the scenario.
func (h *harness) settleAndAccount(ctx context.Context, sc scenario, sends []send, begin, start, end time.Time) (*result, error) {
	mine := map[string]*send{}
	var ids []string
	for i := range sends {
		if sends[i].id != "" {
			mine[sends[i].id] = &sends[i]
			ids = append(ids, sends[i].id)
		}
	}
	since := begin.Add(-2 * time.Second)
	deadline := time.Now().Add(h.o.settle)
	var msgs map[string]message
	var evs []published
	for {
		var err error
		msgs, err = h.statuses(ctx, since, mine)
		if err == nil {
			evs, err = readEvents(ctx, h.in.natsURL(), h.in.natsCreds(natsauth.RoleDispatcher), since)
		}
		if err == nil && h.complete(msgs, evs, mine) {
			break
		}
		if time.Now().After(deadline) {
			if err != nil {
				return nil, fmt.Errorf("%s: reading the outcome: %w", sc.name, err)
			}
			break
		}
		sleepCtx(ctx, time.Second)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	counts, err := h.deliveries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("%s: delivery counts: %w", sc.name, err)
	}

	r := &result{name: sc.name, fault: sc.fault, faultSeconds: end.Sub(start).Seconds(), issued: len(sends)}
	windowEnd := end.Add(time.Second)
	r.recovery = 0
	for i := range sends {
		s := &sends[i]
		switch {
		case s.rejected != "":
			r.rejected++
			r.notes = appendCapped(r.notes, fmt.Sprintf("key %s rejected: %s", s.key, s.rejected))
		case s.id == "":
			r.unaccepted++
			r.notes = appendCapped(r.notes, fmt.Sprintf("key %s never accepted after %d attempts: %s", s.key, s.attempts, s.lastErr))
		default:
			r.accepted++
		}
		if len(s.otherIDs) > 0 {
			r.duplicated++
			r.notes = appendCapped(r.notes, fmt.Sprintf("key %s answered with ids %s and %v", s.key, s.id, s.otherIDs))
		}
		if s.issued.After(windowEnd) {
			continue
		}
		m, ok := msgs[s.id]
		if s.id == "" || !ok || m.SentAt == nil {
			r.recovery = never
		} else if r.recovery != never {
			r.recovery = max(r.recovery, m.SentAt.Sub(end).Seconds())
		}
	}

	// Events stored per message and type.
	byMsg := map[string]map[string][]published{}
	for _, e := range evs {
		if _, ok := mine[e.messageID]; !ok {
			continue
		}
		if byMsg[e.messageID] == nil {
			byMsg[e.messageID] = map[string][]published{}
		}
		byMsg[e.messageID][e.typ] = append(byMsg[e.messageID][e.typ], e)
	}
	stuck := map[string]int{}
	for _, id := range ids {
		m, ok := msgs[id]
		rank := statusRank[m.Status]
		switch {
		case !ok:
			r.lost++
			stuck["missing"]++
			r.notes = appendCapped(r.notes, fmt.Sprintf("message %s (key %s) accepted but not listed", id, mine[id].key))
		case m.Status == "failed":
			r.failed++
			r.notes = appendCapped(r.notes, fmt.Sprintf("message %s (key %s) failed: %s", id, mine[id].key, m.Reason))
		case rank == 0:
			r.lost++
			stuck[m.Status]++
			r.notes = appendCapped(r.notes, fmt.Sprintf("message %s (key %s, channel %s) stayed %s", id, mine[id].key, mine[id].channel, m.Status))
		default:
			r.sent++
			if rank < 3 {
				r.statusesShort++
				stuck[m.Status]++
				r.notes = appendCapped(r.notes, fmt.Sprintf("message %s (key %s, channel %s) stayed %s", id, mine[id].key, mine[id].channel, m.Status))
			}
		}
		if n := counts[id]; n > 1 {
			r.duplicated++
			r.notes = appendCapped(r.notes, fmt.Sprintf("message %s (key %s) reached the phone %d times", id, mine[id].key, n))
		} else if n == 0 && rank > 0 {
			r.notes = appendCapped(r.notes, fmt.Sprintf("message %s is %s but the phone has no delivery of it", id, m.Status))
		}
		for i, typ := range statusEvents {
			got := byMsg[id][typ]
			if i < rank && len(got) == 0 {
				r.eventsLost++
				r.notes = appendCapped(r.notes, fmt.Sprintf("message %s is %s but WA_EVT has no %s", id, m.Status, typ))
			}
			if len(got) > 1 {
				r.eventRepeats += len(got) - 1
			}
		}
	}
	if len(stuck) > 0 {
		r.notes = append(r.notes, fmt.Sprintf("messages short of read at the end, by status: %v", stuck))
	}

	// Webhooks: every stored status event of the scenario's messages.
	r.hookRecovery = 0
	for _, e := range evs {
		if _, ok := mine[e.messageID]; !ok {
			continue
		}
		a, ok := h.rc.arrivalOf(e.id)
		if !ok {
			r.webhooksLost++
		}
		if e.stored.After(windowEnd) {
			continue
		}
		if !ok {
			r.hookRecovery = never
		} else if r.hookRecovery != never {
			r.hookRecovery = max(r.hookRecovery, a.at.Sub(end).Seconds())
		}
	}
	_, repeats, badSig, _ := h.rc.stats()
	r.webhookRepeats = repeats - h.repeatsBefore
	if badSig > h.badSigBefore {
		r.failures = append(r.failures, fmt.Sprintf("%d webhooks with a bad signature", badSig-h.badSigBefore))
	}
	h.judge(r)
	return r, nil
}

// statuses lists the statuses of the scenario's messages.
func (h *harness) statuses(ctx context.Context, since time.Time, mine map[string]*send) (map[string]message, error) {
	out := map[string]message{}
	for _, ch := range h.channels {
		ms, err := h.a.messagesSince(ctx, ch, since)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if _, ok := mine[m.ID]; ok {
				out[m.ID] = m
			}
		}
	}
	return out, nil
}

// complete reports whether every message is read or failed and every
// stored event of them was received.
func (h *harness) complete(msgs map[string]message, evs []published, mine map[string]*send) bool {
	for id := range mine {
		m, ok := msgs[id]
		if !ok || statusRank[m.Status] < 3 && m.Status != "failed" {
			return false
		}
	}
	have := map[string]int{}
	for _, e := range evs {
		if _, ok := mine[e.messageID]; !ok {
			continue
		}
		have[e.messageID]++
		if _, ok := h.rc.arrivalOf(e.id); !ok {
			return false
		}
	}
	for id, m := range msgs {
		if have[id] < statusRank[m.Status] {
			return false
		}
	}
	return true
}

// judge fills r.failures from the criteria of a pass.
func (h *harness) judge(r *result) {
	bound := (h.o.leaseTTL + 5*time.Second).Seconds()
	check := func(n int, what string) {
		if n > 0 {
			r.failures = append(r.failures, fmt.Sprintf("%d %s", n, what))
		}
	}
	check(r.unaccepted, "keys never accepted")
	check(r.rejected, "keys rejected")
	check(r.lost, "messages lost")
	check(r.failed, "messages failed")
	check(r.duplicated, "duplicated")
	check(r.statusesShort, "messages short of read (receipts lost)")
	check(r.eventsLost, "events lost")
	check(r.webhooksLost, "webhooks lost")
	if r.recovery == never || r.recovery > bound {
		r.failures = append(r.failures, fmt.Sprintf("recovery %s > lease TTL + 5 s = %.0f s", secs(r.recovery), bound))
	}
	if r.hookRecovery == never || r.hookRecovery > 30 {
		r.failures = append(r.failures, fmt.Sprintf("webhook recovery %s > 30 s", secs(r.hookRecovery)))
	}
}

// appendCapped keeps the first 12 notes of a kind worth reading.
func appendCapped(notes []string, n string) []string {
	if len(notes) >= 12 {
		if len(notes) == 12 {
			return append(notes, "…")
		}
		return notes
	}
	return append(notes, n)
}

func secs(v float64) string {
	if v == never {
		return "never"
	}
	return fmt.Sprintf("%.1f", v)
}
