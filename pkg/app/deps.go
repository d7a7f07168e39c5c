package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/ops"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/webhook"
	"github.com/wagate/wagate/pkg/worker"
)

// Deps are the connections every binary shares.
type Deps struct {
	Cfg      config.Config
	Log      *slog.Logger
	Store    *store.Store
	Redis    *redis.Client
	Keys     names.Redis
	Bus      *bus.Bus
	Embedded *bus.Embedded // nil unless the gateway embeds NATS
	// Secrets seals secrets at rest; nil in a worker given no key (it
	// holds none).
	Secrets *secretbox.Box
	// Channels caches channel rows for the API's hot paths, dropped on
	// announcements of changes by any API process.
	Channels *httpapi.ChannelCache
	// Media keeps the files of media messages (WAGATE_MEDIA_URL); nil in
	// the binaries that never touch them (Role.KeepsMedia).
	Media   media.Store
	closers []func()
}

// Open connects to Postgres (creating and migrating the database), Redis
// and NATS, starting an embedded NATS server when cfg.NATSURL is empty,
// and makes sure the shard count and the streams are in place.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Deps, error) {
	d := &Deps{Cfg: cfg, Log: log, Keys: names.NewRedis(cfg.RedisPrefix)}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	var err error
	log.Info("connecting to Postgres and applying migrations")
	if d.Store, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	if err := d.Store.EnsureShards(ctx, cfg.Shards); err != nil {
		return nil, err
	}
	if d.Secrets, err = SecretBox(cfg); err != nil {
		return nil, err
	}
	if d.Secrets != nil {
		n, err := webhook.SealSecrets(ctx, d.Store.Pool, d.Secrets)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			log.Info("sealed webhook secrets with the current WAGATE_SECRET_KEY", "rows", n)
		}
		if n, err = d.Store.ResealProxies(ctx, d.Secrets); err != nil {
			return nil, err
		}
		if n > 0 {
			log.Info("sealed channel proxies with the current WAGATE_SECRET_KEY", "rows", n)
		}
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("WAGATE_REDIS_URL: %w", err)
	}
	d.Redis = redis.NewClient(ropt)
	if err := d.Redis.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("connect to Redis at %s: %w (is Redis running?)", ropt.Addr, err)
	}
	url := cfg.NATSURL
	var natsOpts []natsOption
	if url == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("WAGATE_DATA_DIR=%q: %w", cfg.DataDir, err)
		}
		auth, err := natsauth.LoadOrCreate(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		if err := auth.WriteCreds(filepath.Join(cfg.DataDir, natsauth.AppCredsFile), natsauth.RoleApp); err != nil {
			return nil, err
		}
		log.Info("starting embedded NATS", "data_dir", cfg.DataDir, "listen", cfg.NATSListen)
		if d.Embedded, err = bus.StartEmbedded(cfg.DataDir, cfg.NATSListen, auth); err != nil {
			return nil, err
		}
		// The gateway's parts share one in-process connection: it is every
		// role at once.
		as, err := d.Embedded.As(natsauth.RoleAdmin)
		if err != nil {
			return nil, err
		}
		natsOpts = append(natsOpts, d.Embedded.InProcess(), as)
		url = d.Embedded.ClientURL()
	} else {
		if natsOpts, err = NATSClient(cfg).Options(); err != nil {
			return nil, err
		}
	}
	if d.Bus, err = bus.Connect(ctx, url, names.NewNATS(cfg.NATSPrefix), natsOpts...); err != nil {
		return nil, err
	}
	if err := d.Bus.EnsureStreams(ctx, bus.StreamOptions{Shards: cfg.Shards, EventMaxAge: cfg.EventMaxAge, Replicas: cfg.NATSReplicas}); err != nil {
		return nil, err
	}
	if cfg.Role.KeepsMedia() {
		if d.Media, err = media.Open(ctx, media.Config{URL: cfg.MediaURL, DataDir: cfg.DataDir, S3: media.S3Config{
			Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
		}}); err != nil {
			return nil, fmt.Errorf("WAGATE_MEDIA_URL: %w", err)
		}
	}
	d.Channels = httpapi.NewChannelCache(d.Store, 0)
	if _, err := d.Channels.Listen(d.Bus.Conn, d.Bus.Names.ChannelsChanged()); err != nil {
		return nil, fmt.Errorf("subscribe to channel changes: %w", err)
	}
	ok = true
	return d, nil
}

// NATSClient is the NATS credential and TLS settings of cfg.
func NATSClient(cfg config.Config) natsauth.Client {
	return natsauth.Client{
		CredsFile: cfg.NATSCreds, User: cfg.NATSUser, Password: cfg.NATSPassword, NKeySeedFile: cfg.NATSNKey,
		TLSCA: cfg.NATSTLSCA, TLSCert: cfg.NATSTLSCert, TLSKey: cfg.NATSTLSKey,
	}
}

