package bench

import (
	"fmt"
	"slices"
	"strings"
)

// A Target is one of the figures the project promises, checked against a
// run: Ratio Op Want, e.g. 1.04 <= 1.10.
type Target struct {
	Name     string   `json:"name"`
	Workload string   `json:"workload"`
	Strategy string   `json:"strategy"`
	Against  string   `json:"against"`
	Metric   string   `json:"metric"` // "time" (this/against), "speedup" (against/this), "rss" (this/against); "tasks/s" or "ms": an absolute value, no Against
	Ratio    *float64 `json:"ratio"`
	Op       string   `json:"op"` // "<=" or ">="
	Want     float64  `json:"want"`
	Status   string   `json:"status"` // PASS, MISS or N/A
	Note     string   `json:"note,omitempty"`
}

// Target statuses.
const (
	Pass = "PASS"
	Miss = "MISS"
	NA   = "N/A"
)

// The names of the execkit strategies the targets are about.
const (
	StratPool       = "execkit-pool"
	StratErrgroup   = "execkit-errgroup"
	StratFireforget = "execkit-fireforget"
	StratSubprocess = "execkit-subprocess"
	// StratSubprocessVarint is the subprocess row whose functions use a
	// varint codec instead of gob.
	StratSubprocessVarint = "execkit-subprocess-varint"
	// StratRiverexec is the River + PostgreSQL row (with EXECKIT_PG_URL).
	StratRiverexec = "execkit-riverexec"
	// StratRiverexecSQLite is the River + SQLite row (always).
	StratRiverexecSQLite = "execkit-riverexec-sqlite"
)

// poolPeers are the pools execkit's pool is held against.
var poolPeers = []string{"ants", "conc", "pond", "workerpool"}

// Targets checks the project's targets against results.
func Targets(rs []Result) []Target {
	var ts []Target
	for _, w := range []string{"noop", "cpu1us"} {
		ts = append(ts,
			ratioTarget("adapter: pool vs ants used directly", w, StratPool, "ants", "time", "<=", 1.10, rs),
			ratioTarget("adapter: errgroup vs x/sync errgroup used directly", w, StratErrgroup, "xsync-errgroup", "time", "<=", 1.10, rs),
			ratioTarget("adapter: fireforget vs go + WaitGroup", w, StratFireforget, "raw-go", "time", "<=", 1.10, rs),
		)
	}
	for _, w := range []string{"noop", "cpu1us", "cpu100us"} {
		ts = append(ts, peerTarget(w, rs))
	}
	for _, s := range []string{StratSubprocess, StratSubprocessVarint} {
		ts = append(ts,
			ratioTarget("subprocess round trip vs the raw pipe floor", "roundtrip", s, "raw-pipe", "time", "<=", 1.5, rs),
			ratioTarget("subprocess vs multiprocessing.Pool.apply_async (no-op, pipelined)", "noop", s, "py-mp-pool", "speedup", ">=", 20, rs),
			ratioTarget("subprocess Map vs multiprocessing.Pool.map", "map", s, "py-mp-pool", "speedup", ">=", 5, rs),
		)
	}
	ts = append(ts, memTarget(rs),
		absTarget("riverexec on PostgreSQL, end to end", "noop", StratRiverexec, "tasks/s", ">=", 1000, rs),
		absTarget("riverexec on SQLite, end to end", "noop", StratRiverexecSQLite, "tasks/s", ">=", 500, rs),
		absTarget("riverexec on SQLite, round trip in one process", "roundtrip", StratRiverexecSQLite, "ms", "<=", 20, rs),
	)
	return ts
}

// absTarget holds one cell against an absolute value: its throughput
// (metric "tasks/s") or its time per task (metric "ms"). Ratio carries the
// measured value.
func absTarget(name, workload, strategy, metricName, op string, want float64, rs []Result) Target {
	t := Target{Name: name, Workload: workload, Strategy: strategy, Metric: metricName, Op: op, Want: want}
	r, note := value(rs, workload, strategy, "time")
	if note != "" {
		t.Note, t.Status = note, NA
		return t
	}
	v := r.TasksPerSec
	if metricName == "ms" {
		v = r.NsPerTask / 1e6
	}
	t.Ratio = &v
	t.Status = judge(t.Ratio, op, want)
	if t.Status == Miss {
		t.Note = fmt.Sprintf("median of %d samples of %d tasks; see the strategy's note for what bounds it", len(r.Samples), r.Tasks)
	}
	return t
}

// memTarget is the pool's peak RSS against goroutine-per-task's on 1e6
// pending tasks (pending1e6: every task alive until the last was
// submitted). Its note gives each strategy's peak RSS per task.
func memTarget(rs []Result) Target {
	const w = "pending1e6"
	t := ratioTarget("pool peak RSS vs goroutine per task, 1e6 pending tasks", w, StratPool, "raw-go", "rss", "<=", 0.25, rs)
	var per []string
	for _, r := range rs {
		if r.Workload == w && r.PeakRSSBytes != nil && *r.PeakRSSBytes > 0 && r.Tasks > 0 {
			per = append(per, fmt.Sprintf("%s %d", r.Strategy, *r.PeakRSSBytes/int64(r.Tasks)))
		}
	}
	if len(per) > 0 {
		t.Note = "peak RSS per pending task, bytes: " + strings.Join(per, ", ")
	}
	return t
}

