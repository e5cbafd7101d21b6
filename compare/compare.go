package compare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// session is one comparison: the strategies in the order tried, each with
// its rounds.
type session struct {
	cfg   config
	accs  []*acc
	note  string // why subprocess is missing, when it is
	fname string
	nsamp int
	// failed are the strategies whose sub-benchmark failed in this call
	// of Benchmark: their rounds, of earlier calls (-count) or of an
	// earlier run of the sub-benchmark at a smaller b.N, are not advice.
	failed []strategy
}

func (s *session) find(st strategy) *acc {
	for _, a := range s.accs {
		if a.s == st {
			return a
		}
	}
	return nil
}

// plan tries the strategies in order, calling try for each; try returns
// the median time per call measured (0: not measured). The pools grow
// while they get faster; fireforget's limit is the best pool size.
func (s *session) plan(try func(strategy) float64) {
	try(strategy{executor: ExecInline})
	best, bestT := cores(), 0.0
	prevT := 0.0
	for size := nextPoolSize(0, s.cfg.batch); size > 0; size = nextPoolSize(size, s.cfg.batch) {
		t := try(strategy{ExecPool, size})
		if t > 0 && (bestT == 0 || t < bestT) {
			best, bestT = size, t
		}
		if prevT > 0 && !keepGrowing(prevT, t) || t == 0 {
			break
		}
		prevT = t
	}
	try(strategy{ExecFireforget, best})
	try(strategy{executor: ExecFireforget})
	try(strategy{executor: ExecErrgroup})
	try(strategy{ExecSubprocess, cores()})
}

func (s *session) report() *Report {
	r := &Report{Function: s.fname, Cores: cores(), Samples: s.nsamp, Batch: s.cfg.batch}
	for _, a := range s.accs {
		if len(a.rounds) > 0 && !slices.Contains(s.failed, a.s) {
			r.Results = append(r.Results, a.result())
		}
	}
	r.Advice = advise(r.Results, r.Cores, r.Batch, s.note)
	if len(s.failed) > 0 {
		names := make([]string, len(s.failed))
		for i, st := range s.failed {
			names[i] = st.name()
		}
		r.Advice.Reasons = append(r.Advice.Reasons, fmt.Sprintf("failed, so left out (see their sub-benchmarks): %s", strings.Join(names, ", ")))
	}
	return r
}

func check[In, Out any](f *execkit.Func[In, Out], samples []In) error {
	if f.Name() == "" { // nil, or a zero Func: not made by Register
		return fmt.Errorf("compare: nil Func: %w", execkit.ErrNotRegistered)
	}
	if len(samples) == 0 {
		return errors.New("compare: no samples: want at least one input for the function")
	}
	return nil
}

