package fireforget

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// Adversarial tests of the Executor's admission / Shutdown protocol
// (submitted and finished counters, closed flag, mu + isDone after
// Shutdown began): many rounds of races between Submit, follow-ups, the
// tasks' ends, Shutdown and Stats.

// advConfigs are the option sets every stress test runs with.
var advConfigs = []struct {
	name string
	opts []Option
}{
	{"unbounded", nil},
	{"limit=1", []Option{Limit(1)}},
	{"limit=3", []Option{Limit(3)}},
	{"limit=1,reject", []Option{Limit(1), RejectWhenFull()}},
	{"limit=4,reject", []Option{Limit(4), RejectWhenFull()}},
}

// advRounds scales a round count down under the race detector.
func advRounds(n int) int {
	if raceEnabled {
		return max(n/3, 10)
	}
	return n
}

// advTask is one task the test made: what its Submit returned and how
// often it ran.
type advTask struct {
	id       int
	ran      atomic.Int32
	returned atomic.Bool  // set by the task just before it returns (or panics)
	result   atomic.Int32 // 0: Submit pending, 1: nil, 2: error
	err      atomic.Value
}

// advRound is one round of a stress test: an Executor and the book the
// test keeps of every task.
type advRound struct {
	t   *testing.T
	e   *Executor
	rng func() uint64

	mu    sync.Mutex
	tasks []*advTask

	accepted, refused   atomic.Int64
	succ, fail, panicky atomic.Int64
	reported            atomic.Int64
	helpers             sync.WaitGroup // goroutines the tasks start (not the Executor's)
	maxDepth            int
	maxKids             int
	detached            bool // follow-ups also from a goroutine of the task, around its end
}

var errAdvBoom = errors.New("adv boom")

// advShutdown shuts e down, failing the test if that takes 10 s (a hang).
func advShutdown(t *testing.T, e *Executor, round int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("round %d: Shutdown = %v (hung?)", round, err)
	}
}

func newAdvRound(t *testing.T, seed uint64, opts []Option) *advRound {
	r := &advRound{t: t, maxDepth: 3, maxKids: 2, detached: true}
	src := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var rmu sync.Mutex
	r.rng = func() uint64 { rmu.Lock(); defer rmu.Unlock(); return src.Uint64() }
	e, err := New(append(append([]Option(nil), opts...), OnError(func(error) { r.reported.Add(1) }))...)
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	return r
}

// task makes a task of the book at depth d: it succeeds, fails or panics
// and submits follow-ups with its ctx (some from its own goroutine, some
// from a goroutine that outlives it a little).
func (r *advRound) task(d int) (*advTask, execkit.Task) {
	r.mu.Lock()
	at := &advTask{id: len(r.tasks)}
	r.tasks = append(r.tasks, at)
	r.mu.Unlock()
	outcome := r.rng() % 5 // 0..2 success, 3 fail, 4 panic
	kids := 0
	if d < r.maxDepth {
		kids = int(r.rng() % uint64(r.maxKids+1))
	}
	detachedKid := r.detached && d < r.maxDepth && r.rng()%4 == 0
	spin := int(r.rng() % 4)
	return at, execkit.TaskFunc(func(ctx context.Context) error {
		at.ran.Add(1)
		for range spin {
			runtime.Gosched()
		}
		for range kids {
			r.submit(ctx, d+1)
		}
		if detachedKid {
			// A goroutine of the task's that submits a follow-up with the
			// task's ctx right around the task's end: races the last
			// task's end.
			r.helpers.Add(1)
			go func() {
				defer r.helpers.Done()
				runtime.Gosched()
				r.submit(ctx, d+1)
			}()
		}
		switch outcome {
		case 3:
			r.fail.Add(1)
			at.returned.Store(true)
			return errAdvBoom
		case 4:
			r.panicky.Add(1)
			at.returned.Store(true)
			panic(errAdvBoom)
		}
		r.succ.Add(1)
		at.returned.Store(true)
		return nil
	})
}

// submit makes a task at depth d and submits it with ctx, and books the
// result.
func (r *advRound) submit(ctx context.Context, d int) {
	at, task := r.task(d)
	err := r.e.Submit(ctx, task)
	if err == nil {
		at.result.Store(1)
		r.accepted.Add(1)
		return
	}
	at.err.Store(err)
	at.result.Store(2)
	r.refused.Add(1)
	if !errors.Is(err, execkit.ErrClosed) && !errors.Is(err, execkit.ErrFull) {
		r.t.Errorf("task %d: Submit = %v; want nil, ErrClosed or ErrFull", at.id, err)
	}
}

