package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/dashboard"
)

func engine(extra func(*gin.Engine)) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	if extra != nil {
		extra(e)
	}
	dashboard.Mount(e, func(c *gin.Context) { c.Next() })
	return e
}

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestServesTheEmbeddedFiles(t *testing.T) {
	t.Parallel()
	e := engine(nil)
	cases := []struct {
		path, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script type="module" src="/assets/app.js">`},
		{"/assets/app.js", "text/javascript; charset=utf-8", "class App"},
		{"/assets/app.css", "text/css; charset=utf-8", ".badge"},
		{"/assets/favicon.svg", "image/svg+xml", "<svg"},
		{"/favicon.ico", "image/x-icon", "PNG"},
		{"/assets/manifest.webmanifest", "application/manifest+json", `"wagate"`},
	}
	for _, tc := range cases {
		rec := get(t, e, tc.path, nil)
		require.Equal(t, http.StatusOK, rec.Code, tc.path)
		assert.Equal(t, tc.ctype, rec.Header().Get("Content-Type"), tc.path)
		assert.Contains(t, rec.Body.String(), tc.contains, tc.path)
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "script-src 'self'", tc.path)
		// Images: the page's own, data and blob URLs (media fetched with
		// the token), and profile pictures on WhatsApp's CDN alone.
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "img-src 'self' data: blob: https://pps.whatsapp.net;", tc.path)
		assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"), tc.path)
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), tc.path)
	}

	t.Run("revalidation answers 304", func(t *testing.T) {
		first := get(t, e, "/assets/app.js", nil)
		etag := first.Header().Get("ETag")
		require.NotEmpty(t, etag)
		again := get(t, e, "/assets/app.js", map[string]string{"If-None-Match": etag})
		assert.Equal(t, http.StatusNotModified, again.Code)
	})
	t.Run("an unknown asset is a 404 in the error format", func(t *testing.T) {
		rec := get(t, e, "/assets/missing.js", nil)
		assert.Equal(t, http.StatusNotFound, rec.Code)
		assert.Contains(t, rec.Body.String(), `"code":"route_not_found"`)
	})
	t.Run("no file loads from elsewhere", func(t *testing.T) {
		body := get(t, e, "/", nil).Body.String()
		assert.NotContains(t, body, "http://")
		assert.NotContains(t, body, "https://")
		assert.NotContains(t, body, "style=", "inline styles would break the CSP")
		assert.False(t, strings.Contains(body, "<script>"), "inline scripts would break the CSP")
	})
}

func TestFeaturesFollowTheMountedRoutes(t *testing.T) {
	t.Parallel()
	none := get(t, engine(nil), "/dashboard/features", nil)
	require.Equal(t, http.StatusOK, none.Code)
	assert.JSONEq(t, `{"sim":false,"health":false,"usage":false,"messages":false,"webhooks":false,"deliveries":false,"replay":false,"streams":false,"send":false,"chats":false,"contacts":false,"check":false}`, none.Body.String())

	h := func(*gin.Context) {}
	all := engine(func(e *gin.Engine) {
		e.POST("/v1/sim/channels/:id/:action", h)
		e.GET("/v1/channels/:id/health", h)
		e.GET("/v1/channels/:id/usage", h)
		e.GET("/v1/channels/:id/messages", h)
		g := e.Group("/v1/channels/:id/webhooks")
		g.GET("", h)
		g.GET("/:wid/deliveries", h)
		g.POST("/:wid/replay", h)
		e.GET("/v1/events", h)
		e.POST("/v1/channels/:id/messages", h)
		e.GET("/v1/channels/:id/chats", h)
		e.GET("/v1/channels/:id/contacts", h)
		e.POST("/v1/channels/:id/contacts/check", h)
	})
	rec := get(t, all, "/dashboard/features", nil)
	assert.JSONEq(t, `{"sim":true,"health":true,"usage":true,"messages":true,"webhooks":true,"deliveries":true,"replay":true,"streams":true,"send":true,"chats":true,"contacts":true,"check":true}`, rec.Body.String())
}
