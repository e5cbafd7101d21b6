package compare

import (
	"fmt"
	"strings"
)

// The kinds of work an [Advice] tells apart, from the inline call's CPU
// time over its wall time less its run delay (the time its thread was
// ready to run but waited for a core taken by other work, which Linux
// reports), so that a busy machine does not pass a CPU-bound function off
// as one that waits.
const (
	KindCPUBound = "cpu-bound" // CPU/(wall - run delay) of one call at least 50%
	KindWaits    = "waits"     // CPU/(wall - run delay) of one call at most 20%
	KindMixed    = "mixed"     // in between
)

// minGain is the smallest difference in time per task that the advice
// treats as real even when the rounds agree more closely: below it, a
// choice between two strategies is a coin toss on a busy machine.
const minGain = 0.05

// An Advice is the strategy to use and why, every reason a measured
// number.
type Advice struct {
	Strategy string `json:"strategy"` // the recommended strategy, as in Result.Strategy
	Code     string `json:"code"`     // the Go expression that makes its executor
	// Kind is KindCPUBound, KindWaits or KindMixed ("" when the inline
	// baseline or the CPU time was not measured).
	Kind string `json:"kind"`
	// Tied are the strategies within noise of the fastest (the
	// recommended one among them), when there are several.
	Tied    []string `json:"tied,omitempty"`
	Reasons []string `json:"reasons"`
}

// String renders the advice: the recommendation, then one reason a line.
func (a Advice) String() string {
	var b strings.Builder
	if a.Strategy == "" {
		b.WriteString("advice: none\n")
	} else {
		fmt.Fprintf(&b, "advice: %s: %s\n", a.Strategy, a.Code)
	}
	for _, r := range a.Reasons {
		fmt.Fprintf(&b, "  - %s\n", r)
	}
	return b.String()
}

// maxSpread caps the spread a result brings to a comparison: a strategy
// whose rounds disagree more than that is not tied with everything.
const maxSpread = 0.25

