package main

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// loadStats summarises the 1-minute load average over a period.
type loadStats struct {
	Start float64 `json:"start"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	Max   float64 `json:"max"`
}

// loadSampler reads /proc/loadavg every second, so every figure can say
// how busy the machine was (other engineers share it).
type loadSampler struct {
	mu  sync.Mutex
	v   []float64
	cpu *cpuTracker
}

func startLoadSampler(ctx context.Context) *loadSampler {
	s := &loadSampler{cpu: newCPUTracker()}
	s.sample()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample()
				s.cpu.sample(false)
			}
		}
	}()
	return s
}

func loadAvg() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func (s *loadSampler) sample() {
	v := loadAvg()
	s.mu.Lock()
	s.v = append(s.v, v)
	s.mu.Unlock()
}

func (s *loadSampler) now() float64 { return loadAvg() }

// mark is a position to summarise from.
func (s *loadSampler) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.v)
}

func (s *loadSampler) since(mark int) loadStats {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.v[min(mark, len(s.v)-1):]
	st := loadStats{Start: v[0], Min: v[0], Max: v[0]}
	var sum float64
	for _, x := range v {
		st.Min, st.Max = min(st.Min, x), max(st.Max, x)
		sum += x
	}
	st.Mean = round(sum/float64(len(v)), 2)
	return st
}

func describeMachine(ctx context.Context, r *runner) machine {
	m := machine{CPUs: runtime.NumCPU(), Go: strings.TrimPrefix(runtime.Version(), "go"), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if conn, err := pgx.Connect(ctx, r.adminDSN); err == nil {
		var v string
		if conn.QueryRow(ctx, "SHOW server_version").Scan(&v) == nil {
			m.Postgres = "PostgreSQL " + strings.Fields(v)[0]
		}
		var sc string
		if conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&sc) == nil {
			m.Postgres += " (synchronous_commit " + sc + ")"
		}
		_ = conn.Close(ctx)
	}
	if opt, err := redis.ParseURL(r.redisURL); err == nil {
		rdb := redis.NewClient(opt)
		if info, err := rdb.Info(ctx, "server").Result(); err == nil {
			for _, line := range strings.Split(info, "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
					m.Redis = v
				}
			}
		}
		_ = rdb.Close()
	}
	m.NATS = natsServerVersion()
	return m
}