// snapshot records, when Shutdown has just returned, how many tasks the
// test had made and which of them had returned.
func (r *advRound) snapshot() (n int, returned []bool) {
	r.mu.Lock()
	tasks := append([]*advTask(nil), r.tasks...)
	r.mu.Unlock()
	returned = make([]bool, len(tasks))
	for i, at := range tasks {
		returned[i] = at.returned.Load()
	}
	return len(tasks), returned
}

// check verifies the round once Shutdown returned nil (snapshot taken
// then) and every goroutine of the test has returned.
func (r *advRound) check(label string, n int, returned []bool) bool {
	t := r.t
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Helper()
		ok = false
		t.Errorf("%s: "+format, append([]any{label}, args...)...)
	}
	r.mu.Lock()
	tasks := append([]*advTask(nil), r.tasks...)
	r.mu.Unlock()
	var ran int64
	for i, at := range tasks {
		res, runs := at.result.Load(), at.ran.Load()
		ran += int64(runs)
		switch {
		case res == 0:
			fail("task %d: Submit never returned", i)
		case res == 1 && runs != 1:
			fail("task %d: Submit returned nil, task ran %d times", i, runs)
		case res == 2 && runs != 0:
			fail("task %d: Submit returned %v, task ran %d times", i, at.err.Load(), runs)
		}
		if res == 1 && (i >= n || !returned[i]) {
			fail("task %d (made %v before Shutdown returned): admitted but had not returned when Shutdown returned nil",
				i, i < n)
		}
	}
	s := r.e.Stats()
	want := execkit.Stats{
		Submitted: r.accepted.Load(),
		Succeeded: r.succ.Load(),
		Failed:    r.fail.Load(),
		Panicked:  r.panicky.Load(),
		Rejected:  r.refused.Load(),
	}
	if s != want {
		fail("Stats = %+v; want %+v", s, want)
	}
	if s.Submitted != s.Succeeded+s.Failed+s.Panicked || s.Running != 0 {
		fail("Stats = %+v: not settled", s)
	}
	if ran != r.accepted.Load() {
		fail("%d runs for %d admitted tasks", ran, r.accepted.Load())
	}
	if got := r.reported.Load(); got != r.fail.Load()+r.panicky.Load() {
		fail("%d errors reported; want %d", got, r.fail.Load()+r.panicky.Load())
	}
	return ok
}

// TestAdvSubmitRacesShutdown: several goroutines submit from outside (and
// the tasks submit follow-ups, some of them from goroutines that outlive
// the task) while Shutdown begins at a random moment. Every Submit that
// returned nil ran once and had returned when Shutdown returned; every
// refused one never ran; Stats is exact.
func TestAdvSubmitRacesShutdown(t *testing.T) {
	const submitters, perSubmitter = 4, 6
	for _, cfg := range advConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			rounds := advRounds(12000)
			for round := range rounds {
				r := newAdvRound(t, uint64(round)*7919+uint64(len(cfg.name)), cfg.opts)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for range submitters {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						for range perSubmitter {
							r.submit(context.Background(), 0)
							if r.rng()%3 == 0 {
								runtime.Gosched()
							}
						}
					}()
				}
				delay := int(r.rng() % 12)
				close(start)
				for range delay {
					runtime.Gosched()
				}
				advShutdown(t, r.e, round)
				n, returned := r.snapshot()
				wg.Wait()
				r.helpers.Wait()
				if !r.check(fmt.Sprintf("round %d", round), n, returned) {
					return
				}
				// Later submits with a fresh ctx are refused and never run.
				if err := r.e.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
					t.Errorf("round %d: a task submitted after Shutdown ran", round)
					return nil
				})); !errors.Is(err, execkit.ErrClosed) {
					t.Fatalf("round %d: Submit after Shutdown = %v; want ErrClosed", round, err)
				}
			}
		})
	}
}

// TestAdvFollowUpTreeAfterShutdown: the root is submitted, Shutdown begins
// at once and the whole tree of follow-ups (each task submitting its
// children last, just before it returns, to race its own end) is admitted
// after Shutdown began. Shutdown waits for all of it.
func TestAdvFollowUpTreeAfterShutdown(t *testing.T) {
	for _, cfg := range advConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			for round := range advRounds(10000) {
				r := newAdvRound(t, uint64(round)*104729+3, cfg.opts)
				r.maxDepth, r.maxKids = 5, 2
				gate := make(chan struct{})
				at, root := r.task(0)
				if err := r.e.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
					<-gate // Shutdown has begun (or about to)
					return root.Run(ctx)
				})); err != nil {
					t.Fatal(err)
				}
				at.result.Store(1)
				r.accepted.Add(1)
				go func() {
					// Let Shutdown begin before the root's follow-ups, mostly.
					for range int(r.rng() % 4) {
						runtime.Gosched()
					}
					close(gate)
				}()
				advShutdown(t, r.e, round)
				n, returned := r.snapshot()
				r.helpers.Wait()
				if !r.check(fmt.Sprintf("round %d", round), n, returned) {
					return
				}
			}
		})
	}
}

