package subprocess_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/fireforget"
	"github.com/execkit/execkit/subprocess"
)

// Adversarial tests of EXPIRE: how a function's ctx, and ctxs it derives,
// end in a worker, against how they end for the same function in process
// (fireforget.New). A task must move between executors unchanged.

type probeArg struct {
	Dir  string
	Fail bool // return at once with an error wrapping context.DeadlineExceeded
}

type probeKey struct{}

// probe records, in Dir/report, how its ctx ended: its Err, its Cause, and
// those of ctxs derived from it (WithCancel, WithTimeout, WithCancel of a
// WithValue, AfterFunc), a value set on a derived ctx, and the Err of a
// derived ctx it cancelled itself. It writes Dir/started first.
func probe(ctx context.Context, a probeArg) (int, error) {
	if a.Fail {
		return 0, fmt.Errorf("probe: %w", context.DeadlineExceeded)
	}
	wc, wcancel := context.WithCancel(ctx)
	defer wcancel()
	tc, tcancel := context.WithTimeout(ctx, time.Hour)
	defer tcancel()
	vc := context.WithValue(ctx, probeKey{}, "mine")
	vcc, vccancel := context.WithCancel(vc)
	defer vccancel()
	sc, scancel := context.WithCancel(ctx)
	scancel()
	af := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { close(af) })
	defer stop()
	if err := os.WriteFile(filepath.Join(a.Dir, "started"), nil, 0o600); err != nil {
		return 0, err
	}
	<-ctx.Done()
	err := ctx.Err()
	for _, c := range []context.Context{wc, tc, vcc} {
		<-c.Done()
	}
	afFired := "no"
	select {
	case <-af:
		afFired = "yes"
	case <-time.After(time.Second):
	}
	r := fmt.Sprintf("err=%v\ncause=%v\nwithcancel=%v\nwithcancel.cause=%v\nwithtimeout=%v\nwithtimeout.cause=%v\nvalue-child=%v\nvalue-child.cause=%v\nvalue=%v\nafterfunc=%s\nselfcancel=%v",
		err, context.Cause(ctx), wc.Err(), context.Cause(wc), tc.Err(), context.Cause(tc),
		vcc.Err(), context.Cause(vcc), vcc.Value(probeKey{}), afFired, sc.Err())
	if err := os.WriteFile(filepath.Join(a.Dir, "report"), []byte(r), 0o600); err != nil {
		return 0, err
	}
	return 0, err
}

var (
	ctxProbe      = execkit.Register("test.adv.probe", probe)
	ctxProbeLimit = execkit.Register("test.adv.probe.limit", probe, execkit.TimeLimit(300*time.Millisecond))
)

// waitFile waits for dir/name, at most 10s.
func waitFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil && (name != "report" || len(b) > 0) {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s in %s after 10s", name, dir)
	return nil
}

var errMine = errors.New("my own deadline")

// apply calls the probe through ex, with ctx as the caller's: Apply on a
// subprocess pool; in process, Call (the function's ctx is the caller's).
func apply(ctx context.Context, ex execkit.Executor, a probeArg) {
	if p, ok := ex.(*subprocess.Pool); ok {
		subprocess.Apply(ctx, p, ctxProbe, a)
		return
	}
	ctxProbe.Call(ctx, a)
}

// ctxScenarios start the probe on ex, end its ctx in their own way, and
// return once its Future resolved.
var ctxScenarios = []struct {
	name string
	run  func(t *testing.T, ex execkit.Executor, dir string)
}{
	{"TimeLimit", func(t *testing.T, ex execkit.Executor, dir string) {
		ctxProbeLimit.Go(context.Background(), ex, probeArg{Dir: dir}).Wait(context.Background())
	}},
	{"caller deadline", func(t *testing.T, ex execkit.Executor, dir string) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		ctxProbe.Go(ctx, ex, probeArg{Dir: dir}).Wait(context.Background())
	}},
	{"caller deadline with a cause", func(t *testing.T, ex execkit.Executor, dir string) {
		ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now().Add(300*time.Millisecond), errMine)
		defer cancel()
		ctxProbe.Go(ctx, ex, probeArg{Dir: dir}).Wait(context.Background())
	}},
	{"caller cancel (Apply; Call in process)", func(t *testing.T, ex execkit.Executor, dir string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			apply(ctx, ex, probeArg{Dir: dir})
		}()
		waitFile(t, dir, "started")
		cancel()
		<-done
	}},
	{"caller deadline with a cause (Apply; Call in process)", func(t *testing.T, ex execkit.Executor, dir string) {
		ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now().Add(300*time.Millisecond), errMine)
		defer cancel()
		apply(ctx, ex, probeArg{Dir: dir})
	}},
	{"Future.Cancel", func(t *testing.T, ex execkit.Executor, dir string) {
		f := ctxProbe.Go(context.Background(), ex, probeArg{Dir: dir})
		waitFile(t, dir, "started")
		f.Cancel()
		f.Wait(context.Background())
	}},
	{"Shutdown's ctx with a deadline ends", func(t *testing.T, ex execkit.Executor, dir string) {
		f := ctxProbe.Go(context.Background(), ex, probeArg{Dir: dir})
		waitFile(t, dir, "started")
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		ex.Shutdown(ctx)
		f.Wait(context.Background())
	}},
}

