package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// goBenchmarks are the testing.B benchmarks of hot paths, by package.
var goBenchmarks = []struct{ pkg, pattern, what string }{
	{"./pkg/event", "^BenchmarkEvent", "event encoding"},
	{"./pkg/webhook", "^BenchmarkSign", "webhook signing"},
	{"./pkg/shard", "^BenchmarkShardOf$", "shard routing"},
	{"./pkg/names", "^Benchmark(CmdSubject|ParseCmdStored)$", "command subjects"},
	{"./pkg/messaging", "^Benchmark(Parse|NormalizeRecipient)$", "send validation"},
}

// runGoBench runs the hot-path benchmarks with go test and reports ns/op.
func runGoBench(ctx context.Context, r *runner, res *result) error {
	benchtime := pick(r, "1s", "100ms")
	var details []map[string]any
	for _, gb := range goBenchmarks {
		args := []string{"test", "-run", "^$", "-bench", gb.pattern, "-benchmem", "-benchtime", benchtime, gb.pkg}
		r.progress("go %s", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = r.root
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out.String())
		}
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
				continue
			}
			name := f[0]
			if i := strings.LastIndexByte(name, '-'); i > 0 {
				name = name[:i] // the GOMAXPROCS suffix
			}
			m := map[string]any{"package": gb.pkg, "name": name}
			for i := 2; i+1 < len(f); i += 2 {
				if v, err := strconv.ParseFloat(f[i], 64); err == nil {
					m[f[i+1]] = v
				}
			}
			ns, _ := m["ns/op"].(float64)
			fig := res.add(name, ns, "ns/op").note("%s; %v B/op, %v allocs/op", gb.what, m["B/op"], m["allocs/op"])
			fig.Command = fmt.Sprintf("go test -run '^$' -bench '%s' -benchmem %s", gb.pattern, gb.pkg)
			details = append(details, m)
		}
	}
	setDetail(res, "benchmarks", details)
	return nil
}
