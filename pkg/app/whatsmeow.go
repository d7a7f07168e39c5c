package app

import "github.com/wagate/wagate/pkg/session"

// addWhatsmeow registers the whatsmeow driver.
func addWhatsmeow(d *Deps, drivers map[string]session.Driver) error {
	return nil
}
