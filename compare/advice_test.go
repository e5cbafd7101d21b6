package compare

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func res(name string, t, cpu time.Duration, spread float64, peak int) Result {
	st := strategy{}
	switch {
	case name == "inline":
		st = strategy{executor: ExecInline}
	case strings.HasPrefix(name, "fireforget-limit-"):
		st.executor = ExecFireforget
		st.size = atoi(strings.TrimPrefix(name, "fireforget-limit-"))
	case strings.HasPrefix(name, "pool-"):
		st = strategy{ExecPool, atoi(strings.TrimPrefix(name, "pool-"))}
	case strings.HasPrefix(name, "subprocess-"):
		st = strategy{ExecSubprocess, atoi(strings.TrimPrefix(name, "subprocess-"))}
	default:
		st.executor = name
	}
	r := Result{Strategy: st.name(), Executor: st.executor, Size: st.size, Tasks: 100,
		TimePerTask: t, CPUPerTask: cpu, Spread: spread, PeakGoroutines: peak}
	if name == "inline" {
		r.Size = 1
	}
	return r
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

const (
	us = time.Microsecond
	ms = time.Millisecond
)

func has(t *testing.T, a Advice, want string) {
	t.Helper()
	for _, r := range a.Reasons {
		if strings.Contains(r, want) {
			return
		}
	}
	t.Errorf("no reason contains %q; reasons:\n%s", want, a)
}

func TestAdviseCPUBound(t *testing.T) {
	rs := []Result{
		res("inline", 1*ms, 980*us, 0.01, 0),
		res("pool-2", 500*us, 1*ms, 0.02, 3),
		res("pool-4", 505*us, 1*ms, 0.02, 5),
		res("fireforget-limit-2", 510*us, 1*ms, 0.02, 3),
		res("fireforget", 490*us, 1*ms, 0.01, 1000),
		res("errgroup", 560*us, 1*ms, 0.01, 1000),
		res("subprocess-2", 510*us, 1050*us, 0.01, 6),
	}
	a := advise(rs, 2, 1000, "")
	if a.Strategy != "pool-2" || a.Code != "pool.New(2)" {
		t.Errorf("advice %s (%s); want pool-2 (pool.New(2))", a.Strategy, a.Code)
	}
	if a.Kind != KindCPUBound {
		t.Errorf("kind %q; want %q", a.Kind, KindCPUBound)
	}
	// errgroup is 14% slower than the best: not tied; subprocess is tied
	// on time but loses on footprint.
	want := []string{"pool-2", "pool-4", "fireforget-limit-2", "fireforget", "subprocess-2"}
	if strings.Join(a.Tied, " ") != strings.Join(want, " ") {
		t.Errorf("tied %v; want %v", a.Tied, want)
	}
	has(t, a, "CPU-bound: one call inline takes 1.00ms and uses 980µs of CPU (98%)")
	has(t, a, "the cores are saturated: CPU/task 1.00ms ≈ 500µs/task × 2 cores (100% busy)")
	has(t, a, "within noise")
	has(t, a, "pool-2 peaked at 3 goroutines where goroutine-per-task (fireforget) peaked at 1000")
	has(t, a, "subprocess-2 is within noise of pool-2")
}

func TestAdviseWaits(t *testing.T) {
	rs := []Result{
		res("inline", 2*ms, 40*us, 0.01, 0),
		res("pool-2", 1*ms, 40*us, 0.01, 3),
		res("pool-4", 500*us, 40*us, 0.01, 5),
		res("pool-16", 125*us, 40*us, 0.01, 17),
		res("pool-64", 32*us, 40*us, 0.01, 65),
		res("pool-256", 8*us, 40*us, 0.01, 257),
		res("pool-1000", 3*us, 40*us, 0.02, 1001),
		res("fireforget-limit-1000", 3100*time.Nanosecond, 40*us, 0.02, 1001),
		res("fireforget", 2900*time.Nanosecond, 40*us, 0.02, 1000),
		res("errgroup", 3*us, 40*us, 0.02, 1000),
	}
	a := advise(rs, 2, 1000, subprocessHint)
	if a.Kind != KindWaits {
		t.Errorf("kind %q; want %q", a.Kind, KindWaits)
	}
	if a.Strategy != "fireforget" && a.Strategy != "errgroup" {
		t.Errorf("advice %s; want the fewest goroutines among the tied (fireforget or errgroup, 1000)", a.Strategy)
	}
	has(t, a, "waits dominate: one call inline takes 2.00ms but uses only 40.0µs of CPU (2%)")
	has(t, a, "high concurrency wins")
	has(t, a, "faster than a pool of 2, one per core (1.00ms per task)")
	has(t, a, "call subprocess.Main() first in TestMain")
}

func TestAdviseInlineWhenTooShort(t *testing.T) {
	rs := []Result{
		res("inline", 100*time.Nanosecond, 100*time.Nanosecond, 0.01, 0),
		res("pool-2", 600*time.Nanosecond, 650*time.Nanosecond, 0.01, 3),
		res("fireforget", 500*time.Nanosecond, 700*time.Nanosecond, 0.01, 2000),
	}
	a := advise(rs, 2, 1000, "")
	if a.Strategy != "inline" {
		t.Fatalf("advice %s; want inline", a.Strategy)
	}
	has(t, a, "no executor pays: inline takes 100ns per call; the fastest executor, fireforget, takes 500ns per task (5.00x slower)")
	if len(a.Tied) != 0 {
		t.Errorf("tied %v; want none", a.Tied)
	}
}

// TestWithinUsesSpread: the same 8% difference is noise when the rounds
// spread 5% each, and real when they agree within 1%.
func TestWithinUsesSpread(t *testing.T) {
	for _, tc := range []struct {
		spread float64
		want   bool
	}{{0.05, true}, {0.01, false}} {
		a := res("pool-2", 100*us, 0, tc.spread, 3)
		b := res("pool-4", 108*us, 0, tc.spread, 5)
		if got := within(a, b); got != tc.want {
			t.Errorf("within(100µs ±%.0f%%, 108µs ±%.0f%%) = %v; want %v", 100*tc.spread, 100*tc.spread, got, tc.want)
		}
	}
	// Below minGain, a difference is never decisive.
	if !within(res("pool-2", 100*us, 0, 0, 3), res("pool-4", 104*us, 0, 0, 5)) {
		t.Errorf("a 4%% difference with no spread is not within noise; want within %.0f%%", 100*minGain)
	}
}

func TestAdviseSubprocessCost(t *testing.T) {
	rs := []Result{
		res("inline", 1*ms, 1*ms, 0.01, 0),
		res("pool-2", 500*us, 1*ms, 0.01, 3),
		res("subprocess-2", 600*us, 1*ms, 0.01, 6),
	}
	a := advise(rs, 2, 1000, "")
	has(t, a, "subprocess-2 adds 200µs per call over pool-2 (600µs vs 500µs per task), 20% of one call (1.00ms): a real price")
}

func TestAdviseNothingMeasured(t *testing.T) {
	a := advise(nil, 2, 1000, subprocessHint)
	if a.Strategy != "" {
		t.Errorf("advice %q without measurements; want none", a.Strategy)
	}
	has(t, a, "no advice without numbers")
	if !strings.HasPrefix(a.String(), "advice: none\n") {
		t.Errorf("String() = %q; want it to start with advice: none", a.String())
	}
}

func TestResultMedianAndSpread(t *testing.T) {
	a := &acc{s: strategy{ExecPool, 2}}
	for _, w := range []time.Duration{130, 100, 90, 110, 500} { // per task: 10 tasks each
		a.rounds = append(a.rounds, round{tasks: 10, wall: 10 * w, cpu: 10 * w, allocs: 20, bytes: 640, peak: int(w)})
	}
	r := a.result()
	if r.TimePerTask != 110 {
		t.Errorf("median %v; want 110ns", r.TimePerTask)
	}
	// Quartiles of 90 100 110 130 500 are 100 and 130: ±15/110.
	if got, want := r.Spread, 15.0/110; got != want {
		t.Errorf("spread %v; want %v (the outlier ignored)", got, want)
	}
	if r.Tasks != 50 || r.AllocsPerTask != 2 || r.BytesPerTask != 64 || r.PeakGoroutines != 500 {
		t.Errorf("tasks %d allocs %v bytes %v peak %d; want 50 2 64 500", r.Tasks, r.AllocsPerTask, r.BytesPerTask, r.PeakGoroutines)
	}
	if r.CPUPerTask != 186 { // (130+100+90+110+500)/5
		t.Errorf("CPU per task %v; want 186ns", r.CPUPerTask)
	}
}

func TestNextPoolSize(t *testing.T) {
	c := cores()
	var got []int
	for n := nextPoolSize(0, 100*c); n > 0; n = nextPoolSize(n, 100*c) {
		got = append(got, n)
	}
	want := []int{c, 2 * c, 16 * c, 100 * c}
	if len(got) != len(want) {
		t.Fatalf("sizes %v; want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sizes %v; want %v", got, want)
		}
	}
}

