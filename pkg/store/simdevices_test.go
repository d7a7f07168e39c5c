package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestSimDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := testenv.Store(t, 4)

	_, err := st.SimDevice(ctx, "15550000001:3@s.whatsapp.net")
	require.ErrorIs(t, err, store.ErrNotFound)

	d := &store.SimDevice{JID: "15550000001:3@s.whatsapp.net", ChannelID: "ch_a", Phone: "15550000001",
		PushName: "Ann", Platform: "android", Identity: []byte{1, 2, 3}}
	require.NoError(t, st.InsertSimDevice(ctx, d))
	require.False(t, d.CreatedAt.IsZero())

	again := *d
	require.ErrorIs(t, st.InsertSimDevice(ctx, &again), store.ErrConflict, "a JID is linked once")

	got, err := st.SimDevice(ctx, d.JID)
	require.NoError(t, err)
	require.Equal(t, d.ChannelID, got.ChannelID)
	require.Equal(t, d.Phone, got.Phone)
	require.Equal(t, d.PushName, got.PushName)
	require.Equal(t, d.Platform, got.Platform)
	require.Equal(t, d.Identity, got.Identity)
	require.WithinDuration(t, d.CreatedAt, got.CreatedAt, 0)

	deleted, err := st.DeleteSimDevice(ctx, d.JID)
	require.NoError(t, err)
	require.True(t, deleted)
	deleted, err = st.DeleteSimDevice(ctx, d.JID)
	require.NoError(t, err)
	require.False(t, deleted, "deleting twice reports the device was already gone")
	_, err = st.SimDevice(ctx, d.JID)
	require.ErrorIs(t, err, store.ErrNotFound)
}
