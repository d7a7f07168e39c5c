// Package client is the Go client of wagate: typed calls for every route of
// the HTTP API (schemas/openapi.yaml), event streams with resume, a
// publisher of commands straight to NATS and a verifier of webhook
// signatures for receivers.
//
// Contracts a caller can rely on:
//
//   - Every method is the operation of schemas/openapi.yaml with its
//     operationId's name (createChannel → CreateChannel); a test keeps the
//     two in step. Request and response types are the document's schemas,
//     with the JSON names the API answers; they are defined here, so a
//     program that uses the client compiles nothing of the server.
//   - A non-2xx answer is an *Error with the API's stable code (branch on
//     it with IsCode), the status and, on 429 and 503, the Retry-After the
//     server asked for. An answer that is not the API's error envelope
//     (a proxy's page, say) is an *Error with an empty code. A request that
//     never got an answer returns the transport's error unchanged.
//   - Calls that accept an Idempotency-Key take WithIdempotencyKey: the
//     same key on a retry answers the original result instead of acting
//     twice (sends answer the original message, with Replayed set).
//   - Streams (ChannelEvents, Events, ChannelSocket, Socket) reconnect by
//     themselves with backoff and resume after the last event id they
//     saw, so a caller sees every event once and in order, or a reset
//     that says which events it cannot get any more.
//   - CommandPublisher publishes on wa.cmd.<channel>.<verb> with the
//     idempotency key as Nats-Msg-Id; its Request waits for the command's
//     outcome on an inbox named in Wagate-Reply-To.
//   - WebhookVerifier checks Standard Webhooks signatures with several
//     secrets (a rotation signs with both) and a timestamp tolerance.
//
// The client is safe for concurrent use.
package client
