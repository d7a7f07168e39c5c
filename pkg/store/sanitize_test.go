package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestSanitizeText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x00b", "ab"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"\xed\xa0\x80 lone surrogate", "\uFFFD lone surrogate"},
	} {
		require.Equal(t, tc.want, store.SanitizeText(tc.in), "%q", tc.in)
	}
	raw := json.RawMessage(`{"text":"hi\u0000there","k\u0000":["\u0000"],"n":12345678901234567890}`)
	require.JSONEq(t, `{"text":"hithere","k":[""],"n":12345678901234567890}`, string(store.SanitizeJSON(raw)))
	ok := json.RawMessage(`{"text":"fine"}`)
	require.Equal(t, ok, store.SanitizeJSON(ok))
}

// An inbound message whose text Postgres refuses (U+0000, invalid UTF-8)
// is recorded sanitized instead of being lost.
func TestRecordInboundSanitizesUnstorableText(t *testing.T) {
	t.Parallel()
	st, _ := testenv.Store(t, 1)
	ctx := context.Background()
	ch := ids.New(ids.Channel)
	require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: ch, Name: "in", TokenHash: []byte(ch), Shard: 0, Driver: "sim"}))
	body, err := json.Marshal(map[string]string{"text": "nul\x00 and \xff bad"})
	require.NoError(t, err)
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: ch, Chat: "15550001111@s.whatsapp.net",
		Sender: "15550001111\x00@s.whatsapp.net", Type: "text", Body: body, WAID: "WA1", CreatedAt: time.Now()}
	created, err := st.RecordInbound(ctx, m)
	require.NoError(t, err)
	require.True(t, created)
	got, err := st.ListMessages(ctx, ch, store.MessageFilter{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.JSONEq(t, `{"text":"nul and \ufffd bad"}`, string(got[0].Body))
	require.Equal(t, "15550001111@s.whatsapp.net", got[0].Sender)
}
