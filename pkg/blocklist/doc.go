// Package blocklist is the blocklist capability of a channel: the users
// the account blocked, blocking and unblocking them.
//
// # Invariants
//
//   - Requests go to the worker running the channel's session (request/
//     reply of package groups, methods blocklist.get and blocklist.set) and
//     run in the channel's mailbox.
//   - Block and unblock are idempotent: blocking a blocked user (or
//     unblocking one not blocked) succeeds and changes nothing. Their answer
//     is the blocklist after the change, as WhatsApp returns it.
//   - Entries carry the phone-number JID and the LID where either is known.
//   - A user WhatsApp does not know answers contacts.ErrContactNotFound
//     (404 contact_not_found); nothing changes.
//
// # The capability
//
// Drivers implement Blocker; the worker detects it by type assertion.
// whatsmeow: GetBlocklist and UpdateBlocklist; the simulator keeps the
// blocklist of an account in Redis.
package blocklist