// TestAdvCtxEndsAsInProcess runs each scenario on an in-process pool and
// on a subprocess pool, and compares what the function saw.
func TestAdvCtxEndsAsInProcess(t *testing.T) {
	for _, sc := range ctxScenarios {
		t.Run(sc.name, func(t *testing.T) {
			reports := map[string]string{}
			for _, kind := range []string{"in process", "subprocess"} {
				var ex execkit.Executor
				var err error
				if kind == "in process" {
					ex, err = fireforget.New()
				} else {
					ex, err = subprocess.New(1, subprocess.CancelGrace(5*time.Second))
				}
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				sc.run(t, ex, dir)
				reports[kind] = string(waitFile(t, dir, "report"))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				ex.Shutdown(ctx)
				cancel()
			}
			if reports["in process"] != reports["subprocess"] {
				in, out := strings.Split(reports["in process"], "\n"), strings.Split(reports["subprocess"], "\n")
				for i := range in {
					switch {
					case in[i] == out[i]:
					case strings.Contains(in[i], "cause="):
						// Known: a worker's ctx cannot carry a cause
						// (context.Cause of a ctx not of package context is
						// its Err): ErrTimeLimit, or the caller's own cause,
						// reads context.DeadlineExceeded there.
						t.Logf("known difference: in process %q; in a worker %q", in[i], out[i])
					default:
						t.Errorf("in process %q; in a worker %q", in[i], out[i])
					}
				}
			}
		})
	}
}

// When a Map item fails with an error that wraps context.DeadlineExceeded
// (its TimeLimit in the worker, or a timeout of its own), Map cancels the
// other chunks: their functions' ctx must end with context.Canceled, as
// with execkit.Map in process, not as if their deadline had passed.
func TestAdvMapStopIsACancel(t *testing.T) {
	p := newPool(t, 2, subprocess.CancelGrace(5*time.Second))
	dir := t.TempDir()
	ctx := context.Background()
	// Item 0 waits in a worker; item 1, in the other, fails once item 0
	// started (Map runs both at once: one chunk each).
	mapFailLate(t, ctx, p, dir)
	if r := string(waitFile(t, dir, "report")); !strings.HasPrefix(r, "err=context canceled\n") {
		t.Errorf("subprocess.Map: the probe still running when Map stopped saw:\n%s\nwant its ctx to end with context.Canceled", r)
	}
	// Func.Map through the pool as an executor: in process too.
	for _, ex := range []execkit.Executor{p, inProcess(t)} {
		dir := t.TempDir()
		_, err := ctxProbeFailLate.Map(ctx, ex, []probeArg{{Dir: dir}, {Dir: dir, Fail: true}})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%T: Func.Map = %v; want item 1's error", ex, err)
		}
		if r := string(waitFile(t, dir, "report")); !strings.HasPrefix(r, "err=context canceled\n") {
			t.Errorf("%T: Func.Map: the probe still running when Map stopped saw:\n%s\nwant its ctx to end with context.Canceled", ex, r)
		}
	}
}

// inProcess returns a fireforget.New(), shut down at the end of the test.
// (Not pool.New: the ants package it uses starts goroutines at init, which
// goleak would report.)
func inProcess(t *testing.T) execkit.Executor {
	p, err := fireforget.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	return p
}

// mapFailLate runs Map over the probe with two items, chunk size 1: item 0 waits
// for its ctx; item 1 waits until item 0 started, then fails with an error
// wrapping context.DeadlineExceeded.
func mapFailLate(t *testing.T, ctx context.Context, p *subprocess.Pool, dir string) {
	_, err := subprocess.Map(ctx, p, ctxProbeFailLate, []probeArg{{Dir: dir}, {Dir: dir, Fail: true}}, subprocess.ChunkSize(1))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Map item 1") {
		t.Errorf("Map = %v; want item 1's error", err)
	}
}

// ctxProbeFailLate is probe, except that a failing item waits for the
// other one to have started.
var ctxProbeFailLate = execkit.Register("test.adv.probe.faillate", func(ctx context.Context, a probeArg) (int, error) {
	if a.Fail {
		for range 1000 {
			if _, err := os.Stat(filepath.Join(a.Dir, "started")); err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return probe(ctx, a)
})
