package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// clockTicks is USER_HZ, the unit of CPU times in /proc (100 on Linux).
const clockTicks = 100

// cpuUse is CPU time, in seconds, spent by the parts of a measurement.
type cpuUse struct {
	Bench    float64 `json:"bench_process"`     // this process: the in-process gateway, embedded NATS and the load generator
	Postgres float64 `json:"postgres_backends"` // backends connected to the scenario's database
	PGOther  float64 `json:"postgres_other"`    // every other postgres process (WAL writer, checkpointer, other databases)
	Redis    float64 `json:"redis"`             // redis-server
	Machine  float64 `json:"machine_busy"`      // all CPUs, from /proc/stat (other engineers included)
}

func (c cpuUse) sub(o cpuUse) cpuUse {
	return cpuUse{Bench: c.Bench - o.Bench, Postgres: c.Postgres - o.Postgres, PGOther: c.PGOther - o.PGOther, Redis: c.Redis - o.Redis, Machine: c.Machine - o.Machine}
}

// per divides every figure by n and converts to milliseconds.
func (c cpuUse) per(n float64) cpuUse {
	if n <= 0 {
		return cpuUse{}
	}
	f := 1000 / n
	return cpuUse{Bench: round(c.Bench*f, 3), Postgres: round(c.Postgres*f, 3), PGOther: round(c.PGOther*f, 3), Redis: round(c.Redis*f, 3), Machine: round(c.Machine*f, 3)}
}

// cpuNow reads the CPU times of this process and its children, Postgres
// (split into the backends of database db, or of any bench database when
// db is empty, and the rest) and Redis.
func cpuNow(db string) cpuUse {
	var c cpuUse
	c.Bench, _ = procCPU("self")
	c.Machine = machineBusy()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	self := strconv.Itoa(os.Getpid())
	mine := " " + db + " "
	if db == "" {
		mine = " wagate_bench_"
	}
	for _, d := range dirs {
		pid := filepath.Base(d)
		if pid == self {
			continue
		}
		comm, err := os.ReadFile(d + "/comm")
		if err != nil {
			continue
		}
		cpu, ppid := procCPU(pid)
		switch name := strings.TrimSpace(string(comm)); {
		case ppid == self:
			c.Bench += cpu
		case name == "postgres":
			cmd, _ := os.ReadFile(d + "/cmdline")
			if strings.Contains(strings.ReplaceAll(string(cmd), "\x00", " "), mine) {
				c.Postgres += cpu
			} else if !strings.Contains(string(cmd), "(") {
				c.PGOther += cpu // background processes (WAL writer, checkpointer, …), shared
			}
		case strings.HasPrefix(name, "redis-server"):
			c.Redis += cpu
		}
	}
	return c
}

// others is the share of the machine's busy CPU time not spent by the
// bench, its Postgres backends, Postgres's background processes or Redis:
// other work on a shared machine.
func (c cpuUse) others() float64 {
	if c.Machine <= 0 {
		return 0
	}
	return max(0, 1-(c.Bench+c.Postgres+c.PGOther+c.Redis)/c.Machine)
}

// procCPU is utime + stime of a process, in seconds, and its parent.
func procCPU(pid string) (float64, string) {
	own, _, ppid := procTimes(pid)
	return own, ppid
}

// procTimes is a process's own CPU time (utime + stime), that of its
// children it has waited for (cutime + cstime), in seconds, and its parent.
func procTimes(pid string) (own, children float64, ppid string) {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, ""
	}
	s := string(raw)
	// Fields after the command (which may hold spaces) start after ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0, 0, ""
	}
	var v [4]float64
	for k := range v {
		v[k], _ = strconv.ParseFloat(f[11+k], 64)
	}
	return (v[0] + v[1]) / clockTicks, (v[2] + v[3]) / clockTicks, f[1]
}

// machineBusy is the CPU time all CPUs spent not idle, in seconds.
func machineBusy() float64 {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	var busy float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return busy / clockTicks
}

// dbName is the database of a DSN.
func dbName(dsn string) string {
	rest := dsn[strings.LastIndexByte(strings.SplitN(dsn, "?", 2)[0], '/')+1:]
	name, _, _ := strings.Cut(rest, "?")
	return name
}

// pgCounters are the counters of pg_stat_database for one database.
type pgCounters struct {
	Commits  float64 `json:"commits"`
	Inserted float64 `json:"rows_inserted"`
	Updated  float64 `json:"rows_updated"`
	Fetched  float64 `json:"rows_fetched"`
}

// cost is what a unit of work (a request, a message) cost.
type cost struct {
	CPUms   cpuUse     `json:"cpu_ms"`
	PG      pgCounters `json:"postgres"`
	Seconds float64    `json:"seconds"`
	// Tables are the rows read per unit, by table (rows fetched through
	// indexes, rows read by sequential scans) and by index (entries read,
	// as "table.index"); those under one per unit are left out.
	Tables map[string]tableReads `json:"tables,omitempty"`
}

type tableReads struct {
	IndexFetched float64 `json:"index_rows_fetched"`
	SeqRead      float64 `json:"seq_rows_read"`
}

