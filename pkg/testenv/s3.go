package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"
)

// S3Server is a real S3-compatible server (versitygw over a temporary
// folder) with one bucket, for the tests of the S3 media backend. Stop and
// Start let a test take the storage down and bring it back on the same
// address with the same files.
type S3Server struct {
	Endpoint  string // host:port, plain http
	AccessKey string
	SecretKey string
	Bucket    string

	t    testing.TB
	bin  string
	dir  string
	mu   sync.Mutex
	proc *exec.Cmd
}

// S3 starts versitygw on a free port of 127.0.0.1 serving a temporary
// folder, creates a bucket and stops the server when the test ends. The
// binary is bin/tools/versitygw of the repository (scripts/versitygw.sh
// installs it; make test and .ci/run call it) or versitygw on PATH.
func S3(t testing.TB) *S3Server {
	t.Helper()
	bin := versitygwBinary()
	require.NotEmpty(t, bin, "versitygw is not installed: run scripts/versitygw.sh (make test and .ci/run do)")
	s := &S3Server{t: t, bin: bin, dir: t.TempDir(), AccessKey: "wagatetest", SecretKey: "wagatetestsecret", Bucket: "media-" + Unique()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.Endpoint = l.Addr().String()
	require.NoError(t, l.Close())
	s.Start()
	t.Cleanup(s.Stop)
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), BucketLookup: minio.BucketLookupPath})
	require.NoError(t, err)
	require.NoError(t, c.MakeBucket(context.Background(), s.Bucket, minio.MakeBucketOptions{}))
	return s
}

// Start runs the server (again) and waits until it accepts connections.
func (s *S3Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return
	}
	cmd := exec.Command(s.bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--port", s.Endpoint, "--quiet", "posix", s.dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(s.t, cmd.Start())
	s.proc = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Endpoint, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("versitygw did not listen on %s: %v", s.Endpoint, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server; its files stay for the next Start.
func (s *S3Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Process.Kill()
	_ = s.proc.Wait()
	s.proc = nil
}

// versitygwBinary finds bin/tools/versitygw above the working directory,
// else versitygw on PATH.
func versitygwBinary() string {
	dir, err := os.Getwd()
	for err == nil {
		p := filepath.Join(dir, "bin", "tools", "versitygw")
		if fi, e := os.Stat(p); e == nil && !fi.IsDir() {
			return p
		}
		if _, e := os.Stat(filepath.Join(dir, "go.mod")); e == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	return ""
}

// String is the server's address, for messages.
func (s *S3Server) String() string {
	return fmt.Sprintf("versitygw at %s (bucket %s)", s.Endpoint, s.Bucket)
}
