package worker

import (
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/session/whatsmeow"
)

// Both drivers have the group capability the worker looks for.
var (
	_ groupReader = (*sim.Session)(nil)
	_ groupWriter = (*sim.Session)(nil)
	_ groupReader = (*whatsmeow.Session)(nil)
	_ groupWriter = (*whatsmeow.Session)(nil)
)
