// Package lease holds shard leases in Redis and tracks live workers.
//
// A lease is the key names.Redis.ShardLease(k) with value "<worker>:<nonce>",
// set with NX and a TTL. Its holder renews it every TTL/3 with a
// compare-and-pexpire script and releases it with compare-and-delete, so a
// worker can never extend or delete a lease it no longer holds.
//
// Trust window: Redis may expire a lease while a renewal is in flight, and
// the holder's clock is the only one it can read. So a holder trusts its
// lease only until renewal_attempt_start + TTL − Margin, measured on its own
// monotonic clock from the moment the successful SET or renewal was *sent*,
// not when it was answered. Past that instant, or when a renewal finds the
// value changed, the lease is lost: the caller must stop the shard's
// consumer and disconnect its sessions at once. A new holder can only
// acquire after the key expired in Redis, which happens no earlier than
// TTL after the old holder's last successful renewal was sent; the margin
// covers clock-rate drift between the two machines.
//
//	         acquire/renew sent          trust ends            key expires
//	old  ───────────●───────────────────────┤ (TTL−margin)         │
//	new                                                            ├── SET NX succeeds
//
// Live workers heartbeat into a sorted set scored by time; a worker that has
// not beaten for a TTL is considered dead and is pruned.
package lease