func tableCounters(ctx context.Context, q querier) map[string]tableReads {
	out := map[string]tableReads{}
	var raw []byte
	if err := q.QueryRow(ctx, `SELECT coalesce(json_object_agg(name, json_build_object('i', i, 's', s)), '{}') FROM (
			SELECT relname AS name, coalesce(idx_tup_fetch, 0) AS i, seq_tup_read AS s FROM pg_stat_user_tables
			UNION ALL
			SELECT relname || '.' || indexrelname, idx_tup_read, 0 FROM pg_stat_user_indexes) t`).Scan(&raw); err != nil {
		return out
	}
	var m map[string]struct{ I, S float64 }
	_ = json.Unmarshal(raw, &m)
	for k, v := range m {
		out[k] = tableReads{IndexFetched: v.I, SeqRead: v.S}
	}
	return out
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func pgCountersOf(ctx context.Context, q querier, db string) pgCounters {
	var c pgCounters
	_ = q.QueryRow(ctx, `SELECT xact_commit, tup_inserted, tup_updated, tup_fetched FROM pg_stat_database WHERE datname = $1`, db).
		Scan(&c.Commits, &c.Inserted, &c.Updated, &c.Fetched)
	return c
}

// meter starts measuring the cost of work on database db; the returned
// function divides what was spent since by n units. pg_stat_database is
// updated by backends when they go idle, so its figures are approximate
// only after a second, which the returned function waits.
func meter(ctx context.Context, q querier, db string) func(n float64) cost {
	cpu0, pg0, tab0, t0 := cpuNow(db), pgCountersOf(ctx, q, db), tableCounters(ctx, q), time.Now()
	return func(n float64) cost {
		cpu1, t1 := cpuNow(db), time.Now()
		sleepCtx(ctx, 1100*time.Millisecond) // backends report their counters at most once a second
		pg1, tab1 := pgCountersOf(ctx, q, db), tableCounters(ctx, q)
		f := func(a, b float64) float64 { return round((a-b)/n, 2) }
		tables := map[string]tableReads{}
		for k, v := range tab1 {
			t := tableReads{IndexFetched: f(v.IndexFetched, tab0[k].IndexFetched), SeqRead: f(v.SeqRead, tab0[k].SeqRead)}
			if t.IndexFetched >= 1 || t.SeqRead >= 1 {
				tables[k] = t
			}
		}
		return cost{
			CPUms:   cpu1.sub(cpu0).per(n),
			PG:      pgCounters{Commits: f(pg1.Commits, pg0.Commits), Inserted: f(pg1.Inserted, pg0.Inserted), Updated: f(pg1.Updated, pg0.Updated), Fetched: f(pg1.Fetched, pg0.Fetched)},
			Seconds: round(t1.Sub(t0).Seconds(), 1),
			Tables:  tables,
		}
	}
}

// cpuTracker accumulates the CPU time of the bench's parts by sampling
// every process each second, so processes that end during a scenario
// (Postgres backends of a dropped database, worker processes) still count
// up to their last sample.
type cpuTracker struct {
	mu    sync.Mutex
	last  map[string]float64 // CPU seconds per pid at its last sample
	total cpuUse             // Postgres and Redis, accumulated
	bench float64            // the bench's processes, at the last sample
}

func newCPUTracker() *cpuTracker {
	t := &cpuTracker{last: map[string]float64{}}
	t.sample(true)
	return t
}

// sample adds what every process spent since its last sample; the first
// call only records where each process stands.
func (t *cpuTracker) sample(baseline bool) {
	self := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	type pstat struct {
		cpu, children float64
		ppid          string
	}
	procs := make(map[string]pstat, len(dirs))
	for _, d := range dirs {
		own, children, ppid := procTimes(filepath.Base(d))
		procs[filepath.Base(d)] = pstat{own, children, ppid}
	}
	// ours: this process and its descendants (worker processes, go test).
	ours := func(pid string) bool {
		for range 16 {
			if pid == self {
				return true
			}
			p, ok := procs[pid]
			if !ok || p.ppid == "" || p.ppid == "0" {
				return false
			}
			pid = p.ppid
		}
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := make(map[string]bool, len(dirs))
	// The bench's CPU is the sum over its live processes of their own
	// time and that of the children they reaped: short-lived descendants
	// (go test, go build) count once they are reaped, with nothing
	// counted twice.
	t.bench = 0
	for pid, p := range procs {
		if ours(pid) {
			t.bench += p.cpu + p.children
		}
	}
	for pid, p := range procs {
		if ours(pid) {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + pid + "/comm")
		name := strings.TrimSpace(string(comm))
		redis := strings.HasPrefix(name, "redis-server")
		if name != "postgres" && !redis {
			continue
		}
		seen[pid] = true
		prev, known := t.last[pid]
		t.last[pid] = p.cpu
		if baseline || p.cpu <= prev {
			continue
		}
		if !known {
			prev = 0 // started since the last sample
		}
		d := p.cpu - prev
		cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		switch {
		case redis:
			t.total.Redis += d
		case strings.Contains(string(cmd), " wagate_bench_"):
			t.total.Postgres += d
		case !strings.Contains(string(cmd), "("):
			t.total.PGOther += d // background processes (WAL writer, checkpointer, …), shared
		}
	}
	for pid := range t.last {
		if !seen[pid] {
			delete(t.last, pid)
		}
	}
}

// now samples and returns the totals so far, with the machine's busy time.
func (t *cpuTracker) now() cpuUse {
	t.sample(false)
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.total
	c.Bench = t.bench
	c.Machine = machineBusy()
	return c
}
