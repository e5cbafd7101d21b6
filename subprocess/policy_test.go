package subprocess_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

var (
	// busyPolicy is stuck in a loop that never looks at its ctx, as C code
	// called through cgo would be.
	busyPolicy = execkit.Register("test.policy.busy", func(_ context.Context, n int) (int, error) {
		end := time.Now().Add(time.Minute)
		for time.Now().Before(end) {
			n++
		}
		return n, nil
	}, execkit.TimeLimit(100*time.Millisecond), execkit.Retry(1, time.Millisecond))

	// deadlineLeft returns the milliseconds left before its ctx's deadline,
	// or -1 without one.
	deadlineLeft = execkit.Register("test.policy.deadline", func(ctx context.Context, _ int) (int64, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return -1, nil
		}
		return time.Until(dl).Milliseconds(), nil
	})
)

// TestHardTimeLimit: a task that ignores its ctx is killed at its limit
// plus the grace, retried on a new worker as Retry allows, and the pool goes
// on; no process is left after Shutdown.
func TestHardTimeLimit(t *testing.T) {
	p, err := subprocess.New(1, subprocess.CancelGrace(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	start := time.Now()
	_, err = busyPolicy.Go(ctx, p, 1).Wait(ctx)
	if !errors.Is(err, execkit.ErrTimeLimit) {
		t.Fatalf("err = %v; want ErrTimeLimit", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v; want about 2 x (100ms limit + 100ms grace) and a respawn", d)
	}
	if v, err := deadlineLeft.Go(ctx, p, 0).Wait(ctx); err != nil || v <= 0 {
		t.Errorf("after the kill: %d, %v; want the pool to go on", v, err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Timeouts != 2 || s.Retries != 1 || s.Failed != 1 || s.Succeeded != 1 {
		t.Errorf("Stats = %+v; want Timeouts 2, Retries 1, Failed 1, Succeeded 1", s)
	}
	if c := children(t); len(c) != 0 {
		t.Errorf("children after Shutdown: %v; want none", c)
	}
}

// TestDeadlineCrossesBoundary: the caller's deadline reaches the worker's
// ctx, through a Func's Go and through Apply; without one there is none.
func TestDeadlineCrossesBoundary(t *testing.T) {
	p := newPool(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if v, err := deadlineLeft.Go(ctx, p, 0).Wait(ctx); err != nil || v <= 10_000 || v > 20_000 {
		t.Errorf("Go with a 20s deadline: the worker saw %dms left, %v; want up to 20000", v, err)
	}
	if v, err := subprocess.Apply(ctx, p, deadlineLeft, 0); err != nil || v <= 10_000 || v > 20_000 {
		t.Errorf("Apply with a 20s deadline: the worker saw %dms left, %v; want up to 20000", v, err)
	}
	if v, err := deadlineLeft.Go(context.Background(), p, 0).Wait(ctx); err != nil || v != -1 {
		t.Errorf("Go without a deadline: %d, %v; want -1 (none)", v, err)
	}
	if vs, err := subprocess.Map(ctx, p, deadlineLeft, []int{0, 0, 0}); err != nil || len(vs) != 3 || slices.ContainsFunc(vs, func(v int64) bool { return v <= 10_000 || v > 20_000 }) {
		t.Errorf("Map with a 20s deadline: the worker saw %v ms left, %v; want up to 20000 for each item", vs, err)
	}
	for v, err := range subprocess.MapUnordered(ctx, p, deadlineLeft, slices.Values([]int{0, 0})) {
		if err != nil || v <= 10_000 || v > 20_000 {
			t.Errorf("MapUnordered with a 20s deadline: the worker saw %dms left, %v; want up to 20000", v, err)
		}
	}
	if vs, err := subprocess.Map(context.Background(), p, deadlineLeft, []int{0}); err != nil || len(vs) != 1 || vs[0] != -1 {
		t.Errorf("Map without a deadline: %v, %v; want [-1] (none)", vs, err)
	}
}

// slowItems overruns its time limit on negative items, watching its ctx.
var slowItems = execkit.Register("test.policy.slowitems", func(ctx context.Context, x int) (int, error) {
	if x < 0 {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return x, nil
}, execkit.TimeLimit(50*time.Millisecond))

// TestMapAppliesPolicy: a chunk of Map runs each item under the function's
// policy in the worker, so an item past its limit fails with ErrTimeLimit
// through Map and MapUnordered as through Func.Go.
func TestMapAppliesPolicy(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	if _, err := subprocess.Map(ctx, p, slowItems, []int{1, 2, -3, 4}); !errors.Is(err, execkit.ErrTimeLimit) {
		t.Errorf("Map: got %v; want an error wrapping ErrTimeLimit", err)
	}
	var failed error
	for _, err := range subprocess.MapUnordered(ctx, p, slowItems, slices.Values([]int{-1, 2})) {
		if err != nil {
			failed = err
		}
	}
	if !errors.Is(failed, execkit.ErrTimeLimit) {
		t.Errorf("MapUnordered: got %v; want an error wrapping ErrTimeLimit", failed)
	}
	if got, err := subprocess.Map(ctx, p, slowItems, []int{1, 2}); err != nil || len(got) != 2 {
		t.Errorf("Map after: got %v, %v; want [1 2]", got, err)
	}
}

// napLimited takes 100ms, well within its 300ms limit, watching its ctx.
var napLimited = execkit.Register("test.policy.nap", func(ctx context.Context, x int) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(100 * time.Millisecond):
		return x, nil
	}
}, execkit.TimeLimit(300*time.Millisecond))

// TestTimeLimitFromStart: a call's limit runs from when its worker starts
// it, not from when it is sent: eight 100ms calls under a 300ms limit, all
// sent at once to one worker, all succeed, though the last waits 700ms for
// its turn.
func TestTimeLimitFromStart(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	futs := make([]*execkit.Future[int], 8)
	for i := range futs {
		futs[i] = napLimited.Go(ctx, p, i)
	}
	for i, f := range futs {
		if v, err := f.Wait(ctx); err != nil || v != i {
			t.Errorf("call %d: got %d, %v; want %d, nil (its 100ms run is within its 300ms limit)", i, v, err, i)
		}
	}
	if s := p.Stats(); s.Timeouts != 0 {
		t.Errorf("Stats.Timeouts = %d; want 0", s.Timeouts)
	}
}

// busyRuns records each of its runs in a file under its dir, then loops
// for up to 10s without looking at its ctx: only the hard limit (50ms, plus
// the grace) stops it.
var busyRuns = execkit.Register("test.policy.busyruns", func(_ context.Context, dir string) (int, error) {
	f, err := os.OpenFile(filepath.Join(dir, "runs"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	_, err = f.WriteString("run\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		n++
	}
	return n, nil
}, execkit.TimeLimit(50*time.Millisecond), execkit.Retry(1, time.Millisecond))

// TestRetryAfterKillRuns: the retry of a call killed at its hard limit
// waits for the replacement worker without its clock running, so it does
// run (and is killed too): two runs, two timeouts.
func TestRetryAfterKillRuns(t *testing.T) {
	p := newPool(t, 1, subprocess.CancelGrace(50*time.Millisecond))
	ctx := testContext(t)
	dir := t.TempDir()
	if _, err := busyRuns.Go(ctx, p, dir).Wait(ctx); !errors.Is(err, execkit.ErrTimeLimit) {
		t.Fatalf("err = %v; want ErrTimeLimit", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "run\n"); n != 2 {
		t.Errorf("the function ran %d times; want 2 (the call, then its retry on the replacement worker)", n)
	}
	if s := p.Stats(); s.Timeouts != 2 || s.Retries != 1 {
		t.Errorf("Stats = %+v; want Timeouts 2, Retries 1", s)
	}
}

// napSome takes 30ms on every 7th item, under a 100ms limit, watching its
// ctx; the others return at once.
var napSome = execkit.Register("test.policy.napsome", func(ctx context.Context, x int) (int, error) {
	if x%7 == 0 {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(30 * time.Millisecond):
		}
	}
	return x, nil
}, execkit.TimeLimit(250*time.Millisecond)) // well above its 30ms nap: the pool's own delay in reading a result counts, under -race on a loaded machine

// TestFuncMapTimeLimitFromStart: Func.Map of 200 items on 2 workers sends
// every item at once, prefetched behind running calls and taken back by
// idle workers; the items wait about 450ms in all, and none times out.
func TestFuncMapTimeLimitFromStart(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	items := make([]int, 200)
	for i := range items {
		items[i] = i
	}
	got, err := napSome.Map(ctx, p, items)
	if err != nil || !slices.Equal(got, items) {
		t.Fatalf("Map: %d results, %v; want all 200, nil", len(got), err)
	}
	if s := p.Stats(); s.Timeouts != 0 {
		t.Errorf("Stats.Timeouts = %d; want 0", s.Timeouts)
	}
}
