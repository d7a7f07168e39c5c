package httpapi

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var authFailures = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "wagate_http_auth_failures_total",
	Help: "Requests refused for their bearer token: outcome refused (wrong or missing token) or rate_limited (the client address failed too often).",
}, []string{"outcome"})

// FailureLimit bounds failed authentications per client address: after
// Max failures within Per, every request of that address is answered 429
// until the window ends — a correct token too, or guessing would still
// be told apart by its answer.
type FailureLimit struct {
	// Max failures per window (default 20); Per is the window (default 1m).
	Max int
	Per time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultFailureLimit is the limit of NewAuthenticator.
var DefaultFailureLimit = FailureLimit{Max: 20, Per: time.Minute}

// failureLimiter counts failed authentications per address in fixed
// windows. It is per process: replicas behind a load balancer each allow
// Max, which still bounds guessing to Max × replicas per window.
type failureLimiter struct {
	FailureLimit
	mu sync.Mutex
	m  map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	n     int
}

// maxTrackedAddresses bounds the memory of the limiter; past it, windows
// that ended are dropped (and if none did, all are, which errs on the side
// of letting clients in).
const maxTrackedAddresses = 100_000

func newFailureLimiter(l FailureLimit) *failureLimiter {
	if l.Max <= 0 {
		l.Max = DefaultFailureLimit.Max
	}
	if l.Per <= 0 {
		l.Per = DefaultFailureLimit.Per
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return &failureLimiter{FailureLimit: l, m: map[string]*failureWindow{}}
}

// blocked returns how long addr must wait, 0 when it may try.
func (f *failureLimiter) blocked(addr string) time.Duration {
	now := f.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.m[addr]
	if w == nil || now.Sub(w.start) >= f.Per {
		return 0
	}
	if w.n < f.Max {
		return 0
	}
	return w.start.Add(f.Per).Sub(now)
}

// fail records a failed authentication of addr.
func (f *failureLimiter) fail(addr string) {
	now := f.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.m[addr]
	if w == nil || now.Sub(w.start) >= f.Per {
		if len(f.m) >= maxTrackedAddresses {
			f.prune(now)
		}
		w = &failureWindow{start: now}
		f.m[addr] = w
	}
	w.n++
}

func (f *failureLimiter) prune(now time.Time) {
	for a, w := range f.m {
		if now.Sub(w.start) >= f.Per {
			delete(f.m, a)
		}
	}
	if len(f.m) >= maxTrackedAddresses {
		f.m = map[string]*failureWindow{}
	}
}

// AuthFailures is the counter of refused authentications with outcome
// "refused" or "rate_limited" (for tests and dashboards).
func AuthFailures(outcome string) prometheus.Counter { return authFailures.WithLabelValues(outcome) }
