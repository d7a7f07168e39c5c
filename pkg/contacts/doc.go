// Package contacts is the contact and profile capability of a channel:
// whether numbers are on WhatsApp (number check), the account's contacts
// and what WhatsApp tells of a contact (names, about, verified business
// name, picture), and the account's own profile (push name, about,
// picture).
//
// # Requests
//
// Every call goes to the worker running the channel's session, with the
// request/reply protocol of package groups (methods contact.check,
// contact.list, contact.info, contact.picture, profile.get, profile.set,
// profile.picture; see Methods). The routes are in contacts/contactsapi.
//
// # Invariants
//
//   - Both addresses. A contact is answered with its phone-number JID and
//     its LID whenever WhatsApp (or the device's store) knows either; a
//     contact may be named by phone number, phone-number JID or LID.
//   - Number checks are cached: a number's answer (on WhatsApp or not) is
//     kept in Redis for CheckTTL per channel, so a marketing list checked
//     twice reaches WhatsApp once. Only the numbers not cached reach the
//     worker, and a check that reaches WhatsApp takes a slot of the
//     channel's send rate (its own schedule, not the messages'), so checks
//     cannot be used to hammer WhatsApp; beyond it the API answers 429.
//   - Unknown contacts answer ErrContactNotFound (HTTP 404
//     contact_not_found), never an empty contact.
//   - Profile changes are applied by WhatsApp or not at all: the answer is
//     the profile after the change.
//
// # The capability
//
// Drivers implement Checker, Directory and Profiler with the plain types
// of this package (no whatsmeow type crosses them); the worker's request
// handlers detect each by type assertion and answer not_supported when a
// driver lacks it. Errors wrap the sentinels of package session or of this
// package.
package contacts
