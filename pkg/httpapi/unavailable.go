package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

// RetryAfterSeconds is the Retry-After of a 503 that names none: long
// enough for a pool to reconnect, short enough to ride out a restart.
const RetryAfterSeconds = 2

// Answers to a dependency that is down. Nothing was changed: the client
// retries the same request (with the same Idempotency-Key) after
// Retry-After.
var (
	ErrStoreUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "store_unavailable",
		Message: "the database is unavailable; nothing was changed, retry the request shortly"}
	ErrBusUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "bus_unavailable",
		Message: "the message bus is unavailable; nothing was changed, retry the request shortly"}
	ErrCacheUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "cache_unavailable",
		Message: "Redis is unavailable; nothing was changed, retry the request shortly"}
	ErrDependencyTimeout = &Error{Status: http.StatusServiceUnavailable, Code: "dependency_timeout",
		Message: "a dependency did not answer in time; retry the request shortly"}
)

// Unavailable returns the 503 answer to err when err says a dependency is
// down or unreachable — Postgres (pgx), NATS or Redis — and nil for any
// other error. Errors are attributed by what pgx and nats.go return (their
// own error types and sentinels); a bare network error, which only
// go-redis returns unwrapped, is Redis's.
func Unavailable(err error) *Error {
	switch {
	case err == nil:
		return nil
	case storeDown(err):
		return ErrStoreUnavailable
	case busDown(err):
		return ErrBusUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return ErrDependencyTimeout
	case cacheDown(err):
		return ErrCacheUnavailable
	}
	return nil
}

func storeDown(err error) bool {
	var connect *pgconn.ConnectError
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &connect):
		return true
	case strings.HasSuffix(err.Error(), "closed pool"):
		// pgxpool hands out puddle's ErrClosedPool after Close.
		return true
	case errors.As(err, &pg):
		// 08: connection exception; 53: insufficient resources (too many
		// connections, disk full); 57P01-57P03: shutting down, starting up.
		return strings.HasPrefix(pg.Code, "08") || strings.HasPrefix(pg.Code, "53") ||
			pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	case !fromPackage(err, "github.com/jackc/pgx/"):
		return false
	}
	// pgx wraps what the connection met (a reset, an EOF, a timeout) in
	// types of its own.
	return pgconn.Timeout(err) || pgconn.SafeToRetry(err) || networkFailure(err) ||
		strings.Contains(err.Error(), "conn closed")
}

func busDown(err error) bool {
	for _, s := range []error{
		nats.ErrNoResponders, nats.ErrTimeout, nats.ErrConnectionClosed, nats.ErrConnectionDraining,
		nats.ErrConnectionReconnecting, nats.ErrDisconnected, nats.ErrNoServers, nats.ErrStaleConnection,
		nats.ErrJetStreamNotEnabled, jetstream.ErrNoStreamResponse, jetstream.ErrJetStreamNotEnabled,
	} {
		if errors.Is(err, s) {
			return true
		}
	}
	var api *jetstream.APIError
	return errors.As(err, &api) && api.Code == http.StatusServiceUnavailable
}

func cacheDown(err error) bool {
	if errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return true
	}
	for _, prefix := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"} {
		if redis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return networkFailure(err)
}

// networkFailure reports a connection that could not be made or broke.
func networkFailure(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// fromPackage reports whether an error in err's tree has a type defined
// under the import path prefix.
func fromPackage(err error, prefix string) bool {
	for _, e := range tree(err) {
		t := reflect.TypeOf(e)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if strings.HasPrefix(t.PkgPath(), prefix) {
			return true
		}
	}
	return false
}

func tree(err error) []error {
	var out []error
	for stack := []error{err}; len(stack) > 0; {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			stack = append(stack, u.Unwrap())
		case interface{ Unwrap() []error }:
			stack = append(stack, u.Unwrap()...)
		}
	}
	return out
}