// Run measures f, called on samples in turn, on every execkit strategy and
// returns the report with its advice: the same measurement as [Benchmark],
// for a program or a CI job. The strategies are measured in turn, the
// pools growing while they get faster: each executor is made, calibrated
// with all its slots busy where that is cheap, timed in five rounds and
// shut down before the next. Each strategy takes
// about [TimePerStrategy] (half a second by default), so a whole run takes
// seconds, as long as a call is much shorter than a fifth of it: every
// round makes at least one wave of calls, so a slower function takes
// about ten calls' time per strategy (measured: 30 s for a call that
// sleeps 300 ms), and whole passes over the samples (every sample as many
// times, so that the rounds time the same inputs): at least five passes;
// subprocess is included when [subprocess.Main] was called.
//
// Run blocks until it has measured every strategy and shut their executors
// down. When ctx ends it stops and returns an error saying "ctx ended",
// wrapping ctx.Err() and its cause, even when the calls returned ctx's
// error themselves. When a call of f returns an error, it stops and
// returns that error (wrapped, starting "compare:"), except in the
// subprocess strategy: a function that cannot run in a
// worker process (registered in main rather than at package level, or
// using what main set up after subprocess.Main) leaves subprocess out of
// the report, the error in the advice's reasons.
// A call that never returns holds Run until ctx ends, so give ctx a
// deadline when f might hang: once ctx has ended, Run waits one second
// for the calls in flight, then returns ctx's error wrapped in one that
// says f ignores its ctx; those calls are abandoned, still running.
// It is safe to call concurrently, but concurrent runs measure each other.
// A nil f gives an error wrapping [execkit.ErrNotRegistered], as for every
// call given a nil Func; no samples, a nil option or an option's bad value
// give an error starting "compare:" before anything runs. A nil ctx is
// context.Background, as everywhere in execkit.
//
// [subprocess.Main]: https://pkg.go.dev/github.com/execkit/execkit/subprocess#Main
func Run[In, Out any](ctx context.Context, f *execkit.Func[In, Out], samples []In, opts ...RunOption) (*Report, error) {
	cfg, err := runConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := check(f, samples); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	s := &session{cfg: cfg, fname: f.Name(), nsamp: len(samples)}
	progress := func(format string, args ...any) {
		if cfg.progress != nil {
			fmt.Fprintf(cfg.progress, "compare: "+format+"\n", args...)
		}
	}
	// Each strategy in turn: made, calibrated, timed in rounds, shut down;
	// the goroutines it adds count from before it was made.
	measureOne := func(st strategy) (*acc, error) {
		base := runtime.NumGoroutine()
		children := cpuChildren()
		ex, err := st.newExecutor()
		if err != nil {
			return nil, err
		}
		a := &acc{s: st}
		d := &driver[In, Out]{f: f, samples: samples, batch: cfg.batch}
		wave := st.wave(cfg.batch)
		per, last, calls, err := d.calibrate(ctx, ex, wave, cfg.perStrat/20)
		// As many calls as fit in a round's time, and never fewer than a
		// wave when calibration afforded one: a round must keep every slot
		// busy to measure the strategy.
		n := max(1, int((cfg.perStrat/rounds)/max(per, 1)), min(wave, last)) // per is 0 after an error
		// Whole passes over the samples: rounds that called the function
		// on different inputs would differ by their inputs, not by noise,
		// and the median would pick an input (rounds of one call on a
		// function slow for one input of three read as fast).
		if l := len(samples); n%l != 0 {
			n += l - n%l
		}
		for i := 0; i < rounds && err == nil; i++ {
			var r round
			if r, err = d.measure(ctx, ex, n, base); err == nil {
				a.rounds = append(a.rounds, r)
				calls += r.tasks
			}
		}
		if st.executor == ExecInline && err == nil { // one more round: its waits for a core
			a.delayShare, err = d.delayShare(ctx, ex, n)
			if err == nil {
				a.direct, err = d.direct(ctx, n)
			}
		}
		if serr := shutdown(ctx, ex); err == nil {
			err = serr
		}
		if st.executor == ExecSubprocess { // the workers' CPU time, known once they have exited
			a.extraCPU, a.extraTasks = cpuChildren()-children, calls
		}
		return a, err
	}
	var runErr error
	s.plan(func(st strategy) float64 {
		if runErr != nil || s.find(st) != nil {
			return 0
		}
		progress("%s: measuring", st.name())
		a, err := abandonable(ctx, func() (*acc, error) { return measureOne(st) })
		switch {
		case errors.Is(err, errAbandoned), errors.Is(err, errGoexit):
			runErr = fmt.Errorf("compare: %s: %s %w", st.name(), s.fname, err)
			return 0
		case errors.Is(err, errNoSubprocess):
			s.note = subprocessHint
			progress("%s", subprocessHint)
			return 0
		case err != nil && st.executor == ExecSubprocess && ctx.Err() == nil:
			// The function cannot run in a worker process (registered
			// only in main, or using what main set up): the other
			// strategies' numbers stand, and the advice says why this
			// one is missing.
			s.note = fmt.Sprintf("%s not measured: %v", st.name(), err)
			progress("%s", s.note)
			return 0
		case err != nil:
			runErr = fmt.Errorf("compare: %s: %w", st.name(), err)
			return 0
		}
		s.accs = append(s.accs, a)
		res := a.result()
		progress("%s: %s per task ±%.0f%% (%d calls in %d rounds)", res.Strategy, fmtDur(float64(res.TimePerTask)), 100*res.Spread, res.Tasks, len(res.Rounds))
		return a.median()
	})
	if runErr != nil {
		return nil, runErr
	}
	rep := s.report()
	if rep.Advice.Strategy != "" {
		progress("advice: %s", rep.Advice.Strategy)
	}
	return rep, nil
}

// abandonAfter is how long Run waits, once ctx has ended, for the calls
// in flight to return before it abandons them.
const abandonAfter = time.Second

// errAbandoned says a measurement did not end within abandonAfter of ctx.
var errAbandoned = fmt.Errorf("did not return within %v after ctx ended (it ignores its ctx): abandoned, still running", abandonAfter)

// errGoexit says a call ended the goroutine that measured (the inline
// strategy calls the function in it).
var errGoexit = errors.New("called runtime.Goexit (as t.FailNow does) in the goroutine measuring the inline strategy: no numbers without its calls returning")

