package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"
)

// Sentinel errors of the backends.
var (
	// ErrNotFound: no file under the key.
	ErrNotFound = errors.New("media: not found")
	// ErrChecksum: the bytes written do not have the expected SHA-256.
	ErrChecksum = errors.New("media: checksum mismatch")
	// ErrInvalidKey: the key is empty, absolute, or climbs out of the store.
	ErrInvalidKey = errors.New("media: invalid key")
)

// Store keeps media files by key. Implementations are safe for concurrent
// use; see the package documentation for the contract.
type Store interface {
	// Put writes the file read from r under key, replacing any file there.
	Put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error)
	// Open returns the file under key, seekable; the caller closes it.
	Open(ctx context.Context, key string) (File, error)
	// Stat describes the file under key.
	Stat(ctx context.Context, key string) (Object, error)
	// Delete removes the file under key; a missing file is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every file whose key starts with prefix.
	DeletePrefix(ctx context.Context, prefix string) error
}

// Presigner is the optional capability of backends whose files can be
// fetched directly from the storage with a short-lived URL (S3).
type Presigner interface {
	Presign(ctx context.Context, key string, ttl time.Duration, filename string) (string, error)
}

// PutOptions describe a file being stored.
type PutOptions struct {
	// Size is the length in bytes when known, -1 (or 0 with a non-empty
	// file) when not. Backends use it to send the file in one request.
	Size int64
	// ContentType is stored with the file where the backend keeps it.
	ContentType string
	// SHA256 (hex), when set, is the digest the file must have.
	SHA256 string
}

// Object describes a stored file.
type Object struct {
	Key  string
	Size int64
	// SHA256 (hex) is set by Put; Stat sets it where the backend keeps it.
	SHA256  string
	ModTime time.Time
}

// File is an open stored file.
type File interface {
	io.ReadSeekCloser
}

// CheckKey refuses keys that could escape the store: empty, absolute,
// with "..", "." or empty segments, or backslashes.
func CheckKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
	}
	return nil
}

// Key is the storage key of a message's file.
func Key(channelID, messageID string) string { return channelID + "/" + messageID }

// ChannelPrefix is the prefix of every key of a channel.
func ChannelPrefix(channelID string) string { return channelID + "/" }

// hashingReader computes the SHA-256 and length of what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func newHashingReader(r io.Reader) *hashingReader { return &hashingReader{r: r, h: sha256.New()} }

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	if n > 0 {
		hr.h.Write(p[:n])
		hr.n += int64(n)
	}
	return n, err
}

func (hr *hashingReader) sum() string { return hex.EncodeToString(hr.h.Sum(nil)) }

// check compares the digest read with the expected one (when set).
func (hr *hashingReader) check(o PutOptions) error {
	if o.SHA256 != "" && !strings.EqualFold(o.SHA256, hr.sum()) {
		return fmt.Errorf("%w: got %s, want %s", ErrChecksum, hr.sum(), strings.ToLower(o.SHA256))
	}
	if o.Size > 0 && hr.n != o.Size {
		return fmt.Errorf("%w: got %d bytes, want %d", ErrChecksum, hr.n, o.Size)
	}
	return nil
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
