package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/store"
)

type oneChannel struct{ hashes store.TokenHashes }

func (o oneChannel) ChannelTokenHashes(_ context.Context, id string) (store.TokenHashes, bool, error) {
	return o.hashes, id == "ch_a", nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func engine(a *httpapi.Authenticator) *gin.Engine {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	ok := func(c *gin.Context) { c.Status(http.StatusNoContent) }
	e.GET("/v1/channels/:id", a.Middleware(), ok)
	e.GET("/v1/channels", a.Middleware(), ok)
	return e
}

func call(e *gin.Engine, path, token, addr string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = addr
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

func count(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	return m.GetCounter().GetValue()
}

// Several admin tokens are valid at once (WAGATE_ADMIN_TOKENS).
func TestSeveralAdminTokens(t *testing.T) {
	e := engine(httpapi.NewAuthenticator([]string{"admin-token-one-0123456789", "", "admin-token-two-0123456789"}, oneChannel{}))
	require.Equal(t, http.StatusNoContent, call(e, "/v1/channels", "admin-token-one-0123456789", "192.0.2.1:1").Code)
	require.Equal(t, http.StatusNoContent, call(e, "/v1/channels", "admin-token-two-0123456789", "192.0.2.1:1").Code)
	require.Equal(t, http.StatusUnauthorized, call(e, "/v1/channels", "admin-token-three-012345678", "192.0.2.1:1").Code)
	require.Equal(t, http.StatusUnauthorized, call(e, "/v1/channels", "", "192.0.2.1:1").Code, "an empty admin token is no token")
}

// After Max failures within Per, an address gets 429 with Retry-After —
// for a correct token too — until the window ends; other addresses are
// not affected; both outcomes are counted.
func TestFailedAuthenticationsAreRateLimitedPerAddress(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	good := "channel-token-a"
	a := httpapi.NewAuthenticatorWithLimit([]string{"admin-token-0123456789"},
		oneChannel{store.TokenHashes{Current: httpapi.HashToken(good)}},
		httpapi.FailureLimit{Max: 3, Per: time.Minute, Now: clk.now})
	e := engine(a)
	refused := count(t, httpapi.AuthFailures("refused"))
	limited := count(t, httpapi.AuthFailures("rate_limited"))

	const attacker, neighbour = "198.51.100.7:5000", "198.51.100.8:5000"
	for i := range 3 {
		require.Equal(t, http.StatusUnauthorized, call(e, "/v1/channels/ch_a", "guess-"+strconv.Itoa(i), attacker).Code)
	}
	clk.add(20 * time.Second)
	w := call(e, "/v1/channels/ch_a", good, attacker)
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	require.Equal(t, "40", w.Header().Get("Retry-After"))
	require.Contains(t, w.Body.String(), "too_many_auth_failures")
	require.Equal(t, http.StatusNoContent, call(e, "/v1/channels/ch_a", good, neighbour).Code)

	clk.add(40 * time.Second)
	require.Equal(t, http.StatusNoContent, call(e, "/v1/channels/ch_a", good, attacker).Code, "the window ended")
	require.Equal(t, refused+3, count(t, httpapi.AuthFailures("refused")))
	require.Equal(t, limited+1, count(t, httpapi.AuthFailures("rate_limited")))
}

// A rotated channel token is accepted until its expiry, then refused.
func TestPreviousChannelTokenUntilItExpires(t *testing.T) {
	until := time.Now().Add(time.Hour)
	hashes := store.TokenHashes{Current: httpapi.HashToken("new"), Previous: httpapi.HashToken("old"), PreviousUntil: &until}
	require.True(t, hashes.Accepts(httpapi.HashToken("new"), time.Now()))
	require.True(t, hashes.Accepts(httpapi.HashToken("old"), time.Now()))
	require.False(t, hashes.Accepts(httpapi.HashToken("old"), until.Add(time.Second)))
	require.False(t, hashes.Accepts(httpapi.HashToken("other"), time.Now()))
	require.False(t, store.TokenHashes{Current: httpapi.HashToken("new")}.Accepts(nil, time.Now()))
}
