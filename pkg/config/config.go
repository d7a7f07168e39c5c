// Package config reads wagate's settings from the environment. It is the
// only package that does: every other part receives a Config (or the fields
// it needs). Every setting has a default that works on one machine, and an
// invalid value fails at start with an error naming the variable and what
// is expected.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/secretbox"
)

// Role says which binary is loading the configuration; it picks the
// default listen address and which settings are required.
type Role string

// Roles of the binaries.
const (
	RoleAPI        Role = "api"
	RoleWorker     Role = "worker"
	RoleDispatcher Role = "dispatcher"
	RoleGateway    Role = "gateway"
	// RoleMigrate is `api migrate`: migrations and streams, then exit.
	RoleMigrate Role = "migrate"
)

// KeepsMedia reports whether the binary reads or writes media files: the
// api serves them, the worker downloads and deletes them, the gateway is
// both. The dispatcher and `api migrate` never touch them.
func (r Role) KeepsMedia() bool { return r != RoleDispatcher && r != RoleMigrate }

// sharesMedia reports whether the binary is one of several processes that
// must see the same media files: a split api or worker.
func (r Role) sharesMedia() bool { return r == RoleAPI || r == RoleWorker }

// Drivers of WhatsApp sessions.
const (
	DriverWhatsmeow = "whatsmeow"
	DriverSim       = "sim"
)

// Rate is an outbound message limit: N messages per Per. N = 0 means unlimited.
type Rate struct {
	N   int
	Per time.Duration
}

// Unlimited reports whether the rate imposes no limit.
func (r Rate) Unlimited() bool { return r.N == 0 }

// String formats the rate the way it is configured, e.g. "60/m".
func (r Rate) String() string {
	if r.N == 0 {
		return "0"
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h", 24 * time.Hour: "d"}[r.Per]
	return fmt.Sprintf("%d/%s", r.N, unit)
}

// ParseRate parses "60/m", "1/s", "1000/h", "5000/d" or "0".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return Rate{}, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, errors.New(`expected "<count>/<s|m|h|d>" such as "60/m", or "0" for unlimited`)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 0 {
		return Rate{}, fmt.Errorf("count %q is not a non-negative integer", n)
	}
	per, ok := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[unit]
	if !ok {
		return Rate{}, fmt.Errorf("unit %q is not one of s, m, h, d", unit)
	}
	return Rate{N: count, Per: per}, nil
}

