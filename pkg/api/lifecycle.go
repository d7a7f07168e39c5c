package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/store"
)

// HeaderIdempotencyKey makes a command request safe to retry: requests with
// the same key, channel and verb within 24 hours are queued once.
const HeaderIdempotencyKey = httpapi.HeaderIdempotencyKey

// maxBulk is the most channels one bulk request may name.
const maxBulk = 500

// publishTimeout bounds the wait for JetStream to store a command.
const publishTimeout = 5 * time.Second

// action is a command verb with the desired state it records ("" for none).
type action struct {
	verb    string
	desired string
}

var (
	lifecycleStart   = action{command.Start, store.DesiredRunning}
	lifecycleStop    = action{command.Stop, store.DesiredStopped}
	lifecycleRestart = action{command.Restart, store.DesiredRunning}
	lifecycleLogout  = action{command.Logout, store.DesiredStopped}
	lifecycleDelete  = action{command.Delete, store.DesiredDeleted}
	// Linking by phone needs a running session; recording it as desired
	// also makes a new shard owner resume the pairing.
	pairPhone = action{command.PairPhone, store.DesiredRunning}
	simulate  = action{command.Sim, ""}
)

func lifecycleAction(verb string) (action, bool) {
	for _, a := range []action{lifecycleStart, lifecycleStop, lifecycleRestart, lifecycleLogout, lifecycleDelete} {
		if a.verb == verb {
			return a, true
		}
	}
	return action{}, false
}

// errBusUnavailable answers a command that could not be stored in WA_CMD.
var errBusUnavailable = &httpapi.Error{
	Status:  http.StatusServiceUnavailable,
	Code:    "bus_unavailable",
	Message: "the command could not be queued because the message bus did not answer; nothing was changed, retry the request (with the same Idempotency-Key if you sent one)",
}

// accepted is the answer to a queued command.
type accepted struct {
	ID           string `json:"id"`
	Action       string `json:"action"`
	State        string `json:"state"`
	DesiredState string `json:"desired_state"`
	RequestID    string `json:"request_id"`
}

func (s *Server) lifecycle(a action) gin.HandlerFunc {
	return func(c *gin.Context) {
		ch := channelOf(c)
		key, verr := idempotencyKey(c)
		if verr != nil {
			abort(c, verr)
			return
		}
		env := s.envelope(c)
		err := s.command(c.Request.Context(), ch.ID, a, env, msgID(env.RequestID, key, ch.ID, a.verb, false))
		if errors.Is(err, store.ErrNotFound) {
			abort(c, httpapi.ErrChannelNF)
			return
		}
		if err != nil {
			abort(c, err)
			return
		}
		c.JSON(http.StatusAccepted, accepted{ID: ch.ID, Action: a.verb, State: ch.State, DesiredState: a.desired, RequestID: env.RequestID})
	}
}

// envelope starts the body of a command issued by request c.
func (s *Server) envelope(c *gin.Context) command.Envelope {
	return command.Envelope{RequestID: requestIDOf(c), RequestedAt: time.Now().UTC()}
}

// command records a.desired (when set) and publishes the command. It
// returns store.ErrNotFound for a missing channel and errBusUnavailable
// when the publish failed, after undoing the desired state.
func (s *Server) command(ctx context.Context, channelID string, a action, env command.Envelope, msgID string) error {
	body, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("api: encode %s command: %w", a.verb, err)
	}
	prev := ""
	if a.desired != "" {
		if prev, err = s.cfg.Store.SwapDesired(ctx, channelID, a.desired); err != nil {
			return err
		}
		// A deleted channel must stop taking sends at once.
		defer s.announce(channelID)
	}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if err := s.cfg.Bus.PublishCommand(pctx, channelID, a.verb, msgID, body); err != nil {
		commandsPublished.WithLabelValues(a.verb, "error").Inc()
		s.log.Warn("command not published", "channel_id", channelID, "verb", a.verb, "request_id", env.RequestID, "error", err)
		if a.desired != "" && prev != a.desired {
			// The client may have gone; the undo must still happen.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
			defer cancel()
			if _, err := s.cfg.Store.RestoreDesired(rctx, channelID, a.desired, prev); err != nil {
				s.log.Error("desired state not restored after a failed publish", "channel_id", channelID,
					"verb", a.verb, "desired_state", a.desired, "previous", prev, "error", err)
			}
		}
		return errBusUnavailable
	}
	commandsPublished.WithLabelValues(a.verb, "ok").Inc()
	return nil
}

