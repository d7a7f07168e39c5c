package app

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/blocklist/blocklistapi"
	"github.com/wagate/wagate/pkg/calls/callsapi"
	"github.com/wagate/wagate/pkg/chats/chatsapi"
	"github.com/wagate/wagate/pkg/contacts/contactsapi"
	"github.com/wagate/wagate/pkg/dashboard"
	"github.com/wagate/wagate/pkg/groups/groupsapi"
	"github.com/wagate/wagate/pkg/media/mediaapi"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/ownerclient"
	"github.com/wagate/wagate/pkg/relay"
	"github.com/wagate/wagate/pkg/webhook"
)

// Mount adds routes to an engine; auth is the bearer-token middleware.
type Mount = func(r *gin.Engine, auth gin.HandlerFunc)

// APIMounts are the routes the API serves beyond its own: messages,
// webhook management, stream tokens and the dashboard.
func APIMounts(d *Deps, adminToken string) ([]Mount, error) {
	msgs := messaging.NewHandlers(messaging.HandlersConfig{
		Store: d.Store, Bus: d.Bus, SendRate: d.Cfg.SendRate, WarmupDays: d.Cfg.WarmupDays, Logger: d.Log,
		Channels: d.Channels, Media: d.Media,
	})
	files := mediaapi.NewHandlers(mediaapi.Config{Store: d.Store, Media: d.Media, Bus: d.Bus, Logger: d.Log})
	// Stream tokens are issued by the API and checked by the relay through
	// Redis, so browsers of a split deployment can open streams too.
	streamTokens, err := relay.NewTokens(relay.TokensConfig{Redis: d.Redis, Keys: d.Keys, Store: d.Store})
	if err != nil {
		return nil, err
	}
	hooks, err := webhook.NewHandlers(webhook.HandlersConfig{
		Store: d.Store, Secrets: d.Secrets, Bus: d.Bus, AllowPrivate: d.Cfg.WebhookAllowPrivate, Logger: d.Log,
	})
	if err != nil {
		return nil, err
	}
	// The feature routes ask the channel's owner worker through one
	// kind of client.
	owner := ownerclient.Config{Store: d.Store, Bus: d.Bus, Shards: d.Cfg.Shards, Logger: d.Log}
	grps := groupsapi.NewHandlers(owner)
	cts := contactsapi.NewHandlers(contactsapi.Config{
		Config: owner, Redis: d.Redis, Keys: d.Keys, SendRate: d.Cfg.SendRate, WarmupDays: d.Cfg.WarmupDays,
	})
	cls := callsapi.NewHandlers(callsapi.Config{Config: owner, Redis: d.Redis, Keys: d.Keys})
	blk := blocklistapi.NewHandlers(owner)
	chs := chatsapi.NewHandlers(owner)
	return []Mount{msgs.Mount, files.Mount, hooks.Mount, streamTokens.Mount, grps.Mount, cts.Mount, cls.Mount, blk.Mount, chs.Mount, dashboard.Mount}, nil
}

// Dispatcher is the dispatcher's part of a process: its routes (browser
// streams) and its long-running loops (the relay, webhook fan-out and
// delivery).
type Dispatcher struct {
	Mounts  []Mount
	Runners []func(ctx context.Context) error
}

// NewDispatcher builds the dispatcher's parts.
func NewDispatcher(d *Deps) (*Dispatcher, error) {
	disp := &Dispatcher{}
	rl, err := relay.New(relay.Config{Bus: d.Bus, Redis: d.Redis, Keys: d.Keys, Store: d.Store, Logger: d.Log})
	if err != nil {
		return nil, err
	}
	wd, err := webhook.NewDispatcher(webhook.Config{
		Store: d.Store, Secrets: d.Secrets, Bus: d.Bus, Logger: d.Log,
		Schedule: d.Cfg.WebhookSchedule, AllowPrivate: d.Cfg.WebhookAllowPrivate,
	})
	if err != nil {
		return nil, err
	}
	disp.Mounts = append(disp.Mounts, rl.Mount)
	disp.Runners = append(disp.Runners, rl.Run, wd.Run)
	return disp, nil
}
