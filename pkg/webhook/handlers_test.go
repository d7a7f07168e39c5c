package webhook_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Receiver URLs on loopback, private, link-local or metadata addresses, or
// on a name resolving to one, are refused at registration by default.
func TestRegistrationRefusesPrivateURLs(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: false})
	ch, token := b.channel(t)
	for _, u := range []string{
		"http://127.0.0.1/hook",
		"https://10.0.0.1/hook",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::1]:8080/hook",
		"http://localhost:9000/hook",
		"http://0.0.0.0/hook",
		"http://[::ffff:192.168.1.1]/hook",
	} {
		for _, path := range []string{"/v1/channels/" + ch + "/webhooks", "/v1/webhooks"} {
			var e apiError
			code := b.do(t, adminToken, http.MethodPost, path, map[string]any{"url": u}, &e)
			require.Equal(t, http.StatusBadRequest, code, u)
			require.Equal(t, "url_not_allowed", e.Error.Code, u)
			require.Equal(t, "url", e.Error.Details["field"])
		}
	}
	// The same holds when a URL is changed.
	var ok endpointAnswer
	require.Equal(t, http.StatusCreated, b.do(t, token, http.MethodPost, "/v1/channels/"+ch+"/webhooks", map[string]any{"url": "https://8.8.8.8/hook"}, &ok))
	var e apiError
	require.Equal(t, http.StatusBadRequest, b.do(t, token, http.MethodPatch, "/v1/channels/"+ch+"/webhooks/"+ok.ID, map[string]any{"url": "http://localhost/x"}, &e))
	require.Equal(t, "url_not_allowed", e.Error.Code)
}

func TestEndpointValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	path := "/v1/channels/" + ch + "/webhooks"
	long := "https://example.com/" + strings.Repeat("a", 2100)
	for _, tc := range []struct {
		name  string
		body  any
		code  string
		field string
	}{
		{"missing url", map[string]any{}, "validation_failed", "url"},
		{"ftp scheme", map[string]any{"url": "ftp://example.com/x"}, "validation_failed", "url"},
		{"relative url", map[string]any{"url": "/hook"}, "validation_failed", "url"},
		{"credentials in url", map[string]any{"url": "https://user:pw@example.com/x"}, "validation_failed", "url"},
		{"fragment", map[string]any{"url": "https://example.com/x#frag"}, "validation_failed", "url"},
		{"url too long", map[string]any{"url": long}, "validation_failed", "url"},
		{"space in url", map[string]any{"url": "https://example.com/a b"}, "validation_failed", "url"},
		{"unknown event type", map[string]any{"url": "https://127.0.0.1/x", "events": []string{"message.recieved"}}, "validation_failed", "events"},
		{"unknown category", map[string]any{"url": "https://127.0.0.1/x", "events": []string{"foo.*"}}, "validation_failed", "events"},
		{"bare wildcard suffix", map[string]any{"url": "https://127.0.0.1/x", "events": []string{"message*"}}, "validation_failed", "events"},
		{"hop-by-hop header", map[string]any{"url": "https://127.0.0.1/x", "headers": map[string]string{"Connection": "close"}}, "validation_failed", "headers"},
		{"host header", map[string]any{"url": "https://127.0.0.1/x", "headers": map[string]string{"host": "evil"}}, "validation_failed", "headers"},
		{"content-length header", map[string]any{"url": "https://127.0.0.1/x", "headers": map[string]string{"Content-Length": "1"}}, "validation_failed", "headers"},
		{"signature override", map[string]any{"url": "https://127.0.0.1/x", "headers": map[string]string{"Webhook-Signature": "v1,x"}}, "validation_failed", "headers"},
		{"bad header name", map[string]any{"url": "https://127.0.0.1/x", "headers": map[string]string{"X Bad": "v"}}, "validation_failed", "headers"},
		{"header value newline", map[string]any{"url": "https://127.0.0.1/x", "headers": map[string]string{"X-A": "a\r\nX-B: b"}}, "validation_failed", "headers"},
		{"enabled not a bool", `{"url": "https://127.0.0.1/x", "enabled": "yes"}`, "invalid_field_type", "enabled"},
		{"unknown field", map[string]any{"url": "https://127.0.0.1/x", "secret": "whsec_mine"}, "unknown_field", "secret"},
		{"not json", `{"url":`, "invalid_json", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			code := b.do(t, token, http.MethodPost, path, tc.body, &e)
			require.Equal(t, http.StatusBadRequest, code)
			require.Equal(t, tc.code, e.Error.Code, e.Error.Message)
			if tc.field != "" {
				require.Equal(t, tc.field, e.Error.Details["field"])
			}
		})
	}

	var ep endpointAnswer
	require.Equal(t, http.StatusCreated, b.do(t, token, http.MethodPost, path, map[string]any{
		"url": "http://127.0.0.1:9/hook?token=abc", "events": []string{"message.*", "message.*", "connection.qr"},
		"headers": map[string]string{"x-api-key": "k"},
	}, &ep))
	require.Equal(t, []string{"connection.qr", "message.*"}, ep.Events, "sorted, de-duplicated")
	require.Equal(t, map[string]string{"X-Api-Key": "k"}, ep.Headers, "canonical header names")
	require.Equal(t, ch, *ep.ChannelID)
	require.True(t, ep.Enabled)

	var upd endpointAnswer
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPatch, path+"/"+ep.ID, map[string]any{"events": []string{}, "enabled": false}, &upd))
	require.Equal(t, []string{"*"}, upd.Events, "empty filter means every event")
	require.False(t, upd.Enabled)
	require.Equal(t, "disabled through the API", upd.DisabledReason)
	var enabled endpointAnswer
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPatch, path+"/"+ep.ID, map[string]any{"enabled": true}, &enabled))
	require.True(t, enabled.Enabled)
	require.Empty(t, enabled.DisabledReason)

	var list struct {
		Data []endpointAnswer `json:"data"`
	}
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, path, nil, &list))
	require.Len(t, list.Data, 1)
	require.Empty(t, list.Data[0].Secret)

	var e apiError
	require.Equal(t, http.StatusBadRequest, b.do(t, token, http.MethodPost, path+"/"+ep.ID+"/rotate", map[string]any{"grace_period": "9999h"}, &e))
	require.Equal(t, "grace_period", e.Error.Details["field"])
	require.Equal(t, http.StatusBadRequest, b.do(t, token, http.MethodPost, path+"/"+ep.ID+"/replay", map[string]any{}, &e))
	require.Equal(t, http.StatusBadRequest, b.do(t, token, http.MethodGet, path+"/"+ep.ID+"/deliveries?status=lost", nil, &e))
	require.Equal(t, "status", e.Error.Details["field"])
	require.Equal(t, http.StatusBadRequest, b.do(t, token, http.MethodGet, path+"/"+ep.ID+"/deliveries?limit=0", nil, &e))

	require.Equal(t, http.StatusNoContent, b.do(t, token, http.MethodDelete, path+"/"+ep.ID, nil, nil))
	require.Equal(t, http.StatusNotFound, b.do(t, token, http.MethodGet, path+"/"+ep.ID, nil, &e))
	require.Equal(t, "webhook_not_found", e.Error.Code)
	require.Equal(t, http.StatusNotFound, b.do(t, token, http.MethodDelete, path+"/"+ep.ID, nil, &e))
}

