package app

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/messaging"
)

// Mount adds routes to an engine; auth is the bearer-token middleware.
type Mount = func(r *gin.Engine, auth gin.HandlerFunc)

// APIMounts are the routes the API serves beyond its own: webhook
// management and the dashboard.
func APIMounts(d *Deps, adminToken string) ([]Mount, error) {
	msgs := messaging.NewHandlers(messaging.HandlersConfig{
		Store: d.Store, Bus: d.Bus, SendRate: d.Cfg.SendRate, WarmupDays: d.Cfg.WarmupDays, Logger: d.Log,
	})
	return []Mount{msgs.Mount}, nil
}

// Dispatcher is the dispatcher's part of a process: its routes (browser
// streams) and its long-running loops (webhook fan-out and delivery).
type Dispatcher struct {
	Mounts  []Mount
	Runners []func(ctx context.Context) error
}

// NewDispatcher builds the dispatcher's parts.
func NewDispatcher(d *Deps) (*Dispatcher, error) {
	return &Dispatcher{}, nil
}
