package webhook

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Grouping of attempt results into one write.
const (
	// recordBatch is the most results written in one transaction.
	recordBatch = 256
	// recordLinger is the longest a result waits for others to share its
	// write; results that arrive while a write runs go into the next
	// without waiting more.
	recordLinger = 2 * time.Millisecond
)

// recording is an attempt result waiting to be written; done runs on the
// recorder's goroutine once the write committed (err nil) or failed.
type recording struct {
	attemptRecord
	at   time.Time
	done func(recordOut, error)
}

// recorder writes the results of attempts that end close together in one
// transaction (db.recordAll): per delivery, one statement of a few
// milliseconds' worth of deliveries instead of a transaction each. Each
// result's done runs only after its write committed, so a delivery
// message is acknowledged only once its result is durable.
type recorder struct {
	db    db
	owner string
	cfg   *Config
	log   *slog.Logger
	in    chan *recording
	done  chan struct{}
}

func newRecorder(d db, owner string, cfg *Config, log *slog.Logger) *recorder {
	return &recorder{db: d, owner: owner, cfg: cfg, log: log, in: make(chan *recording, recordBatch), done: make(chan struct{})}
}

// add queues a result for the next write.
func (rc *recorder) add(x *recording) {
	x.at = time.Now()
	rc.in <- x
}

// stop writes what was added and returns once every done ran; nothing
// may be added after it.
func (rc *recorder) stop() {
	close(rc.in)
	<-rc.done
}

func (rc *recorder) run() {
	defer close(rc.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	batch := make([]*recording, 0, recordBatch)
	for {
		first, ok := <-rc.in
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		open := true
		deadline := first.at.Add(recordLinger)
	collect:
		for open && len(batch) < recordBatch {
			// Take everything already waiting first: results that queued
			// while the last write ran are past their linger, and a select
			// between them and an expired timer would pick at random.
			select {
			case x, ok := <-rc.in:
				if !ok {
					open = false
					break collect
				}
				batch = append(batch, x)
				continue
			default:
			}
			wait := time.Until(deadline)
			if wait <= 0 {
				break
			}
			timer.Reset(wait)
			select {
			case x, ok := <-rc.in:
				timer.Stop()
				if !ok {
					open = false
					break collect
				}
				batch = append(batch, x)
			case <-timer.C:
				break collect
			}
		}
		rc.write(batch)
		if !open {
			return
		}
	}
}

// write records batch and runs the done of each result. When Postgres
// refuses the group (an error of one statement, not of the connection),
// the results are written one by one, so that one bad row does not fail
// the others.
func (rc *recorder) write(batch []*recording) {
	recs := make([]attemptRecord, len(batch))
	for i, x := range batch {
		recs[i] = x.attemptRecord
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	outs, err := rc.db.recordAll(ctx, rc.owner, rc.cfg, recs)
	if err == nil {
		for i, x := range batch {
			x.done(outs[i], nil)
		}
		return
	}
	var pgErr *pgconn.PgError
	if len(batch) == 1 || !errors.As(err, &pgErr) {
		for _, x := range batch {
			x.done(recordOut{}, err)
		}
		return
	}
	rc.log.Warn("recording webhook attempts as a group failed; recording them one by one", "count", len(batch), "error", err)
	for _, x := range batch {
		out, err := rc.db.record(ctx, rc.owner, rc.cfg, x.j, x.r)
		x.done(out, err)
	}
}
