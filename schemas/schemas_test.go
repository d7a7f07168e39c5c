package schemas_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/schemas"
)

func validator(t *testing.T) *schemas.Validator {
	t.Helper()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	return v
}

func TestEmbeddedFiles(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"openapi.yaml",
		"events/envelope.json",
		"events/connection.status_changed.json",
		"events/connection.qr.json",
		"events/connection.pairing_code.json",
		"commands/lifecycle.json",
		"commands/pair_phone.json",
		"commands/sim.json",
	} {
		_, err := fs.Stat(schemas.FS(), name)
		require.NoError(t, err, name)
	}
	require.NotEmpty(t, schemas.OpenAPI())
}

func TestSchemasCompile(t *testing.T) {
	t.Parallel()
	v := validator(t)
	require.Subset(t, v.EventTypes(), []string{event.ConnectionPairingCode, event.ConnectionQR, event.ConnectionStatusChanged})
	verbs := v.CommandVerbs()
	for _, verb := range command.All {
		require.Contains(t, verbs, verb, "verb %q has no schema in schemas/commands (x-wagate-verbs)", verb)
	}
}

func sampleEvent(t *testing.T, typ string, data any) []byte {
	t.Helper()
	ev, err := event.New(typ, ids.New(ids.Channel), 3, time.Now(), data)
	require.NoError(t, err)
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}

func TestEventsValidate(t *testing.T) {
	t.Parallel()
	v := validator(t)
	now := time.Now()
	for _, tc := range []struct {
		name string
		typ  string
		data any
	}{
		{"status changed", event.ConnectionStatusChanged, event.StatusChanged{From: state.QRPending, To: state.Authenticating, Reason: state.ReasonPaired, At: now}},
		{"status changed without reason", event.ConnectionStatusChanged, event.StatusChanged{From: state.Inactive, To: state.Initializing, At: now}},
		{"qr", event.ConnectionQR, event.QR{Code: "2@abc,def,ghi", ImagePNGBase64: "iVBORw0KGgo=", ExpiresAt: now.Add(time.Minute), Attempt: 1, MaxAttempts: 6}},
		{"pairing code", event.ConnectionPairingCode, event.PairingCode{Code: "ABCD-1234", Phone: "4915112345678", ExpiresAt: now.Add(3 * time.Minute)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, v.ValidateEvent(sampleEvent(t, tc.typ, tc.data)))
		})
	}
}

func TestEventsRejected(t *testing.T) {
	t.Parallel()
	v := validator(t)
	now := time.Now()
	good := func() map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sampleEvent(t, event.ConnectionQR, event.QR{Code: "c", ImagePNGBase64: "aQ==", ExpiresAt: now, Attempt: 1, MaxAttempts: 6}), &m))
		return m
	}
	for _, tc := range []struct {
		name   string
		change func(m map[string]any)
	}{
		{"id without evt_ prefix", func(m map[string]any) { m["id"] = "x_" + ids.At(now) }},
		{"created_at not RFC 3339", func(m map[string]any) { m["created_at"] = "yesterday" }},
		{"epoch a string", func(m map[string]any) { m["epoch"] = "3" }},
		{"unknown envelope member", func(m map[string]any) { m["sequence"] = 1 }},
		{"seq negative", func(m map[string]any) { m["seq"] = -1 }},
		{"data missing", func(m map[string]any) { delete(m, "data") }},
		{"qr attempt 0", func(m map[string]any) { m["data"].(map[string]any)["attempt"] = 0 }},
		{"qr without code", func(m map[string]any) { delete(m["data"].(map[string]any), "code") }},
		{"status changed data under the qr type", func(m map[string]any) {
			m["data"] = map[string]any{"from": "inactive", "to": "initializing", "reason": "", "at": now.Format(time.RFC3339)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.change(m)
			b, err := json.Marshal(m)
			require.NoError(t, err)
			require.Error(t, v.ValidateEvent(b))
		})
	}
	t.Run("unknown state", func(t *testing.T) {
		b := sampleEvent(t, event.ConnectionStatusChanged, event.StatusChanged{From: "sleeping", To: state.Active, At: now})
		require.Error(t, v.ValidateEvent(b))
	})
	t.Run("pairing code of the wrong shape", func(t *testing.T) {
		b := sampleEvent(t, event.ConnectionPairingCode, event.PairingCode{Code: "abcd1234", Phone: "4915112345678", ExpiresAt: now})
		require.Error(t, v.ValidateEvent(b))
	})
	t.Run("type without a schema", func(t *testing.T) {
		b := sampleEvent(t, "thing.happened", map[string]any{})
		require.ErrorIs(t, v.ValidateEvent(b), schemas.ErrNoSchema)
	})
}

