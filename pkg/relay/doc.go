// Package relay streams WA_EVT to browsers: Server-Sent Events on
// GET /v1/channels/{id}/events and GET /v1/events (every channel, admin
// only), and the same over WebSocket on GET /v1/channels/{id}/ws and
// GET /v1/ws. It runs in the dispatcher (and in cmd/gateway).
//
// # One subscription, many browsers
//
// A Relay holds exactly one NATS subscription: an ordered consumer on
// WA_EVT started, when Run begins, just after the stream's last sequence.
// Its goroutine fans every event out in memory to the clients whose filter
// matches (one channel, or all for the admin streams). Each event is
// encoded once; clients share the bytes.
//
// # Ids, resume and reset
//
// The id of an event is its WA_EVT stream sequence. Sequences grow across
// channels, so the ids one client sees are increasing but not contiguous.
// A client resumes with the last id it saw (the Last-Event-ID header that
// EventSource sends on reconnect, or ?last_event_id=) and gets every event
// of its filter after that id exactly once, in order:
//
//  1. it registers with the hub under the hub's lock and learns head, the
//     last sequence fanned out; every later event goes to its buffer;
//  2. it replays (last_event_id, head] from the stream through a short-lived
//     ordered consumer with the client's filter;
//  3. it switches to its buffer, skipping anything at or below what it has
//     already written.
//
// Steps 1 and 2 leave no gap (the replay ends where the live buffer starts)
// and step 3 no duplicate. When the stream no longer holds the sequence
// after last_event_id (aged out under WAGATE_EVENT_MAX_AGE, or purged),
// when the id lies beyond the stream's end, or when the replay would exceed
// Config.MaxReplay events, the client gets a `reset` event instead: some
// events are lost to it and it must reload state from the REST API. Every
// stream starts with a `ready` event once the replay is done.
//
// Heartbeats (an SSE comment, or a WebSocket heartbeat message) go out
// every Config.Heartbeat. When the client's buffer is empty they also
// carry the hub's head as id: the client has seen every event of its
// filter up to it, so a quiet channel's position keeps up with the stream
// and a resume after a long quiet spell does not cause a needless reset.
//
// # Slow clients
//
// The hub never blocks on a client: each has a buffer of
// Config.ClientBuffer events, and a client whose buffer is full is cut off
// at once (wagate_relay_slow_clients_dropped_total) while the others go on.
// A write that does not complete within Config.WriteTimeout ends the
// connection too. Memory per client is therefore bounded, and a cut-off
// browser reconnects and resumes from its last id.
//
// # Auth
//
// Streams accept a bearer token (the admin token, or a channel token on its
// own channel's routes) or ?stream_token=, a short-lived token that
// POST /v1/stream-tokens issues (Tokens) because EventSource cannot send
// headers. Stream tokens are random, stored in Redis only as SHA-256
// hashes with a TTL (default 5 minutes, long enough for EventSource's
// automatic reconnects), and scoped to one channel or to the admin streams.
// No token is ever logged.
package relay
