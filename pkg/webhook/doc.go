// Package webhook delivers wagate's events to HTTP receivers: endpoints per
// channel and admin-level endpoints (every channel's events), signed per
// Standard Webhooks, with durable retries, a delivery log, dead letters and
// replay. Dispatcher does the work; Handlers is the API (mounted by
// cmd/api through Handlers.Mount).
//
// # Delivery contract
//
// Delivery is at least once. A receiver may get an event more than once
// (after a crash, a lost acknowledgement or a replay) and must de-duplicate
// by webhook-id, which is the event id: the same for every attempt and
// replay of the event, and equal to the payload's "id".
//
// The path of an event:
//
//	WA_EVT ──fan-out──▶ WA_WEBHOOK (wa.whk.<endpoint>, Nats-Msg-Id <event_id>:<endpoint_id>)
//	       ──delivery──▶ HTTP POST, short retries inside the attempt
//	       ──failure──▶ webhook_deliveries in Postgres ──claimer──▶ HTTP POST … until delivered or dead
//
// Who retries what, and when a message is acknowledged:
//
//  1. Fan-out (durable consumer "webhook-fanout" on WA_EVT). For each
//     event, one message per matching enabled endpoint is stored in
//     WA_WEBHOOK; the event is acked only when every message's PubAck
//     arrived, else NAKed and fanned out again (JetStream de-duplicates by
//     Nats-Msg-Id). Endpoints come from an in-memory cache reloaded at
//     least every CacheTTL and at once when the API announces a change on
//     names.WebhooksChanged.
//  2. First attempt (durable consumer "webhook-deliver" on WA_WEBHOOK). A
//     delivery message is acked only after its delivery is durably
//     recorded in Postgres: delivered, failed with its next attempt
//     scheduled, or dead. If recording fails it is NAKed with a 1 s delay
//     (so a Postgres outage does not spin; the retry schedule is never
//     kept this way); if the dispatcher dies it is redelivered after
//     AckWait (heartbeats with InProgress while an attempt runs). A
//     redelivered message whose delivery is already recorded is only
//     acked. Results of attempts that end within a few milliseconds are
//     written in one transaction, and each message is acked only after
//     that commit. A message for an endpoint that is busy
//     (its max_in_flight attempts in flight here) waits in memory, kept
//     with InProgress, and is started by the next attempt of that
//     endpoint to end; it holds no attempt slot while it waits. What
//     waits in memory is bounded (queueTotal, shared fairly between the
//     endpoints with messages waiting, an endpoint allowed more attempts
//     in flight getting a larger least share; the pull stops while it is
//     full),
//     and goes to Postgres as pending (then acked) when its endpoint's
//     share is full, when the endpoint starts none of them for queueWait,
//     or when the pull has waited queueStall for room (the newest of the
//     longest queue). A message for an endpoint backing off is recorded
//     as pending and acked at once. At shutdown the messages waiting are
//     NAKed; after a crash NATS redelivers them after AckWait.
//  3. Short retries. Inside one attempt, go-retryablehttp repeats the
//     request after transport errors, 429, 502, 503 and 504 (ShortRetries
//     times, honouring Retry-After up to MaxRetryAfter). Redirects are not
//     followed: a 3xx is a failure.
//  4. Long schedule. After failed attempt n the delivery waits
//     Schedule[n-1] (or the receiver's Retry-After, up to the longest
//     step) in Postgres: next_attempt_at is a column, not a sleeping
//     goroutine or a delayed NAK. Any dispatcher claims due deliveries
//     with FOR UPDATE SKIP LOCKED and holds them under a lease
//     (next_attempt_at moved Lease ahead, renewed by heartbeats); if it
//     dies mid-attempt the lease runs out and another dispatcher claims
//     the delivery again. After 1+len(Schedule) failed attempts the
//     delivery is dead.
//  5. Outcomes. 2xx is delivered. 410 Gone disables the endpoint at once.
//     Any other answer or error is a failure. Every attempt is logged
//     (time, status code, latency, error, first KiB of the response).
//
// # Slow and dead endpoints
//
// One endpoint never delays another: attempts run in a bounded pool
// (Concurrency) with at most the endpoint's max_in_flight in flight per
// endpoint (1 to 64, EndpointConcurrency when it sets none; a change
// applies to the attempts started after the dispatcher sees it),
// a slow endpoint's messages cannot fill the memory or stop the pull for
// long (see the bounds above), and whatever cannot be attempted soon
// waits in Postgres. Each endpoint has a failure streak
// shared by all dispatchers (in Postgres): after a failure it backs off
// for a probe interval — ProbeInterval doubled per failed window, at most
// ProbeMaxInterval and never longer than the schedule's step for the
// streak (failures of requests already in flight do not lengthen it) —
// and nothing is attempted to it until then. Then it is probed: one
// dispatcher claims one delivery, the one waiting longest even if its own
// retry is hours ahead, under the endpoint's probe_until lease so no other
// dispatcher probes it meanwhile. A probe that fails with a delivery not
// yet due leaves that delivery's schedule alone (the attempt is logged
// with probe: true). Each delivery keeps its long schedule, which decides
// when it is dead; the short probes only decide when the receiver is back.
// A success ends the streak and, in the same statement, makes every
// delivery waiting for the endpoint due at once, so a receiver that was
// down for seconds has everything seconds after it is back, from whichever
// dispatcher claims it. A delivery deferred past a backoff that has ended
// meanwhile is due at once too. An endpoint failing without a success for longer than
// DisableAfter is disabled, and webhook.disabled is published on its
// channel (admin-level endpoints have no channel: their disabling is
// logged and counted only). Deliveries waiting for a disabled endpoint
// become dead letters; after enabling it again, replay re-sends them.
//
// # Ordering
//
// Deliveries are not ordered: retries and parallel attempts reorder them.
// An endpoint with max_in_flight 1 gets one attempt at a time from each
// dispatcher, which keeps them nearly in order, not exactly: the messages
// of one fetch race to their slot, and every dispatcher has its own.
// Each carries the event's sequence in WA_EVT ("seq" in the payload and
// the webhook-sequence header), which increases with the order in which
// events were stored, so a receiver can order a channel's events.
//
// # Security
//
// Requests are signed with the endpoint's secret (whsec_ + base64 of 24
// bytes); during a rotation's grace period the replaced secret signs too,
// space-separated in webhook-signature. Receivers are reached only on
// addresses the SSRF guard (pkg/ssrf) allows, checked on the resolved
// address at dial time; a URL already known to be refused is rejected at
// registration with 400 url_not_allowed.
package webhook