// within reports whether a and b differ by less than their noise (the sum
// of their spreads, each capped at maxSpread) or than minGain.
func within(a, b Result) bool {
	ta, tb := float64(a.TimePerTask), float64(b.TimePerTask)
	tol := max(minGain*min(ta, tb), min(a.Spread, maxSpread)*ta+min(b.Spread, maxSpread)*tb)
	return abs(ta-tb) <= tol
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// smaller reports whether a has the smaller footprint of two strategies
// that tie on time: in-process before worker processes, then the fewest
// goroutines at peak, then the fewest calls at once, then the faster.
// Peaks within 10% of each other are the same footprint: a peak is
// sampled as calls are submitted, and 1004 against 1000 goroutines is how
// the sampling fell, not a smaller strategy (errgroup was advised over a
// fireforget 20% faster for such four goroutines).
func smaller(a, b Result, batch int) bool {
	if sa, sb := a.Executor == ExecSubprocess, b.Executor == ExecSubprocess; sa != sb {
		return sb
	}
	if pa, pb := a.PeakGoroutines, b.PeakGoroutines; 10*abs(float64(pa-pb)) > float64(max(pa, pb)) {
		return pa < pb
	}
	if ca, cb := a.concurrency(batch), b.concurrency(batch); ca != cb {
		return ca < cb
	}
	return a.TimePerTask < b.TimePerTask
}

// advise draws the advice from the results; note, when not empty, says why
// the subprocess strategy is missing.
func advise(rs []Result, cores, batch int, note string) Advice {
	var measured []Result
	for _, r := range rs {
		if r.Tasks > 0 && r.TimePerTask > 0 {
			measured = append(measured, r)
		}
	}
	if len(measured) == 0 {
		a := Advice{Reasons: []string{"nothing was measured: no advice without numbers"}}
		if note != "" {
			a.Reasons = append(a.Reasons, note)
		}
		return a
	}
	find := func(name string) (Result, bool) {
		for _, r := range measured {
			if r.Strategy == name {
				return r, true
			}
		}
		return Result{}, false
	}
	best := measured[0]
	for _, r := range measured[1:] {
		if r.TimePerTask < best.TimePerTask {
			best = r
		}
	}
	var tied []Result
	for _, r := range measured {
		if within(r, best) {
			tied = append(tied, r)
		}
	}
	pick := tied[0]
	for _, r := range tied[1:] {
		if smaller(r, pick, batch) {
			pick = r
		}
	}
	a := Advice{Strategy: pick.Strategy, Code: strategyOf(pick).code()}
	inline, haveInline := find(ExecInline)

	// What kind of work it is: one call alone, the time it waited for a
	// core taken by other work set aside (it is not the function's).
	if haveInline && inline.CPUPerTask > 0 {
		wall, cpu := float64(inline.TimePerTask), float64(inline.CPUPerTask)
		// At most the time off CPU was spent waiting for a core.
		delay := min(float64(inline.runDelay), max(wall-cpu, 0))
		share := cpu / max(wall-delay, 1)
		// Up to 5% over is measuring's noise (two clocks, a mean against
		// a median): all of the call's time.
		t, c, pct := fmtDur(wall), fmtDur(cpu), percent(min(share, 1))
		if delay > 0.1*wall {
			t = fmt.Sprintf("%s, %s of it waiting for a core taken by other work (the machine is busy),", t, fmtDur(delay))
			pct += " of the rest"
		}
		uses := fmt.Sprintf("uses %s of CPU (%s)", c, pct)
		if share > 1.05 {
			// Well over the call's time: not the call's alone. The CPU time is
			// the whole process's (its garbage collector and other
			// goroutines, the function's own included), and a mean over
			// the rounds where the time is their median.
			uses = fmt.Sprintf("the process used %s of CPU per call, more than the call's time: "+
				"that CPU time is the whole process's (its garbage collector and other goroutines, the function's own included), averaged over the rounds", c)
		}
		switch {
		case share >= 0.5:
			a.Kind = KindCPUBound
			a.Reasons = append(a.Reasons, fmt.Sprintf("CPU-bound: one call inline takes %s and %s", t, uses))
		case share <= 0.2:
			a.Kind = KindWaits
			a.Reasons = append(a.Reasons, fmt.Sprintf("waits dominate: one call inline takes %s but uses only %s of CPU (%s)", t, c, pct))
		default:
			a.Kind = KindMixed
			a.Reasons = append(a.Reasons, fmt.Sprintf("mixed: one call inline takes %s and %s", t, uses))
		}
	}

	// The pick against the baseline.
	tp := fmtDur(float64(pick.TimePerTask))
	switch {
	case pick.Executor == ExecInline:
		var fastest Result
		for _, r := range measured {
			if r.Executor != ExecInline && (fastest.Tasks == 0 || r.TimePerTask < fastest.TimePerTask) {
				fastest = r
			}
		}
		if fastest.Tasks > 0 {
			a.Reasons = append(a.Reasons, fmt.Sprintf("no executor pays: inline takes %s per call; the fastest executor, %s, takes %s per task (%s)",
				tp, fastest.Strategy, fmtDur(float64(fastest.TimePerTask)), ratio(float64(pick.TimePerTask), float64(fastest.TimePerTask))))
		}
	case haveInline:
		a.Reasons = append(a.Reasons, fmt.Sprintf("%s takes %s per task, %s than inline (%s)",
			pick.Strategy, tp, ratio(float64(inline.TimePerTask), float64(pick.TimePerTask)), fmtDur(float64(inline.TimePerTask))))
	default:
		a.Reasons = append(a.Reasons, fmt.Sprintf("%s takes %s per task (inline was not measured)", pick.Strategy, tp))
	}

	// A short function: inline's time is mostly execkit's cost per task.
	// Said only when even inline's fastest round took four times a direct
	// call: the direct calls are timed once, after the rounds, and a busy
	// machine can make two timings of the same work differ twofold.
	fastestInline := inline.TimePerTask
	for _, r := range inline.Rounds {
		fastestInline = min(fastestInline, r)
	}
	if haveInline && inline.direct > 0 && 4*inline.direct < fastestInline {
		a.Reasons = append(a.Reasons, fmt.Sprintf("a direct call (f.Call: no executor, no Future) takes %s, inline %s: the rest, %s, is execkit's cost per task; for work this short, call the function directly or put many inputs in one task",
			fmtDur(float64(inline.direct)), fmtDur(float64(inline.TimePerTask)), fmtDur(float64(inline.TimePerTask-inline.direct))))
	}

	// The physics: cores saturated, or waits overlapped.
	if pick.Executor != ExecInline && pick.CPUPerTask > 0 && pick.Executor != ExecSubprocess {
		busy := float64(pick.CPUPerTask) / (float64(pick.TimePerTask) * float64(cores))
		if busy >= 0.6 {
			// CPU/task is a mean over the rounds, the time their median,
			// and the CPU the whole process's: their quotient can pass
			// 100%, which no core can.
			pct := fmt.Sprintf("%.0f%% busy", 100*min(busy, 1))
			if busy > 1.05 {
				pct = "every core busy"
			}
			a.Reasons = append(a.Reasons, fmt.Sprintf("the cores are saturated: CPU/task %s ≈ %s/task × %d cores (%s): more calls at once cannot help",
				fmtDur(float64(pick.CPUPerTask)), tp, cores, pct))
		}
	}
	if pc, ok := find(strategy{ExecPool, cores}.name()); ok && pick.concurrency(batch) > 2*cores && !within(pc, pick) {
		a.Reasons = append(a.Reasons, fmt.Sprintf("high concurrency wins: %s is %s faster than a pool of %d, one per core (%s per task)",
			pick.Strategy, times(float64(pc.TimePerTask)/float64(pick.TimePerTask)), cores, fmtDur(float64(pc.TimePerTask))))
	}

	// Ties: say so, and why this one.
	if len(tied) > 1 {
		a.Tied = make([]string, len(tied))
		parts := make([]string, len(tied))
		for i, r := range tied {
			a.Tied[i] = r.Strategy
			parts[i] = fmt.Sprintf("%s %s ±%.0f%%", r.Strategy, fmtDur(float64(r.TimePerTask)), 100*r.Spread)
		}
		a.Reasons = append(a.Reasons, fmt.Sprintf("within noise (or %.0f%%) of each other: %s; %s chosen for the smallest footprint (%s, %s at peak)",
			100*minGain, strings.Join(parts, ", "), pick.Strategy, where(pick), goroutines(pick.PeakGoroutines)))
	}

	// errgroup is not a neutral executor: say what it does to failures.
	if pick.Executor == ExecErrgroup {
		a.Reasons = append(a.Reasons, "errgroup fails together: the first call that returns an error (or panics) cancels the others' ctx and the group refuses new calls; for calls that must fail alone, take the fastest other strategy")
	}

	// What goroutine-per-task costs in goroutines, when the pick is bounded.
	if ff, ok := find(ExecFireforget); ok && pick.Size > 0 && pick.Executor != ExecInline && ff.PeakGoroutines > 2*max(pick.PeakGoroutines, 1) {
		a.Reasons = append(a.Reasons, fmt.Sprintf("%s peaked at %s where goroutine-per-task (fireforget) peaked at %d",
			pick.Strategy, goroutines(pick.PeakGoroutines), ff.PeakGoroutines))
	}

	// The price of isolation.
	a.Reasons = append(a.Reasons, isolation(measured, find, inline, haveInline, note)...)
	return a
}

// percent formats a share as a percentage, with a decimal below 1% so
// that a small share does not read as none.
func percent(share float64) string {
	if share < 0.01 {
		return fmt.Sprintf("%.1f%%", 100*share)
	}
	return fmt.Sprintf("%.0f%%", 100*share)
}

// goroutines says n goroutines, or 1 goroutine.
func goroutines(n int) string {
	if n == 1 {
		return "1 goroutine"
	}
	return fmt.Sprintf("%d goroutines", n)
}

func where(r Result) string {
	if r.Executor == ExecSubprocess {
		return "worker processes"
	}
	return "in-process"
}

// isolation compares the subprocess strategy with the pool of as many
// workers: what a call costs more when it crosses to a worker process.
func isolation(measured []Result, find func(string) (Result, bool), inline Result, haveInline bool, note string) []string {
	var sub Result
	for _, r := range measured {
		if r.Executor == ExecSubprocess {
			sub = r
		}
	}
	if sub.Tasks == 0 {
		if note != "" {
			return []string{note}
		}
		return nil
	}
	pl, ok := find(strategy{ExecPool, sub.Size}.name())
	if !ok {
		return []string{fmt.Sprintf("%s takes %s per task (no pool of %d measured to compare it with)", sub.Strategy, fmtDur(float64(sub.TimePerTask)), sub.Size)}
	}
	if within(sub, pl) {
		return []string{fmt.Sprintf("%s is within noise of %s (%s vs %s per task): isolation in worker processes costs nothing measurable here",
			sub.Strategy, pl.Strategy, fmtDur(float64(sub.TimePerTask)), fmtDur(float64(pl.TimePerTask)))}
	}
	// With n calls at once in both, a call lasts about n × the time per task.
	extra := float64(sub.TimePerTask-pl.TimePerTask) * float64(sub.Size)
	call := float64(pl.TimePerTask) * float64(sub.Size)
	if haveInline {
		call = float64(inline.TimePerTask)
	}
	if extra < 0 {
		return []string{fmt.Sprintf("%s is %s faster than %s (%s vs %s per task): worker processes have their own heaps and garbage collectors",
			sub.Strategy, times(float64(pl.TimePerTask)/float64(sub.TimePerTask)), pl.Strategy, fmtDur(float64(sub.TimePerTask)), fmtDur(float64(pl.TimePerTask)))}
	}
	share := extra / call
	verdict := "cheap enough when a crash or a leak must stay in a worker"
	switch {
	case share > 1:
		verdict = "isolation costs more than the work itself"
	case share > 0.1:
		verdict = "a real price: use it only for isolation"
	}
	of := fmt.Sprintf("%.0f%% of one call", 100*share)
	if share > 1 {
		of = times(share) + " one call"
	}
	return []string{fmt.Sprintf("%s adds %s per call over %s (%s vs %s per task), %s (%s): %s",
		sub.Strategy, fmtDur(extra), pl.Strategy, fmtDur(float64(sub.TimePerTask)), fmtDur(float64(pl.TimePerTask)), of, fmtDur(call), verdict)}
}

// strategyOf is the strategy a result measured.
func strategyOf(r Result) strategy {
	s := strategy{executor: r.Executor, size: r.Size}
	if s.executor == ExecInline {
		s.size = 0
	}
	return s
}