// TestAdvChainAtLastEnd: the only task submits one follow-up as the very
// last thing before returning, that one does the same, and so on: each
// follow-up's count races the end of the (then) last task. Also from a
// goroutine holding the ctx after the task returned.
func TestAdvChainAtLastEnd(t *testing.T) {
	for _, cfg := range advConfigs {
		for _, detached := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/detached=%v", cfg.name, detached), func(t *testing.T) {
				for round := range advRounds(9000) {
					e, err := New(cfg.opts...)
					if err != nil {
						t.Fatal(err)
					}
					const length = 8
					var ran, returned, admitted, refusedN atomic.Int64
					var helpers sync.WaitGroup
					var link func(i int) execkit.Task
					link = func(i int) execkit.Task {
						return execkit.TaskFunc(func(ctx context.Context) error {
							ran.Add(1)
							if i+1 < length {
								sub := func() {
									switch err := e.Submit(ctx, link(i+1)); {
									case err == nil:
										admitted.Add(1)
									case errors.Is(err, execkit.ErrClosed), errors.Is(err, execkit.ErrFull):
										refusedN.Add(1)
									default:
										t.Errorf("Submit = %v", err)
									}
								}
								if detached {
									helpers.Add(1)
									go func() { defer helpers.Done(); sub() }()
								} else {
									sub()
								}
							}
							returned.Add(1)
							return nil
						})
					}
					if err := e.Submit(context.Background(), link(0)); err != nil {
						t.Fatal(err)
					}
					admitted.Add(1)
					for range round % 3 {
						runtime.Gosched()
					}
					advShutdown(t, e, round)
					retAtShutdown := returned.Load()
					helpers.Wait()
					// RejectWhenFull refuses a follow-up at the limit (ErrFull),
					// so there the chain may stop early.
					reject := len(cfg.opts) == 2
					if !detached && !reject && (retAtShutdown != length || admitted.Load() != length) {
						t.Fatalf("round %d: %d of %d links had returned at Shutdown, %d admitted", round, retAtShutdown, length, admitted.Load())
					}
					if ran.Load() != admitted.Load() || retAtShutdown != admitted.Load() {
						t.Fatalf("round %d: admitted %d, ran %d, returned at Shutdown %d, refused %d",
							round, admitted.Load(), ran.Load(), retAtShutdown, refusedN.Load())
					}
					s := e.Stats()
					if s.Submitted != admitted.Load() || s.Succeeded != admitted.Load() || s.Running != 0 || s.Rejected != refusedN.Load() {
						t.Fatalf("round %d: Stats = %+v; admitted %d refused %d", round, s, admitted.Load(), refusedN.Load())
					}
				}
			})
		}
	}
}

// TestAdvConcurrentShutdowns: several Shutdowns at once while tasks are
// blocked: none returns before the tasks returned, all return nil; more
// Shutdowns afterwards return nil at once.
func TestAdvConcurrentShutdowns(t *testing.T) {
	for _, cfg := range advConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			for round := range advRounds(6000) {
				e, err := New(cfg.opts...)
				if err != nil {
					t.Fatal(err)
				}
				release := make(chan struct{})
				var returned atomic.Int64
				n := 1
				if len(cfg.opts) > 0 {
					n = 1 // a Limit of 1 holds one; keep it simple
				}
				for range n {
					if err := e.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
						<-release
						returned.Add(1)
						return nil
					})); err != nil {
						t.Fatal(err)
					}
				}
				var wg sync.WaitGroup
				errs := make(chan error, 8)
				for range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						err := e.Shutdown(context.Background())
						if returned.Load() != int64(n) {
							errs <- fmt.Errorf("Shutdown returned %v before the task returned", err)
							return
						}
						errs <- err
					}()
				}
				for range round % 5 {
					runtime.Gosched()
				}
				close(release)
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
				if err := e.Shutdown(context.Background()); err != nil {
					t.Fatalf("round %d: Shutdown again = %v", round, err)
				}
				if s := e.Stats(); s.Submitted != int64(n) || s.Succeeded != int64(n) || s.Running != 0 {
					t.Fatalf("round %d: Stats = %+v", round, s)
				}
			}
		})
	}
}

