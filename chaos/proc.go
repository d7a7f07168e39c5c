package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// service is a child process the suite starts, kills and restarts. When
// supervised, an exit the suite did not cause is counted as a crash and
// the process is started again a second later, as a container runtime
// would.
type service struct {
	name      string
	logDir    string
	supervise bool
	// command returns the program, its arguments and extra environment
	// for the n-th start (1, 2, …).
	command func(n int) (argv []string, env []string)
	// ready reports whether a started process answers.
	ready func(ctx context.Context) bool

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	starts  int
	crashes int
	expect  bool // the suite wants it running
}

// start starts the process and waits until it is ready (at most a minute).
func (s *service) start(ctx context.Context) error {
	s.mu.Lock()
	s.expect = true
	err := s.spawnLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.waitReady(ctx, time.Minute)
}

func (s *service) spawnLocked() error {
	s.starts++
	argv, env := s.command(s.starts)
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(s.logDir, s.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "\n=== %s start %d at %s: %v\n", s.name, s.starts, time.Now().Format(time.RFC3339Nano), argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(baseEnviron(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: a Ctrl-C of the suite does not reach the fleet
	// before the suite stops it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	go func() {
		err := cmd.Wait()
		_ = logf.Close()
		close(done)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cmd != cmd || !s.expect {
			return
		}
		s.crashes++
		if !s.supervise {
			progress("%s exited by itself (%v)", s.name, err)
			return
		}
		progress("%s exited by itself (%v); restarting it in 1 s", s.name, err)
		time.AfterFunc(time.Second, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.cmd == cmd && s.expect {
				if err := s.spawnLocked(); err != nil {
					progress("restart of %s failed: %v", s.name, err)
				}
			}
		})
	}()
	return nil
}

// waitReady polls ready until it answers or timeout passes.
func (s *service) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for ctx.Err() == nil {
		if s.ready == nil || s.ready(ctx) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s (see %s)", s.name, timeout, filepath.Join(s.logDir, s.name+".log"))
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	return ctx.Err()
}

// kill sends SIGKILL and waits for the exit; the process stays down.
func (s *service) kill() {
	s.signal(syscall.SIGKILL, 0)
}

// stop sends SIGTERM, then SIGKILL after grace.
func (s *service) stop(grace time.Duration) {
	s.signal(syscall.SIGTERM, grace)
}

func (s *service) signal(sig syscall.Signal, grace time.Duration) {
	s.mu.Lock()
	s.expect = false
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	<-done
}

// pid is the current process id (0 when none).
func (s *service) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// crashCount returns the exits the suite did not cause.
func (s *service) crashCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.crashes
}

// baseEnviron is the suite's environment without WAGATE_ settings.
func baseEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if len(kv) < 7 || kv[:7] != "WAGATE_" {
			env = append(env, kv)
		}
	}
	return env
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tcpReady reports whether something accepts connections on addr.
func tcpReady(addr string) func(context.Context) bool {
	return func(context.Context) bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
}

// httpReady reports whether url answers 200.
func httpReady(url string) func(context.Context) bool {
	client := &http.Client{Timeout: time.Second}
	return func(ctx context.Context) bool {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return false
		}
		res, err := client.Do(req)
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
}
