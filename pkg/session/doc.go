// Package session is the narrow interface between the worker and a
// WhatsApp connection. Two drivers implement it: session/whatsmeow
// (production) and session/sim (the simulator: development, tests, load).
//
// Contract:
//   - A Driver opens one Session per channel; the worker owns the session
//     and calls its methods from the channel's mailbox goroutine only, so a
//     Session need not be safe for concurrent use by callers. Drivers call
//     the Sink from their own goroutines; the Sink is safe for concurrent use
//     and never blocks for long.
//   - Connect returns once the connection attempt has started; progress is
//     reported through the Sink: QR codes and PairSuccess while pairing, then
//     Connected. Failures after Connect returned arrive as events
//     (Disconnected, LoggedOut, ConnectFailure, TemporaryBan, ...).
//   - Disconnect closes the connection without unlinking the device and
//     emits nothing; the ctx given to Connect bounds the session's lifetime
//     (the worker cancels it when the shard's lease is lost).
//   - Inbound messages at least once: an Inbound with an Ack is
//     acknowledged to WhatsApp only after the worker recorded it and called
//     Ack(nil). Until then the driver holds it; a session closed first, or
//     an Ack with an error, leaves it unacknowledged and WhatsApp (or the
//     simulator) delivers it again on the next connection. The worker
//     de-duplicates redeliveries by WhatsApp id.
//   - No protobuf or whatsmeow type crosses this interface. JIDs are strings
//     ("15551234567@s.whatsapp.net").
//   - Optional capabilities are one-method interfaces detected by type
//     assertion (for example sim.Controller), in the style of whatsmeow.
package session
