// Package testenv gives tests real services, isolated per test: a fresh
// Postgres database (dropped afterwards), a Redis key prefix (keys deleted
// afterwards) and an embedded NATS JetStream server in a temporary folder.
// It is imported only from _test.go files.
//
// Postgres and Redis addresses come from WAGATE_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and
// WAGATE_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/store"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// AdminDSN is the DSN tests create their databases through.
func AdminDSN() string {
	return env("WAGATE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

// RedisURL is the Redis tests use.
func RedisURL() string { return env("WAGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0") }

// Unique returns a short unique lowercase name for databases, prefixes, ids.
func Unique() string { return strings.ToLower(ids.At(time.Now()))[6:] }

// DatabaseURL creates an empty database for the test and returns its DSN;
// the database is dropped when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	name := "wagate_test_" + Unique()
	conn, err := pgx.Connect(ctx, AdminDSN())
	require.NoError(t, err, "Postgres must run on 127.0.0.1:5432 (see .ci/run)")
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, AdminDSN())
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	cfg, err := pgx.ParseConfig(AdminDSN())
	require.NoError(t, err)
	return strings.Replace(AdminDSN(), "/"+cfg.Database+"?", "/"+name+"?", 1)
}

// Store opens a migrated store on a fresh database with shards shard rows.
func Store(t testing.TB, shards int) (*store.Store, string) {
	t.Helper()
	dsn := DatabaseURL(t)
	st, err := store.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	require.NoError(t, st.EnsureShards(context.Background(), shards))
	return st, dsn
}

// Redis returns a client and a key prefix unique to the test; keys under it
// are deleted when the test ends.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	require.NoError(t, rdb.Ping(context.Background()).Err(), "Redis must run on 127.0.0.1:6379 (see .ci/run)")
	prefix := "wagate_test:" + Unique() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}

// servers maps the URL of each server NATS started to it, so helpers
// given only the URL find the authority that mints its credentials.
var servers sync.Map // string → *bus.Embedded

// NATS starts an embedded JetStream server listening on a random loopback
// port (so separate processes can reach it) and returns it with its URL.
// Like wagate's own, it refuses clients without credentials: connect with
// Bus, NATSOption or NATSCreds.
func NATS(t testing.TB) (*bus.Embedded, string) {
	t.Helper()
	auth, err := natsauth.New()
	require.NoError(t, err)
	e, err := bus.StartEmbedded(t.TempDir(), "127.0.0.1:-1", auth)
	require.NoError(t, err)
	url := e.ClientURL()
	servers.Store(url, e)
	t.Cleanup(func() {
		servers.Delete(url)
		e.Shutdown()
	})
	return e, url
}

func server(t testing.TB, url string) *bus.Embedded {
	t.Helper()
	e, ok := servers.Load(url)
	require.True(t, ok, "no testenv.NATS server at %s", url)
	return e.(*bus.Embedded)
}

// NATSOption is the connect option authenticating to the server at url
// (started by NATS) as a user of role.
func NATSOption(t testing.TB, url string, role natsauth.Role) nats.Option {
	t.Helper()
	o, err := server(t, url).As(role)
	require.NoError(t, err)
	return o
}

// NATSCreds writes a .creds file of role for the server at url (started by
// NATS) and returns its path, for WAGATE_NATS_CREDS of a child process.
func NATSCreds(t testing.TB, url string, role natsauth.Role) string {
	t.Helper()
	creds, err := server(t, url).Auth.Creds(role, "")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), string(role)+".creds")
	require.NoError(t, os.WriteFile(path, creds, 0o600))
	return path
}

// Bus connects to an embedded server as RoleAdmin (a test plays every
// part) with a unique subject prefix and creates the streams for shards
// shards.
func Bus(t testing.TB, url string, shards int) *bus.Bus {
	t.Helper()
	b, err := bus.Connect(context.Background(), url, names.NewNATS("t"+Unique()), NATSOption(t, url, natsauth.RoleAdmin))
	require.NoError(t, err)
	t.Cleanup(b.Close)
	require.NoError(t, b.EnsureStreams(context.Background(), bus.StreamOptions{Shards: shards, EventMaxAge: time.Hour}))
	return b
}

// SecretBox returns a box with a fresh key and the key itself, for
// WAGATE_SECRET_KEY of child processes: generate it once per test
// environment and give every process of the test the same key, or one
// process cannot open what another sealed.
func SecretBox(t testing.TB) (*secretbox.Box, string) {
	t.Helper()
	key := secretbox.GenerateKey()
	raw, err := secretbox.ParseKey(key)
	require.NoError(t, err)
	box, err := secretbox.New(raw)
	require.NoError(t, err)
	return box, key
}

// Eventually polls cond every 10ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, fmt.Sprintf(format, args...))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