func TestCommandsValidate(t *testing.T) {
	t.Parallel()
	v := validator(t)
	base := command.Envelope{RequestID: "req_" + ids.At(time.Now()), RequestedAt: time.Now().UTC()}
	encode := func(e command.Envelope) []byte {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		return b
	}
	for _, verb := range command.Lifecycle {
		require.NoError(t, v.ValidateCommand(verb, encode(base)), verb)
		require.NoError(t, v.ValidateCommand(verb, []byte(`{}`)), "apps may publish an empty body: %s", verb)
	}
	pair := base
	pair.Phone = "4915112345678"
	require.NoError(t, v.ValidateCommand(command.PairPhone, encode(pair)))
	sim := base
	sim.Action, sim.Args = "inbound", json.RawMessage(`{"from":"4915112345678","text":"hi"}`)
	require.NoError(t, v.ValidateCommand(command.Sim, encode(sim)))
	wake := base
	wake.MessageID = ids.New(ids.Message)
	require.NoError(t, v.ValidateCommand(command.Send, encode(wake)), "the API's wake-up")
	for _, body := range []string{
		`{"to":"+1 555 010 2030","type":"text","text":"hi"}`,
		`{"to":"120363025246125486@g.us","type":"image","media":{"url":"https://example.org/a.jpg","caption":"look"}}`,
		`{"to":"15550102030","type":"reply","text":"yes","reply_to":"msg_01hzzzzzzzzzzzzzzzzzzzzzzz"}`,
	} {
		require.NoError(t, v.ValidateCommand(command.Send, []byte(body)), "a message published straight to NATS: %s", body)
	}
	read := base
	read.Chat, read.MessageIDs = "15550102030", []string{"3EB0C0FFEE"}
	require.NoError(t, v.ValidateCommand(command.Read, encode(read)))
	for _, st := range []string{"available", "unavailable"} {
		p := base
		p.State = st
		require.NoError(t, v.ValidateCommand(command.Presence, encode(p)), st)
	}
	typing := base
	typing.State, typing.Chat = "composing", "15550102030"
	require.NoError(t, v.ValidateCommand(command.Presence, encode(typing)))

	dl := base
	dl.MessageID = ids.New(ids.Message)
	require.NoError(t, v.ValidateCommand(command.DownloadMedia, encode(dl)))
	require.NoError(t, v.ValidateCommand(command.DownloadMedia, []byte(`{"message_id":"msg_01hzzzzzzzzzzzzzzzzzzzzzzz"}`)))

	for _, tc := range []struct {
		name, verb, body string
	}{
		{"download_media without message id", command.DownloadMedia, `{}`},
		{"download_media with a bad message id", command.DownloadMedia, `{"message_id":"3EB0C0FFEE"}`},
		{"download_media with an unknown member", command.DownloadMedia, `{"message_id":"msg_01hzzzzzzzzzzzzzzzzzzzzzzz","chat":"15550102030"}`},
		{"pair_phone without phone", command.PairPhone, `{}`},
		{"pair_phone with a leading 0", command.PairPhone, `{"phone":"0151234567"}`},
		{"pair_phone with a plus", command.PairPhone, `{"phone":"+4915112345678"}`},
		{"sim without action", command.Sim, `{"args":{}}`},
		{"sim with an unknown action", command.Sim, `{"action":"explode"}`},
		{"sim args not an object", command.Sim, `{"action":"scan","args":[1]}`},
		{"start with an unknown member", command.Start, `{"phone":"4915112345678"}`},
		{"requested_at not a time", command.Stop, `{"requested_at":"now"}`},
		{"send without recipient", command.Send, `{"type":"text","text":"hi"}`},
		{"send text without text", command.Send, `{"to":"15550102030","type":"text"}`},
		{"send of an unknown type", command.Send, `{"to":"15550102030","type":"hologram"}`},
		{"wake-up with a bad message id", command.Send, `{"message_id":"42"}`},
		{"wake-up and message at once", command.Send, `{"message_id":"msg_01hzzzzzzzzzzzzzzzzzzzzzzz","to":"15550102030","type":"text","text":"hi"}`},
		{"read without message ids", command.Read, `{"chat":"15550102030","message_ids":[]}`},
		{"typing without a chat", command.Presence, `{"state":"composing"}`},
		{"presence of an unknown state", command.Presence, `{"state":"asleep"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, v.ValidateCommand(tc.verb, []byte(tc.body)))
		})
	}
	require.True(t, errors.Is(v.ValidateCommand("teleport", []byte(`{}`)), schemas.ErrNoSchema))
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	d, err := schemas.NewOpenAPIDocument()
	require.NoError(t, err)
	ops, err := schemas.Operations()
	require.NoError(t, err)
	require.Equal(t, ops, d.Operations())
	api, err := schemas.ServedBy("api")
	require.NoError(t, err)
	require.NotEmpty(t, api)
	require.Subset(t, ops, api)

	for _, tc := range []struct {
		method, path string
		want         schemas.Operation
	}{
		{"POST", "/v1/channels/bulk", schemas.Operation{Method: "POST", Path: "/v1/channels/bulk"}},
		{"GET", "/v1/channels/ch_x", schemas.Operation{Method: "GET", Path: "/v1/channels/{id}"}},
		{"GET", "/v1/channels/ch_x/qr", schemas.Operation{Method: "GET", Path: "/v1/channels/{id}/qr"}},
		{"POST", "/v1/sim/channels/ch_x/scan", schemas.Operation{Method: "POST", Path: "/v1/sim/channels/{id}/{action}"}},
	} {
		got, ok := d.Match(tc.method, tc.path)
		require.True(t, ok, tc.path)
		require.Equal(t, tc.want, got)
	}
	_, ok := d.Match("GET", "/v1/nothing")
	require.False(t, ok)

	errBody := []byte(`{"error":{"code":"channel_not_found","message":"no channel with this id"}}`)
	get := schemas.Operation{Method: "GET", Path: "/v1/channels/{id}"}
	require.NoError(t, d.CheckResponse(get, 404, "application/json; charset=utf-8", errBody))
	require.Error(t, d.CheckResponse(get, 404, "application/json", []byte(`{"code":"x"}`)), "not the error format")
	require.Error(t, d.CheckResponse(get, 200, "application/json", []byte(`{"id":"ch_x"}`)), "a channel misses members")
}
