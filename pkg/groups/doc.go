// Package groups is the group capability of a channel — list, inspect and
// create groups, add, remove, promote and demote participants, leave; read
// and reset invite links, join by them; change a group's name,
// description, settings and picture — and the request/reply protocol that
// reaches it.
//
// # Why request/reply
//
// Commands travel through JetStream and are answered by events, but group
// calls need an answer (a list, the id of a new group). The API therefore
// asks the worker that runs the channel's session directly, with a core
// NATS request that no stream stores:
//
//	subject  wa.rpc.<shard>.<channel>.<method>   shard = shard.Of(channel, S)
//	header   Wagate-Deadline: RFC 3339 time after which the caller no longer waits
//	body     Params (JSON)
//	reply    {"result": …} or {"error": {"code", "message", "details"}}
//	         (an error also sets the Wagate-Error header to its code)
//
// Methods are group.list, group.info, group.create, group.participants,
// group.leave, group.invite, group.join, group.update and group.picture
// (the Method constants). Every worker subscribes to
// wa.rpc.<k>.> for each shard k it owns, from the moment it holds the
// shard's fencing epoch until it stops the shard, in a queue group so that
// a request runs once even while two workers briefly overlap.
//
// # Invariants
//
//   - Ordering. The worker puts a request in the channel's mailbox, like a
//     command: it runs in order with the channel's commands and events, and
//     only the mailbox goroutine touches the session.
//   - No owner, no wait. When no worker owns the shard, NATS answers "no
//     responders" at once and the caller gets CodeChannelUnavailable (HTTP
//     503): nothing ran. A worker that stops a shard answers its pending
//     requests the same way.
//   - Bounded. The caller waits at most ClientConfig.Timeout; the worker
//     bounds the driver call by the request's deadline (slightly earlier),
//     and skips a request its mailbox reaches after that deadline, so a
//     request the caller gave up on does not take effect later. A request
//     that timed out while running answers CodeTimeout (HTTP 504): its
//     effect is unknown.
//   - Bounded queue. A shard holds a bounded number of pending requests;
//     beyond it requests are refused with CodeChannelBusy.
//   - Events. Changes are reported as events, as WhatsApp reports them:
//     group.created, group.member_added (reason "invite" for a join by
//     link), group.member_removed and group.updated (promotions and
//     demotions; one event per setting changed: name, topic, announce,
//     locked, invite_link, picture_id or picture_removed). The reply does
//     not replace them.
//   - Admins. Invite links, announce and locked need a group admin; the
//     name, description and picture need one in a locked group. A change
//     refused for that is refused whole (ErrNotAdmin), before any of it
//     reaches WhatsApp.
//
// # The capability
//
// Drivers implement the capability with the types of this package (no
// whatsmeow type crosses it); the worker detects it by type assertion on
// the session:
//
//	ListGroups(ctx) ([]Group, error)
//	GroupInfo(ctx, group) (Group, error)
//	CreateGroup(ctx, name, participants) (Created, error)
//	UpdateParticipants(ctx, group, action, participants) ([]ParticipantResult, error)
//	LeaveGroup(ctx, group) error
//
// and, in methods.go, the optional Inviter (InviteLink, JoinGroup) and
// Editor (UpdateGroup, SetGroupPicture), run through Methods.
//
// Group and participant arguments are JIDs (participants may be phone
// numbers for the drivers, which normalise them). Errors wrap the
// sentinels of package session (ErrInvalid, ErrNotConnected, ...) or of
// this package (ErrGroupNotFound, ErrNotParticipant, ErrNotAdmin,
// ErrRateLimited, ErrInviteInvalid, ErrInviteRevoked, ErrJoinRefused,
// ErrInvalidImage); ErrorOf maps them to reply codes.
//
// The HTTP routes are in package groups/groupsapi.
package groups
