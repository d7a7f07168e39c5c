package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/schemas"
)

// SimActions are the simulator controls of POST /v1/sim/channels/{id}/{action},
// sorted: the actions of the simulator driver (pkg/session/sim), which
// validates their arguments. A test keeps this list, the driver and the
// schemas in step.
var SimActions = []string{"ban", "call", "chat", "client_outdated", "connect_failure", "contact", "disconnect", "group",
	"inbound", "logout", "presence", "reaction", "receipt", "retry_receipt", "scan", "send_failure", "stream_replaced", "vote"}

type simAccepted struct {
	ID        string          `json:"id"`
	Action    string          `json:"action"`
	Args      json.RawMessage `json:"args"`
	RequestID string          `json:"request_id"`
}

// commandSchemas are the published command schemas (schemas/commands).
var commandSchemas = sync.OnceValues(schemas.NewValidator)

// simArgsSchema names the OpenAPI schema of an action's arguments.
func simArgsSchema(action string) string {
	switch action {
	case "disconnect", "logout", "stream_replaced", "client_outdated":
		return "SimNoArgs"
	}
	var b strings.Builder
	b.WriteString("Sim")
	for w := range strings.SplitSeq(action, "_") {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String() + "Args"
}

// simArgsMismatch checks a control's arguments against the sim command
// schema (the OpenAPI's Sim…Args of the action) and says what is wrong,
// or "" when they match.
func simArgsMismatch(action string, args json.RawMessage) string {
	v, err := commandSchemas()
	if err != nil {
		return "" // the embedded schemas are checked by their own tests
	}
	body, _ := json.Marshal(map[string]any{"action": action, "args": args})
	if err := v.ValidateCommand(command.Sim, body); err != nil {
		return fmt.Sprintf("the arguments of %s do not match the schema %s: %v", action, simArgsSchema(action), err)
	}
	return ""
}

// sim publishes a simulator control. The body is the action's arguments,
// a JSON object (empty: no arguments), checked against the action's schema
// here and by the simulator when it runs the action.
func (s *Server) sim(c *gin.Context) {
	ch := channelOf(c)
	act := c.Param("action")
	if !slices.Contains(SimActions, act) {
		abort(c, httpapi.Errorf(http.StatusBadRequest, "unknown_action", "unknown simulator action %q; one of %s", act, strings.Join(SimActions, ", ")).
			WithDetails(map[string]any{"allowed": SimActions}))
		return
	}
	if ch.Driver != config.DriverSim {
		abort(c, httpapi.Errorf(http.StatusConflict, "not_simulated",
			"channel %s uses the %s driver; simulator controls work only on channels created with driver sim", ch.ID, ch.Driver))
		return
	}
	var args map[string]json.RawMessage
	if err := httpapi.Bind(c, &args, s.cfg.MaxBody, true); err != nil {
		abort(c, err)
		return
	}
	if args == nil {
		// The body was JSON null.
		args = map[string]json.RawMessage{}
	}
	key, verr := idempotencyKey(c)
	if verr != nil {
		abort(c, verr)
		return
	}
	env := s.envelope(c)
	env.Action = act
	env.Args, _ = json.Marshal(args) // a map of valid RawMessages: cannot fail
	if msg := simArgsMismatch(act, env.Args); msg != "" {
		abort(c, httpapi.Errorf(http.StatusBadRequest, "invalid_body", "%s", msg).
			WithDetails(map[string]any{"schema": simArgsSchema(act)}))
		return
	}
	err := s.command(c.Request.Context(), ch.ID, simulate, env, msgID(env.RequestID, key, ch.ID, simulate.verb+"."+act, false))
	if errors.Is(err, store.ErrNotFound) {
		abort(c, httpapi.ErrChannelNF)
		return
	}
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusAccepted, simAccepted{ID: ch.ID, Action: act, Args: env.Args, RequestID: env.RequestID})
}
