// Package secretbox encrypts secrets stored at rest (webhook signing
// secrets) with AES-256-GCM.
//
// A sealed value reads "enc:v1:<key id>:<base64url(nonce ‖ ciphertext)>":
// the prefix tells a sealed value from a plaintext one (rows written before
// encryption), and the key id (the first 8 hex digits of SHA-256 of the
// key) names the key that sealed it, so values sealed with a previous key
// are found and re-sealed with the current one.
//
// Invariants:
//
//   - Seal always uses the current key and a fresh random 96-bit nonce.
//   - Open accepts values sealed with the current or any previous key, and
//     refuses plaintext: a caller reading a column that may still hold
//     plaintext checks Sealed first.
//   - The key never leaves the Box; its id reveals nothing about it.
package secretbox
