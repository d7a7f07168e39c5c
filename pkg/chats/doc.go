// Package chats is the chat list of a channel: one row per conversation
// (the chats table) with its last message, unread count and WhatsApp's
// per-chat settings (archived, pinned, muted until), and the change of
// those settings through WhatsApp's app state.
//
// # Where a chat's state comes from
//
//   - The message log. Recording an inbound message, or an outbound one
//     becoming sent, updates the chat's last message and unread count in
//     the same transaction (pkg/store/chats.go), so the list never
//     disagrees with the log. An inbound message this account sent from the
//     phone reads the chat, as WhatsApp does.
//   - App state. Drivers report archive, pin, mute and mark-read changes as
//     session.Inbound events of type chat.updated with a Change as data
//     (whatsmeow: events.Archive, Pin, Mute, MarkChatAsRead). The worker
//     applies a Change with Record and publishes chat.updated — through the
//     outbox, in the transaction of the change — only when the row
//     changed; a full sync after pairing (FullSync) is recorded without
//     events.
//   - Requests. PATCH …/chats/{chat} goes to the worker running the
//     channel (method chat.update, the request/reply protocol of package
//     groups); it runs Updater.UpdateChat on the session and records the
//     Change it made the same way. WhatsApp echoes an app-state change to
//     the device that made it; the echo changes nothing and is not
//     announced twice.
//
// # Invariants
//
//   - A chat is named by either address: its key (the phone-number JID
//     when known, else the LID; a group's JID) or the LID WhatsApp used.
//   - muted_until is null when the chat is not muted, and Forever when it
//     is muted until unmuted.
//   - Marking a chat unread sets its unread count to at least 1.
//
// The routes are in chats/chatsapi.
package chats