// TestAdvShutdownDeadlineThenWaitAgain: a Shutdown whose ctx expires
// returns ctx.Err() and cancels the tasks' ctx; a task that ignores it keeps
// the Executor running and a later Shutdown waits for it; Submit then (from
// outside, and with the kept task ctx) is refused. A follow-up submitted
// between the two Shutdowns by the still running task is admitted (it finds
// its ctx ended, so it does not start: counted Failed).
func TestAdvShutdownDeadlineThenWaitAgain(t *testing.T) {
	for _, cfg := range advConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			for round := range advRounds(300) {
				var reported atomic.Int64
				e, err := New(append(append([]Option(nil), cfg.opts...), OnError(func(error) { reported.Add(1) }))...)
				if err != nil {
					t.Fatal(err)
				}
				release := make(chan struct{})
				kept := make(chan context.Context, 1)
				var followRan atomic.Int64
				var followErr error
				var returned atomic.Bool
				if err := e.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
					kept <- ctx
					<-release // ignores ctx
					followErr = e.Submit(ctx, execkit.TaskFunc(func(context.Context) error {
						followRan.Add(1)
						return nil
					}))
					returned.Store(true)
					return nil
				})); err != nil {
					t.Fatal(err)
				}
				taskCtx := <-kept
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				err = e.Shutdown(ctx)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("round %d: Shutdown(expiring) = %v; want DeadlineExceeded", round, err)
				}
				if taskCtx.Err() == nil {
					t.Fatalf("round %d: task ctx not cancelled after Shutdown gave up", round)
				}
				// Shutdown again with an already ended ctx: still not done.
				ended, cancel2 := context.WithCancel(context.Background())
				cancel2()
				if err := e.Shutdown(ended); !errors.Is(err, context.Canceled) {
					t.Fatalf("round %d: Shutdown(ended ctx) while a task runs = %v; want Canceled", round, err)
				}
				if err := e.Submit(context.Background(), execkit.TaskFunc(func(context.Context) error {
					t.Errorf("outside task ran after Shutdown began")
					return nil
				})); !errors.Is(err, execkit.ErrClosed) {
					t.Fatalf("round %d: outside Submit after Shutdown began = %v", round, err)
				}
				done := make(chan error, 1)
				go func() { done <- e.Shutdown(context.Background()) }()
				select {
				case err := <-done:
					t.Fatalf("round %d: second Shutdown returned %v while a task still runs", round, err)
				case <-time.After(time.Duration(round%3) * time.Millisecond):
				}
				close(release)
				if err := <-done; err != nil {
					t.Fatalf("round %d: second Shutdown = %v", round, err)
				}
				if !returned.Load() {
					t.Fatalf("round %d: Shutdown returned before the task", round)
				}
				if followErr != nil {
					// With RejectWhenFull the follow-up at the limit gets ErrFull.
					if !errors.Is(followErr, execkit.ErrFull) || len(cfg.opts) != 2 {
						t.Fatalf("round %d: follow-up Submit = %v", round, followErr)
					}
				}
				if followRan.Load() != 0 {
					t.Fatalf("round %d: follow-up started with an ended ctx", round)
				}
				if err := e.Submit(taskCtx, execkit.TaskFunc(func(context.Context) error {
					t.Errorf("task with a kept ctx ran after Shutdown returned")
					return nil
				})); !errors.Is(err, execkit.ErrClosed) {
					t.Fatalf("round %d: Submit(kept ctx) after Shutdown = %v; want ErrClosed", round, err)
				}
				s := e.Stats()
				wantSub, wantFailed := int64(2), int64(1)
				if followErr != nil {
					wantSub, wantFailed = 1, 0
				}
				if s.Submitted != wantSub || s.Succeeded != 1 || s.Failed != wantFailed || s.Running != 0 || reported.Load() != wantFailed {
					t.Fatalf("round %d: Stats = %+v, %d reported; follow-up err %v", round, s, reported.Load(), followErr)
				}
			}
		})
	}
}

