package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/secretbox"
)

// natsVersion is the nats-server the suite installs into bin/tools (the
// system's may be older than the 2.10 wagate needs).
const natsVersion = "v2.15.3"

// pgCluster is the name of the suite's own Postgres cluster.
const pgCluster = "wagate_chaos"

// infra is the suite's own Redis, nats-server and Postgres cluster.
type infra struct {
	root, dir string // repository root; run folder (NATS store, logs)
	redis     *service
	nats      *service
	redisAddr string
	natsAddr  string
	natsAuth  *natsauth.Authority
	secretKey string // WAGATE_SECRET_KEY of the fleet
	pgVersion string
	pgPort    int
}

// ensureNATSServer installs nats-server natsVersion into bin/tools unless
// it is there already, and returns its path.
func ensureNATSServer(ctx context.Context, root string) (string, error) {
	gobin := filepath.Join(root, "bin", "tools")
	bin := filepath.Join(gobin, "nats-server")
	if out, err := exec.CommandContext(ctx, bin, "--version").Output(); err == nil && strings.Contains(string(out), natsVersion) {
		return bin, nil
	}
	progress("installing nats-server %s into %s", natsVersion, gobin)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/nats-io/nats-server/v2@"+natsVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install nats-server: %w", err)
	}
	return bin, nil
}

func startInfra(ctx context.Context, root, dir string) (*infra, error) {
	natsBin, err := ensureNATSServer(ctx, root)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("redis-server is not installed (apt-get install redis-server): %w", err)
	}
	in := &infra{root: root, dir: dir, secretKey: secretbox.GenerateKey()}
	logDir := filepath.Join(dir, "logs")
	rp, err := freePort()
	if err != nil {
		return nil, err
	}
	in.redisAddr = "127.0.0.1:" + strconv.Itoa(rp)
	in.redis = &service{name: "redis", logDir: logDir, ready: tcpReady(in.redisAddr),
		command: func(int) ([]string, []string) {
			return []string{"redis-server", "--port", strconv.Itoa(rp), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}, nil
		}}
	if err := in.redis.start(ctx); err != nil {
		return nil, err
	}

	np, err := freePort()
	if err != nil {
		return nil, err
	}
	in.natsAddr = "127.0.0.1:" + strconv.Itoa(np)
	if in.natsAuth, err = natsauth.LoadOrCreate(dir); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, []byte(natsConfig(in.natsAddr, filepath.Join(dir, "jetstream"), in.natsAuth)), 0o600); err != nil {
		return nil, err
	}
	for _, role := range natsauth.Roles {
		if err := in.natsAuth.WriteCreds(in.natsCreds(role), role); err != nil {
			return nil, err
		}
	}
	in.nats = &service{name: "nats", logDir: logDir, ready: tcpReady(in.natsAddr),
		command: func(int) ([]string, []string) { return []string{natsBin, "-c", conf}, nil }}
	if err := in.nats.start(ctx); err != nil {
		return nil, err
	}

	if err := in.createPostgres(ctx); err != nil {
		return nil, err
	}
	return in, nil
}

// natsConfig is the nats-server configuration: JetStream with file storage
// in the run folder, so that streams and consumers survive a kill, and
// the operator and accounts of auth, so that every client needs one of
// the credentials natsCreds names.
func natsConfig(listen, storeDir string, auth *natsauth.Authority) string {
	return fmt.Sprintf("listen: %q\nserver_name: wagate_chaos\njetstream {\n  store_dir: %q\n}\n", listen, storeDir) + auth.ServerConfig()
}

// natsURL is the URL the fleet and the suite connect to.
func (in *infra) natsURL() string { return "nats://" + in.natsAddr }

// natsCreds is the credentials file of role in the run folder.
func (in *infra) natsCreds(role natsauth.Role) string {
	return filepath.Join(in.dir, "nats-"+string(role)+".creds")
}

// natsEnv is what a binary of role needs to reach NATS.
func (in *infra) natsEnv(role natsauth.Role) []string {
	return []string{"WAGATE_NATS_URL=" + in.natsURL(), "WAGATE_NATS_CREDS=" + in.natsCreds(role)}
}

func (in *infra) redisURL() string { return "redis://" + in.redisAddr + "/0" }

func (in *infra) databaseURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/wagate?sslmode=disable", in.pgPort)
}

// createPostgres drops a cluster left by an earlier run, creates a fresh
// one on a free port with trust authentication on loopback, and starts it.
func (in *infra) createPostgres(ctx context.Context) error {
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil {
		return fmt.Errorf("PostgreSQL (postgresql-common) is not installed: %w", err)
	}
	var vs []int
	for _, v := range versions {
		if n, err := strconv.Atoi(v.Name()); err == nil {
			vs = append(vs, n)
		}
	}
	if len(vs) == 0 {
		return fmt.Errorf("no PostgreSQL version under /etc/postgresql")
	}
	in.pgVersion = strconv.Itoa(slices.Max(vs))
	in.dropPostgres(ctx)
	if in.pgPort, err = freePort(); err != nil {
		return err
	}
	progress("creating Postgres %s cluster %s on port %d", in.pgVersion, pgCluster, in.pgPort)
	if err := runCmd(ctx, "pg_createcluster", in.pgVersion, pgCluster, "-p", strconv.Itoa(in.pgPort)); err != nil {
		return err
	}
	hba := "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
	if err := os.WriteFile(filepath.Join("/etc/postgresql", in.pgVersion, pgCluster, "pg_hba.conf"), []byte(hba), 0o640); err != nil {
		return err
	}
	return in.startPostgres(ctx)
}

func (in *infra) startPostgres(ctx context.Context) error {
	if err := runCmd(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", in.pgVersion, pgCluster, "start"); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for ctx.Err() == nil {
		if exec.CommandContext(ctx, "pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(in.pgPort)).Run() == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres cluster %s not ready after a minute", pgCluster)
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	return ctx.Err()
}

// stopPostgres stops the cluster in immediate mode: connections are cut
// as in a crash (committed transactions survive in the WAL).
func (in *infra) stopPostgres(ctx context.Context) error {
	return runCmd(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", "--mode=immediate", in.pgVersion, pgCluster, "stop")
}

// dropPostgres removes the suite's cluster if it exists.
func (in *infra) dropPostgres(ctx context.Context) {
	out, _ := exec.CommandContext(ctx, "pg_lsclusters", "-h").Output()
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == in.pgVersion && f[1] == pgCluster {
			_ = runCmd(ctx, "pg_dropcluster", "--stop", in.pgVersion, pgCluster)
		}
	}
}

// close stops the servers; keep leaves the Postgres cluster in place.
func (in *infra) close(keep bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if in.nats != nil {
		in.nats.stop(5 * time.Second)
	}
	if in.redis != nil {
		in.redis.stop(5 * time.Second)
	}
	if in.pgVersion != "" {
		if keep {
			_ = runCmd(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", "--mode=fast", in.pgVersion, pgCluster, "stop")
		} else {
			in.dropPostgres(ctx)
		}
	}
}

// runCmd runs a command, returning its output in the error when it fails.
func runCmd(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
