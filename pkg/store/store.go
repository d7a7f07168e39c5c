package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors.
var (
	ErrNotFound      = errors.New("store: not found")
	ErrStaleEpoch    = errors.New("store: stale epoch: the shard has a newer owner")
	ErrShardMismatch = errors.New("store: shard count differs from the one stored")
	ErrConflict      = errors.New("store: conflict")
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultMaxConns is the pool size unless the URL sets pool_max_conns.
const DefaultMaxConns = 16

// migrationLock is the advisory lock key held while migrating.
const migrationLock = 0x77616761 // "waga"

// Store wraps the pool; its methods are safe for concurrent use.
type Store struct {
	Pool *pgxpool.Pool
}

// Open connects to the database of dsn, creating it if missing, and applies
// the migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if err := createDatabase(ctx, dsn); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse WAGATE_DATABASE_URL: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgx's default (the CPU count, at least 4) starves a gateway whose
		// API, mailboxes and dispatcher share one pool; pool_max_conns in
		// the URL still decides.
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to Postgres at %s: %w (is Postgres running?)", redact(dsn), err)
	}
	s := &Store{Pool: pool}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() { s.Pool.Close() }

// createDatabase creates the database named in dsn when it does not exist.
func createDatabase(ctx context.Context, dsn string) error {
	// Parsed as the pool parses it, so that pool settings in the DSN
	// (pool_max_conns=…) are not sent to the server as run-time parameters.
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("store: parse WAGATE_DATABASE_URL: %w", err)
	}
	cfg := pcfg.ConnConfig
	name := cfg.Database
	if name == "" || name == "postgres" {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("store: connect to Postgres at %s: %w (is Postgres running?)", redact(dsn), err)
	}
	cfg.Database = "postgres"
	conn, err = pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: connect to the postgres database to create %q: %w", name, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil && !isDuplicate(err) {
		return fmt.Errorf("store: create database %q: %w", name, err)
	}
	return nil
}

func isDuplicate(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505")
}

// Migrate applies every embedded migration not yet recorded, in name order,
// under an advisory lock.
func (s *Store) Migrate(ctx context.Context) error {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "migrations/"), ".sql")
		var done bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)", name).Scan(&done); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		if done {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1)", name)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", name, err)
		}
	}
	return nil
}

// EnsureShards stores the shard count on first start, creates the shard
// rows, and refuses a different count later.
func (s *Store) EnsureShards(ctx context.Context, n int) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock+1); err != nil {
			return err
		}
		var stored string
		err := tx.QueryRow(ctx, "SELECT value FROM meta WHERE key = 'shards'").Scan(&stored)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, "INSERT INTO meta (key, value) VALUES ('shards', $1)", fmt.Sprint(n)); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "INSERT INTO shards (shard) SELECT generate_series(0, $1 - 1) ON CONFLICT DO NOTHING", n)
			return err
		case err != nil:
			return fmt.Errorf("store: read shard count: %w", err)
		case stored != fmt.Sprint(n):
			return fmt.Errorf("%w: WAGATE_SHARDS=%d but this database was created with %s shards; set WAGATE_SHARDS=%s (the count is fixed for the life of a fleet)", ErrShardMismatch, n, stored, stored)
		}
		return nil
	})
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the configured address"
	}
	return u.Redacted()
}
