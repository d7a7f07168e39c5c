// Package bus connects to NATS JetStream and keeps wagate's streams in
// shape: WA_CMD (work queue; a subject transform partitions commands by
// shard), WA_EVT (limits retention, de-duplicated by event id) and
// WA_WEBHOOK (work queue of webhook deliveries). It also runs the embedded
// NATS server of cmd/gateway and publishes events.
//
// The server must be ≥ 2.10 (subject transforms on streams); Connect checks
// the version and fails with a clear error below it.
package bus
