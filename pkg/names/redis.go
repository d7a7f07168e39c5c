package names

import "strconv"

// Redis builds Redis keys under one prefix (WAGATE_REDIS_PREFIX).
type Redis struct{ prefix string }

// NewRedis returns the key builder for prefix.
func NewRedis(prefix string) Redis { return Redis{prefix: prefix} }

// Prefix returns the prefix every key starts with.
func (r Redis) Prefix() string { return r.prefix }

// ShardLease is the lease key of shard k; its value is "<worker>:<nonce>".
func (r Redis) ShardLease(k int) string { return r.prefix + "shard:" + strconv.Itoa(k) }

// Workers is the sorted set of live workers scored by heartbeat time (ms).
func (r Redis) Workers() string { return r.prefix + "workers" }

// WorkerClaim holds the token of the process that heartbeats under a
// worker id, so a second process under the same id is detected.
func (r Redis) WorkerClaim(worker string) string { return r.prefix + "worker:" + worker }

// GroupCreateKey remembers, for a day, the group a channel created under
// an Idempotency-Key.
func (r Redis) GroupCreateKey(channel, key string) string {
	return r.prefix + "groupkey:" + channel + ":" + key
}

// QR holds the current QR code of a channel until it expires.
func (r Redis) QR(channel string) string { return r.prefix + "qr:" + channel }

// PairingCode holds the current phone pairing code of a channel.
func (r Redis) PairingCode(channel string) string { return r.prefix + "paircode:" + channel }

// SimConn marks the live simulated connection of a device (value: connection id).
func (r Redis) SimConn(jid string) string { return r.prefix + "sim:conn:" + jid }

// SimDoubleConnections counts simultaneous connections of one simulated device.
func (r Redis) SimDoubleConnections() string { return r.prefix + "sim:double_connections" }

// SimPending is the hash of a simulated device's inbound messages not yet
// acknowledged: message id → the event, delivered again on the next
// connection.
func (r Redis) SimPending(jid string) string { return r.prefix + "sim:pending:" + jid }

// SimAddressing is the hash of how the simulated WhatsApp addresses each
// contact: phone-number JID → "lid" (absent: by phone number).
func (r Redis) SimAddressing() string { return r.prefix + "sim:addressing" }

// SimMedia is the hash of the simulated media server's state:
// "expired:<direct path>" → 1 for a file the server no longer serves at
// that path, "gone:<message id>" → 1 for a file the phone no longer has.
func (r Redis) SimMedia() string { return r.prefix + "sim:media" }

// SimDeliveries counts deliveries of each message id on the simulated phone.
func (r Redis) SimDeliveries() string { return r.prefix + "sim:deliveries" }

// SimGroup is the hash of a simulated group: name, topic, owner, created,
// announce, locked, invite (the live invite code), picture (its id).
func (r Redis) SimGroup(group string) string { return r.prefix + "sim:group:" + group }

// SimGroupInvites is the hash of every invite code the simulated WhatsApp
// issued: code → group. A code is live while it is its group's invite.
func (r Redis) SimGroupInvites() string { return r.prefix + "sim:group_invites" }

// SimGroupMembers is the hash of a simulated group's participants: JID →
// role (member, admin, superadmin).
func (r Redis) SimGroupMembers(group string) string {
	return r.prefix + "sim:group:" + group + ":members"
}

// SimUserGroups is the set of the simulated groups a user (a non-device
// JID) takes part in.
func (r Redis) SimUserGroups(user string) string { return r.prefix + "sim:groups:" + user }

// SimReceipts is the hash of the receipts a simulated device has still to
// receive for the messages it sent: "<message id>/<status>" → the receipt
// and when it is due; cleared as they are acknowledged.
func (r Redis) SimReceipts(jid string) string { return r.prefix + "sim:receipts:" + jid }

// SendRate is the per-channel rate-limit state of outbound messages.
func (r Redis) SendRate(channel string) string { return r.prefix + "rate:" + channel }

// Sequence is the per-channel event sequence counter.
func (r Redis) Sequence(channel string) string { return r.prefix + "seq:" + channel }

// SimPhone records what the simulated phone saw of a channel: messages
// marked read and presence sent (a hash, for tests and the demo).
func (r Redis) SimPhone(channel string) string { return r.prefix + "sim:phone:" + channel }

// Call remembers the caller of a received call, so it can be rejected by
// its id (package calls).
func (r Redis) Call(channel, callID string) string {
	return r.prefix + "call:" + channel + ":" + callID
}

// ContactCheck caches, for a day, whether phone is on WhatsApp as channel
// asked it (package contacts).
func (r Redis) ContactCheck(channel, phone string) string {
	return r.prefix + "contacts:check:" + channel + ":" + phone
}

// ContactCheckRate is the rate-limit state of a channel's number checks
// that reach WhatsApp.
func (r Redis) ContactCheckRate(channel string) string {
	return r.prefix + "contacts:checkrate:" + channel
}

// SimUser is the hash of a simulated WhatsApp user's public profile
// (push name, about, business and verified names, picture id), by user JID.
func (r Redis) SimUser(jid string) string { return r.prefix + "sim:user:" + jid }

// SimContacts is the hash of a simulated account's contact store: user JID
// → its names as the account knows them.
func (r Redis) SimContacts(jid string) string { return r.prefix + "sim:contacts:" + jid }

// SimBlocklist is the set of users a simulated account blocked.
func (r Redis) SimBlocklist(jid string) string { return r.prefix + "sim:blocklist:" + jid }
