// Package store is wagate's Postgres layer (pgx/v5): the connection pool,
// embedded migrations, and the queries of each table, one file per table.
//
// Invariants:
//   - Migrations are applied at start under a session advisory lock, so any
//     number of processes may start at once; each file runs in one
//     transaction and is recorded in schema_migrations.
//   - The shard count is written once into meta; a process configured with
//     another count refuses to start (ErrShardMismatch).
//   - Fencing: every write of channel state made by a worker names the epoch
//     it took for the channel's shard. The write locks the shard row FOR
//     SHARE and is refused with ErrStaleEpoch when the shard's epoch has moved
//     on, so a worker that lost its lease can never overwrite the state set by
//     the new owner. Taking an epoch (TakeEpoch) locks the row FOR UPDATE.
package store
