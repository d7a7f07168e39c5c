package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// figure is one measured number of the report.
type figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Target is the target for this figure, e.g. "≥ 20000"; empty
	// when the figure is a baseline or context.
	Target string `json:"target,omitempty"`
	// Met says whether the target was reached (nil without a target).
	Met  *bool  `json:"met,omitempty"`
	Note string `json:"note,omitempty"`
	// Command reproduces this figure alone, when not the scenario's command.
	Command string `json:"command,omitempty"`
}

// result is what one scenario measured.
type result struct {
	StartedAt time.Time `json:"started_at"`
	Name      string    `json:"name"`
	Title     string    `json:"title"`
	Command   string    `json:"command"`
	Seconds   float64   `json:"seconds"`
	Figures   []figure  `json:"figures"`
	Details   any       `json:"details,omitempty"`
	Error     string    `json:"error,omitempty"`
	// Load is the 1-minute load average sampled while the scenario ran;
	// it counts the bench's own threads, Postgres backends and workers.
	Load loadStats `json:"load"`
	// OtherWork is the share of the machine's busy CPU time spent by work
	// other than the bench's (other engineers' tests on a shared machine), %.
	OtherWork float64 `json:"other_work_cpu_percent"`
	// CPU is what the scenario's own parts spent, in seconds.
	CPU cpuUse `json:"cpu_seconds"`
}

func (r *result) add(name string, value float64, unit string) *figure {
	r.Figures = append(r.Figures, figure{Name: name, Value: value, Unit: unit})
	return &r.Figures[len(r.Figures)-1]
}

// atLeast and atMost set a target and whether it was met.
func (f *figure) atLeast(target float64) *figure {
	met := f.Value >= target
	f.Target, f.Met = "≥ "+num(target), &met
	return f
}

func (f *figure) atMost(target float64) *figure {
	met := f.Value <= target
	f.Target, f.Met = "≤ "+num(target), &met
	return f
}

func (f *figure) note(format string, args ...any) *figure {
	f.Note = fmt.Sprintf(format, args...)
	return f
}

// report is the whole run, written as JSON under results/.
type report struct {
	StartedAt time.Time `json:"started_at"`
	Seconds   float64   `json:"seconds"`
	Quick     bool      `json:"quick"`
	Machine   machine   `json:"machine"`
	Load      loadStats `json:"load"`
	OtherWork float64   `json:"other_work_cpu_percent"`
	Results   []result  `json:"results"`
	// Rerun names the scenarios measured again later with -merge.
	Rerun []string `json:"rerun,omitempty"`
}

