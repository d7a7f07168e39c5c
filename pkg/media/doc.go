// Package media stores the files of messages: what phones send (downloaded
// from WhatsApp by the worker that owns the channel) and what integrators
// send as base64. One small interface, Store, with two backends: a local
// directory (the single-machine default, under WAGATE_DATA_DIR) and any
// S3-compatible store (WAGATE_MEDIA_URL=s3://bucket/prefix).
//
// Invariants every backend keeps (the contract test in store_test.go runs
// against both, the S3 one against a real versitygw):
//   - Put streams: it never holds the whole file in memory (the local
//     backend copies through a 32 KiB buffer; the S3 backend sends one part
//     of PartSize at most at a time). It computes the SHA-256 while
//     streaming and, when an expected digest is given, refuses a file that
//     does not match with ErrChecksum and leaves nothing under the key.
//   - Put is atomic per key: a reader of the key sees the old file or the
//     whole new one, never a half-written one (local: temp file + rename;
//     S3: an object appears when its upload completes).
//   - Open returns a seekable reader, so ranges are served without reading
//     the file from its start; a missing key is ErrNotFound, from Open,
//     Stat and Delete alike (Delete of a missing key is not an error).
//   - Keys are "<channel_id>/<message_id>": DeletePrefix(channel_id+"/")
//     removes every file of a channel.
//   - Any other error means the storage is unavailable (disk, network,
//     credentials): callers answer 503 with Retry-After and retry later;
//     nothing recorded is lost.
package media