// Config holds every setting of every binary. Durations are Go durations
// ("15s", "72h").
type Config struct {
	Role Role

	// HTTPAddr is the listen address: API and gateway :8080, dispatcher
	// :8081, worker :8082 (health and metrics only).
	HTTPAddr string
	// DatabaseURL is the Postgres DSN; the database is created if missing.
	DatabaseURL string
	// RedisURL is the Redis URL (redis://host:port/db).
	RedisURL string
	// RedisPrefix starts every Redis key, so fleets and tests share a Redis.
	RedisPrefix string
	// NATSURL is the NATS server; empty makes the gateway embed one.
	NATSURL string
	// NATSListen is the client address of the gateway's embedded NATS; empty
	// keeps it in-process.
	NATSListen string
	// NATSPrefix isolates fleets sharing a NATS: stream names get it as a
	// prefix and subjects as their first token.
	NATSPrefix string
	// NATSCreds, NATSUser/NATSPassword and NATSNKey are the credential a
	// split binary connects with (one of them; the gateway generates its
	// own). NATSTLSCA, NATSTLSCert and NATSTLSKey configure TLS.
	NATSCreds, NATSUser, NATSPassword, NATSNKey string
	NATSTLSCA, NATSTLSCert, NATSTLSKey          string
	// NATSReplicas is the replica count of wagate's streams (3 on a
	// clustered NATS, so one node down loses nothing).
	NATSReplicas int
	// DataDir holds the embedded NATS storage and the generated admin token.
	DataDir string
	// AdminToken reaches every channel; empty in the gateway means generate.
	AdminToken string
	// AdminTokens are more admin tokens valid at the same time
	// (WAGATE_ADMIN_TOKENS), so the admin token can be rotated without
	// downtime: add the new one, move clients, remove the old one.
	AdminTokens []string
	// SecretKey seals secrets at rest (webhook signing secrets): 32 bytes
	// as base64 or hex; empty in the gateway means generate into DataDir.
	// SecretKeyPrevious are keys it replaced, still opening what they
	// sealed until every row is re-sealed at start.
	SecretKey         string
	SecretKeyPrevious []string
	// Driver is the default session driver: whatsmeow or sim.
	Driver string
	// SimTimeScale multiplies every delay of the simulator.
	SimTimeScale float64
	// SimQRTimeScale, when set, multiplies the simulator's QR code
	// lifetimes instead of SimTimeScale.
	SimQRTimeScale float64
	// Shards is the fixed shard count, stored once in Postgres.
	Shards int
	// LeaseTTL is the time-to-live of a shard lease in Redis.
	LeaseTTL time.Duration
	// SendRate is the default outbound limit per channel.
	SendRate Rate
	// WarmupDays is how long a newly paired number ramps up to SendRate.
	WarmupDays int
	// WebhookAllowPrivate lets webhooks reach private and loopback addresses.
	WebhookAllowPrivate bool
	// WebhookSchedule is the long retry schedule of webhook deliveries.
	WebhookSchedule []time.Duration
	// EventMaxAge is how long WA_EVT keeps events.
	EventMaxAge time.Duration
	// WorkerID names this worker in leases and logs (default: host name
	// plus a random suffix, unique per process).
	WorkerID string
	// LogLevel is debug, info, warn or error; LogFormat is json or text.
	LogLevel  string
	LogFormat string

	// MediaURL is where media files are kept: empty for DataDir/media,
	// s3://bucket/prefix for an S3-compatible store, or a directory.
	MediaURL string
	// S3Endpoint (host:port or http(s)://host:port), S3Region, S3AccessKey
	// and S3SecretKey reach the store of an s3:// MediaURL.
	S3Endpoint, S3Region, S3AccessKey, S3SecretKey string
	// MediaRetention is how long stored media files are kept.
	MediaRetention time.Duration
	// MediaDownloads bounds the media downloads one worker runs at once.
	MediaDownloads int
}

