package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/client"
)

// A channel's client rotates its own token: the new one works at once,
// the old one during the grace period; with "0s" the old one is refused.
func TestRotateChannelTokenThroughTheClient(t *testing.T) {
	_, admin := gateway(t)
	ctx := context.Background()
	ch, err := admin.CreateChannel(ctx, client.CreateChannelRequest{Name: "rotating"})
	require.NoError(t, err)
	old := admin.WithToken(ch.Token)

	rot, err := old.RotateChannelToken(ctx, ch.ID, client.RotateTokenRequest{})
	require.NoError(t, err)
	require.NotEqual(t, ch.Token, rot.Token)
	require.NotNil(t, rot.PreviousTokenExpiresAt)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), *rot.PreviousTokenExpiresAt, time.Minute)
	_, err = old.GetChannel(ctx, ch.ID)
	require.NoError(t, err, "the old token works during the grace period")
	next := admin.WithToken(rot.Token)
	_, err = next.GetChannel(ctx, ch.ID)
	require.NoError(t, err)

	again, err := next.RotateChannelToken(ctx, ch.ID, client.RotateTokenRequest{GracePeriod: "0s"})
	require.NoError(t, err)
	require.Nil(t, again.PreviousTokenExpiresAt)
	_, err = next.GetChannel(ctx, ch.ID)
	var apiErr *client.Error
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusUnauthorized, apiErr.Status)
	_, err = admin.WithToken(again.Token).GetChannel(ctx, ch.ID)
	require.NoError(t, err)
}
