package app_test

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/api"
	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/blocklist/blocklistapi"
	"github.com/wagate/wagate/pkg/calls/callsapi"
	"github.com/wagate/wagate/pkg/chats/chatsapi"
	"github.com/wagate/wagate/pkg/contacts/contactsapi"
	"github.com/wagate/wagate/pkg/dashboard"
	"github.com/wagate/wagate/pkg/media/mediaapi"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/ownerclient"
	"github.com/wagate/wagate/pkg/relay"
	"github.com/wagate/wagate/pkg/webhook"
	"github.com/wagate/wagate/schemas"
)

// openAPIRoute turns a Gin route into its OpenAPI form: /v1/channels/:id
// → /v1/channels/{id}, /assets/*file → /assets/{file}.
func openAPIRoute(method, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

type routeSet map[string]bool

func routesOf(e *gin.Engine) routeSet {
	out := routeSet{}
	for _, r := range e.Routes() {
		out[openAPIRoute(r.Method, r.Path)] = true
	}
	return out
}

// mounted lists the routes that mounts add to an empty engine.
func mounted(mounts ...app.Mount) routeSet {
	e := gin.New()
	pass := func(c *gin.Context) { c.Next() }
	for _, m := range mounts {
		m(e, pass)
	}
	return routesOf(e)
}

func (s routeSet) minus(others ...routeSet) routeSet {
	out := routeSet{}
	for r := range s {
		if !slices.ContainsFunc(others, func(o routeSet) bool { return o[r] }) {
			out[r] = true
		}
	}
	return out
}

func (s routeSet) sorted() []string { return slices.Sorted(maps.Keys(s)) }

// documented lists the operations of openapi.yaml, all of them or those
// one part serves.
func documented(t *testing.T, part string) routeSet {
	t.Helper()
	ops, err := schemas.Operations()
	if part != "" {
		ops, err = schemas.ServedBy(part)
	}
	require.NoError(t, err)
	out := routeSet{}
	for _, op := range ops {
		out[op.String()] = true
	}
	return out
}

// TestGatewayRoutesMatchOpenAPI compares every route of a running gateway
// — the API's own, the parts mounted on its engine (messaging, webhooks,
// stream tokens, groups) and the dispatcher's streams — with the
// operations of schemas/openapi.yaml, in both directions, and checks that
// each operation names the part that serves it in x-wagate-served-by. The
// dashboard's pages and assets are not API and stay out of the document.
func TestGatewayRoutesMatchOpenAPI(t *testing.T) {
	g := startGateway(t, gatewayEnv(t))
	t.Cleanup(g.Stop)

	served := routesOf(g.API.Engine())
	dash := mounted(dashboard.Mount)
	require.NotEmpty(t, dash)
	disp, err := app.NewDispatcher(g.Deps)
	require.NoError(t, err)
	dispatcher := mounted(disp.Mounts...)
	require.NotEmpty(t, dispatcher)
	// cmd/gateway serves the dispatcher's streams on the API's engine;
	// cmd/dispatcher serves the same mounts on its own.
	require.Empty(t, dispatcher.minus(served).sorted(), "the gateway serves every route of the dispatcher")

	doc := documented(t, "")
	public := served.minus(dash)
	require.Empty(t, public.minus(doc).sorted(), "routes served but missing from schemas/openapi.yaml")
	require.Empty(t, doc.minus(public).sorted(), "operations of schemas/openapi.yaml that no route serves")
	require.Equal(t, dash, dash.minus(doc), "dashboard routes are not API and are not documented")

	// Each part's routes, mounted alone, are the operations that name it.
	log := slog.New(slog.DiscardHandler)
	own, err := api.New(api.Config{
		Store: g.Deps.Store, Bus: g.Deps.Bus, Redis: g.Deps.Redis, Keys: g.Deps.Keys,
		AdminToken: g.AdminToken(), Shards: g.Deps.Cfg.Shards, DefaultDriver: g.Deps.Cfg.Driver,
		SimEnabled: true, Logger: log,
	})
	require.NoError(t, err)
	tokens, err := relay.NewTokens(relay.TokensConfig{Redis: g.Deps.Redis, Keys: g.Deps.Keys})
	require.NoError(t, err)
	hooks, err := webhook.NewHandlers(webhook.HandlersConfig{Store: g.Deps.Store, Secrets: g.Deps.Secrets, Logger: log})
	require.NoError(t, err)
	owner := ownerclient.Config{Store: g.Deps.Store, Bus: g.Deps.Bus, Logger: log}
	parts := map[string]routeSet{
		"api":       routesOf(own.Engine()),
		"messaging": mounted(messaging.NewHandlers(messaging.HandlersConfig{Store: g.Deps.Store, Bus: g.Deps.Bus, Logger: log}).Mount),
		"webhook":   mounted(hooks.Mount),
		"relay":     mounted(append([]app.Mount{tokens.Mount}, disp.Mounts...)...),
		"contacts":  mounted(contactsapi.NewHandlers(contactsapi.Config{Config: owner, Redis: g.Deps.Redis, Keys: g.Deps.Keys}).Mount),
		"calls":     mounted(callsapi.NewHandlers(callsapi.Config{Config: owner, Redis: g.Deps.Redis, Keys: g.Deps.Keys}).Mount),
		"blocklist": mounted(blocklistapi.NewHandlers(owner).Mount),
		"chats":     mounted(chatsapi.NewHandlers(owner).Mount),
		"media":     mounted(mediaapi.NewHandlers(mediaapi.Config{Store: g.Deps.Store, Media: g.Deps.Media, Bus: g.Deps.Bus, Logger: log}).Mount),
	}
	// Whatever else the gateway mounts belongs to the groups part.
	var known []routeSet
	for _, p := range parts {
		known = append(known, p)
	}
	parts["groups"] = public.minus(known...)
	for part, routes := range parts {
		t.Run(part, func(t *testing.T) {
			want := documented(t, part)
			require.Equal(t, want.sorted(), routes.sorted(), "routes of %s and the operations with x-wagate-served-by: %s", part, part)
		})
	}
}
