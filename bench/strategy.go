package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// A Family groups strategies that answer the same question, and names
// the baseline their ratios are taken against.
type Family string

const (
	FamilyGoroutine Family = "goroutine" // a goroutine per task; baseline raw go
	FamilyPool      Family = "pool"      // bounded worker pools; baseline raw go, adapters their library
	FamilyGroup     Family = "group"     // fail-fast groups; baseline x/sync errgroup
	FamilyProcess   Family = "process"   // worker processes; baseline the raw pipe floor
	FamilyPython    Family = "python"    // the Python originals
)

// Lang says who runs a strategy: this binary or bench/python.
type Lang string

const (
	LangGo     Lang = "go"     // run by this binary (and the worker processes it starts)
	LangPython Lang = "python" // run by bench/python/bench.py, an interpreter of its own per sample
)

// A Strategy is one row of the matrix: a way to run tasks. A Go strategy
// is a small adapter (New) that runs batches of a workload; a Python
// strategy is run by bench/python/bench.py under the same name.
type Strategy struct {
	Name   string
	Family Family
	Lang   Lang
	Doc    string // one line for the report

	// Baseline is the strategy this one's ratio is taken against (its
	// family's baseline, or the library it wraps); "" for a baseline.
	Baseline string
	// Python is the Python original this one is compared with.
	Python string
	// Module is the module whose version the report prints ("" for the
	// standard library and execkit itself).
	Module string

	// Kinds are the workload kinds the strategy runs; Only, when set,
	// narrows that to the named workloads, and FullOnly names those it
	// runs in the full matrix only (too slow for the quick one).
	Kinds    []Kind
	Only     []string
	FullOnly []string

	// Processes marks a strategy whose tasks run in other processes (a
	// Python process pool): its CPU time per task is not reported.
	Processes bool

	// MaxTasks caps the batch size (the slow strategies: Python's
	// thread-per-task ones, a database-backed executor); 0 for none.
	// Memory workloads are never capped.
	MaxTasks int

	// Residue marks a strategy that leaves work running elsewhere after
	// its sample (a database server writing out and vacuuming what the
	// sample did, a file system flushing a database file): the next sample
	// waits for the machine to go quiet (see settle), so that it does not
	// pay for this one. (Without it, when rounds kept one cyclic order,
	// the same strategy, the one after this, paid every time.)
	Residue bool

	// Holds marks a strategy that can hold a whole batch pending without
	// blocking its submitter (a goroutine per task, an unbounded queue, a
	// queue sized for the batch): only these run a holding workload.
	Holds bool

	// New returns a runner for w (Go strategies). It is called once per
	// sample, outside the timed section.
	New func(w *Workload) (Runner, error)
}

// Runs reports whether s runs workload w in the quick or the full matrix.
func (s *Strategy) Runs(w *Workload, full bool) bool {
	if !slices.Contains(s.Kinds, w.Kind) || (w.hold && !s.Holds) {
		return false
	}
	if !full && slices.Contains(s.FullOnly, w.Name) {
		return false
	}
	return len(s.Only) == 0 || slices.Contains(s.Only, w.Name)
}

// BatchSize returns the number of tasks in one Go batch of w: the
// workload's, capped by MaxTasks.
func (s *Strategy) BatchSize(w *Workload, full bool) int {
	n := w.N(full)
	if s.MaxTasks > 0 && w.Kind != KindMemory {
		n = min(n, s.MaxTasks)
	}
	return n
}

// A Runner runs batches of one workload on one strategy. A runner is used
// by one goroutine at a time.
type Runner interface {
	// Run runs n tasks of the runner's workload as the workload's Kind
	// says and returns once all of them have finished (or were skipped
	// after a failure). It returns the first task error: nil for a
	// workload without failures, [ErrInjected] for fail-fast.
	Run(ctx context.Context, n int) error
	// Close releases what New started (goroutines, processes) and waits
	// for it.
	Close() error
}

// Strategies returns every strategy, Go and Python, in report order. The
// execkit strategies present are those whose packages were on main when
// this binary was built.
func Strategies() []*Strategy {
	strategiesOnce.Do(func() {
		all := slices.Concat(goStrategies(), peerStrategies(), execkitStrategies(), processStrategies(), pythonStrategies())
		all = append(all, riverexecStrategies()...)
		if s := celeryStrategy(); s != nil {
			all = append(all, s)
		}
		strategies = all
	})
	return strategies
}

