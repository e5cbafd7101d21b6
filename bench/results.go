package bench

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// SchemaVersion is the version of the results.json layout (the Report
// type). It changes when a field changes meaning or disappears.
const SchemaVersion = 1

// A Report is everything one run of the compare command measured:
// results.json is this value.
type Report struct {
	Schema     int            `json:"schema"`
	Matrix     string         `json:"matrix"` // "quick" or "full"
	Started    time.Time      `json:"started"`
	Seconds    float64        `json:"seconds"`
	Rounds     int            `json:"rounds"`     // of the in-process Go cells
	PyRounds   int            `json:"py_rounds"`  // of the Python cells
	MemRounds  int            `json:"mem_rounds"` // of the memory cells
	Command    string         `json:"command"`
	Env        Env            `json:"env"`
	Workloads  []WorkloadInfo `json:"workloads"`
	Strategies []StrategyInfo `json:"strategies"`
	Results    []Result       `json:"results"`
	Targets    []Target       `json:"targets"`
	Notes      []string       `json:"notes"`
}

// WorkloadInfo describes a workload as it ran.
type WorkloadInfo struct {
	Name      string `json:"name"`
	Doc       string `json:"doc"`
	Kind      Kind   `json:"kind"`
	Tasks     int    `json:"tasks"`    // per Go batch
	PyTasks   int    `json:"py_tasks"` // per Python batch (before a strategy's cap)
	Workers   int    `json:"workers"`
	Producers int    `json:"producers"`
	SpinIters int    `json:"spin_iters,omitempty"` // Go's calibrated CPU loop
}

// StrategyInfo describes a strategy as it ran.
type StrategyInfo struct {
	Name     string `json:"name"`
	Family   Family `json:"family"`
	Lang     Lang   `json:"lang"`
	Doc      string `json:"doc"`
	Baseline string `json:"baseline,omitempty"`
	Python   string `json:"python,omitempty"`
	Module   string `json:"module,omitempty"`
	Version  string `json:"version,omitempty"`
}

// A Result is one cell of the matrix: the medians over the rounds. Fields
// a strategy cannot measure are null (allocations of Python, goroutines of
// a Python process, RSS outside the memory workloads).
type Result struct {
	Workload string `json:"workload"`
	Strategy string `json:"strategy"`
	Family   Family `json:"family"`
	Lang     Lang   `json:"lang"`
	Detail   string `json:"detail,omitempty"`
	Kind     Kind   `json:"kind"`

	Tasks   int       `json:"tasks"`               // tasks per batch
	Samples []float64 `json:"samples_ns_per_task"` // one per round, in round order

	NsPerTask      float64  `json:"ns_per_task"` // median of Samples
	TasksPerSec    float64  `json:"tasks_per_sec"`
	AllocsPerTask  *float64 `json:"allocs_per_task"`
	BytesPerTask   *float64 `json:"bytes_per_task"`
	CPUNsPerTask   *float64 `json:"cpu_ns_per_task"` // CPU time of the measuring process per task; null where the work is in other processes
	PeakGoroutines *int64   `json:"peak_goroutines"`
	PeakThreads    *int64   `json:"peak_threads"`
	PeakRSSBytes   *int64   `json:"peak_rss_bytes"`

	// Baseline and VsBaseline: this cell's time (peak RSS for a memory
	// workload) divided by the baseline's; below 1 is better.
	Baseline   string   `json:"baseline,omitempty"`
	VsBaseline *float64 `json:"vs_baseline"`
	// Python and VsPython: the Python original's time (peak RSS) divided
	// by this cell's: how many times faster (smaller) the Go strategy is.
	Python   string   `json:"python,omitempty"`
	VsPython *float64 `json:"vs_python"`

	Error string `json:"error,omitempty"`
}

// A Collector gathers the samples of the rounds and turns them into
// Results.
type Collector struct {
	cells map[[2]string]*cell
	order [][2]string
}

type cell struct {
	w      *Workload
	s      *Strategy
	tasks  int
	detail string
	ok     []Sample
	errs   []string
}

// Add records one round's sample of a cell, or its error.
func (c *Collector) Add(w *Workload, s *Strategy, tasks int, smp Sample, detail string, err error) {
	if c.cells == nil {
		c.cells = make(map[[2]string]*cell)
	}
	k := [2]string{w.Name, s.Name}
	cl, ok := c.cells[k]
	if !ok {
		cl = &cell{w: w, s: s, tasks: tasks}
		c.cells[k] = cl
		c.order = append(c.order, k)
	}
	if detail != "" {
		cl.detail = detail
	}
	if err != nil {
		cl.errs = append(cl.errs, err.Error())
		return
	}
	cl.ok = append(cl.ok, smp)
}

