package compare

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// A Report is what [Run] measured and the advice drawn from it. Its String
// method renders it as a table; encoding/json renders it as JSON.
type Report struct {
	Function string   `json:"function"` // the registered name
	Cores    int      `json:"cores"`    // GOMAXPROCS during the run
	Samples  int      `json:"samples"`  // sample inputs, used in turn
	Batch    int      `json:"batch"`    // calls submitted before waiting: the most in flight
	Results  []Result `json:"results"`  // in the order measured
	Advice   Advice   `json:"advice"`
}

// A Result is the measurement of one strategy: medians over its timed
// rounds, per call of the function.
type Result struct {
	Strategy string `json:"strategy"` // inline, pool-8, fireforget, fireforget-limit-8, errgroup, subprocess-2
	Executor string `json:"executor"` // ExecInline, ExecPool, ...
	Size     int    `json:"size"`     // workers or limit; 0: unbounded (up to the batch); 1 for inline
	Tasks    int    `json:"tasks"`    // timed calls, all rounds together

	// TimePerTask is the median over the rounds of wall time over calls:
	// what a caller waits for a batch, per call.
	TimePerTask time.Duration `json:"time_per_task_ns"`
	// Spread is the noise of TimePerTask, relative: half the distance
	// between the rounds' lower and upper quartiles over the median (0.03
	// is ±3%).
	Spread float64 `json:"spread"`
	// CPUPerTask is user + system CPU time per call of this process (and,
	// for subprocess, of its worker processes, their start included), or
	// 0 where getrusage is missing.
	CPUPerTask     time.Duration   `json:"cpu_per_task_ns"`
	AllocsPerTask  float64         `json:"allocs_per_task"`
	BytesPerTask   float64         `json:"bytes_per_task"`
	PeakGoroutines int             `json:"peak_goroutines"` // the most goroutines above the count before a round
	Rounds         []time.Duration `json:"rounds_ns"`       // time per call of each round

	// runDelay is the time per call the calls waited for a core taken by
	// other work, for inline (from its thread's run delay in a probe, on
	// Linux; 0 elsewhere): waiting that is not the function's.
	runDelay time.Duration
	// direct is the time of a direct call, Func.Call in the measuring
	// goroutine, for inline (0: not measured).
	direct time.Duration
}

// concurrency is the most calls the strategy runs at once.
func (r Result) concurrency(batch int) int {
	if r.Size > 0 {
		return min(r.Size, batch)
	}
	return batch
}

// acc accumulates the rounds of one strategy.
type acc struct {
	s      strategy
	rounds []round
	// extraCPU is CPU time measured outside the rounds (the subprocess
	// workers', known once they have exited), spread over extraTasks calls.
	extraCPU   time.Duration
	extraTasks int
	// delayShare is the share of an inline call's wall time spent waiting
	// for a core taken by other work (driver.delayShare).
	delayShare float64
	// direct is the time of a direct call of the function (Func.Call),
	// for inline: driver.direct.
	direct time.Duration
}

func (a *acc) median() float64 {
	per := make([]float64, len(a.rounds))
	for i, r := range a.rounds {
		per[i] = r.perTask()
	}
	slices.Sort(per)
	return medianOf(per)
}

func medianOf(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func (a *acc) result() Result {
	s := a.s
	res := Result{Strategy: s.name(), Executor: s.executor, Size: s.size}
	if s.executor == ExecInline {
		res.Size = 1
	}
	per := make([]float64, len(a.rounds))
	var cpu time.Duration
	var allocs, bytes uint64
	for i, r := range a.rounds {
		per[i] = r.perTask()
		res.Rounds = append(res.Rounds, time.Duration(per[i]))
		res.Tasks += r.tasks
		cpu += r.cpu
		allocs += r.allocs
		bytes += r.bytes
		res.PeakGoroutines = max(res.PeakGoroutines, r.peak)
	}
	if res.Tasks == 0 {
		return res
	}
	slices.Sort(per)
	med := medianOf(per)
	res.TimePerTask = time.Duration(med)
	if n := len(per); n > 1 && med > 0 {
		q := (n - 1) / 4
		res.Spread = (per[n-1-q] - per[q]) / 2 / med
	}
	cpuPer := float64(cpu) / float64(res.Tasks)
	if a.extraTasks > 0 {
		cpuPer += float64(a.extraCPU) / float64(a.extraTasks)
	}
	res.CPUPerTask = time.Duration(cpuPer)
	res.runDelay = time.Duration(a.delayShare * med)
	res.direct = a.direct
	res.AllocsPerTask = float64(allocs) / float64(res.Tasks)
	res.BytesPerTask = float64(bytes) / float64(res.Tasks)
	return res
}

// String renders the report as a table, then the advice. It does not
// block.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "compare: %s on %d cores, %d samples, batches of %d calls\n", r.Function, r.Cores, r.Samples, r.Batch)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\ttime/task\tspread\tCPU/task\tallocs/task\tB/task\tpeak goroutines\tvs inline\t")
	var inline time.Duration
	for _, res := range r.Results {
		if res.Executor == ExecInline {
			inline = res.TimePerTask
		}
	}
	for _, res := range r.Results {
		vs := ""
		if inline > 0 && res.TimePerTask > 0 && res.Executor != ExecInline {
			vs = ratio(float64(inline), float64(res.TimePerTask))
		}
		cpu := ""
		if res.CPUPerTask > 0 {
			cpu = fmtDur(float64(res.CPUPerTask))
		}
		fmt.Fprintf(tw, "%s\t%s\t±%.0f%%\t%s\t%.1f\t%.0f\t%d\t%s\t\n", res.Strategy, fmtDur(float64(res.TimePerTask)),
			res.Spread*100, cpu, res.AllocsPerTask, res.BytesPerTask, res.PeakGoroutines, vs)
	}
	tw.Flush()
	b.WriteString(r.Advice.String())
	return b.String()
}

// ratio says how much faster (or slower) a time b is than a.
func ratio(a, b float64) string {
	if b <= a {
		return times(a/b) + " faster"
	}
	return times(b/a) + " slower"
}

// times formats a ratio with three significant digits: 1.00x, 17.5x, 220x.
func times(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fx", v)
	case v >= 10:
		return fmt.Sprintf("%.1fx", v)
	}
	return fmt.Sprintf("%.2fx", v)
}

// fmtDur formats ns nanoseconds with three significant digits.
func fmtDur(ns float64) string {
	unit, div := "ns", 1.0
	switch {
	case ns >= 1e9:
		unit, div = "s", 1e9
	case ns >= 1e6:
		unit, div = "ms", 1e6
	case ns >= 1e3:
		unit, div = "µs", 1e3
	}
	v := ns / div
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f%s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f%s", v, unit)
	}
	return fmt.Sprintf("%.2f%s", v, unit)
}
