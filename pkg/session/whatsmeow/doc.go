// Package whatsmeow is the production session driver: real WhatsApp
// connections through go.mau.fi/whatsmeow (imported here as wa), behind
// the narrow interface of package session. See
// shared/notes/whatsmeow.md for the library facts it relies on.
//
// # Store
//
// One Driver per process holds the one sqlstore container, on wagate's
// own Postgres pool (pgx's database/sql adapter, tables whatsmeow_*). New
// upgrades whatsmeow's schema under a Postgres advisory lock, so workers
// starting together upgrade it once. A channel's device is found by its
// JID (the AD-JID stored with the channel, "15551234567:12@s.whatsapp.net");
// a channel without one pairs a new device, which whatsmeow saves when the
// phone links it. Many processes share the store for different devices;
// one device never runs in two processes (leases see to it).
//
// # Connections
//
// Invariants, each for a bug or an outage it prevents:
//
//   - A fresh client per connection, and so per pairing attempt: Connect
//     makes a new whatsmeow Client on a device loaded anew from the store
//     (never a *store.Device kept from before: another worker may have
//     used the keys since). An old client's QR goroutine cannot disconnect
//     a newer connection (whatsmeow #856).
//   - Lease-scoped context: the ctx given to Connect is the parent of the
//     socket, of the QR channel and of every goroutine of the connection;
//     when the worker cancels it (lease lost, shard stopped), the client
//     disconnects. Disconnect cancels it too, and no event reaches the
//     sink after Disconnect returns.
//   - Hand-off: the old owner disconnects before its lease lapses; the new
//     owner opens and connects anew. StreamReplaced is reported, not acted
//     upon: the worker checks its lease and drops the session if it lost
//     it; reconnecting at once would ping-pong with the other connection.
//   - No reconnection here: whatsmeow's auto-reconnect is off
//     (EnableAutoReconnect, InitialAutoReconnect). Every loss is an event
//     (Disconnected, ConnectFailure, LoggedOut, TemporaryBan,
//     ClientOutdated, StreamReplaced) and the worker decides when to try
//     again, with backoff, jitter and a cap. The one reconnection the
//     driver makes is part of pairing: WhatsApp restarts the stream (515)
//     after a phone links the device, and the new device logs in on a new
//     socket; a failure there is a ConnectFailure too. Keep-alives failing
//     for longer than whatsmeow's KeepAliveMaxFailTime (3 min) end the
//     connection with Disconnected{Reason: "keepalive_timeout"}, which
//     whatsmeow itself does only when it reconnects on its own.
//   - An event that ends the connection (Disconnected, ConnectFailure,
//     LoggedOut, StreamReplaced, TemporaryBan, ClientOutdated, QRTimeout,
//     PairError) is its last: the client is released, and Connect may be
//     called again. While a connection is up or underway, Connect fails.
//   - Bounded dialling: opening the websocket (DNS, TCP, TLS, upgrade) is
//     bounded by Config.DialTimeout and the Noise handshake by whatsmeow's
//     20 s. When WhatsApp cannot be reached, Connect's attempt ends in a
//     retryable ConnectFailure{Reason: "whatsapp_unreachable"}: the worker
//     shows the channel in error and retries later.
//
// Connect returns at once; the attempt runs in the background:
//
//	no device:  QR{attempt 1 of 6, expires in 60 s} … QR{6 of 6, 20 s} → QRTimeout
//	            scan or pairing code → PairSuccess → (stream restart) → Connected
//	device:     Connected | LoggedOut (device gone from phone or store) |
//	            TemporaryBan | ClientOutdated | ConnectFailure
//	connected:  Inbound… | KeepAlive | Disconnected | StreamReplaced | LoggedOut
//
// Every code of WhatsApp's QR event is a session.QR with its real expiry
// and its attempt number of the codes WhatsApp sent. PairPhone asks for a
// pairing code on the same client, while the codes are shown, in the
// "Chrome (Linux)" form WhatsApp requires. WhatsApp closes the login
// connection when its codes run out, and the pairing code dies with it:
// the worker asks on a connection's first code, and past it opens a new
// login connection first, so a code lives its full time.
//
// # Events
//
// whatsmeow's events become the session's connection events or a
// session.Inbound with a wagate event type (pkg/event) and the JSON of one
// of the data types of events.go: messages (text, image, video, audio,
// document, sticker, location, contact, poll) are message.received; one
// this device could not decrypt is message.undecryptable (whatsmeow asks
// the sender for it again, and it arrives as message.received under the
// same id); reactions, edits and revokes, which WhatsApp sends as
// messages, are message.reaction, message.edited and message.deleted;
// receipts of what we sent are message.delivered, message.read and
// message.played with their ids and status; poll votes are
// message.poll_vote (see Poll votes); a contact's online status is
// presence.updated and typing or recording in a chat chat.presence; group changes are group.member_added,
// group.member_removed and group.updated, a group joined is group.created;
// calls are call.received with their status. CATRefreshError and any
// other permanent disconnect of whatsmeow end the connection with a
// retryable ConnectFailure and a reason. Events that produce nothing are
// counted in wagate_whatsmeow_events_untranslated_total by type. Before the
// first connection of the process the driver asks web.whatsapp.com for the
// current web client version (Config.VersionCheck) and keeps the compiled
// one, with a warning, when that fails. whatsmeow dispatches some
// events on goroutines of their own, so their order relative to messages
// is not guaranteed.
//
// # Phone numbers next to LIDs
//
// What a real phone does: WhatsApp addresses many chats and group members
// by LID (…@lid) rather than by phone number; a message's source says which
// (MessageSource.AddressingMode) and carries the other form when the server
// sent it (SenderAlt, RecipientAlt; SenderPN on group changes,
// CallCreatorAlt on calls). After an account's LID migration whatsmeow
// sends to a phone number under its LID, so the contact's replies arrive
// from @lid.
//
// How the driver answers (lid.go): every chat, sender, participant and
// caller is reported under one key, its phone-number JID whenever it is
// known (from the alternative address, else whatsmeow's LID map,
// Store.LIDs.GetPNForLID), else the LID; the LID WhatsApp used travels next
// to it (chat_lid, from_lid, by_lid, participants_lid) with
// addressing_mode. So a reply to a message sent to +1555… lands in the same
// chat as the send, and the worker stores both forms in the message log.
// Our own LID counts as us when a message key names the sender.
//
// # Sends that can never succeed
//
// whatsmeow reports a number without WhatsApp ("no LID found for … from
// server", once the account uses LIDs) and the server's error codes
// (ErrServerReturnedError) as plain errors. sendError maps the first to
// session.ErrNotOnWhatsApp and the codes to session.ServerError (below 500
// permanent: 463, 479, …); media that cannot be read or sent as its type
// is session.ErrInvalidMedia. The worker fails such a message with a
// stable code and sends the next; other errors are retried with capped
// backoff.
//
// # Inbound messages at least once
//
// What a real phone does: WhatsApp's server delivers a message to the
// linked device and forgets it once the device acknowledges it; it never
// delivers an acknowledged message again. whatsmeow acknowledges before
// its handlers run unless SynchronousAck is set, so a worker killed (or a
// lease lost) between decryption and recording would lose the message.
//
// How the driver answers: every client has SynchronousAck and
// EnableDecryptedEventBuffer. A received message is emitted as a
// session.Inbound with an Ack, and the event handler blocks until the
// worker calls it (after the message and its event are recorded), the
// connection ends, or Config.AckTimeout passes. Only a nil Ack lets the
// handler return true, and only then does whatsmeow send the receipt and
// clear the decrypted plaintext from whatsmeow_event_buffer. Otherwise the
// message stays unacknowledged: an Ack with an error or a timeout also ends
// the connection (Disconnected{Reason: "inbound_not_recorded"}) so that the
// worker reconnects with backoff, and WhatsApp delivers the message again
// on the next connection, whichever worker holds it. The redelivered
// ciphertext is answered from the event buffer (the Signal session has
// moved on and could not decrypt it twice). The worker drops a duplicate by
// its WhatsApp id, so the message is published once. Presence and other
// events do not wait.
//
// # Receipts at least once
//
// Receipts of what we sent (delivered, read, played, and server-error,
// which WhatsApp's server sends when it cannot deliver a message it had
// accepted: the message becomes failed with code undeliverable while it is
// sent, never once delivered; see store.StatusFailedAfterSent) follow the
// same rule.
// whatsmeow's handleReceipt (receipt.go) defers the node's ack with
// maybeDeferredAck: with SynchronousAck it sends the ack after the handlers
// returned, and not at all when a handler returned false or the
// connection's ctx ended. The handler therefore emits the receipt with an
// Ack and blocks like deliver: a nil Ack returns true and whatsmeow acks;
// an error or AckTimeout returns false and ends the connection
// (Disconnected{Reason: "inbound_not_recorded"}), and a closed connection
// returns false; WhatsApp then delivers the receipt again on the next
// connection. One exception in whatsmeow: a grouped receipt (a group
// message without a sender, dispatched per participant by
// handleGroupedReceipt) ignores the handlers' result and is acked once all
// were dispatched. It still waits for them, and the failure path ends the
// connection first, so its ack (which needs the connection's ctx) is not
// sent either; only a handler that returned false while the connection
// stayed up would let it through, which this driver never does. Receipts
// wagate does not record (our other devices' reads, retries, sender and
// server receipts) do not wait. A receipt handled this way waits for the
// worker's write, so one session's receipts are recorded one node at a
// time.
//
// # Retry receipts after a reconnect or a failover
//
// What a real phone does: a recipient device that cannot decrypt a message
// (a new device, a broken Signal session) sends a retry receipt and shows
// "Waiting for this message" until the sender encrypts it again.
// whatsmeow answers from an in-memory cache of the client's recent sends,
// else from Client.GetMessageForRetry, which is nil by default: after a
// reconnect, and always after the session moved to another worker, the
// recipient waits forever.
//
// How the driver answers (polls.go): Send returns the sent waE2E.Message,
// marshalled after SendMessage (which may add a message secret), as
// session.SendResult.Payload; the worker records it with the message
// (messages.wa_payload, in the same statement that marks it sent), and
// every client's GetMessageForRetry reads it back by WhatsApp id through
// session.Options.Messages. The message resent is the one sent, media keys
// and poll secret included, never one rebuilt from the request. A message
// sent but not recorded yet is in whatsmeow's cache; one the log does not
// keep is logged and the receipt ignored, as whatsmeow does.
//
// # Poll votes
//
// What a real phone does: a poll carries a random 32-byte message secret;
// a vote is a PollUpdateMessage encrypted (AES-GCM) with a key derived from
// that secret, the poll's id and both parties, and it names the options by
// the SHA-256 of their names. whatsmeow stores the secret of every poll
// sent or received in whatsmeow_message_secrets (Postgres, so any worker
// has it), but only warns when storing fails.
//
// How the driver answers: a PollUpdateMessage is decrypted with
// DecryptPollVote and reported as message.poll_vote (session.PollVoteData) with
// the selected option names, mapped from their hashes through the poll's
// options in the message log (session.MessageLog.PollOptions; hashes of
// options the log does not know are kept in unknown_hashes). When
// whatsmeow's store lacks the secret of a poll this channel sent, the
// secret in the poll's recorded payload is put back and the vote
// decrypted again. A vote is delivered at least once like a message; one
// that can never be decrypted (a poll no store knows) is dropped and
// counted in wagate_whatsmeow_events_untranslated_total
// {type="poll_vote_undecryptable"}.
//
// # Presence
//
// What a real phone does: WhatsApp sends a linked device the typing
// indicators of its chats (events.ChatPresence, composing or paused, with
// media "audio" while recording a voice note) only while the device is
// available, and contacts' online status and last seen (events.Presence)
// only for contacts the connection subscribed to (SubscribePresence), for
// as long as it lives. SendPresence needs the account's push name, which
// the phone sends shortly after pairing (ErrNoPushName before).
//
// How the driver answers: Presencer (SendPresence) and PresenceSubscriber
// (SubscribePresence) are capabilities the worker uses after every
// connection and as chats get traffic (package presence has the rules and
// the setting); events.Presence is presence.updated (session.PresenceData) and
// events.ChatPresence chat.presence (session.ChatPresenceData, state composing,
// recording or paused).
//
// # Sending
//
// Outbound.Body is a SendBody. The message goes out under MessageID(ID),
// derived from wagate's id, so a retried command reuses the id and is not
// shown twice. Media comes from a URL (downloaded through a client that
// reaches public addresses only, with a size limit and a timeout, its type
// sniffed when not declared) or from base64, and is uploaded to WhatsApp
// first. Bodies that cannot be sent as they are fail with
// session.ErrInvalid; other errors are worth a retry.
//
// Optional capabilities, detected by type assertion: Reader (mark read)
// and Presencer (online status, typing).
//
// # Resources and logs
//
// Per connected client whatsmeow runs a few goroutines and a handler
// queue; the HTTP clients (websocket, media, media URLs) are shared by
// the process. History sync is bounded (Config.HistorySyncDays and
// HistorySyncMaxMB, or off): wagate does not import history, and whatsmeow
// would hold it in memory. whatsmeow logs through slog; its protocol dumps,
// which contain payloads, are dropped unless Config.LogProtocol, and the
// driver logs neither message contents nor pairing codes.
package whatsmeow
