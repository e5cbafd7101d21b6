package execkit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/execkit/execkit/internal/link"
)

// stressExec is an executor for the stress tests: a goroutine per task,
// which waits for gate (when not nil) and a random number of yields
// before it runs the task, or now and then (inline) the task run in
// Submit's goroutine; bounded by sem when set. Its tasks run with a ctx of
// its own, not the submitter's, as a pool's do.
type stressExec struct {
	base   context.Context
	sem    chan struct{}
	gate   chan struct{}
	inline bool
	r      *rand.Rand // Submit's; Map submits from one goroutine
	wg     sync.WaitGroup
}

func (e *stressExec) Submit(ctx context.Context, t Task) error {
	if e.sem != nil {
		select {
		case e.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r := rand.New(rand.NewPCG(e.r.Uint64(), 0))
	e.wg.Add(1)
	run := func() {
		defer e.wg.Done()
		if e.sem != nil {
			defer func() { <-e.sem }()
		}
		if e.gate != nil {
			<-e.gate
		}
		jitter(r)
		_, _ = link.Run(e.base, t)
	}
	if e.inline && r.IntN(4) == 0 {
		run()
		return nil
	}
	go run()
	return nil
}

// Shutdown waits for the tasks.
func (e *stressExec) Shutdown(context.Context) error {
	e.wg.Wait()
	return nil
}

// stressParent returns a ctx with many children and its cancel: the
// context package closes the parent's Done before it cancels the children
// one by one, Map's among them, so Map's AfterFunc runs late.
func stressParent(children int) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	cs := make([]context.CancelFunc, children)
	for i := range cs {
		_, cs[i] = context.WithCancel(ctx)
	}
	return ctx, func() {
		cancel()
		for _, c := range cs {
			c()
		}
	}
}

var errStress = errors.New("execkit: stress failure")

// The points of a round of Map at which its ctx ends, or a task fails.
const (
	stressBefore  = iota // the ctx has ended before the call
	stressRacing         // from another goroutine, at once
	stressRunning        // once a task runs
	stressGate           // as the tasks held so far are let start
	stressFail           // a task fails instead
	stressPoints
)

// TestMapCancelStress holds Map to its doc while its ctx ends at random
// points (before the call, while its tasks are admitted and start, once
// one runs, as many start at once) or a task fails. The doc: when ctx
// ends first, Map returns ctx.Err() and by then every task it admitted
// has had its ctx cancelled or never starts; after the first error it
// cancels the tasks admitted, waits for them and returns that error (so
// none runs then, and none starts afterwards). Also through Func.Map,
// which shares the mechanism; on an executor of goroutines, a bounded
// one, and one that runs some tasks inside Submit; under two GOMAXPROCS.
//
// Before Future.Cancel finished a pending Future under the lock that its
// start takes, Map's AfterFunc and Map's return path could both cancel a
// task that was starting, and Map returned while its ctx was live (what
// executortest's CancelMap saw once); and after a task failed, Map
// returned while a cancelled task that had started anyway still ran. Each
// took thousands to tens of thousands of rounds to show here under -race
// (a default run catches one now and then; -stress=30s did, both), so
// this test guards Map's paths broadly and TestFutureCancelRacesStart is
// the sharp one.
func TestMapCancelStress(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{2, 8} {
		for _, c := range []struct {
			name     string
			capacity int
			inline   bool
		}{
			{"unbounded", 0, false},
			{"bounded", 3, false},
			{"inline", 0, true},
		} {
			t.Run(fmt.Sprintf("procs=%d/%s", procs, c.name), func(t *testing.T) {
				runtime.GOMAXPROCS(procs)
				deadline := time.Now().Add(stressBudget() / 6)
				rounds := 0
				for ; time.Now().Before(deadline) || rounds < 100; rounds++ {
					seed := rand.Uint64()
					viaFunc := rounds%4 == 3
					if msg := mapCancelRound(seed, c.capacity, c.inline, viaFunc); msg != "" {
						t.Fatalf("round %d (seed %d, Func.Map %v): %s", rounds, seed, viaFunc, msg)
					}
				}
				t.Logf("%d rounds", rounds)
			})
		}
	}
}

// mapCancelRound runs one Map and describes the first broken promise.
func mapCancelRound(seed uint64, capacity int, inline, viaFunc bool) string {
	const n = 24
	r := rand.New(rand.NewPCG(seed, 0))
	ex := &stressExec{base: context.Background(), inline: inline, r: r}
	if capacity > 0 {
		ex.sem = make(chan struct{}, capacity)
	}
	ctx, cancel := stressParent(r.IntN(64))
	defer cancel()
	p := newStressProbe()
	failAt := -1 // the item that fails at once, if any
	point := r.IntN(stressPoints)
	switch point {
	case stressBefore:
		cancel()
	case stressRacing:
		go func(r *rand.Rand) { jitter(r); cancel() }(rand.New(rand.NewPCG(seed, 1)))
	case stressRunning:
		go func() { <-p.started; cancel() }()
	case stressGate:
		ex.gate = make(chan struct{})
		go func(r *rand.Rand) {
			jitter(r)
			close(ex.gate)
			cancel()
		}(rand.New(rand.NewPCG(seed, 1)))
	case stressFail: // one that no blocked task keeps from starting
		switch {
		case inline:
			failAt = 0
		case capacity > 0:
			failAt = r.IntN(capacity)
		default:
			failAt = r.IntN(n)
		}
	}
	body := func(ctx context.Context, i int) (int, error) {
		if i == failAt {
			p.enter(ctx)
			p.exit()
			return 0, errStress
		}
		return p.block(ctx)
	}
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	var err error
	if viaFunc {
		_, err = (&Func[int, int]{name: "stress", fn: body, codec: GobCodec{}}).Map(ctx, ex, items)
	} else {
		_, err = Map(ctx, ex, items, body)
	}
	live, running := p.markReturned()
	cancel()
	_ = ex.Shutdown(context.Background())
	late, lateLive := p.lateStarts()
	if point == stressFail {
		switch {
		case !errors.Is(err, errStress):
			return fmt.Sprintf("Map = %v; want the task's error", err)
		case running > 0:
			return fmt.Sprintf("Map returned %v while %d of its tasks still ran", err, running)
		case late > 0:
			return fmt.Sprintf("%d of Map's tasks started after it returned %v", late, err)
		}
		return ""
	}
	switch {
	case !errors.Is(err, context.Canceled):
		return fmt.Sprintf("cancel point %d: Map = %v; want context.Canceled", point, err)
	case live > 0:
		return fmt.Sprintf("cancel point %d: Map returned %v while %d of its tasks still had a live ctx", point, err, live)
	case lateLive > 0:
		return fmt.Sprintf("cancel point %d: %d of Map's tasks started with a live ctx after it returned %v", point, lateLive, err)
	}
	return ""
}
