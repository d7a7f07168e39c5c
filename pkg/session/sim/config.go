package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/store"
)

// Config configures a Driver. Zero fields take the defaults of WithDefaults.
type Config struct {
	// Store holds the linked devices (table sim_devices), shared by every
	// worker of the fleet. Required.
	Store *store.Store
	// Redis holds the live-connection markers and the simulated phone's
	// counters, shared by every worker of the fleet. Required.
	Redis *redis.Client
	// Keys builds the Redis keys (WAGATE_REDIS_PREFIX).
	Keys names.Redis
	// TimeScale multiplies every simulated delay: QR lifetimes,
	// ConnectDelay, DeliveredAfter and ReadAfter (default 1; tests use
	// 0.01–0.02). PresenceTTL and durations given in control arguments are
	// not scaled.
	TimeScale float64
	// QRTimeScale, when set, multiplies the QR codes' lifetimes instead of
	// TimeScale: a test that links devices keeps the rest fast while a
	// scan still finds its code showing on a loaded machine.
	QRTimeScale float64
	// PresenceTTL is the time-to-live of a live connection's marker in
	// Redis (default 3 s; at least 30 ms). The Driver refreshes its markers
	// every PresenceTTL/3, so a crashed process's markers vanish within
	// PresenceTTL: keep it below the shard lease TTL, so that they are gone
	// before another worker takes the shard over.
	PresenceTTL time.Duration
	// ConnectDelay is the time from Connect, or from a scan, to Connected
	// (default 300 ms, scaled).
	ConnectDelay time.Duration
	// DeliveredAfter is the time from a send to its delivered receipt
	// (default 1 s, scaled). Negative: no receipts at all.
	DeliveredAfter time.Duration
	// ReadAfter is the time from a send to its read receipt (default 3 s,
	// scaled; not less than DeliveredAfter). Negative: delivered receipts
	// only.
	ReadAfter time.Duration
	// ProxyTimeout bounds opening a tunnel through a channel's proxy
	// (default 15 s, not scaled: the whatsmeow driver's DialTimeout).
	ProxyTimeout time.Duration
	// Logger receives the driver's logs (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock of the timestamps the driver reports (default
	// time.Now); delays always run on real timers.
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultPresenceTTL    = 3 * time.Second
	DefaultConnectDelay   = 300 * time.Millisecond
	DefaultDeliveredAfter = time.Second
	DefaultReadAfter      = 3 * time.Second
)

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.TimeScale == 0 {
		c.TimeScale = 1
	}
	if c.PresenceTTL == 0 {
		c.PresenceTTL = DefaultPresenceTTL
	}
	if c.ConnectDelay == 0 {
		c.ConnectDelay = DefaultConnectDelay
	}
	if c.DeliveredAfter == 0 {
		c.DeliveredAfter = DefaultDeliveredAfter
	}
	if c.ReadAfter == 0 {
		c.ReadAfter = DefaultReadAfter
	}
	if c.ProxyTimeout <= 0 {
		c.ProxyTimeout = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("missing Store"))
	}
	if c.Redis == nil {
		errs = append(errs, errors.New("missing Redis client"))
	}
	if c.TimeScale < 0 {
		errs = append(errs, fmt.Errorf("negative TimeScale %g", c.TimeScale))
	}
	if c.QRTimeScale < 0 {
		errs = append(errs, fmt.Errorf("negative QRTimeScale %g", c.QRTimeScale))
	}
	if c.PresenceTTL < 30*time.Millisecond {
		errs = append(errs, fmt.Errorf("presence TTL %s below 30ms", c.PresenceTTL))
	}
	if c.ConnectDelay < 0 {
		errs = append(errs, fmt.Errorf("negative ConnectDelay %s", c.ConnectDelay))
	}
	if c.DeliveredAfter > 0 && c.ReadAfter > 0 && c.ReadAfter < c.DeliveredAfter {
		errs = append(errs, fmt.Errorf("read receipts (ReadAfter %s) before delivered ones (DeliveredAfter %s)", c.ReadAfter, c.DeliveredAfter))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sim: config: %w", err)
	}
	return nil
}

// scale returns d multiplied by the time scale.
func (c Config) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.TimeScale)
}

// scaleQR returns a QR code's lifetime d multiplied by its time scale.
func (c Config) scaleQR(d time.Duration) time.Duration {
	if c.QRTimeScale > 0 {
		return time.Duration(float64(d) * c.QRTimeScale)
	}
	return c.scale(d)
}
