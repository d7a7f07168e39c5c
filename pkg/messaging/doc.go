// Package messaging is wagate's outbound and inbound message log: the send
// request and its validation (shared by the HTTP API and by commands
// published straight to NATS, so both paths accept and refuse the same
// things), the HTTP routes of messages, read receipts and presence, and
// usage and health reporting.
//
// Invariants:
//   - A send is accepted only after it is stored in Postgres with status
//     queued; the messages table is the durable outbound queue. The `send`
//     command on NATS only wakes the channel's owner, which sends the
//     channel's queued messages in order under its rate limit.
//   - Idempotency: (channel, idempotency key) is unique. A retried request
//     with the same key returns the original message and is never sent
//     twice; the same key with a different body is refused.
//   - Status only moves forward: queued → sending → sent → delivered → read
//     (→ played for voice notes); failed only before sent. A late receipt
//     never undoes a later one, and each change is published once.
package messaging
