// Package calls is the call capability of a channel: rejecting incoming
// WhatsApp calls, on request or automatically, and the call.rejected event
// that reports it.
//
// # Flow
//
// Drivers report incoming calls as call.received (status offer for a 1:1
// call, offer_notice for a group call, then accept, reject or terminate;
// an event without a status, from before drivers told it, is an offer).
// On every offer the channel's worker remembers
// the call's caller for RememberFor (Remember) so that
// POST /v1/channels/{id}/calls/{call_id}/reject can name the call by its
// id alone, and, when the channel's settings ask for it
// (settings.reject_calls), rejects it at once (Reject) and, with
// settings.reject_calls_reply, queues that text to the caller as an
// ordinary message (idempotent per call: the same call never gets two
// replies).
//
// # Invariants
//
//   - A call is rejected through the channel's owner only: the API asks it
//     with the request/reply protocol of package groups (method
//     call.reject), in the channel's mailbox.
//   - call.rejected is published only after WhatsApp accepted the
//     rejection; a failed rejection publishes nothing and answers the error.
//   - The auto-reply is a queued message like any other (rate limit,
//     message log, message.* events); its idempotency key is the call's id.
//
// # The capability
//
// A session that can reject calls implements Rejecter; the worker detects
// it by type assertion. whatsmeow: Client.RejectCall; the simulator
// records the rejection on the simulated phone.
package calls
