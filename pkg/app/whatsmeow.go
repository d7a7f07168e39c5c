package app

import (
	"context"

	"github.com/wagate/wagate/pkg/session"
	wmdriver "github.com/wagate/wagate/pkg/session/whatsmeow"
)

// addWhatsmeow registers the whatsmeow driver: one device store per
// process on the fleet's Postgres, its schema upgraded under an advisory lock.
func addWhatsmeow(ctx context.Context, d *Deps, drivers map[string]session.Driver) error {
	wm, err := wmdriver.New(ctx, wmdriver.Config{Pool: d.Store.Pool, Logger: d.Log})
	if err != nil {
		return err
	}
	drivers[wm.Name()] = wm
	d.closers = append(d.closers, func() { _ = wm.Close() })
	return nil
}
