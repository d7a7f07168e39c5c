// Package natsauth makes NATS closed: it holds wagate's NATS operator and
// account keys, configures a server to trust them (the gateway's embedded
// server, or a nats-server through the configuration ServerConfig prints)
// and mints the user credentials of each role.
//
// Accounts (NATS JWT operator mode, one operator):
//
//   - SYS is the system account the server requires.
//   - WAGATE holds JetStream (WA_CMD, WA_EVT, WA_WEBHOOK) and every wagate
//     process. Its users are separated by subject permissions per Role.
//   - APP is for applications that publish commands straight to NATS. It
//     imports the service wa.cmd.> (and <prefix>.wa.cmd.>) that WAGATE
//     exports, so a command an app publishes is stored in WA_CMD and
//     JetStream's acknowledgement finds its way back. WAGATE also exports
//     the inboxes under AppInboxPrefix (_INBOX.app.>), where workers send
//     the outcome of a command that named one in Wagate-Reply-To; nothing
//     else of WAGATE is visible from APP.
//
// Invariants:
//
//   - A client without credentials signed by an account key of this
//     operator is refused.
//   - Only RoleWorker (and RoleAdmin, the all-in-one gateway) may publish
//     events (wa.evt.>), except webhook.disabled, which the dispatcher
//     announces. Events published by anything else never reach WA_EVT, so
//     never reach webhooks or browsers.
//   - Only RoleAPI and RoleAdmin may create or update streams; nobody but
//     RoleAdmin may delete or purge them.
//   - Permissions hold for every fleet prefix (WAGATE_NATS_PREFIX): each
//     wa.… subject is granted as itself and as *.wa.….
//
// The keys are seeds in <data dir>/nats-keys.json (mode 0600); whoever reads
// that file can mint any credential, so it is as secret as the admin token.
package natsauth
