package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// table renders the results as a Markdown table (also readable as text).
func table(rs []*result) string {
	var b strings.Builder
	b.WriteString("| scenario | accepted | sent | lost | failed | duplicated | short of read | events lost | webhooks lost | recovery s | webhook recovery s | result |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rs {
		verdict := "pass"
		if len(r.failures) > 0 {
			verdict = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s |\n",
			r.name, r.accepted, r.sent, r.lost, r.failed, r.duplicated, r.statusesShort, r.eventsLost, r.webhooksLost,
			secs(r.recovery), secs(r.hookRecovery), verdict)
	}
	return b.String()
}

// summary is the one line for the README.
func summary(rs []*result) string {
	var accepted, lost, short, dup, evLost, hookLost, failed int
	worst, worstHook := 0.0, 0.0
	passed := 0
	for _, r := range rs {
		accepted += r.accepted
		lost += r.lost + r.unaccepted
		short += r.statusesShort
		failed += r.failed
		dup += r.duplicated
		evLost += r.eventsLost
		hookLost += r.webhooksLost
		if r.recovery == never || worst == never {
			worst = never
		} else {
			worst = max(worst, r.recovery)
		}
		if r.hookRecovery == never || worstHook == never {
			worstHook = never
		} else {
			worstHook = max(worstHook, r.hookRecovery)
		}
		if len(r.failures) == 0 {
			passed++
		}
	}
	return fmt.Sprintf("%d of %d scenarios pass; %d messages accepted, %d lost, %d failed, %d duplicated, %d short of read, %d events and %d webhooks lost; slowest recovery %s s (webhooks %s s)",
		passed, len(rs), accepted, lost, failed, dup, short, evLost, hookLost, secs(worst), secs(worstHook))
}

func writeDoc(path string, o options, rs []*result, started time.Time, pgVersion string) error {
	var b strings.Builder
	commit := ""
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	cmd := "make chaos"
	if o.quick {
		cmd = "go run ./chaos -quick"
	}
	fmt.Fprintf(&b, "# Chaos suite: %s\n\n", started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Written by `%s` (program `chaos/`, see its package documentation) at commit `%s`, on %d cores (%s/%s).\n\n",
		cmd, commit, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "**%s.**\n\n", summary(rs))
	fmt.Fprintf(&b, "The fleet: cmd/api, two cmd/worker and cmd/dispatcher as separate processes on the suite's own Redis, "+
		"nats-server %s (JetStream file storage) and Postgres %s cluster; WAGATE_DRIVER=sim, WAGATE_SIM_TIME_SCALE=%g, "+
		"WAGATE_LEASE_TTL=%s, WAGATE_SEND_RATE=0, 64 shards. %d paired channels receive %.0f sends/s, each with its own "+
		"Idempotency-Key, retried with the same key on 5xx, 429 and transport errors; a webhook endpoint subscribed to "+
		"message.sent, message.delivered and message.read verifies every signature. Each scenario: %s of steady traffic, "+
		"the fault, %s more traffic, then up to %s for statuses and webhooks to settle.\n\n",
		natsVersion, pgVersion, o.simScale, o.leaseTTL, o.channels, o.rate, o.warm, o.after, o.settle)
	b.WriteString(table(rs))
	b.WriteString(`
- **accepted**: keys answered 202 by the API (after the client's retries); **sent**: of those, messages whose
  status in GET messages is sent or later; **lost**: accepted messages with no final status; **failed**: status failed.
- **duplicated**: messages the simulated phone received more than once (the simulator's delivery counts), plus
  keys the API answered with two different message ids.
- **short of read**: sent messages that never reached read (a delivered or read receipt lost on the way).
- **events lost**: statuses recorded in Postgres whose message.sent, message.delivered or message.read event is
  not in WA_EVT; **webhooks lost**: those events in WA_EVT that had not reached the receiver when the settle time
  ended.
- **recovery**: seconds from the end of the fault (the kill, or the server back) until the last message issued
  before it plus one second was sent; **webhook recovery**: until the last status event stored by then reached the
  receiver. "never": something in that window never got there.
- A scenario passes with nothing lost, failed, duplicated or short of read, no event or webhook lost, recovery within
  the lease TTL + 5 s and webhook recovery within 30 s.
`)
	b.WriteString("\n## Scenarios\n\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "### %s\n\n%s (fault lasted %.1f s). Keys issued %d, accepted %d, never accepted %d, rejected %d; "+
			"one status under several event ids: %d; webhooks received more than once: %d (at-least-once).\n\n",
			r.name, r.fault, r.faultSeconds, r.issued, r.accepted, r.unaccepted, r.rejected, r.eventRepeats, r.webhookRepeats)
		if len(r.failures) > 0 {
			fmt.Fprintf(&b, "Fails: %s.\n\n", strings.Join(r.failures, "; "))
		}
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		if len(r.notes) > 0 {
			b.WriteString("\n")
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