// Channel tokens reach only their channel's endpoints; admin-level
// endpoints need the admin token; an unknown channel is 404 for the admin.
func TestEndpointScopes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	chA, tokA := b.channel(t)
	chB, tokB := b.channel(t)
	epA := b.endpoint(t, chA, map[string]any{"url": "https://127.0.0.1/a"})
	adminEP := b.endpoint(t, "", map[string]any{"url": "https://127.0.0.1/admin"})
	require.Nil(t, adminEP.ChannelID)

	var e apiError
	// Another channel's token.
	require.Equal(t, http.StatusUnauthorized, b.do(t, tokB, http.MethodGet, "/v1/channels/"+chA+"/webhooks", nil, &e))
	// The endpoint of channel A is not found under channel B.
	require.Equal(t, http.StatusNotFound, b.do(t, tokB, http.MethodGet, "/v1/channels/"+chB+"/webhooks/"+epA.ID, nil, &e))
	require.Equal(t, "webhook_not_found", e.Error.Code)
	// Nor under the admin-level routes, nor an admin endpoint under a channel.
	require.Equal(t, http.StatusNotFound, b.do(t, adminToken, http.MethodGet, "/v1/webhooks/"+epA.ID, nil, &e))
	require.Equal(t, http.StatusNotFound, b.do(t, tokA, http.MethodGet, "/v1/channels/"+chA+"/webhooks/"+adminEP.ID, nil, &e))
	// Admin routes refuse channel tokens.
	require.Equal(t, http.StatusUnauthorized, b.do(t, tokA, http.MethodGet, "/v1/webhooks", nil, &e))
	require.Equal(t, http.StatusUnauthorized, b.do(t, tokA, http.MethodGet, "/v1/webhooks/dead-letters", nil, &e))
	require.Equal(t, http.StatusUnauthorized, b.do(t, "", http.MethodGet, "/v1/channels/"+chA+"/webhooks", nil, &e))
	// Unknown channel.
	require.Equal(t, http.StatusNotFound, b.do(t, adminToken, http.MethodGet, "/v1/channels/ch_nope/webhooks", nil, &e))
	require.Equal(t, "channel_not_found", e.Error.Code)

	var list struct {
		Data []endpointAnswer `json:"data"`
	}
	require.Equal(t, http.StatusOK, b.do(t, adminToken, http.MethodGet, "/v1/webhooks", nil, &list))
	require.Len(t, list.Data, 1)
	require.Equal(t, adminEP.ID, list.Data[0].ID)
	require.Equal(t, http.StatusOK, b.do(t, tokA, http.MethodGet, "/v1/channels/"+chA+"/webhooks", nil, &list))
	require.Len(t, list.Data, 1)
	require.Equal(t, epA.ID, list.Data[0].ID)

	// At most 20 endpoints per scope.
	for range 19 {
		b.endpoint(t, chA, map[string]any{"url": "https://127.0.0.1/more"})
	}
	require.Equal(t, http.StatusConflict, b.do(t, tokA, http.MethodPost, "/v1/channels/"+chA+"/webhooks", map[string]any{"url": "https://127.0.0.1/x"}, &e))
	require.Equal(t, "webhook_limit_reached", e.Error.Code)
	b.endpoint(t, chB, map[string]any{"url": "https://127.0.0.1/b"})
}
