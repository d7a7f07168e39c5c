package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures the S3 backend.
type S3Config struct {
	// Bucket holds the files; Prefix (without leading or trailing "/") is
	// put before every key.
	Bucket string
	Prefix string
	// Endpoint is host[:port] of the S3 API; empty means AWS
	// (s3.amazonaws.com). Insecure uses http instead of https.
	Endpoint string
	Insecure bool
	// Region of the bucket; empty lets the client discover it.
	Region string
	// AccessKey and SecretKey; empty for both reads the usual AWS
	// environment and instance credentials.
	AccessKey, SecretKey string
	// PartSize bounds the memory one upload of unknown length holds
	// (default 8 MiB; S3's minimum is 5 MiB).
	PartSize uint64
	// Transport, when set, carries the requests (tests).
	Transport http.RoundTripper
}

// S3 keeps files as objects in a bucket of an S3-compatible store.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string
	part   uint64
}

var (
	_ Store     = (*S3)(nil)
	_ Presigner = (*S3)(nil)
)

// defaultPartSize is what one upload of unknown length holds in memory.
const defaultPartSize = 8 << 20

// NewS3 connects the S3 backend. It does not check the bucket; Check does.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("media: s3: a bucket is required")
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		endpoint, cfg.Insecure = u.Host, u.Scheme == "http"
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{&credentials.EnvAWS{}, &credentials.IAM{}})
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds: creds, Secure: !cfg.Insecure, Region: cfg.Region, Transport: cfg.Transport,
		// Virtual-host addressing on AWS and Google (AWS is retiring paths),
		// the path elsewhere: versitygw, Ceph, SeaweedFS, a cluster Service.
		BucketLookup: minio.BucketLookupAuto,
	})
	if err != nil {
		return nil, fmt.Errorf("media: s3: %w", err)
	}
	part := cfg.PartSize
	if part == 0 {
		part = defaultPartSize
	}
	return &S3{c: c, bucket: cfg.Bucket, prefix: strings.Trim(cfg.Prefix, "/"), part: part}, nil
}

// Check reports whether the bucket can be reached.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("media: s3: bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("media: s3: bucket %s does not exist", s.bucket)
	}
	return nil
}

func (s *S3) object(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	if s.prefix == "" {
		return key, nil
	}
	return s.prefix + "/" + key, nil
}

// metaSHA256 is the user metadata the digest is kept in.
const metaSHA256 = "Sha256"

// Put uploads r; the object appears only once the upload completes. A file
// whose digest does not match is deleted again.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	name, err := s.object(key)
	if err != nil {
		return Object{}, err
	}
	size := o.Size
	if size <= 0 {
		size = -1
	}
	hr := newHashingReader(r)
	opts := minio.PutObjectOptions{ContentType: o.ContentType, PartSize: s.part}
	if o.SHA256 != "" {
		opts.UserMetadata = map[string]string{metaSHA256: strings.ToLower(o.SHA256)}
	}
	info, err := s.c.PutObject(ctx, s.bucket, name, hr, size, opts)
	if err != nil {
		if o.Size > 0 && hr.n < o.Size && errors.Is(err, io.ErrUnexpectedEOF) {
			return Object{}, fmt.Errorf("%w: got %d bytes, want %d: %w", ErrChecksum, hr.n, o.Size, err)
		}
		return Object{}, fmt.Errorf("media: put %s: %w", key, err)
	}
	if err := hr.check(o); err != nil {
		_ = s.c.RemoveObject(context.WithoutCancel(ctx), s.bucket, name, minio.RemoveObjectOptions{})
		return Object{}, err
	}
	mod := info.LastModified
	if mod.IsZero() {
		mod = time.Now()
	}
	return Object{Key: key, Size: hr.n, SHA256: hr.sum(), ModTime: mod}, nil
}

// Open returns the object as a seekable reader: each read after a seek is
// a ranged GET, so serving a range does not fetch the whole object.
func (s *S3) Open(ctx context.Context, key string) (File, error) {
	if _, err := s.Stat(ctx, key); err != nil {
		return nil, err
	}
	name, _ := s.object(key)
	obj, err := s.c.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("open", key, err)
	}
	return obj, nil
}

// Stat describes the object under key.
func (s *S3) Stat(ctx context.Context, key string) (Object, error) {
	name, err := s.object(key)
	if err != nil {
		return Object{}, err
	}
	info, err := s.c.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return Object{}, s.fail("stat", key, err)
	}
	return Object{Key: key, Size: info.Size, SHA256: info.UserMetadata[metaSHA256], ModTime: info.LastModified}, nil
}

// Delete removes the object under key.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix, in
// batches as the listing yields them.
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	if strings.Trim(prefix, "/") == "" {
		return fmt.Errorf("%w: an empty prefix would delete everything", ErrInvalidKey)
	}
	full := prefix
	if s.prefix != "" {
		full = s.prefix + "/" + prefix
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var listErr error
	objects := make(chan minio.ObjectInfo)
	go func() {
		defer close(objects)
		for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: full, Recursive: true}) {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			select {
			case objects <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	var rmErr error
	for e := range s.c.RemoveObjects(ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && !isNotFound(e.Err) && rmErr == nil {
			rmErr = e.Err
			cancel() // the lister stops; the remover reports what it had
		}
	}
	if rmErr != nil {
		return fmt.Errorf("media: delete %s: %w", prefix, rmErr)
	}
	if listErr != nil {
		return fmt.Errorf("media: delete %s: %w", prefix, listErr)
	}
	return nil
}

// Presign returns a URL that fetches the object without credentials for
// ttl; filename, when set, names the download.
func (s *S3) Presign(ctx context.Context, key string, ttl time.Duration, filename string) (string, error) {
	name, err := s.object(key)
	if err != nil {
		return "", err
	}
	params := url.Values{}
	if filename != "" {
		params.Set("response-content-disposition", fmt.Sprintf("attachment; filename=%q", filename))
	}
	u, err := s.c.PresignedGetObject(ctx, s.bucket, name, ttl, params)
	if err != nil {
		return "", fmt.Errorf("media: presign %s: %w", key, err)
	}
	return u.String(), nil
}

func isNotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

func (s *S3) fail(op, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("media: %s %s: %w", op, key, err)
}