// Close closes every connection.
func (d *Deps) Close() {
	for _, c := range d.closers {
		c()
	}
	if d.Bus != nil {
		d.Bus.Close()
	}
	if d.Embedded != nil {
		d.Embedded.Shutdown()
	}
	if d.Redis != nil {
		_ = d.Redis.Close()
	}
	if d.Store != nil {
		d.Store.Close()
	}
}

// Checks are the readiness checks of the shared dependencies.
func (d *Deps) Checks() []ops.Check {
	return []ops.Check{
		{Name: "postgres", Fn: func(ctx context.Context) error { return d.Store.Pool.Ping(ctx) }},
		{Name: "redis", Fn: func(ctx context.Context) error { return d.Redis.Ping(ctx).Err() }},
		{Name: "nats", Fn: func(context.Context) error {
			if !d.Bus.Conn.IsConnected() {
				return errors.New("not connected")
			}
			return nil
		}},
	}
}

// Drivers builds the session drivers a worker offers: the simulator always
// (channels choose it explicitly, or by WAGATE_DRIVER=sim) and whatsmeow.
func (d *Deps) Drivers(ctx context.Context) (map[string]session.Driver, error) {
	simd, err := sim.New(sim.Config{
		Store:       d.Store,
		Redis:       d.Redis,
		Keys:        d.Keys,
		TimeScale:   d.Cfg.SimTimeScale,
		QRTimeScale: d.Cfg.SimQRTimeScale,
		PresenceTTL: min(sim.DefaultPresenceTTL, d.Cfg.LeaseTTL/3),
		Logger:      d.Log,
	})
	if err != nil {
		return nil, err
	}
	drivers := map[string]session.Driver{simd.Name(): simd}
	if err := addWhatsmeow(ctx, d, drivers); err != nil {
		return nil, err
	}
	return drivers, nil
}

// Worker builds the worker of this process.
func (d *Deps) Worker(ctx context.Context, tune func(*worker.Config)) (*worker.Worker, error) {
	drivers, err := d.Drivers(ctx)
	if err != nil {
		return nil, err
	}
	wc := worker.Config{
		ID:         d.Cfg.WorkerID,
		Shards:     d.Cfg.Shards,
		Store:      d.Store,
		Bus:        d.Bus,
		Redis:      d.Redis,
		Keys:       d.Keys,
		Drivers:    drivers,
		LeaseTTL:   d.Cfg.LeaseTTL,
		SendRate:   d.Cfg.SendRate,
		WarmupDays: d.Cfg.WarmupDays,
		Logger:     d.Log,

		Media:          d.Media,
		MediaDownloads: d.Cfg.MediaDownloads,
		MediaRetention: d.Cfg.MediaRetention,
		Secrets:        d.Secrets,
	}
	if tune != nil {
		tune(&wc)
	}
	return worker.New(wc), nil
}

// SecretBox returns the box sealing secrets at rest: WAGATE_SECRET_KEY
// (with WAGATE_SECRET_KEY_PREVIOUS), or for the gateway the key stored in
// the data folder, generated on first use. It is nil for a worker given no
// key.
func SecretBox(cfg config.Config) (*secretbox.Box, error) {
	key := cfg.SecretKey
	if key == "" {
		if cfg.Role != config.RoleGateway {
			return nil, nil
		}
		path := filepath.Join(cfg.DataDir, "secret-key")
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			key = strings.TrimSpace(string(b))
		case errors.Is(err, fs.ErrNotExist):
			key = secretbox.GenerateKey()
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("WAGATE_DATA_DIR=%q: %w", cfg.DataDir, err)
			}
			if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("store the generated secret key: %w", err)
			}
		default:
			return nil, fmt.Errorf("read the secret key: %w", err)
		}
	}
	cur, err := secretbox.ParseKey(key)
	if err != nil {
		return nil, fmt.Errorf("WAGATE_SECRET_KEY: %w", err)
	}
	var prev [][]byte
	for _, k := range cfg.SecretKeyPrevious {
		p, err := secretbox.ParseKey(k)
		if err != nil {
			return nil, fmt.Errorf("WAGATE_SECRET_KEY_PREVIOUS: %w", err)
		}
		prev = append(prev, p)
	}
	return secretbox.New(cur, prev...)
}

// AdminToken returns the configured admin token or, when empty, the one
// stored in the data folder, generating and storing it on first use.
func AdminToken(cfg config.Config) (token string, generated bool, err error) {
	if cfg.AdminToken != "" {
		return cfg.AdminToken, false, nil
	}
	path := filepath.Join(cfg.DataDir, "admin-token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), false, nil
	}
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	token = "wga_" + base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("WAGATE_DATA_DIR=%q: %w", cfg.DataDir, err)
	}
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("store the generated admin token: %w", err)
	}
	return token, true, nil
}

// shutdownTimeout bounds graceful shutdown.
const shutdownTimeout = 20 * time.Second
