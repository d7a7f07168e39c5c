package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A rotation returns a new token at once; the old one keeps working for
// the grace period and is refused after it; "0s" revokes it at once.
func TestRotateChannelToken(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	created := b.do(req{method: "POST", path: "/v1/channels", token: b.admin, body: map[string]any{"name": "rotating"}})
	require.Equal(t, http.StatusCreated, created.status)
	id, old := created.json(t)["id"].(string), created.json(t)["token"].(string)
	path := "/v1/channels/" + id
	get := func(token string) int { return b.do(req{method: "GET", path: path, token: token}).status }

	r := b.do(req{method: "POST", path: path + "/token/rotate", token: old})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	rotated := r.json(t)
	next := rotated["token"].(string)
	require.NotEqual(t, old, next)
	until, err := time.Parse(time.RFC3339Nano, rotated["previous_token_expires_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), until, time.Minute, "the default grace is 24 h")
	require.Equal(t, http.StatusOK, get(next))
	require.Equal(t, http.StatusOK, get(old), "the old token works during the grace period")

	// The grace period ends (the database's clock decides it).
	_, err = b.store.Pool.Exec(context.Background(), `UPDATE channels SET previous_token_expires_at = now() - interval '1 second' WHERE id = $1`, id)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, get(old), "the old token is refused after the grace period")
	require.Equal(t, http.StatusOK, get(next))

	r = b.do(req{method: "POST", path: path + "/token/rotate", token: b.admin, body: map[string]any{"grace_period": "0s"}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.NotContains(t, r.json(t), "previous_token_expires_at")
	require.Equal(t, http.StatusUnauthorized, get(next), "revoked at once")
	latest := r.json(t)["token"].(string)
	require.Equal(t, http.StatusOK, get(latest))

	for _, bad := range []string{"-1s", "8d", "200h", "soon"} {
		r = b.do(req{method: "POST", path: path + "/token/rotate", token: b.admin, body: map[string]any{"grace_period": bad}})
		require.Equal(t, http.StatusBadRequest, r.status, bad)
		require.Equal(t, "invalid_grace_period", r.code(t))
	}
	other := b.do(req{method: "POST", path: "/v1/channels", token: b.admin, body: map[string]any{"name": "other"}})
	r = b.do(req{method: "POST", path: "/v1/channels/" + other.json(t)["id"].(string) + "/token/rotate", token: latest})
	require.Equal(t, http.StatusUnauthorized, r.status, "a token rotates only its own channel")
}
