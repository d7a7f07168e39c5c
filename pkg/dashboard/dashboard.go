package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

//go:embed static
var static embed.FS

// file is an embedded file with its validator.
type file struct {
	name  string
	data  []byte
	etag  string
	ctype string
}

// files are the embedded files by URL path ("/index.html", "/assets/app.js").
var files = func() map[string]*file {
	out := map[string]*file{}
	_ = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ctype := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".ico":
			ctype = "image/x-icon"
		case ".json":
			ctype = "application/json; charset=utf-8"
		case ".webmanifest":
			ctype = "application/manifest+json"
		}
		name := strings.TrimPrefix(p, "static")
		out[name] = &file{name: name, data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: ctype}
		return nil
	})
	return out
}()

// securityHeaders go on every dashboard response. Images may come from
// WhatsApp's CDN for profile pictures (the contact picture route answers
// their URLs there), which need no token.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https://pps.whatsapp.net; media-src blob:; " +
		"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"Referrer-Policy":        "no-referrer",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
}

// Mount serves the dashboard: / (the page), /assets/*, /favicon.ico and
// /dashboard/features. None of them needs a token: the page signs in
// against the API itself.
func Mount(r *gin.Engine, _ gin.HandlerFunc) {
	r.GET("/", servePage)
	r.HEAD("/", servePage)
	r.GET("/favicon.ico", serve("/favicon.ico"))
	r.GET("/assets/*file", func(c *gin.Context) { serve("/assets" + c.Param("file"))(c) })
	var once sync.Once
	var feats Features
	r.GET("/dashboard/features", func(c *gin.Context) {
		once.Do(func() { feats = featuresOf(r.Routes()) })
		setSecurity(c)
		c.Header("Cache-Control", "no-cache")
		c.JSON(http.StatusOK, feats)
	})
}

func setSecurity(c *gin.Context) {
	for k, v := range securityHeaders {
		c.Header(k, v)
	}
}

// serve answers with the embedded file name, revalidated by ETag.
func serve(name string) gin.HandlerFunc {
	return func(c *gin.Context) {
		f, ok := files[name]
		if !ok {
			c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": gin.H{
				"code": "route_not_found", "message": "no dashboard file " + name}})
			return
		}
		send(c, f)
	}
}

// servePage answers with the page in the language Accept-Language asks for.
func servePage(c *gin.Context) {
	l := Negotiate(c.GetHeader("Accept-Language"))
	h := c.Writer.Header()
	h.Set("Vary", "Accept-Language")
	h.Set("Content-Language", l)
	send(c, pages[l])
}

func send(c *gin.Context, f *file) {
	setSecurity(c)
	h := c.Writer.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	// Revalidate every time: a new binary brings new files under the
	// same names, and a 304 costs one round trip.
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(f.data))
}

// Features are the optional routes this server has; the page shows the
// parts they back only when they are there.
type Features struct {
	// Sim is true when the simulator controls exist (WAGATE_DRIVER=sim).
	Sim bool `json:"sim"`
	// Health, Usage and Messages are GET /v1/channels/{id}/health, /usage
	// and /messages.
	Health   bool `json:"health"`
	Usage    bool `json:"usage"`
	Messages bool `json:"messages"`
	// Webhooks is GET /v1/channels/{id}/webhooks; Deliveries the delivery
	// log of an endpoint; Replay POST …/webhooks/{wid}/replay.
	Webhooks   bool `json:"webhooks"`
	Deliveries bool `json:"deliveries"`
	Replay     bool `json:"replay"`
	// Streams is true when this server also relays events (cmd/gateway);
	// behind an ingress the dispatcher serves them on the same host.
	Streams bool `json:"streams"`
	// Send is POST /v1/channels/{id}/messages; Chats GET …/chats;
	// Contacts GET …/contacts; Check POST …/contacts/check.
	Send     bool `json:"send"`
	Chats    bool `json:"chats"`
	Contacts bool `json:"contacts"`
	Check    bool `json:"check"`
}

// featuresOf reads the features from the registered routes, whatever the
// names of their path parameters.
func featuresOf(routes gin.RoutesInfo) Features {
	have := map[string]bool{}
	for _, rt := range routes {
		have[rt.Method+" "+shape(rt.Path)] = true
	}
	return Features{
		Sim:        have["POST /v1/sim/channels/:/:"] || have["POST /v1/sim/channels/:/scan"],
		Health:     have["GET /v1/channels/:/health"],
		Usage:      have["GET /v1/channels/:/usage"],
		Messages:   have["GET /v1/channels/:/messages"],
		Webhooks:   have["GET /v1/channels/:/webhooks"],
		Deliveries: have["GET /v1/channels/:/webhooks/:/deliveries"],
		Replay:     have["POST /v1/channels/:/webhooks/:/replay"],
		Streams:    have["GET /v1/events"],
		Send:       have["POST /v1/channels/:/messages"],
		Chats:      have["GET /v1/channels/:/chats"],
		Contacts:   have["GET /v1/channels/:/contacts"],
		Check:      have["POST /v1/channels/:/contacts/check"],
	}
}

// shape replaces every parameter segment of a route path with ":".
func shape(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = ":"
		}
	}
	return strings.Join(parts, "/")
}
