package whatsmeow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/session"
)

// Name is the driver's name in configuration (WAGATE_DRIVER) and in a
// channel's driver column.
const Name = "whatsmeow"

// upgradeLock is the Postgres advisory lock key held while whatsmeow's
// schema is upgraded, so that workers starting together upgrade it once.
const upgradeLock = 0x77616d77 // "wamw"

// defaultMediaMax is Config.MediaMaxBytes's default.
const defaultMediaMax = 64 << 20

// Config configures the driver. Zero values take the defaults documented
// on each field.
type Config struct {
	// Pool is wagate's Postgres pool. whatsmeow's tables (whatsmeow_*) live
	// in the same database, reached through pgx's database/sql adapter. It
	// needs at least 2 connections (one holds the upgrade lock). Required.
	Pool *pgxpool.Pool
	// Logger receives the driver's and whatsmeow's logs. Default
	// slog.Default().
	Logger *slog.Logger
	// DialTimeout bounds opening the websocket to WhatsApp: DNS, TCP, TLS
	// and the HTTP upgrade (the Noise handshake after it has whatsmeow's own
	// 20 s bound). Default 15 s.
	DialTimeout time.Duration
	// MediaHTTPClient uploads and downloads media at WhatsApp's servers,
	// shared by every session of the process. Default: a client with
	// DialTimeout for connecting and no overall timeout (calls are bounded
	// by their contexts).
	MediaHTTPClient *http.Client
	// FetchHTTPClient downloads the media URLs of send commands. Default: a
	// client that reaches public addresses only (see MediaAllowPrivate),
	// ignores proxy settings and follows at most 3 redirects.
	FetchHTTPClient *http.Client
	// MediaAllowPrivate lets media URLs reach private, loopback and
	// link-local addresses (development only). Default false.
	MediaAllowPrivate bool
	// MediaMaxBytes is the largest media file a send accepts, in bytes.
	// Default 64 MiB (WhatsApp's own limit for images is 16 MB, for
	// documents higher; media is held in memory while it is uploaded).
	MediaMaxBytes int64
	// MediaFetchTimeout bounds downloading one media URL. Default 60 s.
	MediaFetchTimeout time.Duration
	// HistorySyncDays is how many days of recent chats a newly linked
	// phone sends. wagate does not import history; whatsmeow keeps only
	// what it needs from it (names, keys of polls), so it is kept short.
	// Default 3; negative: history is not downloaded at all.
	HistorySyncDays int
	// HistorySyncMaxMB bounds the size of that history, in MB. Default 32.
	HistorySyncMaxMB int
	// DeviceName is the linked device's name on the phone ("Linked
	// devices"). Default "wagate". whatsmeow keeps it in a global: the
	// first driver of the process sets it.
	DeviceName string
	// PairDisplayName is the client named when pairing with a phone
	// number. WhatsApp accepts only "Browser (OS)" forms of well-known
	// browsers and systems. Default "Chrome (Linux)".
	PairDisplayName string
	// LogProtocol logs whatsmeow's protocol dumps at debug level. They
	// contain message payloads: leave it off in production. Default false.
	LogProtocol bool
	// VersionCheck asks web.whatsapp.com for the current web client
	// version before the first connection of the process (bounded by
	// DialTimeout) and uses it instead of the one compiled into whatsmeow,
	// so a build that is months old is not refused as outdated
	// (ClientOutdated, 405). On failure the compiled version stays, with a
	// warning. Default true; false (tests, no internet) skips it.
	VersionCheck *bool
	// AckTimeout bounds how long a received message waits for the worker
	// to record it before the connection is dropped so that WhatsApp
	// delivers it again. whatsmeow handles a connection's messages in
	// order, so this is also the longest a stuck worker stalls the
	// session. Default 2 min.
	AckTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 15 * time.Second
	}
	if c.MediaMaxBytes <= 0 {
		c.MediaMaxBytes = defaultMediaMax
	}
	if c.MediaFetchTimeout <= 0 {
		c.MediaFetchTimeout = time.Minute
	}
	if c.HistorySyncDays == 0 {
		c.HistorySyncDays = 3
	}
	if c.HistorySyncMaxMB <= 0 {
		c.HistorySyncMaxMB = 32
	}
	if c.DeviceName == "" {
		c.DeviceName = "wagate"
	}
	if c.PairDisplayName == "" {
		c.PairDisplayName = "Chrome (Linux)"
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 2 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MediaHTTPClient == nil {
		c.MediaHTTPClient = &http.Client{Transport: transport(c.DialTimeout)}
	}
	if c.FetchHTTPClient == nil {
		c.FetchHTTPClient = newFetchClient(c.DialTimeout, c.MediaAllowPrivate)
	}
	return c
}

func (c Config) validate() error {
	if c.Pool == nil {
		return errors.New("whatsmeow: config: Pool is required")
	}
	if c.Pool.Config().MaxConns < 2 {
		return errors.New("whatsmeow: config: Pool needs at least 2 connections")
	}
	return nil
}

// transport is an HTTP transport whose connecting (dial and TLS) is
// bounded by timeout.
func transport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = timeout
	return t
}

