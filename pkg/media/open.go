package media

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// Config chooses and configures a backend.
type Config struct {
	// URL is empty (a folder "media" under DataDir), s3://bucket/prefix,
	// file:///dir or a directory.
	URL     string
	DataDir string
	// S3 reaches the store of an s3:// URL; its Bucket and Prefix come
	// from the URL.
	S3 S3Config
}

// Open returns the backend the configuration names. An S3 bucket is
// checked once, so that a wrong endpoint or credentials fail at start.
func Open(ctx context.Context, cfg Config) (Store, error) {
	switch {
	case strings.HasPrefix(cfg.URL, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(cfg.URL, "s3://"), "/")
		s3cfg := cfg.S3
		s3cfg.Bucket, s3cfg.Prefix = bucket, prefix
		s, err := NewS3(s3cfg)
		if err != nil {
			return nil, err
		}
		if err := s.Check(ctx); err != nil {
			return nil, fmt.Errorf("%w (WAGATE_MEDIA_URL=%s)", err, cfg.URL)
		}
		return s, nil
	case cfg.URL == "":
		return NewLocal(filepath.Join(cfg.DataDir, "media"))
	default:
		return NewLocal(strings.TrimPrefix(cfg.URL, "file://"))
	}
}
