package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// The errors real clients return when their server is down or gone are
// answered 503 with the code of the dependency; other errors are not.
func TestUnavailableClassifiesWhatClientsReturn(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	down := closedPort(t)

	pool, err := pgxpool.New(ctx, "postgres://postgres@"+down+"/x?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	defer pool.Close()
	pgDown := pool.Ping(ctx)

	st, _ := testenv.Store(t, 1)
	closed, err := pgxpool.New(ctx, st.Pool.Config().ConnString())
	require.NoError(t, err)
	closed.Close()
	_, pgClosed := closed.Exec(ctx, "SELECT 1")
	_, pgNotFound := st.Channel(ctx, "ch_nope")

	rdb := redis.NewClient(&redis.Options{Addr: down, MaxRetries: -1})
	defer rdb.Close()
	redisDown := rdb.Get(ctx, "k").Err()

	e, url := testenv.NATS(t)
	nc, err := nats.Connect(url, testenv.NATSOption(t, url, natsauth.RoleAdmin))
	require.NoError(t, err)
	_, noResponders := nc.Request("nobody.listens", nil, time.Second)
	nc.Close()
	natsClosed := nc.Publish("x", nil)
	e.Shutdown()

	for _, tc := range []struct {
		name string
		err  error
		want *httpapi.Error
	}{
		{"postgres refuses connections", pgDown, httpapi.ErrStoreUnavailable},
		{"pgx pool closed", pgClosed, httpapi.ErrStoreUnavailable},
		{"wrapped postgres failure", fmt.Errorf("store: read channel: %w", pgDown), httpapi.ErrStoreUnavailable},
		{"redis refuses connections", redisDown, httpapi.ErrCacheUnavailable},
		{"nats no responders", noResponders, httpapi.ErrBusUnavailable},
		{"nats connection closed", natsClosed, httpapi.ErrBusUnavailable},
		{"a deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), httpapi.ErrDependencyTimeout},
		{"not found is not a fault", pgNotFound, nil},
		{"a plain error is not a fault", errors.New("bug"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, tc.err)
			got := httpapi.Unavailable(tc.err)
			require.Equal(t, tc.want, got, "%v", tc.err)
			if tc.want != nil {
				require.Equal(t, http.StatusServiceUnavailable, httpapi.Classify(tc.err).Status)
			} else if !errors.Is(tc.err, store.ErrNotFound) {
				require.Equal(t, httpapi.ErrInternal, httpapi.Classify(tc.err))
			}
		})
	}
}
