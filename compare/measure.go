package compare

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/execkit/execkit"
)

// A driver submits the function's calls on the samples to an executor.
type driver[In, Out any] struct {
	f       *execkit.Func[In, Out]
	samples []In
	batch   int
	next    int // the sample of the next call
	futs    []*execkit.Future[Out]
}

// A round is one timed run of a number of tasks on one executor.
type round struct {
	tasks  int
	wall   time.Duration
	cpu    time.Duration // this process's
	allocs uint64
	bytes  uint64
	peak   int // goroutines above the count at the start
}

func (r round) perTask() float64 { return float64(r.wall) / float64(r.tasks) }

// run calls the function n times through ex, in batches of at most
// d.batch calls submitted before waiting for them, cycling through the
// samples. It records in *peak the most goroutines seen. It returns the
// first error of a call, after every call of its batch has ended.
func (d *driver[In, Out]) run(ctx context.Context, ex execkit.Executor, n int, peak *int) error {
	for n > 0 {
		if ctx.Err() != nil { // Run abandoned this measurement, or is about to
			return ctxEnded(ctx)
		}
		m := min(n, d.batch)
		d.futs = d.futs[:0]
		for range m {
			d.futs = append(d.futs, d.f.Go(ctx, ex, d.samples[d.next]))
			d.next++
			if d.next == len(d.samples) {
				d.next = 0
			}
			if g := runtime.NumGoroutine(); g > *peak {
				*peak = g
			}
		}
		var first error
		for _, fu := range d.futs {
			if _, err := fu.Wait(ctx); err != nil && first == nil {
				first = err
			}
		}
		clear(d.futs)
		if first != nil && ctx.Err() != nil {
			// The calls failed because the measuring's ctx ended (Run's
			// deadline, say): that is not the function failing.
			return ctxEnded(ctx)
		}
		if first != nil {
			return fmt.Errorf("%s failed: %w", d.f.Name(), first) // Run and Benchmark say "compare:" and the strategy
		}
		n -= m
	}
	return nil
}

// ctxEnded is the error of a measurement stopped by the end of its ctx: it
// wraps ctx.Err() and the cause, when the cause is another error.
func ctxEnded(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return fmt.Errorf("ctx ended: %w (%w)", cause, ctx.Err())
	}
	return fmt.Errorf("ctx ended: %w", ctx.Err())
}

// measure runs one timed round of n calls through ex. base is the number
// of goroutines before ex was made: the peak counts those ex added.
func (d *driver[In, Out]) measure(ctx context.Context, ex execkit.Executor, n, base int) (round, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := base
	cpu0 := cpuSelf()
	start := time.Now()
	err := d.run(ctx, ex, n, &peak)
	r := round{tasks: n, wall: time.Since(start), cpu: cpuSelf() - cpu0, peak: max(peak-base, 0)}
	runtime.ReadMemStats(&after)
	r.allocs = after.Mallocs - before.Mallocs
	r.bytes = after.TotalAlloc - before.TotalAlloc
	return r, err
}

// delayShare runs n calls through ex on a thread of its own and returns
// the share of their wall time that the thread was ready to run but
// waited for a core taken by other work (threadSched; 0 where the
// kernel does not say). It is meant for inline, whose calls run in the
// calling goroutine: their own waits for a core, not the other threads'.
// The thread is locked for this probe only: a locked goroutine that blocks
// hands its thread over at each wait, which costs CPU the timed rounds
// must not pay, and waits for the thread to be woken that they do not
// have. So the share is 0 for calls that block: the thread spent more than
// a tenth of the wall time neither on a core nor waiting for one (it
// slept). The run delay then speaks for the lock, and such calls wait
// anyway. It speaks for calls that do not block: the CPU-bound ones, which
// a busy machine would pass off as waiting. (Counting the thread's
// voluntary switches instead missed blocks on a busy core: a call whose
// wait ended while its thread was preempted never switched voluntarily.)
func (d *driver[In, Out]) delayShare(ctx context.Context, ex execkit.Executor, n int) (float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	peak := 0
	on0, delay0 := threadSched()
	start := time.Now()
	err := d.run(ctx, ex, n, &peak)
	wall := time.Since(start)
	on1, delay1 := threadSched()
	on, delay := on1-on0, delay1-delay0
	if err != nil || wall <= 0 || wall-on-delay > wall/10 {
		return 0, err
	}
	return min(max(float64(delay)/float64(wall), 0), 1), nil
}

// direct calls the function n times directly (Func.Call: no executor, no
// Future, no policy), in this goroutine, cycling through the samples, and
// returns the wall time per call: what "call the function directly" costs,
// against which inline's time shows execkit's cost per task. It starts no
// call once ctx has ended (an atomic load per call), and says so, as run
// does.
func (d *driver[In, Out]) direct(ctx context.Context, n int) (time.Duration, error) {
	n = max(n, 1)
	start := time.Now()
	for i := range n {
		if ctx.Err() != nil {
			return 0, ctxEnded(ctx)
		}
		if _, err := d.f.Call(ctx, d.samples[i%len(d.samples)]); err != nil {
			if ctx.Err() != nil {
				return 0, ctxEnded(ctx)
			}
			return 0, fmt.Errorf("%s failed: %w", d.f.Name(), err)
		}
	}
	return time.Since(start) / time.Duration(n), nil
}

// calibrate runs growing numbers of calls through ex (1, 4, 16, ...)
// until a run lasts at least least and either has wave calls or more
// (every slot of the strategy busy) or took about four times the previous
// run (the calls no longer overlap: more of them would only cost more). A
// function that waits fills the wave in little more than one call's time;
// a CPU-bound one stops early, where a wave of a thousand calls would cost
// a thousand times its CPU. It returns the time per call of the last run
// (the estimate that sizes the timed rounds), its number of calls, and
// the number of calls made in all. It warms ex up too.
func (d *driver[In, Out]) calibrate(ctx context.Context, ex execkit.Executor, wave int, least time.Duration) (per time.Duration, last, calls int, err error) {
	peak := 0
	var prev time.Duration
	for n := 1; ; n *= 4 {
		start := time.Now()
		if err := d.run(ctx, ex, n, &peak); err != nil {
			return 0, n, calls, err
		}
		calls += n
		e := time.Since(start)
		if e >= least && (n >= wave || prev > 0 && e >= 3*prev) || n >= 1<<26 {
			return max(e/time.Duration(n), 1), n, calls, nil
		}
		prev = e
	}
}

// shutdown shuts ex down and waits until it has: until its calls have
// returned and its goroutines and processes have exited. When ctx has
// ended, Shutdown cancels the calls' contexts and returns at once; shutdown
// then waits for them without a bound (Run's abandonable bounds it, and
// Benchmark's ctx ends only after the sub-benchmark), so that no call of
// the function and nothing ex started outlives Run or the sub-benchmark.
func shutdown(ctx context.Context, ex execkit.Executor) error {
	err := ex.Shutdown(ctx)
	if err != nil && ctx.Err() != nil {
		if werr := ex.Shutdown(context.WithoutCancel(ctx)); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
