// Package sim is the simulator driver: a session.Driver that behaves like
// WhatsApp as whatsmeow reports it, with no WhatsApp behind it. It is how
// wagate runs in development and demos, in its tests, and under load tests.
// Select it with WAGATE_DRIVER=sim (or per channel, driver "sim") and make
// it faster with WAGATE_SIM_TIME_SCALE (0.02 makes a minute 1.2 s).
//
// # A demo
//
// Start the gateway with the simulator, create a channel and start it:
//
//	WAGATE_DRIVER=sim go run ./cmd/gateway          # prints the admin token
//	curl -H "Authorization: Bearer $TOKEN" -d '{"name":"demo"}' localhost:8080/v1/channels
//	curl -H "Authorization: Bearer $TOKEN" -X POST localhost:8080/v1/channels/$CH/start
//
// The channel shows QR codes (connection.qr) as WhatsApp would. Play the
// phone through the simulator controls, POST /v1/sim/channels/{id}/<action>
// with the action's arguments as the JSON body:
//
//	curl -H "Authorization: Bearer $TOKEN" -d '{"phone":"15551234567","push_name":"Demo"}' \
//	     localhost:8080/v1/sim/channels/$CH/scan        # paired, then active
//	curl -H "Authorization: Bearer $TOKEN" -d '{"from":"15557654321","text":"hello"}' \
//	     localhost:8080/v1/sim/channels/$CH/inbound     # a message.received event
//
// Messages sent through the API reach the simulated phone, which reports
// message.delivered after 1 s and message.read after 3 s (scaled). The
// dashboard and webhooks see everything a real number would produce.
//
// # What WhatsApp does, as simulated
//
//   - Pairing. Connect on a session without a device shows six QR codes
//     (session.QR, Attempt 1 to 6): the first lives 60 s, the others 20 s
//     each (scaled). Then session.QRTimeout and the session is offline; it
//     does not start over by itself. The codes have whatsmeow's layout
//     "2@<ref>,<noise key>,<identity key>,<adv secret>" and each is new.
//     PairPhone, while the codes show, validates the number like whatsmeow
//     (digits only; six or fewer: "phone number too short"; a leading 0:
//     "not international"; both wrap session.ErrInvalid) and returns an
//     XXXX-XXXX code; it emits no event. The control "scan" stands for the
//     phone scanning the code or entering the pairing code: the device
//     "<phone>:<n>@s.whatsapp.net" is stored in sim_devices, PairSuccess is
//     emitted and Connected follows after ConnectDelay.
//   - Resuming. Connect on a session opened with a JID loads the device from
//     Postgres, so any worker resumes it without a new scan, and emits
//     Connected after ConnectDelay. A device that is no longer stored
//     (unlinked meanwhile) is reported as session.LoggedOut{Reason:
//     "device_missing"}, which is what WhatsApp answers such a device
//     (a 401 on connect); Connect itself returns nil. Other failures
//     (Postgres, Redis, a device linked to another channel) are returned.
//   - Proxy. A session opened with Options.Proxy first opens a tunnel to
//     web.whatsapp.com:443 through the proxy on every Connect (package
//     netproxy, as whatsmeow's transport talks to it) and closes it; a
//     proxy that is dead, refuses the credentials or the CONNECT ends the
//     attempt in a retryable ConnectFailure{Reason: "proxy_unreachable"},
//     and a URL no proxy can have in a non-retryable one, as the whatsmeow
//     driver does. Session.Proxy shows the proxy with its password masked.
//   - Sending. Send needs Connected (session.ErrNotConnected otherwise),
//     returns WAID(m.ID) at once (the server ack), and schedules the
//     receipts: session.Inbound "message.delivered" after DeliveredAfter and
//     "message.read" after ReadAfter, followed at once by "message.played"
//     for voice notes (type "audio", body {"voice": true}). Receipts carry
//     wagate's message id in MessageIDs. A number ending in 0000 is not on
//     WhatsApp: Send fails with session.ErrNotOnWhatsApp, as whatsmeow does
//     ("no LID found"), and nothing is delivered. The control send_failure
//     makes the next sends fail with a server error code
//     (session.ServerError: below 500 permanent, 5xx worth a retry).
//   - Inbound at least once. A message the phone sends (control inbound)
//     carries an Ack and stays pending in Redis (names.Redis.SimPending of
//     the device) until the worker acknowledges it; every new connection
//     of the device delivers the pending messages again right after
//     Connected, oldest first, as WhatsApp delivers a device's unacknowledged
//     messages. An Ack with an error closes the connection with
//     Disconnected{Reason: "inbound_not_recorded"}, as the whatsmeow driver
//     does.
//   - Receipts at least once. Send stores the message's receipts with the
//     time each is due in Redis (names.Redis.SimReceipts of the device), in
//     the transaction that counts the delivery. Each carries an Ack and
//     stays there until acknowledged: a receipt due while the device is
//     offline (its worker killed, its lease lost) comes right after
//     Connected on the device's next connection, on any worker, after the
//     pending inbound messages; the receipts not due yet are scheduled
//     then; an unacknowledged one comes again; an Ack with an error closes
//     the connection like an inbound message's (see receipts.go).
//   - Closing. Disconnect and the cancellation of Connect's ctx close the
//     connection silently, keeping the device. Logout deletes the device
//     (online or offline) without an event, like whatsmeow's Logout; the
//     next Connect pairs anew.
//
// # Invariants
//
//   - Never twice. Each live connection of a device holds a marker in Redis,
//     names.Redis.SimConn(jid) = connection id, with PresenceTTL. One loop
//     per Driver refreshes the markers of all its connections in pipelines
//     every PresenceTTL/3 (compare-and-pexpire), and the loop ends when the
//     Driver has no live connection. Disconnect, Logout and cancellation
//     delete the marker with compare-and-delete. A connection that finds a
//     marker of another connection is a double connection: it is counted in
//     names.Redis.SimDoubleConnections (see DoubleConnections), logged as an
//     error, and, as on WhatsApp, the older connection is replaced: it gets
//     session.StreamReplaced and goes offline, at once when the same Driver
//     holds it, at its Driver's next refresh otherwise. A correct fleet
//     keeps the count at zero.
//   - Every delivery counts. Send increments names.Redis.SimDeliveries()
//     field m.ID before it returns (see Deliveries; the counts are kept for
//     a day after the last send), so a test proves that no message reached
//     the phone twice.
//   - Order and goroutines. A session's events reach the Sink in the order
//     of the transitions that caused them, one at a time, on the driver's
//     goroutines, never on the caller's: Connect and Control return before
//     their events are delivered. Events caused before Disconnect may still
//     arrive after it returns; nothing caused after does.
//   - Nothing outlives a connection. Every timer (QR rotation, ConnectDelay,
//     receipts) belongs to one connection and is stopped when it closes, for
//     whatever reason; pending receipts wait in Redis, not in timers. A session offline or idle and connected has no
//     goroutine of its own and costs about a kilobyte; delays are timers.
//
// # Controls
//
// A Session implements Controller; its actions and their JSON arguments
// ("?" marks the optional ones; phone numbers may be given as digits or as
// JIDs) are:
//
//	scan             {phone?, push_name?, business_name?, platform?, code?,
//	                  history?: {conversations, messages, old?}}
//	                 while QR codes show: link the device. phone defaults to the
//	                 number given to PairPhone, else a random 1555xxxxxxx; code,
//	                 if given, must be the PairPhone code. With history, the
//	                 server sends a history chunk once online (history.go).
//	                 Returns {jid, phone}.
//	inbound          {from, text?, type?, chat?, push_name?, id?, addressing?}
//	                 message.received {id, chat, from, from_me, type, text,
//	                 push_name, timestamp, addressing_mode, chat_lid?,
//	                 from_lid?}; chat defaults to from, type to "text", id to
//	                 a random one. addressing "lid" makes WhatsApp address the
//	                 contact by its LID (LID(from)) from now on, "pn" by its
//	                 number again (lid.go). Returns {id}.
//	receipt          {id, status?, from?, chat?}
//	                 message.<status> for any message id; status delivered,
//	                 read (default) or played; server_error is WhatsApp's
//	                 server-error receipt (it could not deliver a message it
//	                 had accepted): the message fails with code
//	                 undeliverable unless it was delivered already.
//	reaction         {from, id, emoji?, chat?}
//	                 message.reaction to message id; no emoji removes it.
//	                 Returns {id}.
//	presence         {from, state?, chat?}
//	                 a contact's online status (state available, the default,
//	                 or unavailable): presence.updated, passed on only while
//	                 the account is available (SendPresence) and subscribed
//	                 to the contact (SubscribePresence); or its typing state
//	                 in chat (default: its own chat) (composing, recording,
//	                 paused): chat.presence, passed on only while the account
//	                 is available. Both are forgotten with the connection, as
//	                 WhatsApp does. Returns {delivered}.
//	call             {from, video?, id?}        call.received. Returns {id}.
//	group            {event, group?, name?, topic?, participants?, by?}
//	                 group.<event>: created, member_added, member_removed or
//	                 updated; group defaults to a random …@g.us. Returns {id}.
//	disconnect       {}   Disconnected{Reason: "connection_closed"}; the worker reconnects.
//	logout           {}   the phone unlinks: the device is deleted and
//	                      LoggedOut{Reason: "logged_out_from_phone"} emitted
//	                      (offline: deleted silently, reported on the next Connect).
//	ban              {seconds?, code?}   TemporaryBan{Code: "101", Until: now+seconds
//	                                     (default 3600, not scaled)}; offline after.
//	stream_replaced  {}   StreamReplaced; offline after.
//	connect_failure  {reason?, message?, retryable?}   ConnectFailure (default
//	                      reason "503", "service unavailable"); offline after.
//	client_outdated  {}   ClientOutdated; offline after.
//	send_failure     {times?, code?}   the next times (default 1) sends fail
//	                      with server error code (default 500; 400 to 599).
//	vote             {from, id, options?, chat?}
//	                 message.poll_vote {id, message_id, chat, from,
//	                 selected, timestamp} for a vote in the poll with
//	                 WhatsApp id id, found in the channel's message log (sent
//	                 or received); options are option names of that poll
//	                 (none withdraws the vote). Delivered at least once like
//	                 inbound. Returns {id}.
//	retry_receipt    {id}   a recipient's device asks for the message with
//	                      WhatsApp id id again. The simulator keeps no cache
//	                      of recent sends, so, as whatsmeow after a failover,
//	                      it resends what the message log recorded
//	                      (Options.Messages); counted in PhoneState "resent".
//	                      Returns {resent}.
//	contact          {phone, name?, first_name?, push_name?, about?,
//	                  business_name?, verified_name?, picture?, picture_hidden?}
//	                      the phone's address book and another user's
//	                      profile (contacts.go); the user joins the
//	                      account's contacts.
//	chat             {chat, archived?, pinned?, muted_until?, read?}
//	                      a chat's archive, pin, mute ("forever", an RFC
//	                      3339 time, or null to unmute) or read state changed
//	                      on the phone: chat.updated (chats.go).
//
// The phone-side actions (inbound, receipt, reaction, presence, call,
// group, vote, retry_receipt, chat) need a connected session and return session.ErrNotConnected
// otherwise; disconnect, ban, stream_replaced, connect_failure and
// client_outdated need a connection, pairing or not; scan needs the QR
// codes showing. An unknown action, an unknown argument or a bad value is
// an error wrapping session.ErrInvalid.
package sim
