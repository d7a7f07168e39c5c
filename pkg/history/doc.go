// Package history imports the message history WhatsApp sends a newly
// linked device (whatsmeow's events.HistorySync) into the message log and
// the chat list.
//
// # Flow
//
// The driver turns each history chunk into session.Inbound events, one
// per conversation (type SessionConversation, data Conversation) and then
// one for the chunk (SessionChunk, data Chunk). It emits the next
// conversation only once the worker acknowledged the previous one
// (Inbound.Ack), so memory holds one translated conversation at a time
// whatever the size of the history, and the channel's mailbox interleaves
// the import with its sends and requests: the import runs in the
// background of the channel's ordinary work.
//
// The worker imports a conversation in one transaction (Import): its
// messages within the channel's window (settings.history_days, default
// 30 days; 0 imports none) are recorded once by WhatsApp id — a chunk
// sent again imports nothing twice — with the chat's state (name, unread
// count, archived, pinned, muted) and, in the same transaction, one
// history.message event per message newly recorded. After each chunk it
// publishes history.sync_progress with the chunk's counts.
//
// # Webhooks
//
// Old messages are history.message events, never message.received: a
// webhook endpoint receives them (and history.sync_progress) only when its
// filters name them — "history.*" or the exact type. The "*" filter does
// not include history events (pkg/webhook).
package history
