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
// terminated when it can never succeed (malformed subject or body, unknown
// verb or channel, invalid send, a command its channel's state refuses),
// after command.failed was published on the channel, or at admin level
// (event.AdminChannel) when the channel is unknown, and the outcome sent to
// the publisher's Wagate-Reply-To inbox (commandfailed.go). A handler that
// hit a transient error (Postgres or NATS unavailable) NAKs it for
// redelivery. The verb metric label takes only known verbs ("other").
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
// every write carries the shard's epoch (store.SetState). Repeated
// identical transitions (a reconnect loop) are coalesced in the history,
// and the dial error of an unreachable WhatsApp is the reason's detail.
//
// Outbox (outbox.go). Every state change is written with the events that
// announce it in one transaction: message statuses (store.AdvanceAnnounced,
// also for the group-commit writer of advances.go), connection transitions
// (connection.status_changed) and health bands (channel.health), inbound
// messages (message.received) and the other inbound events (reactions,
// edits, calls, group changes), which get an outbox row of their own. After
// the commit the events are published with Nats-Msg-Id = event id and
// deleted from the outbox once WA_EVT acknowledged them. A new owner of a
// shard publishes what the previous one left before the shard's channels
// run; every SweepEvery the owner relays what stayed (a failed publish).
// Ephemeral events with no state change are published directly and may be
// lost with the process: connection.qr and connection.pairing_code (a new
// code follows), presence.updated and chat.presence, message.failed of a send that was never
// stored and command.failed (a redelivered command reproduces them).
//
// Presence (presence.go, package presence). After every connection the
// worker sends available (settings.presence.online, the default) or
// unavailable, and while online subscribes to the presence of the direct
// chats with traffic in the last day, then of each new chat a message comes
// from or goes to, once per connection.
//
// Retries. A write that records what WhatsApp reported — receipts, sends,
// inbound messages — is retried with backoff until it lands or the shard
// stops; the mailbox waits meanwhile, so order is kept and memory grows only
// with what arrives during the outage (receipts coalesced). Progress is
// logged every 10 s and when the write lands. onInbound reports whether the
// event was recorded, so a driver acknowledges to WhatsApp only then.
//
// Sweep. Every SweepEvery the owner wakes each active channel of the shard
// with a message queued for longer than StaleQueued (index
// messages_queued_since) whose pump is idle: the API may have died between
// committing a send and publishing its wake-up.
package worker
