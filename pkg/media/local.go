package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Local keeps files in a directory, one file per key (the key's segments
// are folders). Files are written to a temporary name in the same folder
// and renamed into place, so a reader never sees half a file.
type Local struct {
	root string
}

var (
	_ Store = (*Local)(nil)
)

// NewLocal opens (and creates) the directory root.
func NewLocal(root string) (*Local, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("media: local store: %w", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("media: local store: %w", err)
	}
	return &Local{root: abs}, nil
}

// Root is the directory the files are kept in.
func (l *Local) Root() string { return l.root }

func (l *Local) path(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// Put streams r into a temporary file beside the key's and renames it into
// place once its size and digest are checked.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	p, err := l.path(key)
	if err != nil {
		return Object{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return Object{}, fmt.Errorf("media: put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return Object{}, fmt.Errorf("media: put %s: %w", key, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	hr := newHashingReader(ctxReader{ctx, r})
	if _, err := io.Copy(tmp, hr); err != nil {
		return Object{}, fmt.Errorf("media: put %s: %w", key, err)
	}
	if err := hr.check(o); err != nil {
		// As with S3, where the object is replaced before its digest is
		// known: a file refused leaves nothing under its key.
		_ = os.Remove(p)
		return Object{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Object{}, fmt.Errorf("media: put %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return Object{}, fmt.Errorf("media: put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return Object{}, fmt.Errorf("media: put %s: %w", key, err)
	}
	done = true
	st, err := os.Stat(p)
	if err != nil {
		return Object{}, fmt.Errorf("media: put %s: %w", key, err)
	}
	return Object{Key: key, Size: hr.n, SHA256: hr.sum(), ModTime: st.ModTime()}, nil
}

// Open opens the file under key.
func (l *Local) Open(_ context.Context, key string) (File, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, l.fail("open", key, err)
	}
	return f, nil
}

// Stat describes the file under key.
func (l *Local) Stat(_ context.Context, key string) (Object, error) {
	p, err := l.path(key)
	if err != nil {
		return Object{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return Object{}, l.fail("stat", key, err)
	}
	if !st.Mode().IsRegular() {
		return Object{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return Object{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete removes the file under key.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	return nil
}

// DeletePrefix removes the files under prefix. A prefix ending in "/"
// names a folder, which is removed whole.
func (l *Local) DeletePrefix(ctx context.Context, prefix string) error {
	dir, base := strings.TrimSuffix(prefix, "/"), ""
	if !strings.HasSuffix(prefix, "/") {
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			dir, base = prefix[:i], prefix[i+1:]
		} else {
			dir, base = "", prefix
		}
	}
	folder := l.root
	if dir != "" {
		if err := CheckKey(dir); err != nil {
			return err
		}
		folder = filepath.Join(l.root, filepath.FromSlash(dir))
	}
	if base == "" {
		if folder == l.root {
			return fmt.Errorf("%w: an empty prefix would delete everything", ErrInvalidKey)
		}
		if err := os.RemoveAll(folder); err != nil {
			return fmt.Errorf("media: delete %s: %w", prefix, err)
		}
		return nil
	}
	entries, err := os.ReadDir(folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("media: delete %s: %w", prefix, err)
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.HasPrefix(e.Name(), base) {
			if err := os.RemoveAll(filepath.Join(folder, e.Name())); err != nil {
				return fmt.Errorf("media: delete %s: %w", prefix, err)
			}
		}
	}
	return nil
}

func (l *Local) fail(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("media: %s %s: %w", op, key, err)
}
