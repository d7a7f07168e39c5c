package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/names"
)

// repoRoot is the folder holding go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run the suite inside the wagate repository (no go.mod found)")
		}
		dir = parent
	}
}

// run sets everything up, runs the scenarios and reports; it returns
// whether every scenario passed.
func run(ctx context.Context, o options) (bool, error) {
	started := time.Now()
	root, err := repoRoot()
	if err != nil {
		return false, err
	}
	dir := filepath.Join(root, "results", "chaos")
	if err := os.RemoveAll(dir); err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	progress("run folder %s (logs under logs/)", dir)
	in, err := startInfra(ctx, root, dir)
	if in != nil {
		defer in.close(o.keep)
	}
	if err != nil {
		return false, err
	}
	progress("Redis %s, NATS %s, Postgres %s on port %d", in.redisAddr, in.natsAddr, in.pgVersion, in.pgPort)
	binDir, err := buildFleet(ctx, root)
	if err != nil {
		return false, err
	}
	f, err := startFleet(ctx, in, o, binDir)
	if f != nil {
		defer f.stop()
	}
	if err != nil {
		return false, err
	}
	rc, err := startReceiver()
	if err != nil {
		return false, err
	}
	defer rc.close()
	h := &harness{o: o, in: in, f: f, rc: rc, a: newAPIClient(f.apiURL), keys: names.NewRedis("wagate_chaos:")}
	var hook struct {
		Secret string `json:"secret"`
	}
	if _, err := h.a.do(ctx, "POST", "/v1/webhooks", map[string]any{"url": rc.url, "events": statusEvents}, &hook); err != nil {
		return false, fmt.Errorf("register the webhook endpoint: %w", err)
	}
	if err := rc.setSecret(hook.Secret); err != nil {
		return false, err
	}
	progress("waiting for the workers to share the shards")
	if err := h.waitBalanced(ctx, 2*time.Minute); err != nil {
		return false, err
	}
	progress("pairing %d channels through the simulator", o.channels)
	if h.channels, err = h.a.pairChannels(ctx, o.channels); err != nil {
		return false, err
	}

	var results []*result
	for _, name := range o.scenarios {
		r, err := h.runScenario(ctx, *scenarioByName(name))
		if err != nil {
			return false, err
		}
		results = append(results, r)
		verdict := "pass"
		if len(r.failures) > 0 {
			verdict = "FAIL: " + strings.Join(r.failures, "; ")
		}
		progress("%s: accepted %d, sent %d, lost %d, duplicated %d, events lost %d, webhooks lost %d, recovery %s s, webhook recovery %s s — %s",
			r.name, r.accepted, r.sent, r.lost, r.duplicated, r.eventsLost, r.webhooksLost, secs(r.recovery), secs(r.hookRecovery), verdict)
	}
	fmt.Println()
	fmt.Print(table(results))
	fmt.Println()
	fmt.Println(summary(results))
	ok := true
	for _, r := range results {
		if len(r.failures) > 0 {
			ok = false
			fmt.Printf("%s fails: %s\n", r.name, strings.Join(r.failures, "; "))
			for _, n := range r.notes {
				fmt.Printf("    %s\n", n)
			}
		}
	}
	if o.doc != "" {
		path := o.doc
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := writeDoc(path, o, results, started, in.pgVersion); err != nil {
			return false, err
		}
		progress("wrote %s", path)
	}
	return ok, nil
}
