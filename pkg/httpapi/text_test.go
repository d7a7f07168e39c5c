package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/httpapi"
)

// Text Postgres cannot store is refused at decoding with 400 invalid_text
// naming the field; the rest decodes as before.
func TestDecodeRefusesUnstorableText(t *testing.T) {
	t.Parallel()
	type inner struct {
		Name string `json:"name"`
	}
	type body struct {
		Text     string            `json:"text"`
		Headers  map[string]string `json:"headers"`
		Items    []inner           `json:"items"`
		Settings json.RawMessage   `json:"settings"`
	}
	for _, tc := range []struct {
		name, body, field string
	}{
		{"NUL in a string", `{"text":"a\u0000b"}`, "text"},
		{"NUL in a nested string", `{"items":[{"name":"x"},{"name":"\u0000"}]}`, "items[1].name"},
		{"NUL in a map key", `{"headers":{"k\u0000":"v"}}`, "headers (a key)"},
		{"NUL in raw JSON", `{"settings":{"a":["\u0000"]}}`, "settings.a[0]"},
		{"lone high surrogate", `{"text":"\ud800"}`, "the body"},
		{"lone low surrogate", `{"text":"x\udc00"}`, "the body"},
		{"high surrogate then text", `{"text":"\ud800\u0041"}`, "the body"},
		{"invalid UTF-8", "{\"text\":\"\xff\"}", "the body"},
		{"fine", `{"text":"emoji \ud83d\ude00, an escaped \\ud800 and \\u0000 as text"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v body
			e := httpapi.Decode([]byte(tc.body), &v)
			if tc.field == "" {
				require.Nil(t, e)
				require.Equal(t, "emoji 😀, an escaped \\ud800 and \\u0000 as text", v.Text)
				return
			}
			require.NotNil(t, e)
			require.Equal(t, http.StatusBadRequest, e.Status)
			require.Equal(t, "invalid_text", e.Code)
			require.Equal(t, map[string]string{"field": tc.field}, e.Details)
		})
	}
}

// A NUL or invalid UTF-8 in the path or a query parameter (a cursor such
// as ?before=msg_%00) answers 400 before any handler runs.
func TestCheckQueryRefusesUnstorableText(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(httpapi.CheckQuery())
	e.GET("/v1/channels/:id/messages", func(c *gin.Context) { c.Status(http.StatusOK) })
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v1/channels/ch_1/messages?before=msg_x", http.StatusOK},
		{"/v1/channels/ch_1/messages?before=msg_%00", http.StatusBadRequest},
		{"/v1/channels/ch_1/messages?chat=%ff", http.StatusBadRequest},
		{"/v1/channels/ch_1/messages?%00=x", http.StatusBadRequest},
		{"/v1/channels/ch_%00/messages", http.StatusBadRequest},
	} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
		require.Equal(t, tc.want, w.Code, "%s: %s", tc.path, w.Body)
		if tc.want == http.StatusBadRequest {
			require.Contains(t, w.Body.String(), `"code":"invalid_text"`)
		}
	}
}