// Driver opens whatsmeow sessions. One Driver serves a process: it holds
// the one sqlstore container and the HTTP clients every session shares.
type Driver struct {
	cfg       Config
	log       *slog.Logger
	db        *sql.DB
	container *sqlstore.Container
	// ws dials WhatsApp's websocket. Its Timeout bounds the dial only: the
	// websocket library turns it into the dial's deadline and drops it for
	// the connection itself.
	ws    *http.Client
	fetch *fetcher
}

var _ session.Driver = (*Driver)(nil)

// deviceProps applies the process-wide device properties once.
var deviceProps sync.Once

// New opens whatsmeow's store on cfg.Pool, upgrading its schema under an
// advisory lock, and returns the driver.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("driver", Name)
	db := stdlib.OpenDBFromPool(cfg.Pool)
	container := sqlstore.NewWithDB(db, "postgres", newWALogger(log, false).Sub("Store"))
	if err := upgrade(ctx, cfg.Pool, container); err != nil {
		_ = db.Close()
		return nil, err
	}
	deviceProps.Do(func() { setDeviceProps(cfg) })
	return &Driver{
		cfg:       cfg,
		log:       log,
		db:        db,
		container: container,
		ws:        &http.Client{Transport: transport(cfg.DialTimeout), Timeout: cfg.DialTimeout},
		fetch:     &fetcher{client: cfg.FetchHTTPClient, max: cfg.MediaMaxBytes, timeout: cfg.MediaFetchTimeout},
	}, nil
}

// upgrade brings whatsmeow's tables to the library's schema while holding
// the advisory lock on a connection of its own; sqlstore takes no lock.
func upgrade(ctx context.Context, pool *pgxpool.Pool, c *sqlstore.Container) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("whatsmeow: upgrade store: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", upgradeLock); err != nil {
		return fmt.Errorf("whatsmeow: upgrade store: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", upgradeLock) //nolint:errcheck // released with the session otherwise
	if err := c.Upgrade(ctx); err != nil {
		return fmt.Errorf("whatsmeow: upgrade store: %w", err)
	}
	return nil
}

// setDeviceProps sets what a phone learns about a device when it links
// it: its name, and how much history to send it.
func setDeviceProps(cfg Config) {
	store.SetOSInfo(cfg.DeviceName, [3]uint32{1, 0, 0})
	hs := store.DeviceProps.HistorySyncConfig
	days := uint32(max(cfg.HistorySyncDays, 1))
	hs.RecentSyncDaysLimit = proto.Uint32(days)
	hs.FullSyncDaysLimit = proto.Uint32(days)
	hs.FullSyncSizeMbLimit = proto.Uint32(uint32(cfg.HistorySyncMaxMB))
	hs.StorageQuotaMb = proto.Uint32(uint32(cfg.HistorySyncMaxMB))
	store.DeviceProps.RequireFullSync = proto.Bool(false)
}

// Name returns "whatsmeow".
func (d *Driver) Name() string { return Name }

// Open prepares the session of a channel; nothing is read or dialled until
// Connect. o.JID is the channel's device ("" to pair a new one).
func (d *Driver) Open(_ context.Context, o session.Options) (session.Session, error) {
	if o.Sink == nil {
		return nil, fmt.Errorf("whatsmeow: open %s: %w: a sink is required", o.ChannelID, session.ErrInvalid)
	}
	s := &Session{d: d, channelID: o.ChannelID, sink: o.Sink, messages: o.Messages, proxy: o.Proxy, log: d.log.With("channel_id", o.ChannelID)}
	if o.JID != "" {
		jid, err := parseDeviceJID(o.JID)
		if err != nil {
			return nil, fmt.Errorf("whatsmeow: open %s: %w", o.ChannelID, err)
		}
		s.jid = jid
	}
	s.waLog = newWALogger(s.log, d.cfg.LogProtocol)
	return s, nil
}

// Close releases the driver's database handle (not the pool). Sessions
// must be disconnected first.
func (d *Driver) Close() error { return d.db.Close() }

// versionChecked runs the version check once per process, before the
// first client connects: whatsmeow reads the version from a global
// without a lock, and connections wait for the check.
var versionChecked sync.Once

// checkVersion runs refreshVersion once per process when configured.
func (d *Driver) checkVersion(ctx context.Context) {
	versionChecked.Do(func() {
		if d.cfg.VersionCheck == nil || *d.cfg.VersionCheck {
			refreshVersion(ctx, d.cfg.MediaHTTPClient, d.cfg.DialTimeout, d.log)
		}
	})
}

// refreshVersion sets whatsmeow's web client version to the one
// web.whatsapp.com serves now, keeping the compiled one when that fails.
func refreshVersion(ctx context.Context, client *http.Client, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	compiled := store.GetWAVersion()
	v, err := wa.GetLatestVersion(ctx, client)
	if err != nil {
		log.Warn("cannot ask WhatsApp for its current web client version; using the one compiled in, which WhatsApp may refuse as outdated once it is months old",
			"version", compiled.String(), "err", err)
		return
	}
	store.SetWAVersion(*v)
	if *v != compiled {
		log.Info("using WhatsApp's current web client version", "version", v.String(), "compiled", compiled.String())
	}
}