// TestWithinCapsSpread: a strategy whose rounds disagree wildly is not
// tied with one ten times faster.
func TestWithinCapsSpread(t *testing.T) {
	if within(res("pool-2", 1200*us, 0, 0.3, 3), res("subprocess-2", 11400*us, 0, 1.28, 9)) {
		t.Errorf("1.2ms ±30%% and 11.4ms ±128%% are within noise; want not (spreads capped at %.0f%%)", 100*maxSpread)
	}
}

// TestAdviseKindBusyMachine: the kind of work is judged on the time a
// call could run. A CPU-bound call on one core shared with three other
// busy processes (measured: 1.77ms a call, 490µs of CPU, the rest waiting
// for the core) was called "mixed" (28%), and with one more process
// "waits dominate"; a call that waits stays one that waits when the
// machine is busy too, and delays that add up to more than the time off
// CPU (the threads' together) count for that time at most.
func TestAdviseKindBusyMachine(t *testing.T) {
	for _, tc := range []struct {
		name           string
		wall, cpu, rdl time.Duration
		want, reason   string
	}{
		{"cpu-bound, busy", 1770 * us, 490 * us, 1280 * us, KindCPUBound, "1.28ms of it waiting for a core taken by other work"},
		{"cpu-bound, busier", 2500 * us, 490 * us, 2000 * us, KindCPUBound, "CPU-bound"},
		{"waits, busy", 5 * ms, 300 * us, 400 * us, KindWaits, "waits dominate"},
		{"delays over the time off CPU", 1 * ms, 900 * us, 5 * ms, KindCPUBound, "CPU-bound: one call inline takes 1.00ms and uses 900µs of CPU (100%)"},
		{"no delay known", 1770 * us, 490 * us, 0, KindMixed, "(28%)"},
		{"below 1%", 301 * ms, 799 * us, 0, KindWaits, "uses only 799µs of CPU (0.3%)"}, // it read (0%)
	} {
		inline := res("inline", tc.wall, tc.cpu, 0.02, 0)
		inline.runDelay = tc.rdl
		a := advise([]Result{inline, res("pool-2", tc.wall, tc.cpu, 0.02, 3)}, 2, 100, "")
		if a.Kind != tc.want {
			t.Errorf("%s: kind %q; want %q\n%s", tc.name, a.Kind, tc.want, a)
		}
		has(t, a, tc.reason)
	}
}

