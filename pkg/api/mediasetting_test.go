package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// settings.media.auto_download through PATCH /v1/channels/{id}: known
// types and a max_bytes within 0..2 GiB are stored; anything else is a
// 400 with a stable code naming the field, and changes nothing.
func TestMediaAutoDownloadSetting(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	r := b.post("/v1/channels", b.admin, map[string]any{"name": "Media", "driver": "sim"})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	path := "/v1/channels/" + r.json(t)["id"].(string)
	patch := func(body string) response {
		t.Helper()
		return b.do(req{method: http.MethodPatch, path: path, token: b.admin, body: body})
	}

	for _, tc := range []struct{ body, want string }{
		{`{"auto_download": {"types": ["image", "audio", "document", "video", "sticker"], "max_bytes": 1048576}}`,
			`{"auto_download": {"types": ["image", "audio", "document", "video", "sticker"], "max_bytes": 1048576}}`},
		{`{"auto_download": {"types": [], "max_bytes": 0}}`, `{"auto_download": {"types": [], "max_bytes": 0}}`},
		{`{"auto_download": {"types": ["video"], "max_bytes": 2147483648}}`, `{"auto_download": {"types": ["video"], "max_bytes": 2147483648}}`},
	} {
		r := patch(`{"settings": {"media": ` + tc.body + `}}`)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", tc.body, r.body)
		require.JSONEq(t, tc.want, string(mustJSON(t, r.json(t)["settings"].(map[string]any)["media"])), tc.body)
		g := b.get(path, b.admin)
		require.JSONEq(t, tc.want, string(mustJSON(t, g.json(t)["settings"].(map[string]any)["media"])), "read back: %s", tc.body)
	}

	before := b.snapshot()
	for _, tc := range []struct{ name, media, code, field string }{
		{"unknown type", `{"auto_download": {"types": ["image", "hologram"]}}`, "validation_failed", "settings.media.auto_download.types"},
		{"type in capitals", `{"auto_download": {"types": ["IMAGE"]}}`, "validation_failed", "settings.media.auto_download.types"},
		{"max_bytes negative", `{"auto_download": {"max_bytes": -1}}`, "validation_failed", "settings.media.auto_download.max_bytes"},
		{"max_bytes over 2 GiB", `{"auto_download": {"max_bytes": 2147483649}}`, "validation_failed", "settings.media.auto_download.max_bytes"},
		{"max_bytes a string", `{"auto_download": {"max_bytes": "1MB"}}`, "invalid_field_type", "settings.media"},
		{"max_bytes a fraction", `{"auto_download": {"max_bytes": 1.5}}`, "invalid_field_type", "settings.media"},
		{"types not a list", `{"auto_download": {"types": "image"}}`, "invalid_field_type", "settings.media"},
		{"type not a string", `{"auto_download": {"types": [1]}}`, "invalid_field_type", "settings.media"},
		{"unknown member", `{"auto_download": {"types": ["image"], "max_size": 10}}`, "invalid_field_type", "settings.media"},
		{"unknown media key", `{"auto_fetch": {}}`, "invalid_field_type", "settings.media"},
		{"media not an object", `true`, "invalid_field_type", "settings.media"},
		{"auto_download not an object", `{"auto_download": ["image"]}`, "invalid_field_type", "settings.media"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := patch(`{"settings": {"media": ` + tc.media + `}}`)
			require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			e := r.json(t)["error"].(map[string]any)
			require.Equal(t, tc.code, e["code"], "%s", r.body)
			require.Equal(t, map[string]any{"field": tc.field}, e["details"], "%s", r.body)
		})
	}
	require.Equal(t, before, b.snapshot(), "a refused setting changes nothing")

	r = patch(`{"settings": {"media": null}}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.NotContains(t, r.json(t)["settings"], "media")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
