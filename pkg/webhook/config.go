package webhook

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/store"
)

// DefaultSchedule is the long retry schedule: the waits before the second,
// third, … attempt of a delivery (WAGATE_WEBHOOK_SCHEDULE).
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 24 * time.Hour,
}

// DefaultEndpointConcurrency is the default of Config.EndpointConcurrency:
// the attempts in flight to an endpoint that sets no max_in_flight.
const DefaultEndpointConcurrency = 4

// Config configures a Dispatcher. Zero fields take the defaults of
// WithDefaults.
type Config struct {
	// Store is the Postgres store holding endpoints and deliveries (required).
	Store *store.Store
	// Bus reads WA_EVT and WA_WEBHOOK and publishes webhook.disabled (required).
	Bus *bus.Bus
	// Secrets opens the endpoints' signing secrets (required; the key of
	// every api and dispatcher, WAGATE_SECRET_KEY).
	Secrets *secretbox.Box
	// Logger (default slog.Default()).
	Logger *slog.Logger

	// Schedule is the long retry schedule: Schedule[i] is the wait after
	// the (i+1)-th failed attempt. A delivery that fails 1+len(Schedule)
	// times is dead. Default DefaultSchedule.
	Schedule []time.Duration
	// DisableAfter disables an endpoint that has failed without a single
	// success for this long (default 5 days).
	DisableAfter time.Duration
	// ProbeInterval is the first wait before a failing endpoint is probed
	// again (default 1 s); each failed probe doubles it, up to
	// ProbeMaxInterval and never beyond the schedule's step for the
	// endpoint's failure streak. A probe is one delivery, the one waiting
	// longest; its success makes every delivery waiting for the endpoint
	// due at once.
	ProbeInterval time.Duration
	// ProbeMaxInterval bounds the wait between probes of a failing
	// endpoint (default 1 min): a receiver that comes back gets what
	// waited for it within about this long.
	ProbeMaxInterval time.Duration
	// AllowPrivate lets deliveries reach loopback and private addresses
	// (WAGATE_WEBHOOK_ALLOW_PRIVATE; default false).
	AllowPrivate bool

	// Concurrency bounds the attempts in flight in this dispatcher, over all
	// endpoints (default 256: an endpoint at the largest max_in_flight,
	// MaxInFlightLimit, holds a quarter of it, so it cannot starve the
	// others).
	Concurrency int
	// EndpointConcurrency bounds the attempts in flight to one endpoint in
	// this dispatcher when the endpoint sets no max_in_flight of its own
	// (default DefaultEndpointConcurrency), so a slow endpoint holds at
	// most this many of the Concurrency slots. An endpoint's own
	// max_in_flight replaces it; neither exceeds Concurrency.
	EndpointConcurrency int

	// HTTPTimeout bounds one HTTP request, connect to last header (default 10 s).
	HTTPTimeout time.Duration
	// ShortRetries is how many times go-retryablehttp repeats a request
	// after a transport error, 429, 502, 503 or 504 within one attempt
	// (default 2; negative: none).
	ShortRetries int
	// ShortRetryWait is the first wait between short retries, doubled each
	// time (default 500 ms).
	ShortRetryWait time.Duration
	// MaxRetryAfter is the longest Retry-After honoured by a short retry
	// (default 60 s); a longer one moves the delivery to the long schedule.
	MaxRetryAfter time.Duration

	// ClaimInterval is how often due retries are claimed from Postgres when
	// nothing wakes the claimer earlier (default 1 s).
	ClaimInterval time.Duration
	// Lease is how long a claimed retry stays with this dispatcher without
	// a heartbeat; a dispatcher that dies mid-attempt leaves its claims to
	// others after it (default 10 s).
	Lease time.Duration
	// AckWait is the AckWait of the shared NATS consumers: how soon a
	// delivery message held by a dead dispatcher is redelivered (default
	// 10 s). Live attempts are kept with InProgress heartbeats.
	AckWait time.Duration
	// CacheTTL is the longest the in-memory endpoint cache is trusted
	// without a reload; changes made through the API are announced on
	// names.WebhooksChanged and reload it at once (default 5 s).
	CacheTTL time.Duration
	// Retention is how long delivered deliveries and their attempts are
	// kept (default 7 days). Dead letters are kept until replayed or the
	// endpoint is deleted.
	Retention time.Duration
	// ShutdownGrace is how long Run waits for attempts in flight when ctx
	// ends before abandoning them to redelivery (default 10 s).
	ShutdownGrace time.Duration
	// Owner names this dispatcher in leases and the attempt log (default
	// host name, pid and a random suffix).
	Owner string
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.Schedule) == 0 {
		c.Schedule = DefaultSchedule
	}
	if c.DisableAfter <= 0 {
		c.DisableAfter = 5 * 24 * time.Hour
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = time.Second
	}
	if c.ProbeMaxInterval <= 0 {
		c.ProbeMaxInterval = time.Minute
	}
	if c.ProbeMaxInterval < c.ProbeInterval {
		c.ProbeMaxInterval = c.ProbeInterval
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 256
	}
	if c.EndpointConcurrency <= 0 {
		c.EndpointConcurrency = DefaultEndpointConcurrency
	}
	if c.EndpointConcurrency > c.Concurrency {
		c.EndpointConcurrency = c.Concurrency
	}
	if c.HTTPTimeout <= 0 {
		c.HTTPTimeout = 10 * time.Second
	}
	if c.ShortRetries == 0 {
		c.ShortRetries = 2
	}
	if c.ShortRetries < 0 {
		c.ShortRetries = 0
	}
	if c.ShortRetryWait <= 0 {
		c.ShortRetryWait = 500 * time.Millisecond
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = 60 * time.Second
	}
	if c.ClaimInterval <= 0 {
		c.ClaimInterval = time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 10 * time.Second
	}
	if c.AckWait <= 0 {
		c.AckWait = 10 * time.Second
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 5 * time.Second
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 10 * time.Second
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), ids.At(time.Now())[16:])
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("webhook: Config.Store is required"))
	}
	if c.Bus == nil {
		errs = append(errs, errors.New("webhook: Config.Bus is required"))
	}
	if c.Secrets == nil {
		errs = append(errs, errors.New("webhook: Config.Secrets is required"))
	}
	for _, d := range c.Schedule {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("webhook: Config.Schedule has a non-positive wait %s", d))
			break
		}
	}
	if c.Lease < 300*time.Millisecond || c.AckWait < 300*time.Millisecond {
		errs = append(errs, errors.New("webhook: Config.Lease and Config.AckWait must be at least 300ms (heartbeats run at a third of them)"))
	}
	return errors.Join(errs...)
}

// maxStep is the longest wait of the schedule: a receiver's Retry-After is
// honoured up to it.
func (c Config) maxStep() time.Duration {
	var m time.Duration
	for _, d := range c.Schedule {
		m = max(m, d)
	}
	return m
}

// endpointLimit is the bound of the attempts in flight to ep.
func (c Config) endpointLimit(ep *Endpoint) int {
	if ep.MaxInFlight > 0 {
		return min(ep.MaxInFlight, c.Concurrency)
	}
	return c.EndpointConcurrency
}