// abandonable runs measure in a goroutine of its own and returns what it
// returns, or errGoexit when measure ended that goroutine instead
// (runtime.Goexit), unless ctx ends and measure has not returned
// abandonAfter later: then it returns errAbandoned joined with ctx's
// error, and measure's goroutine is left to finish alone (it stops at its
// next batch).
func abandonable[T any](ctx context.Context, measure func() (T, error)) (T, error) {
	type outcome struct {
		v   T
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		returned := false
		defer func() {
			if !returned { // a panic goes on up; a Goexit ends here
				done <- outcome{err: errGoexit}
			}
		}()
		v, err := measure()
		returned = true
		done <- outcome{v, err}
	}()
	select {
	case o := <-done:
		return o.v, o.err
	case <-ctx.Done():
	}
	t := time.NewTimer(abandonAfter)
	defer t.Stop()
	select {
	case o := <-done:
		return o.v, o.err
	case <-t.C:
		var zero T
		return zero, fmt.Errorf("%w: %w", errAbandoned, context.Cause(ctx))
	}
}

// benchSessions keeps, per benchmark name, the strategies chosen by the
// first call and the rounds of every call: with -count N, the later calls
// run the same sub-benchmarks (benchstat compares like with like) and
// their advice draws on every round so far.
var benchSessions struct {
	sync.Mutex
	m map[string]*session
}

