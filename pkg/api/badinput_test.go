package api_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/api"
)

// TestBadInput sends requests that must fail with a clear 4xx and a stable
// code, and checks that none of them wrote to Postgres or NATS.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	a := b.create("A", "")
	other := b.create("B", "sim")
	chA := "/v1/channels/" + a.ID

	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	ids501 := make([]string, 501)
	for i := range ids501 {
		ids501[i] = "ch_x"
	}

	for _, tc := range []struct {
		name   string
		req    req
		status int
		code   string
	}{
		// Bodies.
		{"malformed JSON", req{method: "POST", path: "/v1/channels", body: `{"name":`}, 400, "invalid_json"},
		{"JSON with unquoted keys", req{method: "POST", path: "/v1/channels", body: `{name: "x"}`}, 400, "invalid_json"},
		{"empty body", req{method: "POST", path: "/v1/channels", body: ``}, 400, "invalid_json"},
		{"trailing data", req{method: "POST", path: "/v1/channels", body: `{"name":"a"} {"name":"b"}`}, 400, "invalid_json"},
		{"body an array", req{method: "POST", path: "/v1/channels", body: `[]`}, 400, "invalid_field_type"},
		{"name a number", req{method: "POST", path: "/v1/channels", body: `{"name": 5}`}, 400, "invalid_field_type"},
		{"driver a boolean", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "driver": true}`}, 400, "invalid_field_type"},
		{"settings a string", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": "fast"}`}, 400, "invalid_field_type"},
		{"warmup_days a string", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"warmup_days": "7"}}`}, 400, "invalid_field_type"},
		{"typing_ms a fraction", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"typing_ms": 1.5}}`}, 400, "invalid_field_type"},
		{"send_rate a number", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"send_rate": 60}}`}, 400, "invalid_field_type"},
		{"unknown field", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "colour": "red"}`}, 400, "unknown_field"},
		{"unknown setting", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"turbo": true}}`}, 400, "unknown_field"},
		{"missing name", req{method: "POST", path: "/v1/channels", body: `{}`}, 400, "validation_failed"},
		{"blank name", req{method: "POST", path: "/v1/channels", body: `{"name": "   "}`}, 400, "validation_failed"},
		{"name too long", req{method: "POST", path: "/v1/channels", body: `{"name": "` + strings.Repeat("é", 101) + `"}`}, 400, "validation_failed"},
		{"name with a control character", req{method: "POST", path: "/v1/channels", body: `{"name": "a\u0007b"}`}, 400, "validation_failed"},
		{"unknown driver", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "driver": "telegram"}`}, 400, "validation_failed"},
		{"send_rate unparsable", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"send_rate": "fast"}}`}, 400, "validation_failed"},
		{"warmup_days out of range", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"warmup_days": 366}}`}, 400, "validation_failed"},
		{"typing_ms negative", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"typing_ms": -1}}`}, 400, "validation_failed"},
		{"presence not an object", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"presence": true}}`}, 400, "validation_failed"},
		{"presence with an unknown key", req{method: "POST", path: "/v1/channels", body: `{"name": "a", "settings": {"presence": {"onlin": false}}}`}, 400, "validation_failed"},
		{"oversize body", req{method: "POST", path: "/v1/channels", body: big}, 413, "body_too_large"},
		{"oversize body without a length", req{method: "POST", path: "/v1/channels", body: io.MultiReader(strings.NewReader(big))}, 413, "body_too_large"},
		{"not JSON", req{method: "POST", path: "/v1/channels", body: `{"name":"a"}`, header: map[string]string{"Content-Type": "text/plain"}}, 415, "unsupported_media_type"},
		{"patch name a number", req{method: "PATCH", path: chA, body: `{"name": 1}`}, 400, "invalid_field_type"},
		{"patch blank name", req{method: "PATCH", path: chA, body: `{"name": ""}`}, 400, "validation_failed"},
		{"patch unknown field", req{method: "PATCH", path: chA, body: `{"token": "x"}`}, 400, "unknown_field"},
		{"patch bad setting after a good one", req{method: "PATCH", path: chA, body: `{"name": "new", "settings": {"send_rate": "1/s", "warmup_days": 1000}}`}, 400, "validation_failed"},
		{"patch oversize", req{method: "PATCH", path: chA, body: big}, 413, "body_too_large"},

		// Query parameters.
		{"limit zero", req{method: "GET", path: "/v1/channels?limit=0"}, 400, "validation_failed"},
		{"limit too large", req{method: "GET", path: "/v1/channels?limit=501"}, 400, "validation_failed"},
		{"limit not a number", req{method: "GET", path: "/v1/channels?limit=ten"}, 400, "validation_failed"},
		{"unknown state", req{method: "GET", path: "/v1/channels?state=sleeping"}, 400, "validation_failed"},
		{"history before not a number", req{method: "GET", path: chA + "/history?before=x"}, 400, "validation_failed"},

		// Commands.
		{"idempotency key with spaces", req{method: "POST", path: chA + "/start", header: map[string]string{api.HeaderIdempotencyKey: "a b"}}, 400, "validation_failed"},
		{"idempotency key too long", req{method: "POST", path: chA + "/stop", header: map[string]string{api.HeaderIdempotencyKey: strings.Repeat("k", 256)}}, 400, "validation_failed"},
		{"bulk without action", req{method: "POST", path: "/v1/channels/bulk", body: `{"ids": ["` + a.ID + `"]}`}, 400, "validation_failed"},
		{"bulk unknown action", req{method: "POST", path: "/v1/channels/bulk", body: `{"action": "explode", "ids": ["` + a.ID + `"]}`}, 400, "validation_failed"},
		{"bulk pair_phone is no lifecycle action", req{method: "POST", path: "/v1/channels/bulk", body: `{"action": "pair_phone", "ids": ["` + a.ID + `"]}`}, 400, "validation_failed"},
		{"bulk without ids", req{method: "POST", path: "/v1/channels/bulk", body: `{"action": "start"}`}, 400, "validation_failed"},
		{"bulk empty ids", req{method: "POST", path: "/v1/channels/bulk", body: `{"action": "start", "ids": []}`}, 400, "validation_failed"},
		{"bulk 501 ids", req{method: "POST", path: "/v1/channels/bulk", body: map[string]any{"action": "start", "ids": ids501}}, 400, "validation_failed"},
		{"bulk ids not strings", req{method: "POST", path: "/v1/channels/bulk", body: `{"action": "start", "ids": [1]}`}, 400, "invalid_field_type"},
		{"bulk ids a string", req{method: "POST", path: "/v1/channels/bulk", body: `{"action": "start", "ids": "` + a.ID + `"}`}, 400, "invalid_field_type"},
		{"pair-phone without phone", req{method: "POST", path: chA + "/pair-phone", body: `{}`}, 400, "validation_failed"},
		{"pair-phone phone a number", req{method: "POST", path: chA + "/pair-phone", body: `{"phone": 4915112345678}`}, 400, "invalid_field_type"},
		{"pair-phone letters", req{method: "POST", path: chA + "/pair-phone", body: `{"phone": "+49 151 CALLME"}`}, 400, "validation_failed"},
		{"pair-phone too short", req{method: "POST", path: chA + "/pair-phone", body: `{"phone": "+49 151"}`}, 400, "validation_failed"},
		{"pair-phone too long", req{method: "POST", path: chA + "/pair-phone", body: `{"phone": "+49 1511 2345 6789 01"}`}, 400, "validation_failed"},
		{"pair-phone leading 0", req{method: "POST", path: chA + "/pair-phone", body: `{"phone": "0151 2345678"}`}, 400, "validation_failed"},
		{"pair-phone brackets", req{method: "POST", path: chA + "/pair-phone", body: `{"phone": "+49 (151) 2345678"}`}, 400, "validation_failed"},
		{"sim unknown action", req{method: "POST", path: "/v1/sim/channels/" + other.ID + "/explode", body: `{}`}, 400, "unknown_action"},
		{"sim on a whatsmeow channel", req{method: "POST", path: "/v1/sim/channels/" + a.ID + "/scan", body: `{}`}, 409, "not_simulated"},
		{"sim args an array", req{method: "POST", path: "/v1/sim/channels/" + other.ID + "/inbound", body: `[1]`}, 400, "invalid_field_type"},
		{"sim malformed args", req{method: "POST", path: "/v1/sim/channels/" + other.ID + "/inbound", body: `{"text":`}, 400, "invalid_json"},
		{"sim unknown argument", req{method: "POST", path: "/v1/sim/channels/" + other.ID + "/inbound", body: `{"form":"4915112345678"}`}, 400, "invalid_body"},
		{"sim argument of the wrong type", req{method: "POST", path: "/v1/sim/channels/" + other.ID + "/ban", body: `{"seconds":"soon"}`}, 400, "invalid_body"},
		{"sim argument out of range", req{method: "POST", path: "/v1/sim/channels/" + other.ID + "/send_failure", body: `{"code":200}`}, 400, "invalid_body"},
		{"sim arguments to an action without any", req{method: "POST", path: "/v1/sim/channels/" + other.ID + "/disconnect", body: `{"now":true}`}, 400, "invalid_body"},

		// Channels that do not exist.
		{"unknown channel", req{method: "GET", path: "/v1/channels/ch_nope"}, 404, "channel_not_found"},
		{"start an unknown channel", req{method: "POST", path: "/v1/channels/ch_nope/start"}, 404, "channel_not_found"},
		{"delete an unknown channel", req{method: "DELETE", path: "/v1/channels/ch_nope"}, 404, "channel_not_found"},
		{"patch an unknown channel", req{method: "PATCH", path: "/v1/channels/ch_nope", body: `{"name":"x"}`}, 404, "channel_not_found"},
		{"qr of an unknown channel", req{method: "GET", path: "/v1/channels/ch_nope/qr"}, 404, "channel_not_found"},
		{"sim on an unknown channel", req{method: "POST", path: "/v1/sim/channels/ch_nope/scan"}, 404, "channel_not_found"},

		// Tokens.
		{"missing token", req{method: "GET", path: chA, token: "-"}, 401, "unauthorized"},
		{"wrong token", req{method: "GET", path: chA, token: "wgc_guess"}, 401, "unauthorized"},
		{"basic auth", req{method: "GET", path: chA, token: "-", header: map[string]string{"Authorization": "Basic YWRtaW46eA=="}}, 401, "unauthorized"},
		{"another channel's token", req{method: "GET", path: chA, token: other.Token}, 401, "unauthorized"},
		{"another channel's token on a command", req{method: "POST", path: chA + "/start", token: other.Token}, 401, "unauthorized"},
		{"another channel's token on delete", req{method: "DELETE", path: chA, token: other.Token}, 401, "unauthorized"},
		{"another channel's token on sim", req{method: "POST", path: "/v1/sim/channels/" + a.ID + "/scan", token: other.Token}, 401, "unauthorized"},
		{"channel token on an unknown channel", req{method: "GET", path: "/v1/channels/ch_nope", token: a.Token}, 401, "unauthorized"},
		{"channel token lists channels", req{method: "GET", path: "/v1/channels", token: a.Token}, 401, "unauthorized"},
		{"channel token creates a channel", req{method: "POST", path: "/v1/channels", token: a.Token, body: `{"name":"x"}`}, 401, "unauthorized"},
		{"channel token bulk", req{method: "POST", path: "/v1/channels/bulk", token: a.Token, body: `{"action":"stop","ids":["` + a.ID + `"]}`}, 401, "unauthorized"},

		// Routes.
		{"unknown route", req{method: "GET", path: "/v1/nothing"}, 404, "route_not_found"},
		{"trailing slash", req{method: "GET", path: "/v1/channels/"}, 404, "route_not_found"},
		{"wrong method", req{method: "PUT", path: chA, body: `{}`}, 405, "method_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch tc.req.token {
			case "":
				tc.req.token = b.admin
			case "-":
				tc.req.token = ""
			}
			snap, seq := b.snapshot(), b.published()
			r := b.do(tc.req)
			require.Equal(t, tc.status, r.status, "%s", r.body)
			require.Equal(t, tc.code, r.code(t), "%s", r.body)
			msg := r.json(t)["error"].(map[string]any)["message"].(string)
			require.NotEmpty(t, msg)
			require.Equal(t, snap, b.snapshot(), "nothing written to Postgres")
			require.Equal(t, seq, b.published(), "no command published")
		})
	}

	t.Run("wrong method lists the allowed ones", func(t *testing.T) {
		r := b.do(req{method: "PUT", path: chA, token: b.admin})
		require.Equal(t, "DELETE, GET, PATCH", sortedAllow(r.header.Get("Allow")))
	})
	t.Run("validation errors name the field", func(t *testing.T) {
		r := b.post("/v1/channels", b.admin, `{"name":"a","settings":{"warmup_days":"7"}}`)
		require.Equal(t, map[string]any{"field": "settings.warmup_days"}, r.json(t)["error"].(map[string]any)["details"])
		r = b.post("/v1/channels", b.admin, `{"name":5}`)
		require.Equal(t, map[string]any{"field": "name"}, r.json(t)["error"].(map[string]any)["details"])
	})
	t.Run("a body at the limit is accepted", func(t *testing.T) {
		name := strings.Repeat("n", 100)
		body := `{"name":"` + name + `"}`
		body += strings.Repeat(" ", 1<<20-len(body))
		r := b.post("/v1/channels", b.admin, bytes.NewReader([]byte(body)))
		require.Equal(t, http.StatusCreated, r.status, "%.200s", r.body)
	})
}

func sortedAllow(h string) string {
	parts := strings.Split(h, ", ")
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
