package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k, err := secretbox.ParseKey(secretbox.GenerateKey())
	require.NoError(t, err)
	return k
}

// A key rotation re-seals every channel's proxy with the new key at start,
// so that the old key can be dropped later; the proxies open to the same
// URLs. Without the key a proxy was sealed with, the start fails and says
// which setting brings it back, instead of leaving channels that cannot
// connect.
func TestResealProxiesAfterAKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := testenv.Store(t, 4)
	oldKey, rotatedKey := newKey(t), newKey(t)
	oldBox, err := secretbox.New(oldKey)
	require.NoError(t, err)

	proxies := map[string]string{
		ids.New(ids.Channel): "socks5://user:secret-one@proxy.example:1080",
		ids.New(ids.Channel): "http://user:secret-two@10.0.0.2:3128",
	}
	for id, url := range proxies {
		sealed, err := oldBox.Seal(url)
		require.NoError(t, err)
		require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: id, Name: "p", TokenHash: []byte(id), Driver: "sim", Proxy: sealed}))
	}
	direct := ids.New(ids.Channel)
	require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: direct, Name: "d", TokenHash: []byte(direct), Driver: "sim"}))

	n, err := st.ResealProxies(ctx, oldBox)
	require.NoError(t, err)
	require.Zero(t, n, "sealed with the current key already")

	lost, err := secretbox.New(rotatedKey)
	require.NoError(t, err)
	_, err = st.ResealProxies(ctx, lost)
	require.ErrorIs(t, err, secretbox.ErrUnknownKey)
	require.ErrorContains(t, err, "WAGATE_SECRET_KEY_PREVIOUS")

	rotated, err := secretbox.New(rotatedKey, oldKey)
	require.NoError(t, err)
	n, err = st.ResealProxies(ctx, rotated)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = st.ResealProxies(ctx, rotated)
	require.NoError(t, err)
	require.Zero(t, n, "resealing twice changes nothing")

	onlyNew, err := secretbox.New(rotatedKey)
	require.NoError(t, err)
	for id, url := range proxies {
		c, err := st.Channel(ctx, id)
		require.NoError(t, err)
		require.True(t, onlyNew.Current(c.Proxy), "%s is sealed with the new key", id)
		plain, err := onlyNew.Open(c.Proxy)
		require.NoError(t, err, "the old key is no longer needed")
		require.Equal(t, url, plain)
	}
	c, err := st.Channel(ctx, direct)
	require.NoError(t, err)
	require.Empty(t, c.Proxy, "a channel without a proxy stays without")
}
