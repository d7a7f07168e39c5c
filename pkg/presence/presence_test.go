package presence_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/presence"
)

func TestPresenceSettingsDefaultOnline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, settings string
		online         bool
	}{
		{"no settings", `{}`, true},
		{"other settings only", `{"send_rate":"60/m"}`, true},
		{"online", `{"presence":{"online":true}}`, true},
		{"offline", `{"presence":{"online":false}}`, false},
		{"unreadable", `[]`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.online, presence.SettingsOf(json.RawMessage(tc.settings)).IsOnline())
		})
	}
}

func TestPresenceSettingParse(t *testing.T) {
	t.Parallel()
	got, err := presence.Parse(json.RawMessage(`{"online":false}`))
	require.NoError(t, err)
	require.JSONEq(t, `{"online":false}`, string(got))
	for _, bad := range []string{`{"onlin":true}`, `{"online":"yes"}`, `true`, `[]`} {
		_, err := presence.Parse(json.RawMessage(bad))
		require.Error(t, err, bad)
	}
}

func TestPresenceSubscribableChats(t *testing.T) {
	t.Parallel()
	require.True(t, presence.Subscribable("15550102030@s.whatsapp.net"))
	require.True(t, presence.Subscribable("98765432101234@lid"))
	require.False(t, presence.Subscribable("120363000000000001@g.us"))
	require.False(t, presence.Subscribable("status@broadcast"))
}