// idempotencyKey reads the optional Idempotency-Key header.
func idempotencyKey(c *gin.Context) (string, *httpapi.Error) { return httpapi.IdempotencyKey(c) }

// msgID is the Nats-Msg-Id of a command. An idempotency key is scoped to
// the channel and verb; without one, the request id (with the channel in a
// bulk request) makes each request's commands unique.
func msgID(requestID, key, channelID, verb string, bulk bool) string {
	switch {
	case key != "":
		return "idem:" + channelID + ":" + verb + ":" + key
	case bulk:
		return requestID + ":" + channelID
	default:
		return requestID
	}
}

type bulkRequest struct {
	Action *string  `json:"action"`
	IDs    []string `json:"ids"`
}

// Statuses of one channel in a bulk answer.
const (
	bulkAccepted = "accepted"
	bulkNotFound = "not_found"
	bulkFailed   = "failed"
)

type bulkResult struct {
	ID     string         `json:"id"`
	Status string         `json:"status"`
	Error  *httpapi.Error `json:"error,omitempty"`
}

type bulkAnswer struct {
	Action    string       `json:"action"`
	RequestID string       `json:"request_id"`
	Results   []bulkResult `json:"results"`
}

func (s *Server) bulk(c *gin.Context) {
	var req bulkRequest
	if err := httpapi.Bind(c, &req, s.cfg.MaxBody, false); err != nil {
		abort(c, err)
		return
	}
	if req.Action == nil {
		abort(c, httpapi.Validation("action", "is required: one of %s", strings.Join(command.Lifecycle, ", ")))
		return
	}
	a, ok := lifecycleAction(*req.Action)
	if !ok {
		abort(c, httpapi.Validation("action", "must be one of %s, not %q", strings.Join(command.Lifecycle, ", "), *req.Action).
			WithDetails(map[string]any{"field": "action", "allowed": command.Lifecycle}))
		return
	}
	if len(req.IDs) == 0 || len(req.IDs) > maxBulk {
		abort(c, httpapi.Validation("ids", "must list 1 to %d channel ids, not %d", maxBulk, len(req.IDs)))
		return
	}
	key, verr := idempotencyKey(c)
	if verr != nil {
		abort(c, verr)
		return
	}

	env := s.envelope(c)
	ans := bulkAnswer{Action: a.verb, RequestID: env.RequestID, Results: make([]bulkResult, 0, len(req.IDs))}
	seen := map[string]bool{}
	var nAccepted, nFailed int
	busDown := false
	var unavailable *httpapi.Error
	for _, id := range req.IDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		r := bulkResult{ID: id}
		switch {
		case busDown:
			// Once the bus (or the store) is down, the rest is not even
			// tried: nothing more is written.
			r.Status, r.Error = bulkFailed, unavailable
		case !names.ValidToken(id):
			r.Status = bulkNotFound
		default:
			err := s.command(c.Request.Context(), id, a, env, msgID(env.RequestID, key, id, a.verb, true))
			switch {
			case err == nil:
				r.Status = bulkAccepted
			case errors.Is(err, store.ErrNotFound):
				r.Status = bulkNotFound
			case errors.Is(err, errBusUnavailable):
				r.Status, r.Error = bulkFailed, errBusUnavailable
				busDown, unavailable = true, errBusUnavailable
			default:
				_ = c.Error(err)
				r.Status, r.Error = bulkFailed, httpapi.Classify(err)
				if r.Error.Status == http.StatusServiceUnavailable {
					// The store is down: the rest would fail alike.
					busDown, unavailable = true, r.Error
				}
			}
		}
		switch r.Status {
		case bulkAccepted:
			nAccepted++
		case bulkFailed:
			nFailed++
		}
		ans.Results = append(ans.Results, r)
	}
	if nAccepted == 0 && nFailed > 0 {
		e := httpapi.ErrInternal
		if busDown {
			e = unavailable
		}
		abort(c, e.WithDetails(map[string]any{"results": ans.Results}))
		return
	}
	c.JSON(http.StatusAccepted, ans)
}