// TestAdviceNoShareOverAHundredPercent: no percentage in the advice reads
// over 100%. The CPU time is the whole process's and a mean over the
// rounds, the time their median, so a CPU-bound call measured in rounds
// of one call read "takes 4.82ms and uses 5.28ms of CPU (110%)", a pool
// "(112% busy)", and a worker process's cost "6257% of one call": each
// now says what the number is instead.
func TestAdviceNoShareOverAHundredPercent(t *testing.T) {
	rs := []Result{
		res("inline", 4820*us, 5480*us, 0.01, 0),
		res("pool-2", 2400*us, 5480*us, 0.01, 3),
		res("subprocess-2", 7400*us, 9*ms, 0.01, 6),
	}
	a := advise(rs, 2, 1000, "")
	pct := regexp.MustCompile(`([0-9.]+)%`)
	for _, r := range a.Reasons {
		for _, m := range pct.FindAllStringSubmatch(r, -1) {
			if v, err := strconv.ParseFloat(m[1], 64); err != nil || v > 100 {
				t.Errorf("reason %q reads %s%%; want no share over 100%%", r, m[1])
			}
		}
	}
	has(t, a, "CPU-bound: one call inline takes 4.82ms and the process used 5.48ms of CPU per call, more than the call's time: that CPU time is the whole process's")
	has(t, a, "(every core busy)")
	has(t, a, "subprocess-2 adds 10.0ms per call over pool-2 (7.40ms vs 2.40ms per task), 2.07x one call (4.82ms)")
	if a.Kind != KindCPUBound {
		t.Errorf("kind %q; want %q", a.Kind, KindCPUBound)
	}
	// A little over: measuring's noise, all of the time (52.1µs against
	// 52.5µs of CPU read as the long explanation).
	rs = []Result{res("inline", 52100*time.Nanosecond, 52500*time.Nanosecond, 0.01, 0), res("pool-2", 27900*time.Nanosecond, 57*us, 0.01, 3)}
	a = advise(rs, 2, 1000, "")
	has(t, a, "CPU-bound: one call inline takes 52.1µs and uses 52.5µs of CPU (100%)")
	has(t, a, "(100% busy)")
}