type machine struct {
	CPUs     int    `json:"cpus"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Postgres string `json:"postgres"`
	Redis    string `json:"redis"`
	NATS     string `json:"nats"`
}

func num(v float64) string {
	switch {
	case v == float64(int64(v)) && v >= 1000:
		return groupThousands(int64(v))
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	case v >= 100:
		return groupThousands(int64(v + 0.5))
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func groupThousands(n int64) string {
	s := fmt.Sprintf("%d", n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func metMark(f figure) string {
	switch {
	case f.Met == nil:
		return ""
	case *f.Met:
		return "yes"
	default:
		return "**no**"
	}
}

// printTable writes the human table to w.
func printTable(w io.Writer, rep *report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\tvalue\ttarget\tmet\n")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "— %s (load %.2f–%.2f, other work %.0f%% of CPU; %s)\t\t\t\n", r.Title, r.Load.Min, r.Load.Max, r.OtherWork, r.Command)
		if r.Error != "" {
			fmt.Fprintf(tw, "  FAILED: %s\t\t\t\n", r.Error)
		}
		for _, f := range r.Figures {
			fmt.Fprintf(tw, "  %s\t%s %s\t%s\t%s\n", f.Name, num(f.Value), f.Unit, f.Target, strings.ReplaceAll(metMark(f), "*", ""))
		}
	}
	_ = tw.Flush()
}

// markdown renders the results table of docs/benchmarks.md.
func markdown(rep *report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run of %s on %d cores (%s, Go %s, %s, Redis %s, NATS %s embedded); %s mode, %.0f s; "+
		"1-minute load average %.2f at start, %.2f mean, %.2f max (it counts the bench's own threads and Postgres backends); "+
		"other work on the machine took %.0f%% of the busy CPU time.\n\n",
		rep.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), rep.Machine.CPUs, rep.Machine.OS, rep.Machine.Go,
		rep.Machine.Postgres, rep.Machine.Redis, rep.Machine.NATS, map[bool]string{true: "quick", false: "full"}[rep.Quick],
		rep.Seconds, rep.Load.Start, rep.Load.Mean, rep.Load.Max, rep.OtherWork)
	if len(rep.Rerun) > 0 {
		fmt.Fprintf(&b, "Measured again later, on a quieter machine (`-only … -merge`): %s; their own times and loads are in their headings.\n\n",
			strings.Join(rep.Rerun, ", "))
	}
	b.WriteString("| figure | value | target | met | reproduce |\n|---|---:|---|---|---|\n")
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| **%s** (%s; load %.2f–%.2f, other work %.0f%% of CPU) | | | | `%s` |\n",
			r.Title, r.StartedAt.UTC().Format("15:04"), r.Load.Min, r.Load.Max, r.OtherWork, r.Command)
		if r.Error != "" {
			fmt.Fprintf(&b, "| failed: %s | | | | |\n", strings.ReplaceAll(r.Error, "|", "\\|"))
		}
		for _, f := range r.Figures {
			name := f.Name
			if f.Note != "" {
				name += " — " + f.Note
			}
			cmd := ""
			if f.Command != "" {
				cmd = "`" + strings.ReplaceAll(f.Command, "|", "\\|") + "`"
			}
			fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n", strings.ReplaceAll(name, "|", "\\|"), num(f.Value), f.Unit, f.Target, metMark(f), cmd)
		}
	}
	return b.String()
}

// writeJSON writes the report to dir/bench-<time>.json and dir/latest.json.
func writeJSON(dir string, rep *report) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "bench-"+rep.StartedAt.UTC().Format("20060102-150405")+".json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return "", err
	}
	return path, os.WriteFile(filepath.Join(dir, "latest.json"), raw, 0o644)
}

// Markers of the generated part of docs/benchmarks.md.
const (
	docBegin = "<!-- bench:results:begin (written by `make bench`; edit around it) -->"
	docEnd   = "<!-- bench:results:end -->"
)

// updateDoc replaces the generated part of the document at path.
func updateDoc(path string, rep *report) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc := string(raw)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q … %q markers", path, docBegin, docEnd)
	}
	doc = doc[:i+len(docBegin)] + "\n" + markdown(rep) + doc[j:]
	return os.WriteFile(path, []byte(doc), 0o644)
}

// fullPath is the last full run, which -merge updates.
func fullPath(dir string) string { return filepath.Join(dir, "full.json") }

func writeFull(dir string, rep *report) error {
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(fullPath(dir), raw, 0o644)
}

// merge replaces, in the last full run, the scenarios of rep.
func merge(dir string, rep *report) (*report, error) {
	raw, err := os.ReadFile(fullPath(dir))
	if err != nil {
		return nil, fmt.Errorf("-merge needs a full run first (%w)", err)
	}
	var full report
	if err := json.Unmarshal(raw, &full); err != nil {
		return nil, err
	}
	for _, r := range rep.Results {
		for i := range full.Results {
			if full.Results[i].Name == r.Name {
				full.Results[i] = r
				if !slices.Contains(full.Rerun, r.Name) {
					full.Rerun = append(full.Rerun, r.Name)
				}
			}
		}
	}
	return &full, writeFull(dir, &full)
}