var (
	strategiesOnce sync.Once
	strategies     []*Strategy
)

// StrategyNamed returns the strategy called name, or nil.
func StrategyNamed(name string) *Strategy {
	for _, s := range Strategies() {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// inProcess are the kinds every in-process concurrent strategy runs.
var inProcess = []Kind{KindBatch, KindFailFast, KindMemory}

// quickSkipsMass keeps the 1e6-task memory cell (several seconds each) of
// the strategies no target needs out of the quick matrix.
var quickSkipsMass = []string{"sleep1e6", "pending1e6"}

// A batch counts the tasks of one Run and keeps the first error. Its
// context is cancelled by the first failing task: the hand-rolled fail-fast
// a user writes around a library that has none.
type batch struct {
	wg      sync.WaitGroup
	pending atomic.Int64 // tasks not done or skipped yet
	ctx     context.Context
	cancel  context.CancelCauseFunc
}

func newBatch(ctx context.Context, n int) *batch {
	b := &batch{}
	b.ctx, b.cancel = context.WithCancelCause(ctx)
	b.wg.Add(n)
	b.pending.Store(int64(n))
	return b
}

// done records the end of one task.
func (b *batch) done(err error) {
	if err != nil {
		b.cancel(err)
	}
	b.pending.Add(-1)
	b.wg.Done()
}

// skip records n tasks that were never submitted.
func (b *batch) skip(n int) {
	b.pending.Add(int64(-n))
	b.wg.Add(-n)
}

// abandon records that no task still pending will end: call it once the
// executor has shut down, when every task that started has called done and
// the others (admitted, then given up on before they started) never will.
func (b *batch) abandon() { b.skip(int(b.pending.Load())) }

// wait waits for every task and returns the first error.
func (b *batch) wait() error {
	b.wg.Wait()
	err := context.Cause(b.ctx)
	b.cancel(nil)
	return err
}

// call runs task i of w in this goroutine and records it.
func (b *batch) call(w *Workload, i int) { b.done(w.Call(b.ctx, i)) }

// produce calls submit(i) for i in [0, n), from w.Producers goroutines when
// the workload asks for a burst. A producer stops at its first submit
// error, and in a fail-fast workload once stop is done (the batch failed:
// a careful caller checks its context before submitting more); produce
// returns how many tasks were not submitted and the errors.
func produce(stop context.Context, w *Workload, n int, submit func(i int) error) (unsent int, err error) {
	if w.hold { // the batch's tasks wait until its last submit returned
		release := make(chan struct{})
		held.Store(release)
		defer close(release)
	}
	check := w.Kind == KindFailFast
	p := max(w.Producers, 1)
	if p == 1 {
		for i := range n {
			if check && stop.Err() != nil {
				return n - i, nil
			}
			if err := submit(i); err != nil {
				return n - i, err
			}
		}
		return 0, nil
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for k := range p {
		lo, hi := k*n/p, (k+1)*n/p
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if check && stop.Err() != nil {
					mu.Lock()
					unsent += hi - i
					mu.Unlock()
					return
				}
				if err := submit(i); err != nil {
					mu.Lock()
					unsent += hi - i
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return unsent, errors.Join(errs...)
}

// runClosures runs a batch through a "submit a func()" API, the shape of
// ants, pond and workerpool used directly: one closure per task and a
// WaitGroup, failure cancelling the batch's context by hand.
func runClosures(ctx context.Context, w *Workload, n int, submit func(func()) error) error {
	b := newBatch(ctx, n)
	unsent, serr := produce(b.ctx, w, n, func(i int) error {
		return submit(func() { b.call(w, i) })
	})
	b.skip(unsent)
	err := b.wait()
	if serr != nil {
		return fmt.Errorf("bench: submit: %w", serr)
	}
	return err
}

// checkRun tells whether the error of a Run is what the workload expects.
func checkRun(w *Workload, err error) error {
	if w.Kind == KindFailFast {
		if !errors.Is(err, ErrInjected) {
			return fmt.Errorf("bench: %s: got error %v; want %v", w.Name, err, ErrInjected)
		}
		return nil
	}
	return err
}