func find(rs []Result, workload, strategy string) *Result {
	for i := range rs {
		if rs[i].Workload == workload && rs[i].Strategy == strategy {
			return &rs[i]
		}
	}
	return nil
}

// value returns the cell a target compares, or a note saying why there is
// none.
func value(rs []Result, workload, strategy, metricName string) (*Result, string) {
	r := find(rs, workload, strategy)
	if r == nil {
		return nil, strategy + " did not run on " + workload
	}
	if r.Error != "" && len(r.Samples) == 0 {
		return nil, strategy + " failed on " + workload + ": " + r.Error
	}
	if metricName == "rss" {
		if r.PeakRSSBytes == nil || *r.PeakRSSBytes <= 0 {
			return nil, strategy + " has no peak RSS on " + workload
		}
		return r, ""
	}
	if r.NsPerTask <= 0 {
		return nil, strategy + " has no time on " + workload
	}
	return r, ""
}

// PairedRatio returns a's time over b's. When both ran every round (the
// same rounds, so neighbours in time) it is the median of the per-round
// ratios, which cancels the drift of a busy machine better than the ratio
// of the medians; otherwise it is the ratio of the medians.
func PairedRatio(a, b *Result) float64 {
	if rs := roundRatios(a, b); rs != nil {
		return Median(rs)
	}
	return a.NsPerTask / b.NsPerTask
}

// roundRatios returns a's time over b's in each round, when both ran every
// round (at least three), or nil.
func roundRatios(a, b *Result) []float64 {
	if a.Lang != b.Lang || len(a.Samples) != len(b.Samples) || len(a.Samples) < 3 || a.Error != "" || b.Error != "" {
		return nil
	}
	rs := make([]float64, len(a.Samples))
	for i := range rs {
		rs[i] = a.Samples[i] / b.Samples[i]
	}
	return rs
}

// spread says how far apart a's time over b's was in the rounds, so that a
// verdict near its threshold is read with the noise it has: "rounds
// 0.71-1.40x". It is empty when the ratio is not paired by rounds.
func spread(a, b *Result) string {
	rs := roundRatios(a, b)
	if rs == nil {
		return ""
	}
	return fmt.Sprintf("rounds %.2f-%.2fx", slices.Min(rs), slices.Max(rs))
}

func ratioTarget(name, workload, strategy, against, metricName, op string, want float64, rs []Result) Target {
	t := Target{Name: name, Workload: workload, Strategy: strategy, Against: against, Metric: metricName, Op: op, Want: want}
	a, anote := value(rs, workload, strategy, metricName)
	b, bnote := value(rs, workload, against, metricName)
	switch {
	case anote != "":
		t.Note = anote
	case bnote != "":
		t.Note = bnote
	case metricName == "rss":
		t.Ratio = ptr(float64(*a.PeakRSSBytes) / float64(*b.PeakRSSBytes))
	case metricName == "speedup":
		t.Ratio = ptr(PairedRatio(b, a))
	default:
		t.Ratio = ptr(PairedRatio(a, b))
		var notes []string
		if a.CPUNsPerTask != nil && b.CPUNsPerTask != nil && *b.CPUNsPerTask > 0 {
			notes = append(notes, fmt.Sprintf("CPU/task ratio %.2fx", *a.CPUNsPerTask / *b.CPUNsPerTask))
		}
		if sp := spread(a, b); sp != "" {
			notes = append(notes, sp)
		}
		t.Note = strings.Join(notes, "; ")
	}
	t.Status = judge(t.Ratio, op, want)
	return t
}

// peerTarget holds the pool against the fastest of its peers: the pool
// must be the fastest or within 1.10x of it. The note gives the ratio to
// each peer.
func peerTarget(workload string, rs []Result) Target {
	t := Target{Name: "pool vs the fastest peer pool (ants, conc, pond, workerpool)", Workload: workload,
		Strategy: StratPool, Metric: "time", Op: "<=", Want: 1.10}
	a, anote := value(rs, workload, StratPool, "time")
	if anote != "" {
		t.Note = anote
		t.Status = NA
		return t
	}
	var notes []string
	for _, p := range poolPeers {
		b, note := value(rs, workload, p, "time")
		if note != "" {
			continue
		}
		r := PairedRatio(a, b)
		notes = append(notes, fmt.Sprintf("%s %.2fx", p, r))
		if t.Ratio == nil || r > *t.Ratio {
			t.Ratio, t.Against = ptr(r), p
		}
	}
	if t.Ratio == nil {
		t.Note = "no peer pool ran on " + workload
	} else {
		t.Note = "vs " + strings.Join(notes, ", ")
		if sp := spread(a, find(rs, workload, t.Against)); sp != "" {
			t.Note += "; vs " + t.Against + " " + sp
		}
	}
	t.Status = judge(t.Ratio, t.Op, t.Want)
	return t
}

func judge(ratio *float64, op string, want float64) string {
	if ratio == nil {
		return NA
	}
	ok := *ratio <= want
	if op == ">=" {
		ok = *ratio >= want
	}
	if ok {
		return Pass
	}
	return Miss
}
