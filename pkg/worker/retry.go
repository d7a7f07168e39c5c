package worker

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/wagate/wagate/pkg/store"
)

var metricWriteRetries = promauto.NewCounter(prometheus.CounterOpts{
	Name: "wagate_worker_write_retries_total", Help: "Failed writes of statuses and inbound records that were retried.",
})

// Writes that record what WhatsApp reported (receipts, sends, inbound
// messages) are retried until they land: WhatsApp does not report them
// again. The mailbox waits meanwhile, so the channel's events keep their
// order and what arrives meanwhile waits in the mailbox, coalesced
// (receipts.go); memory grows with what the sessions report during the
// outage, not with the number of attempts.
const (
	writeRetryBase = 100 * time.Millisecond
	writeRetryMax  = 5 * time.Second
	// writeRetryLogEvery spaces the progress logs of a long outage.
	writeRetryLogEvery = 10 * time.Second
)

// retry runs f until it succeeds or the shard stops, waiting with
// exponential backoff between attempts and logging progress. A stale
// epoch is not retried.
func (c *channelRun) retry(what string, f func() error) error {
	var (
		start   time.Time
		lastLog time.Time
	)
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			if attempt > 1 {
				c.log.Info("write landed after retries", "what", what, "attempts", attempt, "after", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if errors.Is(err, store.ErrStaleEpoch) || (errors.Is(err, context.Canceled) && c.sr.ctx.Err() != nil) {
			return err
		}
		if attempt == 1 {
			start = time.Now()
		}
		if now := time.Now(); now.Sub(lastLog) >= writeRetryLogEvery {
			lastLog = now
			c.log.Warn("write failed; retrying until it lands", "what", what, "attempts", attempt, "since", now.Sub(start).Round(time.Millisecond), "err", err)
		}
		metricWriteRetries.Inc()
		select {
		case <-c.sr.ctx.Done():
			return errors.Join(errShardStopped, err)
		case <-time.After(backoff(writeRetryBase, writeRetryMax, attempt)):
		}
	}
}
