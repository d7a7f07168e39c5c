package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every sealed value.
const Prefix = "enc:v1:"

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

// Errors.
var (
	// ErrNotSealed is returned by Open for a value without Prefix.
	ErrNotSealed = errors.New("secretbox: value is not sealed")
	// ErrUnknownKey is returned by Open for a value sealed with a key the
	// box does not hold (set WAGATE_SECRET_KEY_PREVIOUS to the old key).
	ErrUnknownKey = errors.New("secretbox: value sealed with an unknown key")
	// ErrCorrupt is returned by Open for a value that does not decrypt.
	ErrCorrupt = errors.New("secretbox: sealed value is corrupt")
)

type key struct {
	id   string
	aead cipher.AEAD
}

// Box seals with its current key and opens with it or a previous one.
type Box struct {
	current key
	keys    map[string]key // by id, current included
}

// New returns a box sealing with current and opening with current and
// previous (keys of KeySize bytes).
func New(current []byte, previous ...[]byte) (*Box, error) {
	cur, err := newKey(current)
	if err != nil {
		return nil, err
	}
	b := &Box{current: cur, keys: map[string]key{cur.id: cur}}
	for _, p := range previous {
		k, err := newKey(p)
		if err != nil {
			return nil, fmt.Errorf("previous key: %w", err)
		}
		if _, dup := b.keys[k.id]; !dup {
			b.keys[k.id] = k
		}
	}
	return b, nil
}

func newKey(raw []byte) (key, error) {
	if len(raw) != KeySize {
		return key{}, fmt.Errorf("secretbox: a key has %d bytes, not %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, fmt.Errorf("secretbox: %w", err)
	}
	sum := sha256.Sum256(raw)
	return key{id: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

// ParseKey reads a key written as base64 (standard or URL alphabet, padded
// or not) or as 64 hex digits.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("secretbox: expected %d bytes as base64 or %d hex digits (generate one with `openssl rand -base64 32`)", KeySize, 2*KeySize)
}

// GenerateKey returns a fresh random key as base64.
func GenerateKey() string {
	var b [KeySize]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// Sealed reports whether s is a sealed value (of any key).
func Sealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// CurrentPrefix starts every value sealed with the current key (for SQL
// LIKE patterns finding the others).
func (b *Box) CurrentPrefix() string { return Prefix + b.current.id + ":" }

// Current reports whether s is sealed with the box's current key.
func (b *Box) Current(s string) bool { return strings.HasPrefix(s, b.CurrentPrefix()) }

// Seal encrypts plaintext with the current key.
func (b *Box) Seal(plaintext string) (string, error) {
	nonce := make([]byte, b.current.aead.NonceSize(), b.current.aead.NonceSize()+len(plaintext)+b.current.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: nonce: %w", err)
	}
	out := b.current.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return Prefix + b.current.id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a sealed value.
func (b *Box) Open(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return "", ErrNotSealed
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return "", ErrCorrupt
	}
	k, ok := b.keys[id]
	if !ok {
		return "", fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
	}
	// Strict: Seal writes the last character's unused bits as zero, and
	// one that differs there is tampered with like any other.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(data)
	if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", ErrCorrupt
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrCorrupt
	}
	return string(plain), nil
}
