// Package worker runs WhatsApp sessions for the shards this process owns.
//
// Ownership. The worker heartbeats into Redis, computes its target of
// ceil(S / live workers) shards, acquires free shard leases up to it and
// releases surplus ones gracefully (lease package). For every owned shard it
// takes a fencing epoch from Postgres, binds the shard's durable consumer
// cmd-<k> on WA_CMD, and resumes every channel of the shard whose desired
// state is running — a paired device reconnects without a new QR.
//
// Loss. When a lease cannot be renewed within its trust window, or a
// renewal finds it taken, or a state write is refused for a stale epoch, the
// shard is dropped at once: its consumer stops, every session context is
// cancelled (drivers close the connection on cancellation) and nothing more
// is written for it. Commands it had not acknowledged are redelivered to the
// next owner after the consumer's AckWait.
//
// Ordering. Every channel has a mailbox: commands and the session's own
// events for one channel are handled one at a time, in arrival order, by a
// goroutine that exists only while the mailbox has work. A slow channel
// holds back only itself; a full mailbox NAKs new commands with a delay
// instead of blocking the shard's consumer.
//
// Acknowledgement. A command is acknowledged after its handler ran — or
// terminated when it can never succeed (malformed subject or body). A
// handler that hit a transient error (Postgres or NATS unavailable) NAKs it
// for redelivery.
//
// Outbound queue. A pump turn claims the channel's oldest queued messages
// (up to 64; one while a send rate or a typing indicator spaces them) in one
// statement that checks the epoch, sends them in order, records the sent
// ones in one statement and publishes their events together, then yields
// the mailbox. A message claimed but not sent stays sending; one claimed by
// a previous owner is sent again (WhatsApp de-duplicates by message id).
// Receipts of a burst are recorded together (receipts.go).
//
// State. The mailbox goroutine is the only writer of its channel's state;
// every write carries the shard's epoch (store.SetState) and is published
// as connection.status_changed after it committed.
package worker