// TestAdvStatsDuringChurn: Stats read in a loop from several goroutines
// while many goroutines submit and tasks end (and Shutdown comes in the
// middle) never shows a negative count nor fewer submitted than finished.
func TestAdvStatsDuringChurn(t *testing.T) {
	for _, cfg := range advConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			for round := range 60 {
				e, err := New(append(append([]Option(nil), cfg.opts...), OnError(func(error) {}))...)
				if err != nil {
					t.Fatal(err)
				}
				stop := make(chan struct{})
				var readers, writers sync.WaitGroup
				var reads atomic.Int64
				for range 3 {
					readers.Add(1)
					go func() {
						defer readers.Done()
						for {
							s := e.Stats()
							reads.Add(1)
							if s.Submitted < 0 || s.Running < 0 || s.Succeeded < 0 || s.Failed < 0 || s.Panicked < 0 || s.Rejected < 0 || s.Queued != 0 {
								t.Errorf("Stats = %+v: negative", s)
								return
							}
							if s.Submitted < s.Succeeded+s.Failed+s.Panicked {
								t.Errorf("Stats = %+v: Submitted below the finished", s)
								return
							}
							select {
							case <-stop:
								return
							default:
							}
							runtime.Gosched() // leave the 2 cores to the writers mostly
						}
					}()
				}
				var admitted atomic.Int64
				for w := range 4 {
					writers.Add(1)
					go func() {
						defer writers.Done()
						for i := range 300 {
							task := execkit.TaskFunc(func(ctx context.Context) error {
								switch i % 7 {
								case 3:
									return errAdvBoom
								case 5:
									panic(errAdvBoom)
								case 6:
									// Derived from the task's ctx (a follow-up), bounded so
									// that a full Limit does not hold it until Shutdown.
									sub, cancel := context.WithTimeout(ctx, time.Millisecond)
									_ = e.Submit(sub, execkit.TaskFunc(func(context.Context) error { return nil }))
									cancel()
								}
								return nil
							})
							if e.Submit(context.Background(), task) == nil {
								admitted.Add(1)
							}
							if w == 0 && i == 150 {
								go func() { _ = e.Shutdown(context.Background()) }()
							}
						}
					}()
				}
				writers.Wait()
				if err := e.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
				close(stop)
				readers.Wait()
				if s := e.Stats(); s.Running != 0 || s.Submitted != s.Succeeded+s.Failed+s.Panicked || s.Submitted < admitted.Load() {
					t.Fatalf("round %d: settled Stats = %+v, %d admitted from outside", round, s, admitted.Load())
				}
			}
		})
	}
}

// TestAdvKeptCtxHammer: goroutines that are not tasks but hold a task's
// ctx (kept after that task returned) submit in a loop while Shutdown
// runs: they count as follow-ups until the Executor finishes. Every
// admitted one had run when Shutdown returned, and everything after is
// refused and never runs. Whether Shutdown ends while they keep submitting
// is reported by TestAdvProbeKeptCtxLivelock.
func TestAdvKeptCtxHammer(t *testing.T) {
	for _, cfg := range advConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			for round := range advRounds(1500) {
				e, err := New(cfg.opts...)
				if err != nil {
					t.Fatal(err)
				}
				kept := make(chan context.Context, 1)
				if err := e.Submit(context.Background(), execkit.TaskFunc(func(ctx context.Context) error {
					kept <- ctx
					return nil
				})); err != nil {
					t.Fatal(err)
				}
				taskCtx := <-kept
				var admitted, ran, returnedN atomic.Int64
				var afterDone atomic.Bool
				var wg sync.WaitGroup
				for range 3 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						// A bounded number of submits: an endless loop
						// keeps the Executor from finishing (see the probe).
						for i := 0; i < 200; i++ {
							err := e.Submit(taskCtx, execkit.TaskFunc(func(context.Context) error {
								ran.Add(1)
								if afterDone.Load() {
									t.Errorf("a follow-up ran after Shutdown returned")
								}
								returnedN.Add(1)
								return nil
							}))
							if err == nil {
								admitted.Add(1)
								continue
							}
							if errors.Is(err, execkit.ErrFull) {
								continue
							}
							if !errors.Is(err, execkit.ErrClosed) {
								t.Errorf("Submit(kept ctx) = %v", err)
							}
							return
						}
					}()
				}
				for range round % 7 {
					runtime.Gosched()
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err = e.Shutdown(ctx)
				cancel()
				afterDone.Store(true)
				atShutdown := returnedN.Load()
				wg.Wait()
				if err != nil {
					t.Fatalf("round %d: Shutdown = %v (hung?); Stats %+v", round, err, e.Stats())
				}
				if ran.Load() != admitted.Load() || atShutdown != admitted.Load() {
					t.Fatalf("round %d: admitted %d, ran %d, returned at Shutdown %d", round, admitted.Load(), ran.Load(), atShutdown)
				}
				if s := e.Stats(); s.Submitted != admitted.Load()+1 || s.Succeeded != s.Submitted || s.Running != 0 {
					t.Fatalf("round %d: Stats = %+v; admitted %d+1", round, s, admitted.Load())
				}
			}
		})
	}
}