// TestAdviseDirectCall: for a function much shorter than execkit's cost
// per task, the advice says what a direct call costs. It quoted inline's
// time through &execkit.Inline{} and a Future as "one call" (2.10µs for a
// function a direct call runs in 58ns) next to "or call the function
// directly".
func TestAdviseDirectCall(t *testing.T) {
	inline := res("inline", 2100*time.Nanosecond, 2*us, 0.02, 0)
	inline.direct = 58 * time.Nanosecond
	a := advise([]Result{inline, res("pool-2", 1500*time.Nanosecond, 3*us, 0.02, 3)}, 2, 100, "")
	has(t, a, "a direct call (f.Call: no executor, no Future) takes 58.0ns, inline 2.10µs: the rest, 2.04µs, is execkit's cost per task")
	// A busy machine: inline took twice the direct call (66µs, 41µs of it
	// waiting for a core, against 29µs), which is noise, not execkit's
	// cost; and a round as fast as four direct calls.
	busy := res("inline", 66*us, 22*us, 0.2, 0)
	busy.direct = 29 * us
	quick := res("inline", 2100*time.Nanosecond, 2*us, 0.02, 0)
	quick.direct = 580 * time.Nanosecond
	quick.Rounds = []time.Duration{2100, 2000, 2300, 2200, 2320}
	for _, in := range []Result{busy, quick} {
		for _, r := range advise([]Result{in}, 2, 100, "").Reasons {
			if strings.Contains(r, "direct call") {
				t.Errorf("reason %q for inline %v, fastest round %v, a direct call %v; want none", r, in.TimePerTask, in.Rounds, in.direct)
			}
		}
	}
}

// TestAdviseTieIgnoresGoroutineNoise: among strategies tied on time, a
// peak a few goroutines smaller is not a smaller footprint. A function
// that sleeps 2 ms was advised errgroup (10.4µs per task, 1000 goroutines
// at peak) over fireforget (8.27µs, 1004), and errgroup's advice did not
// say that its calls fail together.
func TestAdviseTieIgnoresGoroutineNoise(t *testing.T) {
	rs := []Result{
		res("inline", 2200*us, 88*us, 0.01, 0),
		res("pool-2", 1190*us, 60*us, 0.01, 4),
		res("fireforget", 8270*time.Nanosecond, 6*us, 0.15, 1004),
		res("errgroup", 10400*time.Nanosecond, 6*us, 0.28, 1000),
	}
	a := advise(rs, 2, 1000, "")
	if a.Strategy != "fireforget" {
		t.Errorf("advice %s; want fireforget (tied, as many goroutines within noise, faster)\n%s", a.Strategy, a)
	}
	// errgroup alone, or clearly the smallest: its advice says what it
	// does to failures.
	rs[3] = res("errgroup", 8000*time.Nanosecond, 6*us, 0.01, 700)
	a = advise(rs, 2, 1000, "")
	if a.Strategy != "errgroup" {
		t.Fatalf("advice %s; want errgroup (tied, 30%% fewer goroutines)\n%s", a.Strategy, a)
	}
	has(t, a, "errgroup fails together: the first call that returns an error (or panics) cancels the others' ctx")
}

// TestAdviseOneGoroutine: "1 goroutine", not "1 goroutines" (probed: a
// tie won by fireforget with one goroutine at peak).
func TestAdviseOneGoroutine(t *testing.T) {
	rs := []Result{
		res("pool-2", 36*us, 10*us, 0.01, 3),
		res("fireforget", 35900*time.Nanosecond, 10*us, 0.01, 1),
	}
	a := advise(rs, 2, 1000, "")
	has(t, a, "fireforget chosen for the smallest footprint (in-process, 1 goroutine at peak)")
}