// Var describes one environment variable: its name, default and meaning.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable wagate reads, in the order of the README's
// configuration table.
var Vars = []Var{
	{"WAGATE_HTTP_ADDR", ":8080", "listen address (api, gateway; dispatcher :8081, worker :8082 for health and metrics)"},
	{"WAGATE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wagate?sslmode=disable", "Postgres; the database is created if missing"},
	{"WAGATE_REDIS_URL", "redis://127.0.0.1:6379/0", "Redis"},
	{"WAGATE_REDIS_PREFIX", "wagate:", "prefix of every Redis key"},
	{"WAGATE_NATS_URL", "", "NATS server (≥ 2.10); empty: the gateway embeds one, the split binaries require it"},
	{"WAGATE_NATS_LISTEN", "127.0.0.1:4223", "client address of the gateway's embedded NATS (empty: in-process only)"},
	{"WAGATE_NATS_PREFIX", "", "stream-name prefix and first subject token, to share a NATS"},
	{"WAGATE_NATS_CREDS", "", "credentials file (.creds) of a split binary; the gateway generates its own"},
	{"WAGATE_NATS_USER", "", "user name, with WAGATE_NATS_PASSWORD, instead of a creds file"},
	{"WAGATE_NATS_PASSWORD", "", "password of WAGATE_NATS_USER"},
	{"WAGATE_NATS_NKEY", "", "file holding a user nkey seed, instead of a creds file"},
	{"WAGATE_NATS_TLS_CA", "", "CA certificate (PEM) verifying the NATS server; enables TLS"},
	{"WAGATE_NATS_TLS_CERT", "", "client certificate (PEM) for NATS, with WAGATE_NATS_TLS_KEY"},
	{"WAGATE_NATS_TLS_KEY", "", "key of WAGATE_NATS_TLS_CERT"},
	{"WAGATE_NATS_REPLICAS", "1", "replicas of wagate's JetStream streams (3 on a NATS cluster)"},
	{"WAGATE_DATA_DIR", "./data", "embedded NATS storage and the generated admin token"},
	{"WAGATE_ADMIN_TOKEN", "", "admin token; empty: the gateway generates one, stores it and prints it"},
	{"WAGATE_SECRET_KEY", "", "key sealing secrets at rest (32 bytes, base64 or hex); empty: the gateway generates one into the data dir; required by api and dispatcher"},
	{"WAGATE_SECRET_KEY_PREVIOUS", "", "comma-separated keys WAGATE_SECRET_KEY replaced: they still open old values, which are re-sealed with the new key at start"},
	{"WAGATE_ADMIN_TOKENS", "", "comma-separated admin tokens valid besides WAGATE_ADMIN_TOKEN (rotation without downtime)"},
	{"WAGATE_DRIVER", "whatsmeow", "default session driver: whatsmeow or sim"},
	{"WAGATE_SIM_TIME_SCALE", "1", "multiplies the simulator's delays (tests use 0.02)"},
	{"WAGATE_SIM_QR_TIME_SCALE", "", "multiplies the simulator's QR code lifetimes instead of WAGATE_SIM_TIME_SCALE (e.g. 1 for codes at WhatsApp's pace while the rest runs fast)"},
	{"WAGATE_SHARDS", "64", "shard count, fixed once stored in Postgres"},
	{"WAGATE_LEASE_TTL", "15s", "shard lease time-to-live"},
	{"WAGATE_SEND_RATE", "60/m", "default outbound limit per channel, with jitter (0 = unlimited)"},
	{"WAGATE_WARMUP_DAYS", "7", "days a newly paired number ramps up to the full limit (0 = none)"},
	{"WAGATE_WEBHOOK_ALLOW_PRIVATE", "false", "let webhooks reach private and loopback addresses (development)"},
	{"WAGATE_WEBHOOK_SCHEDULE", "5s,5m,30m,2h,5h,10h,24h", "long retry schedule of webhook deliveries"},
	{"WAGATE_EVENT_MAX_AGE", "72h", "how long WA_EVT keeps events (replay and browser resume window)"},
	{"WAGATE_WORKER_ID", "host name plus a random suffix", "name of this worker in leases and logs, unique per process (a duplicate in the live set is logged and takes no shards)"},
	{"WAGATE_MEDIA_URL", "", "where media files are kept: empty for `WAGATE_DATA_DIR`/media, `s3://bucket/prefix` for an S3-compatible store, or a directory. Split api/worker deployments need S3 or a directory shared by every process"},
	{"WAGATE_S3_ENDPOINT", "", "S3 API endpoint of an `s3://` media URL (`host:port` or `http(s)://host:port`; empty: AWS)"},
	{"WAGATE_S3_REGION", "", "region of the media bucket (empty: discovered)"},
	{"WAGATE_S3_ACCESS_KEY", "", "access key of the media bucket (empty with the secret: the AWS environment or instance role)"},
	{"WAGATE_S3_SECRET_KEY", "", "secret key of the media bucket"},
	{"WAGATE_MEDIA_RETENTION", "720h", "how long stored media files are kept (then deleted; the message stays)"},
	{"WAGATE_MEDIA_DOWNLOADS", "4", "media downloads one worker runs at once"},
	{"WAGATE_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"WAGATE_LOG_FORMAT", "json", "json or text"},
}

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// FromEnv loads the configuration of role from the process environment.
func FromEnv(role Role) (Config, error) { return Load(role, os.LookupEnv) }

// Load reads the configuration of role through lookupEnv (os.LookupEnv in
// production, a map in tests). All invalid settings are reported together.
func Load(role Role, lookupEnv func(string) (string, bool)) (Config, error) {
	var errs []error
	getenv := func(name string) string { v, _ := lookupEnv(name); return v }
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	bad := func(name, value, want string) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, value, want))
	}
	dur := func(name, def string) time.Duration {
		v := get(name, def)
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad(name, v, `expected a positive duration such as "15s" or "72h"`)
		}
		return d
	}

	c := Config{Role: role}
	defAddr := map[Role]string{RoleDispatcher: ":8081", RoleWorker: ":8082"}[role]
	if defAddr == "" {
		defAddr = ":8080"
	}
	c.HTTPAddr = get("WAGATE_HTTP_ADDR", defAddr)
	c.DatabaseURL = get("WAGATE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wagate?sslmode=disable")
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("WAGATE_DATABASE_URL", c.DatabaseURL, "expected a postgres:// URL")
	}
	c.RedisURL = get("WAGATE_REDIS_URL", "redis://127.0.0.1:6379/0")
	if !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		bad("WAGATE_REDIS_URL", c.RedisURL, "expected a redis:// or rediss:// URL")
	}
	c.RedisPrefix = getenv("WAGATE_REDIS_PREFIX")
	if c.RedisPrefix == "" {
		c.RedisPrefix = "wagate:"
	}
	c.NATSURL = get("WAGATE_NATS_URL", "")
	if c.NATSURL == "" && role != RoleGateway {
		bad("WAGATE_NATS_URL", "", "required by the "+string(role)+" binary: the URL of a NATS server ≥ 2.10 with JetStream, e.g. nats://127.0.0.1:4222")
	}
	c.NATSListen = "127.0.0.1:4223"
	if v, ok := lookupEnv("WAGATE_NATS_LISTEN"); ok {
		c.NATSListen = strings.TrimSpace(v) // set but empty: in-process only
	}
	c.NATSPrefix = get("WAGATE_NATS_PREFIX", "")
	if !prefixRE.MatchString(c.NATSPrefix) {
		bad("WAGATE_NATS_PREFIX", c.NATSPrefix, "expected letters, digits, '-' or '_' only")
	}
	c.NATSCreds = get("WAGATE_NATS_CREDS", "")
	c.NATSUser = get("WAGATE_NATS_USER", "")
	c.NATSPassword = getenv("WAGATE_NATS_PASSWORD")
	c.NATSNKey = get("WAGATE_NATS_NKEY", "")
	c.NATSTLSCA = get("WAGATE_NATS_TLS_CA", "")
	c.NATSTLSCert = get("WAGATE_NATS_TLS_CERT", "")
	c.NATSTLSKey = get("WAGATE_NATS_TLS_KEY", "")
	if c.NATSURL != "" {
		set := 0
		for _, v := range []string{c.NATSCreds, c.NATSUser, c.NATSNKey} {
			if v != "" {
				set++
			}
		}
		switch {
		case set == 0:
			bad("WAGATE_NATS_CREDS", "", "NATS needs credentials: set WAGATE_NATS_CREDS (a .creds file, see `gateway nats-creds`), WAGATE_NATS_USER and WAGATE_NATS_PASSWORD, or WAGATE_NATS_NKEY")
		case set > 1:
			bad("WAGATE_NATS_CREDS", c.NATSCreds, "set only one of WAGATE_NATS_CREDS, WAGATE_NATS_USER, WAGATE_NATS_NKEY")
		}
		if c.NATSUser != "" && c.NATSPassword == "" {
			bad("WAGATE_NATS_PASSWORD", "", "required with WAGATE_NATS_USER")
		}
	}
	if (c.NATSTLSCert == "") != (c.NATSTLSKey == "") {
		bad("WAGATE_NATS_TLS_CERT", c.NATSTLSCert, "WAGATE_NATS_TLS_CERT and WAGATE_NATS_TLS_KEY go together")
	}
	if v := get("WAGATE_NATS_REPLICAS", "1"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5 {
			bad("WAGATE_NATS_REPLICAS", v, "expected an integer from 1 to 5")
		}
		c.NATSReplicas = n
	}
	c.DataDir = get("WAGATE_DATA_DIR", "./data")
	c.AdminToken = get("WAGATE_ADMIN_TOKEN", "")
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		bad("WAGATE_ADMIN_TOKEN", "…", "expected at least 16 characters")
	}
	for _, t := range strings.Split(get("WAGATE_ADMIN_TOKENS", ""), ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if len(t) < 16 {
			bad("WAGATE_ADMIN_TOKENS", "…", "expected comma-separated tokens of at least 16 characters each")
			break
		}
		c.AdminTokens = append(c.AdminTokens, t)
	}
	if c.AdminToken == "" && len(c.AdminTokens) == 0 && role == RoleAPI {
		bad("WAGATE_ADMIN_TOKEN", "", "required by the api binary (at least 16 characters); only cmd/gateway generates one")
	}
	c.SecretKey = get("WAGATE_SECRET_KEY", "")
	if c.SecretKey != "" {
		if _, err := secretbox.ParseKey(c.SecretKey); err != nil {
			bad("WAGATE_SECRET_KEY", "…", "expected 32 bytes as base64 or 64 hex digits (`openssl rand -base64 32`)")
		}
	} else if role == RoleAPI || role == RoleDispatcher {
		bad("WAGATE_SECRET_KEY", "", "required by the "+string(role)+" binary (32 bytes as base64, the same for every api and dispatcher; `openssl rand -base64 32`); only cmd/gateway generates one")
	}
	if v := get("WAGATE_SECRET_KEY_PREVIOUS", ""); v != "" {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k == "" {
				continue
			}
			if _, err := secretbox.ParseKey(k); err != nil {
				bad("WAGATE_SECRET_KEY_PREVIOUS", "…", "expected comma-separated keys of 32 bytes as base64 or 64 hex digits")
				break
			}
			c.SecretKeyPrevious = append(c.SecretKeyPrevious, k)
		}
	}
	c.Driver = get("WAGATE_DRIVER", DriverWhatsmeow)
	if c.Driver != DriverWhatsmeow && c.Driver != DriverSim {
		bad("WAGATE_DRIVER", c.Driver, "expected whatsmeow or sim")
	}
	if v := get("WAGATE_SIM_TIME_SCALE", "1"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			bad("WAGATE_SIM_TIME_SCALE", v, "expected a positive number such as 1 or 0.02")
		}
		c.SimTimeScale = f
	}
	if v := get("WAGATE_SIM_QR_TIME_SCALE", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			bad("WAGATE_SIM_QR_TIME_SCALE", v, "expected a positive number such as 1 or 0.2")
		}
		c.SimQRTimeScale = f
	}
	if v := get("WAGATE_SHARDS", "64"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 4096 {
			bad("WAGATE_SHARDS", v, "expected an integer from 1 to 4096")
		}
		c.Shards = n
	}
	c.LeaseTTL = dur("WAGATE_LEASE_TTL", "15s")
	if c.LeaseTTL > 0 && c.LeaseTTL < 300*time.Millisecond {
		bad("WAGATE_LEASE_TTL", c.LeaseTTL.String(), "expected at least 300ms")
	}
	if v := get("WAGATE_SEND_RATE", "60/m"); v != "" {
		r, err := ParseRate(v)
		if err != nil {
			bad("WAGATE_SEND_RATE", v, err.Error())
		}
		c.SendRate = r
	}
	if v := get("WAGATE_WARMUP_DAYS", "7"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 365 {
			bad("WAGATE_WARMUP_DAYS", v, "expected an integer from 0 to 365")
		}
		c.WarmupDays = n
	}
	if v := get("WAGATE_WEBHOOK_ALLOW_PRIVATE", "false"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("WAGATE_WEBHOOK_ALLOW_PRIVATE", v, "expected true or false")
		}
		c.WebhookAllowPrivate = b
	}
	if v := get("WAGATE_WEBHOOK_SCHEDULE", "5s,5m,30m,2h,5h,10h,24h"); v != "" {
		s, err := ParseSchedule(v)
		if err != nil {
			bad("WAGATE_WEBHOOK_SCHEDULE", v, err.Error())
		}
		c.WebhookSchedule = s
	}
	c.EventMaxAge = dur("WAGATE_EVENT_MAX_AGE", "72h")
	c.WorkerID = get("WAGATE_WORKER_ID", "")
	if c.WorkerID == "" {
		c.WorkerID = DefaultWorkerID()
	}
	if strings.ContainsAny(c.WorkerID, ": \t") {
		bad("WAGATE_WORKER_ID", c.WorkerID, "expected a name without spaces or ':'")
	}
	c.MediaURL = get("WAGATE_MEDIA_URL", "")
	if c.MediaURL == "" && role.sharesMedia() {
		// A worker stores what an api serves: a folder of its own (the
		// gateway's default) would answer 404 for every file.
		bad("WAGATE_MEDIA_URL", "", "required by the "+string(role)+" binary, which shares its media files with every api and worker: "+
			"s3://bucket/prefix for an S3-compatible store (with WAGATE_S3_ENDPOINT and its credentials) or a directory that every api and worker mounts; "+
			"only the gateway keeps them under WAGATE_DATA_DIR by default")
	}
	if strings.Contains(c.MediaURL, "://") && !strings.HasPrefix(c.MediaURL, "s3://") && !strings.HasPrefix(c.MediaURL, "file://") {
		bad("WAGATE_MEDIA_URL", c.MediaURL, "expected s3://bucket/prefix, file:///dir or a directory")
	}
	if b := strings.TrimPrefix(c.MediaURL, "s3://"); strings.HasPrefix(c.MediaURL, "s3://") && strings.Trim(b, "/") == "" {
		bad("WAGATE_MEDIA_URL", c.MediaURL, "expected a bucket: s3://bucket/prefix")
	}
	c.S3Endpoint = get("WAGATE_S3_ENDPOINT", "")
	c.S3Region = get("WAGATE_S3_REGION", "")
	c.S3AccessKey = get("WAGATE_S3_ACCESS_KEY", "")
	c.S3SecretKey = getenv("WAGATE_S3_SECRET_KEY")
	if (c.S3AccessKey == "") != (c.S3SecretKey == "") {
		bad("WAGATE_S3_ACCESS_KEY", c.S3AccessKey, "expected WAGATE_S3_ACCESS_KEY and WAGATE_S3_SECRET_KEY together")
	}
	c.MediaRetention = dur("WAGATE_MEDIA_RETENTION", "720h")
	if v := get("WAGATE_MEDIA_DOWNLOADS", "4"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			bad("WAGATE_MEDIA_DOWNLOADS", v, "expected an integer from 1 to 256")
		}
		c.MediaDownloads = n
	}
	c.LogLevel = get("WAGATE_LOG_LEVEL", "info")
	if _, ok := map[string]bool{"debug": true, "info": true, "warn": true, "error": true}[c.LogLevel]; !ok {
		bad("WAGATE_LOG_LEVEL", c.LogLevel, "expected debug, info, warn or error")
	}
	c.LogFormat = get("WAGATE_LOG_FORMAT", "json")
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("WAGATE_LOG_FORMAT", c.LogFormat, "expected json or text")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %w", joinLines(errs))
	}
	return c, nil
}

// ParseSchedule parses a comma-separated list of positive durations.
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf(`expected comma-separated positive durations such as "5s,5m,30m"; %q is not one`, part)
		}
		out = append(out, d)
	}
	return out, nil
}

type lines []error

func (l lines) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n  ")
}

func joinLines(errs []error) error { return lines(errs) }

// DefaultWorkerID is the host name plus a random suffix: unique per
// process, so several workers may share a host.
func DefaultWorkerID() string {
	h, _ := os.Hostname()
	h = strings.NewReplacer(":", "-", " ", "-", "\t", "-").Replace(h)
	if h == "" {
		h = "worker"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return h + "-" + hex.EncodeToString(b[:])
}
