package calls_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/calls"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestOffers(t *testing.T) {
	t.Parallel()
	for status, offer := range map[string]bool{"": true, "offer": true, "offer_notice": true, "accept": false, "reject": false, "terminate": false} {
		require.Equal(t, offer, calls.Offer{ID: "C1", From: "15551234567@s.whatsapp.net", Status: status}.IsOffer(), status)
	}
	require.False(t, calls.Offer{From: "15551234567@s.whatsapp.net"}.IsOffer(), "no id")
}

func TestSettings(t *testing.T) {
	t.Parallel()
	require.Equal(t, calls.Settings{Reject: true, Reply: "hi"}, calls.SettingsOf(json.RawMessage(`{"reject_calls":true,"reject_calls_reply":"hi","send_rate":"1/m"}`)))
	require.Equal(t, calls.Settings{}, calls.SettingsOf(json.RawMessage(`{}`)))
	require.NoError(t, calls.ValidReply("Please write instead."))
	for _, bad := range []string{"", "   ", strings.Repeat("x", calls.MaxReplyLength+1), "a\x00b"} {
		require.Error(t, calls.ValidReply(bad), "%q", bad)
	}
}

func TestCallerRemembered(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	keys := names.NewRedis(prefix)
	ctx := context.Background()
	_, _, err := calls.Caller(ctx, rdb, keys, "ch_a", "C1")
	require.ErrorIs(t, err, calls.ErrCallNotFound)
	require.NoError(t, calls.Remember(ctx, rdb, keys, "ch_a", "C1", "15551234567@s.whatsapp.net", ""))
	from, lid, err := calls.Caller(ctx, rdb, keys, "ch_a", "C1")
	require.NoError(t, err)
	require.Equal(t, "15551234567@s.whatsapp.net", from)
	require.Empty(t, lid)
	require.NoError(t, calls.Remember(ctx, rdb, keys, "ch_a", "C2", "15551234567@s.whatsapp.net", "99887766554433@lid"))
	from, lid, err = calls.Caller(ctx, rdb, keys, "ch_a", "C2")
	require.NoError(t, err)
	require.Equal(t, "15551234567@s.whatsapp.net", from)
	require.Equal(t, "99887766554433@lid", lid, "the LID of a call addressed by LID is kept")
	_, _, err = calls.Caller(ctx, rdb, keys, "ch_b", "C1")
	require.ErrorIs(t, err, calls.ErrCallNotFound, "per channel")
}

type rejecter struct{ from, id string }

func (r *rejecter) RejectCall(_ context.Context, from, id string) error {
	r.from, r.id = from, id
	return nil
}

func TestRejectMethod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := &rejecter{}
	res, err := calls.Methods[calls.MethodReject](ctx, r, json.RawMessage(`{"call_id":"C1","from":"15551234567@s.whatsapp.net"}`))
	require.NoError(t, err)
	rej := res.(calls.Rejected)
	require.Equal(t, "api", rej.By)
	require.Equal(t, "C1", r.id)
	typ, _ := rej.Event()
	require.Equal(t, "call.rejected", typ)

	_, err = calls.Methods[calls.MethodReject](ctx, struct{}{}, json.RawMessage(`{"call_id":"C1","from":"x"}`))
	require.Equal(t, groups.CodeNotSupported, groups.ErrorOf(err).Code)
	_, err = calls.Methods[calls.MethodReject](ctx, r, json.RawMessage(`{"call_id":"C1"}`))
	require.Equal(t, groups.CodeInvalidRequest, groups.ErrorOf(err).Code)
	_, err = calls.Methods[calls.MethodReject](ctx, r, json.RawMessage(`{"call":"C1"}`))
	require.Equal(t, groups.CodeInvalidRequest, groups.ErrorOf(err).Code)
}