// Benchmark runs f, called on samples in turn, on every execkit strategy
// as sub-benchmarks of b named strategy=<name> (inline, pool-N,
// fireforget-limit-N, fireforget, errgroup, subprocess-N), then prints
// the advice on stderr (a parent benchmark's b.Log shows only with -v).
// Call it from a benchmark function:
//
//	func BenchmarkStrategies(b *testing.B) {
//		compare.Benchmark(b, resize, []Image{small, large})
//	}
//
// Each sub-benchmark makes b.N calls of f, submitted in batches of [Batch]
// and waited for, in five timed rounds (whole passes over the samples when
// b.N is at least five times their number, the calls left over made
// before them), and reports ns/op: the median of
// the rounds' wall time per call, the number the advice and [Result]'s
// TimePerTask use (not testing's default, the whole time over b.N: a mean
// that one round disturbed by other work skews). It reports allocations
// (testing's, over all b.N calls), cpu-ns/op (user +
// system CPU time per call, from getrusage; for subprocess the workers'
// time is included, their start too) and peak-goroutines (the most
// goroutines above the count at the start), so `go test -bench
// Strategies -count 6 | benchstat` works. The pools grow from the core
// count while they get faster; subprocess runs when the test binary calls
// [subprocess.Main] in TestMain, and is skipped, with the way to enable
// it, when not. go test -count n runs the benchmark function once and each
// sub-benchmark n times: the advice, printed once at the end, draws on the
// rounds of all n, so with -count 6 its time per task is the median of
// thirty rounds, each ns/op line the median of its own five. When the
// benchmark function itself runs again in one process (testing.Benchmark
// in a loop), the sizes chosen by its first call are kept and its advice
// draws on the rounds of every call so far (a strategy that failed in an
// earlier call is tried again).
//
// Benchmark blocks until every sub-benchmark has run; a call of f that
// returns an error or panics fails the sub-benchmark (so does one that
// calls runtime.Goexit in the inline one), and the advice leaves that
// strategy out, naming it (no rounds of a failed sub-benchmark count, not
// even those of a run at a smaller b.N that passed), and a call that never returns
// holds it until go test's -timeout ends the test binary with every stack.
//
// [subprocess.Main]: https://pkg.go.dev/github.com/execkit/execkit/subprocess#Main
func Benchmark[In, Out any](b *testing.B, f *execkit.Func[In, Out], samples []In, opts ...Option) {
	b.Helper()
	cfg, err := benchConfig(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := check(f, samples); err != nil {
		b.Fatal(err)
	}
	benchSessions.Lock()
	if benchSessions.m == nil {
		benchSessions.m = make(map[string]*session)
	}
	prev := benchSessions.m[b.Name()]
	benchSessions.Unlock()
	s := &session{cfg: cfg, fname: f.Name(), nsamp: len(samples)}
	if prev != nil {
		s.cfg.batch = prev.cfg.batch
		for _, a := range prev.accs {
			s.accs = append(s.accs, &acc{s: a.s, rounds: slices.Clone(a.rounds), extraCPU: a.extraCPU, extraTasks: a.extraTasks, delayShare: a.delayShare, direct: a.direct})
		}
		s.note = prev.note
	}
	try := func(st strategy) float64 {
		// go test -count n runs each sub-benchmark n times, each time
		// with a *testing.B of its own, which runs this function at
		// growing b.N, one B after the other: of each B, the last run's
		// rounds count (none when it failed), and those of every B do.
		type rep struct {
			b      *testing.B
			rounds []round
			child  time.Duration
			calls  int
		}
		var reps []*rep
		var share float64
		var direct time.Duration
		ok := b.Run("strategy="+st.name(), func(b *testing.B) {
			if len(reps) == 0 || reps[len(reps)-1].b != b {
				reps = append(reps, &rep{b: b})
			}
			this := reps[len(reps)-1]
			this.rounds = nil
			returned := false
			defer func() {
				// Fatal and Skip end this goroutine too, having said
				// why; a call of f that ended it (inline runs the calls
				// here) would leave the strategy out without a word.
				if !returned && !b.Failed() && !b.Skipped() {
					b.Errorf("compare: %s %v", f.Name(), errGoexit)
				}
			}()
			base := runtime.NumGoroutine()
			ex, err := st.newExecutor()
			if errors.Is(err, errNoSubprocess) {
				s.note = subprocessHint
				b.Skip(subprocessHint)
			}
			if err != nil {
				b.Fatal(err)
			}
			d := &driver[In, Out]{f: f, samples: samples, batch: s.cfg.batch}
			b.ReportAllocs()
			ch0 := cpuChildren()
			b.ResetTimer()
			k := min(rounds, b.N)
			sizes := make([]int, k)
			for i := range sizes {
				sizes[i] = b.N / k
				if i < b.N%k {
					sizes[i]++
				}
			}
			if l := len(samples); b.N/k >= l {
				// Whole passes over the samples, as in Run, so that every
				// round times the same mix of inputs; the calls left over
				// run first, outside the rounds.
				per := b.N / k / l * l
				for i := range sizes {
					sizes[i] = per
				}
				if pre := b.N - k*per; pre > 0 {
					peak := 0
					if err := d.run(b.Context(), ex, pre, &peak); err != nil {
						b.StopTimer()
						shutdown(context.Background(), ex)
						b.Fatalf("compare: %v", err)
					}
				}
			}
			rs := make([]round, 0, k)
			for _, n := range sizes {
				r, err := d.measure(b.Context(), ex, n, base)
				if err != nil {
					b.StopTimer()
					shutdown(context.Background(), ex)
					b.Fatalf("compare: %v", err)
				}
				rs = append(rs, r)
			}
			b.StopTimer()
			if st.executor == ExecInline { // one more round, untimed: its waits for a core
				share, err = d.delayShare(b.Context(), ex, max(b.N/k, 1))
				if err == nil {
					direct, err = d.direct(b.Context(), max(b.N/k, 1))
				}
				if err != nil {
					shutdown(context.Background(), ex)
					b.Fatalf("compare: %v", err)
				}
			}
			if err := shutdown(b.Context(), ex); err != nil {
				b.Fatalf("compare: %v", err)
			}
			var cpu time.Duration
			peak, timed := 0, 0
			for _, r := range rs {
				cpu += r.cpu
				peak = max(peak, r.peak)
				timed += r.tasks
			}
			ch := cpuChildren() - ch0
			// ns/op is the number the advice uses: the median of the
			// rounds' wall time per call, not testing's whole time over
			// b.N, which one disturbed round skews (a mean) and which
			// counts the measuring between the rounds.
			b.ReportMetric((&acc{rounds: rs}).median(), "ns/op")
			b.ReportMetric(float64(cpu)/float64(timed)+float64(ch)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(peak), "peak-goroutines")
			this.rounds, this.child, this.calls = rs, ch, b.N
			returned = true
		})
		if !ok {
			s.failed = append(s.failed, st)
			return 0
		}
		cur := &acc{s: st}
		for _, r := range reps {
			cur.rounds = append(cur.rounds, r.rounds...)
		}
		if len(cur.rounds) == 0 {
			return 0
		}
		a := s.find(st)
		if a == nil {
			a = &acc{s: st}
			s.accs = append(s.accs, a)
		}
		a.rounds = append(a.rounds, cur.rounds...)
		if st.executor == ExecInline {
			a.delayShare = share
			a.direct = direct
		}
		if st.executor == ExecSubprocess {
			for _, r := range reps {
				if r.rounds != nil {
					a.extraCPU += r.child
					a.extraTasks += r.calls
				}
			}
		}
		return cur.median()
	}
	if prev != nil {
		for _, a := range prev.accs {
			try(a.s)
		}
		for _, st := range prev.failed { // measured now, or named again
			if prev.find(st) == nil {
				try(st)
			}
		}
		if prev.note != "" {
			try(strategy{ExecSubprocess, cores()}) // skipped again, or measured now
		}
	} else {
		s.plan(try)
	}
	benchSessions.Lock()
	benchSessions.m[b.Name()] = s
	benchSessions.Unlock()
	// A parent benchmark's b.Log shows only with -v: the advice goes to
	// stderr, which go test shows and benchstat skips.
	fmt.Fprintf(os.Stderr, "%s: %s", b.Name(), s.report().Advice.String())
}
