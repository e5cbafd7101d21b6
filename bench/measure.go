package bench

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A Sample is one measurement of one strategy on one workload: one or more
// batches timed together.
type Sample struct {
	Tasks          int           // tasks run in the timed section
	Elapsed        time.Duration // wall time of the timed section
	Allocs, Bytes  uint64        // heap allocations in the timed section (this process only)
	CPU            time.Duration // user + system CPU time of this process in the timed section
	PeakGoroutines int64         // most goroutines seen at once (sampled every millisecond)
	PeakRSS        int64         // peak resident set, bytes (memory workloads only)
	PeakThreads    int64         // Python: most threads seen at once
}

// NsPerTask is the wall time per task.
func (s Sample) NsPerTask() float64 {
	if s.Tasks == 0 {
		return 0
	}
	return float64(s.Elapsed.Nanoseconds()) / float64(s.Tasks)
}

// Measure runs batches of n tasks of w on s until at least minTime has
// passed (at least one batch), after one untimed warm-up batch of n tasks,
// and returns the sample. A memory workload runs one batch in a child
// process instead.
//
// The warm-up is a whole batch so that each strategy starts from memory it
// used itself, not from what the cell before it left: a batch of 50k
// goroutines needs about 160 MiB of goroutine stacks; the stacks freed by
// one goroutine-per-task cell are still resident for the next, but during a
// pool cell the runtime returns them to the OS, and the goroutine cell
// after it then took a page fault for most of its new stacks (0.6 to 0.8
// per task in the burst workload, doubling its time). [Schedule] kept
// the strategies' cyclic order then, so the same strategy always followed
// a pool there.
func Measure(ctx context.Context, s *Strategy, w *Workload, n int, minTime time.Duration) (Sample, error) {
	if w.Kind == KindMemory {
		return measureInChild(ctx, s, w, n)
	}
	r, err := s.New(w)
	if err != nil {
		return Sample{}, err
	}
	defer r.Close()
	if err := checkRun(w, r.Run(ctx, n)); err != nil {
		return Sample{}, err
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := startPeakSampler()
	var smp Sample
	cpu0 := processCPU()
	start := time.Now()
	for {
		if err := checkRun(w, r.Run(ctx, n)); err != nil {
			peak.stop()
			return Sample{}, err
		}
		smp.Tasks += n
		if smp.Elapsed = time.Since(start); smp.Elapsed >= minTime {
			break
		}
	}
	smp.CPU = processCPU() - cpu0
	smp.PeakGoroutines = peak.stop()
	runtime.ReadMemStats(&after)
	smp.Allocs = after.Mallocs - before.Mallocs
	smp.Bytes = after.TotalAlloc - before.TotalAlloc
	if err := r.Close(); err != nil {
		return Sample{}, err
	}
	return smp, nil
}

// processCPU returns the user + system CPU time this process has used,
// all its threads together, or 0 where getrusage is missing.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakSampler records the most goroutines alive at once, sampling every
// millisecond until stopped.
type peakSampler struct {
	peak atomic.Int64
	quit chan struct{}
	done sync.WaitGroup
}

func startPeakSampler() *peakSampler {
	p := &peakSampler{quit: make(chan struct{})}
	p.peak.Store(int64(runtime.NumGoroutine()))
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.observe()
			}
		}
	}()
	return p
}

func (p *peakSampler) observe() {
	n := int64(runtime.NumGoroutine())
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			return
		}
	}
}

// stop ends the sampling and returns the peak, less the sampler itself.
func (p *peakSampler) stop() int64 {
	p.observe()
	close(p.quit)
	p.done.Wait()
	return p.peak.Load() - 1
}

// A Case is one cell of the matrix.
type Case struct {
	Workload *Workload
	Strategy *Strategy
}

// Key is the cell's name: workload=X/strategy=Y.
func (c Case) Key() string { return "workload=" + c.Workload.Name + "/strategy=" + c.Strategy.Name }

// Schedule returns the order in which rounds visit the cases: every round
// visits every case once, so strategies alternate (A B A B ...) rather than
// running back to back; each round starts with a different case within
// each workload, so that no strategy always runs first after a change of
// workload; and each case follows a different one from round to round
// (see roundOrder), so that no strategy always runs right after the same
// other one (a row after one that leaves the machine busy, such as a
// database or a Python worker shutting down, would pay for it in every
// round). Cases keep their workload grouping.
func Schedule(cases []Case, rounds int) [][]Case {
	var groups [][]Case
	for i, c := range cases {
		if i == 0 || c.Workload != cases[i-1].Workload {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], c)
	}
	out := make([][]Case, rounds)
	for r := range rounds {
		for _, g := range groups {
			for _, k := range roundOrder(len(g), r) {
				out[r] = append(out[r], g[k])
			}
		}
	}
	return out
}

// roundOrder returns the order of n cases in round r: a Williams design.
// Its base row is 0, 1, n-1, 2, n-2, 3, ..., and round r adds r (mod n)
// to every entry, so round r starts with case r mod n. For an even n the
// steps between neighbours of the base row are all different (mod n), so
// over n rounds every case follows every other case exactly once. For an
// odd n that takes 2n rounds: rounds n to 2n-1 are rounds 0 to n-1
// reversed.
func roundOrder(n, r int) []int {
	row := make([]int, n)
	lo, hi := 1, n-1
	for p := range row {
		switch {
		case p == 0:
			row[p] = 0
		case p%2 == 1:
			row[p], lo = lo, lo+1
		default:
			row[p], hi = hi, hi-1
		}
		row[p] = (row[p] + r) % n
	}
	if n%2 == 1 && (r/n)%2 == 1 {
		slices.Reverse(row)
	}
	return row
}

// Median returns the median of xs (the mean of the two middle values for
// an even count), or NaN for none. It does not modify xs.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}