// Results returns one Result per cell, in the order cells were first
// added, with medians and ratios filled in.
func (c *Collector) Results() []Result {
	out := make([]Result, 0, len(c.order))
	for _, k := range c.order {
		out = append(out, c.cells[k].result())
	}
	FillRatios(out)
	return out
}

func (cl *cell) result() Result {
	r := Result{
		Workload: cl.w.Name, Strategy: cl.s.Name, Family: cl.s.Family, Lang: cl.s.Lang,
		Detail: cl.detail, Kind: cl.w.Kind, Tasks: cl.tasks,
		Baseline: cl.s.Baseline, Python: cl.s.Python,
		Samples: []float64{},
	}
	if len(cl.errs) > 0 {
		r.Error = cl.errs[0]
		if len(cl.errs) > 1 {
			r.Error += fmt.Sprintf(" (%d of %d rounds failed)", len(cl.errs), len(cl.errs)+len(cl.ok))
		}
	}
	if len(cl.ok) == 0 {
		return r
	}
	per := func(f func(Sample) float64) float64 {
		xs := make([]float64, len(cl.ok))
		for i, s := range cl.ok {
			xs[i] = f(s)
		}
		return Median(xs)
	}
	for _, s := range cl.ok {
		r.Samples = append(r.Samples, s.NsPerTask())
	}
	r.NsPerTask = Median(r.Samples)
	if r.NsPerTask > 0 {
		r.TasksPerSec = 1e9 / r.NsPerTask
	}
	if cl.s.Lang == LangGo && cl.w.Kind != KindMemory {
		r.AllocsPerTask = ptr(per(func(s Sample) float64 { return float64(s.Allocs) / float64(s.Tasks) }))
		r.BytesPerTask = ptr(per(func(s Sample) float64 { return float64(s.Bytes) / float64(s.Tasks) }))
	}
	if cl.w.Kind != KindMemory && cl.s.Family != FamilyProcess && !cl.s.Processes && cl.ok[0].CPU > 0 {
		r.CPUNsPerTask = ptr(per(func(s Sample) float64 { return float64(s.CPU.Nanoseconds()) / float64(s.Tasks) }))
	}
	if cl.s.Lang == LangGo {
		r.PeakGoroutines = ptr(int64(per(func(s Sample) float64 { return float64(s.PeakGoroutines) })))
	} else {
		r.PeakThreads = ptr(int64(per(func(s Sample) float64 { return float64(s.PeakThreads) })))
	}
	if cl.w.Kind == KindMemory {
		r.PeakRSSBytes = ptr(int64(per(func(s Sample) float64 { return float64(s.PeakRSS) })))
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// metric is what ratios compare: the peak RSS for memory workloads, the
// time per task otherwise. ok is false when the cell has no such value.
func metric(r *Result) (float64, bool) {
	if r.Error != "" && len(r.Samples) == 0 {
		return 0, false
	}
	if r.Kind == KindMemory {
		if r.PeakRSSBytes == nil || *r.PeakRSSBytes <= 0 {
			return 0, false
		}
		return float64(*r.PeakRSSBytes), true
	}
	return r.NsPerTask, r.NsPerTask > 0
}

// Ratio returns a/b, or nil when either is missing or b is zero.
func Ratio(a, b float64, aok, bok bool) *float64 {
	if !aok || !bok || b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return nil
	}
	return ptr(a / b)
}

// FillRatios sets VsBaseline (this / baseline) and VsPython (Python's /
// this) of every result whose baseline or Python original ran on the same
// workload.
func FillRatios(rs []Result) {
	find := func(workload, strategy string) *Result {
		if strategy == "" {
			return nil
		}
		for i := range rs {
			if rs[i].Workload == workload && rs[i].Strategy == strategy {
				return &rs[i]
			}
		}
		return nil
	}
	for i := range rs {
		r := &rs[i]
		m, ok := metric(r)
		r.VsBaseline, r.VsPython = nil, nil
		if b := find(r.Workload, r.Baseline); b != nil {
			bm, bok := metric(b)
			r.VsBaseline = Ratio(m, bm, ok, bok)
		}
		if p := find(r.Workload, r.Python); p != nil {
			pm, pok := metric(p)
			r.VsPython = Ratio(pm, m, pok, ok)
		}
	}
}

// SortFastest orders one workload's results fastest first (smallest peak
// RSS first for a memory workload); failed cells go last.
func SortFastest(rs []Result) {
	slices.SortStableFunc(rs, func(a, b Result) int {
		am, aok := metric(&a)
		bm, bok := metric(&b)
		switch {
		case aok && !bok:
			return -1
		case !aok && bok:
			return 1
		}
		return cmp.Compare(am, bm)
	})
}

// ByWorkload returns the results of workload w.
func ByWorkload(rs []Result, w string) []Result {
	var out []Result
	for _, r := range rs {
		if r.Workload == w {
			out = append(out, r)
		}
	}
	return out
}
