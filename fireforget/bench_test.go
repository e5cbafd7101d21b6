package fireforget

import (
	"context"
	"io"
	"math"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

var noopTask = execkit.TaskFunc(func(context.Context) error { return nil })

// cpuTime returns the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU starts counting the process's CPU time; calling the function it
// returns after the loop reports it per operation as cpu-ns/op. On a machine
// shared with other work, wall time per op swings with their load, while
// CPU time per op stays close to what the code itself costs.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkSubmit measures starting a no-op task: through the Executor,
// against a bare go statement with a sync.WaitGroup (the baseline the
// Executor must stay within 1.10x of). Each runs the same shared task
// value. The comparison with conc's WaitGroup is in the bench module
// (BenchmarkGoroutinePerTask), which keeps conc out of this module.
func BenchmarkSubmit(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=go+WaitGroup", func(b *testing.B) {
		b.ReportAllocs()
		done := reportCPU(b)
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = noopTask.Run(ctx)
			}()
		}
		wg.Wait()
		done()
	})
	for _, limit := range []int{0, 1024, 4} { // 4: Submit often waits for a slot
		b.Run("impl=fireforget/limit="+strconv.Itoa(limit), func(b *testing.B) {
			b.ReportAllocs()
			var opts []Option
			if limit > 0 {
				opts = append(opts, Limit(limit))
			}
			e, err := New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			done := reportCPU(b)
			for b.Loop() {
				if err := e.Submit(ctx, noopTask); err != nil {
					b.Fatal(err)
				}
			}
			if err := e.Shutdown(ctx); err != nil {
				b.Fatal(err)
			}
			done()
		})
	}
}

// BenchmarkThread measures the handles: NewThread+Start, and a call of a
// Background function, each joined later.
func BenchmarkThread(b *testing.B) {
	ctx := context.Background()
	b.Run("op=NewThread+Start", func(b *testing.B) {
		b.ReportAllocs()
		e, _ := New()
		for b.Loop() {
			if err := NewThread("t", noopTask).Start(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
		_ = e.Shutdown(ctx)
	})
	b.Run("op=Background", func(b *testing.B) {
		b.ReportAllocs()
		e, _ := New()
		call := Background(e, func(context.Context, int) error { return nil })
		for b.Loop() {
			call(ctx, 1)
		}
		_ = e.Shutdown(ctx)
	})
	for _, limit := range []int{1024, 4} { // 4: a call often waits for a slot
		b.Run("op=Background/limit="+strconv.Itoa(limit), func(b *testing.B) {
			b.ReportAllocs()
			e, _ := New()
			call := Background(e, func(context.Context, int) error { return nil }, Limit(limit))
			for b.Loop() {
				call(ctx, 1)
			}
			_ = e.Shutdown(ctx)
		})
	}
}

// BenchmarkRegistryJob measures a Registry job from Start to its end, with
// a no-op function and with one that writes a line, in a Registry that keeps
// the default 1000 finished jobs (so every Start also evicts one) and does
// not cap the unfinished ones (Start never waits for them to finish).
func BenchmarkRegistryJob(b *testing.B) {
	line := []byte("a line of output from a short job\n")
	for _, tc := range []struct {
		name string
		fn   JobFunc
	}{
		{"fn=noop", func(context.Context, io.Writer) error { return nil }},
		{"fn=write-line", func(_ context.Context, w io.Writer) error { _, err := w.Write(line); return err }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			r, err := NewRegistry(Limit(math.MaxInt))
			if err != nil {
				b.Fatal(err)
			}
			done := reportCPU(b)
			for b.Loop() {
				if _, err := r.Start(tc.fn); err != nil {
					b.Fatal(err)
				}
			}
			if err := r.Shutdown(context.Background()); err != nil {
				b.Fatal(err)
			}
			done()
		})
	}
}

// BenchmarkJobWrite measures writing to a job's output, below and beyond its
// cap (where the tail ring overwrites).
func BenchmarkJobWrite(b *testing.B) {
	line := []byte("a line of output from a short job\n")
	for _, max := range []int{1 << 30, 4096} {
		b.Run("maxOutput="+strconv.Itoa(max), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			j := &Job{out: newOutput(max)}
			w := (*jobWriter)(j)
			for b.Loop() {
				_, _ = w.Write(line)
			}
		})
	}
}

// BenchmarkSubmitPaired measures the same comparison as BenchmarkSubmit
// in a way that holds up on a machine shared with other work: each
// iteration starts a block of 256 tasks with bare go statements and a block
// through the Executor, waiting for each block, in alternating order, so
// both see the same load. The task is the same for both: it calls Done on
// the block's WaitGroup. It reports the time per task of each and their
// ratio (fireforget/go), the figure the package doc quotes.
func BenchmarkSubmitPaired(b *testing.B) {
	const block = 256
	ctx := context.Background()
	var wg sync.WaitGroup
	task := execkit.TaskFunc(func(context.Context) error { wg.Done(); return nil })
	e, err := New()
	if err != nil {
		b.Fatal(err)
	}
	runBare := func() time.Duration {
		t0 := time.Now()
		wg.Add(block)
		for range block {
			go func() { _ = task.Run(ctx) }()
		}
		wg.Wait()
		return time.Since(t0)
	}
	runExecutor := func() time.Duration {
		t0 := time.Now()
		wg.Add(block)
		for range block {
			if err := e.Submit(ctx, task); err != nil {
				b.Fatal(err)
			}
		}
		wg.Wait()
		return time.Since(t0)
	}
	var bare, ff time.Duration
	odd := false
	for b.Loop() {
		if odd = !odd; odd { // alternate which goes first
			bare += runBare()
			ff += runExecutor()
		} else {
			ff += runExecutor()
			bare += runBare()
		}
	}
	if err := e.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	n := float64(b.N * block)
	b.ReportMetric(float64(bare)/n, "go-ns/task")
	b.ReportMetric(float64(ff)/n, "fireforget-ns/task")
	b.ReportMetric(float64(ff)/float64(bare), "ratio")
}
