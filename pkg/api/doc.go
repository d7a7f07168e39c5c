// Package api is wagate's REST API (Gin): channels and their lifecycle,
// QR and phone pairing, connection history, simulator controls, and the
// operator endpoints (/healthz, /readyz, /metrics, /v1/openapi.yaml). The
// contract is schemas/openapi.yaml; a test keeps the router and the
// document listing the same routes.
//
// Invariants:
//   - Every /v1 route needs Authorization: Bearer. The admin token reaches
//     everything; a channel token reaches only the /v1/channels/{id}/… and
//     /v1/sim/channels/{id}/… routes of its own channel. An unknown channel
//     answers 404 channel_not_found to the admin and 401 to a channel token,
//     the same answer as a wrong token, so tokens cannot probe ids.
//   - Every error is {"error": {"code", "message", "details"}} with a stable
//     code (httpapi), including unknown routes, wrong methods and panics.
//   - A 4xx writes nothing: requests are validated in full before the first
//     write to Postgres or NATS.
//   - The API never changes a channel's connection state (the worker owns
//     it). It records the desired state and publishes a command to WA_CMD.
//     The desired state is written first, so a worker that takes the
//     command (or resumes the shard later) acts on it; when the publish
//     fails, the change is undone if nobody changed it since, and the client
//     gets 503 bus_unavailable and retries.
//   - Commands carry request_id (the X-Request-Id of the answer, always
//     generated here) and requested_at. Nats-Msg-Id is the Idempotency-Key
//     header scoped to channel and verb ("idem:<channel>:<verb>:<key>"), so
//     a retried request is stored once and one channel's keys cannot
//     suppress another's commands; without a key it is the request id
//     ("<request id>:<channel>" in a bulk request).
package api
