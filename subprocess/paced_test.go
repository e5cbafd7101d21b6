package subprocess_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// pacedRate is the rate of the rate-limited functions below: slow enough
// that a test sees the spacing of starts, fast enough to end soon.
const pacedRate = 40

var (
	// startedAt returns when it started, on this machine's clock (the
	// workers share it).
	startedAt = execkit.Register("test.paced.startedAt", func(context.Context, int) (int64, error) {
		return time.Now().UnixNano(), nil
	}, execkit.RateLimit(pacedRate))

	// failOnce fails its first attempt for a path (creating the file),
	// and returns when it started on the next.
	failOnce = execkit.Register("test.paced.failOnce", func(_ context.Context, path string) (int64, error) {
		if firstTime(path) {
			return 0, errors.New("first attempt")
		}
		return time.Now().UnixNano(), nil
	}, execkit.RateLimit(pacedRate), execkit.Retry(1, time.Millisecond))

	// retryOnce is failOnce without a rate limit: Map sends it in chunks.
	retryOnce = execkit.Register("test.chunk.failOnce", func(_ context.Context, path string) (int, error) {
		if firstTime(path) {
			return 0, errors.New("first attempt")
		}
		return 1, nil
	}, execkit.Retry(1, time.Millisecond))

	// slowOnce passes its TimeLimit on its first attempt for a path.
	slowOnce = execkit.Register("test.chunk.slowOnce", func(ctx context.Context, path string) (int, error) {
		if firstTime(path) {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return 1, nil
	}, execkit.TimeLimit(20*time.Millisecond), execkit.Retry(1, time.Millisecond))

	// pacedFail fails for a negative item.
	pacedFail = execkit.Register("test.paced.fail", func(_ context.Context, x int) (int, error) {
		if x < 0 {
			return 0, fmt.Errorf("negative %d", x)
		}
		return x, nil
	}, execkit.RateLimit(1000))
)

// firstTime reports whether path did not exist, creating it.
func firstTime(path string) bool {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// TestMapCountsPolicies: the retries and timeouts of the items of Map's
// and MapUnordered's chunks, whose policy runs in the worker, count in
// the pool's Stats, as those of submitted tasks do (they counted nowhere).
func TestMapCountsPolicies(t *testing.T) {
	p := newPool(t, 2)
	ctx := context.Background()
	dir := t.TempDir()
	paths := func(prefix string, n int) []string {
		ps := make([]string, n)
		for i := range ps {
			ps[i] = filepath.Join(dir, fmt.Sprint(prefix, i))
		}
		return ps
	}
	if _, err := subprocess.Map(ctx, p, retryOnce, paths("r", 10), subprocess.ChunkSize(3)); err != nil {
		t.Fatal(err)
	}
	for _, err := range subprocess.MapUnordered(ctx, p, retryOnce, slices.Values(paths("u", 5)), subprocess.ChunkSize(2)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := p.Stats(); st.Retries != 15 || st.Timeouts != 0 {
		t.Errorf("after Map and MapUnordered of 15 items that each failed once: Retries %d, Timeouts %d; want 15, 0", st.Retries, st.Timeouts)
	}
	if _, err := subprocess.Map(ctx, p, slowOnce, paths("s", 4), subprocess.ChunkSize(2)); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Retries != 19 || st.Timeouts != 4 {
		t.Errorf("after a Map of 4 items that each passed their TimeLimit once: Retries %d, Timeouts %d; want 19, 4", st.Retries, st.Timeouts)
	}
}

// spanOf is the least time n starts take at pacedRate from one bucket:
// one token at first, then one each 1/rate.
func spanOf(n int) time.Duration {
	return time.Duration(float64(n-1) / pacedRate * float64(time.Second))
}

// checkSpacing fails when the starts (Unix nanoseconds, read in the
// workers) came much faster than the pool's one bucket of rate allows. The
// tokens are taken in this process, and each call then travels to its
// worker: a first call slow to arrive (a loaded machine) shortens the
// span the workers see, so it is held to 60% of the least span, which a
// bucket per worker (a quarter of it on 4 workers) still fails by far;
// the callers also check the elapsed time here, which no delay shortens.
func checkSpacing(t *testing.T, what string, starts []int64) {
	t.Helper()
	slices.Sort(starts)
	span := time.Duration(starts[len(starts)-1] - starts[0])
	want := spanOf(len(starts))
	if span < want*6/10 {
		t.Errorf("%s: %d starts within %v; a RateLimit(%d) lets them start no faster than over %v (one bucket for the pool, not one per worker)", what, len(starts), span, pacedRate, want)
	}
}

// TestMapRateLimit: Map and MapUnordered of a function with a RateLimit
// start its items at most at that rate on the whole pool, not at that rate
// in each worker process (the workers of a chunk each kept a bucket of
// their own: 4 workers started items 4 times too fast), count each item as
// a task, and pace and count its retries too.
func TestMapRateLimit(t *testing.T) {
	p := newPool(t, 4)
	ctx := context.Background()
	items := make([]int, 16)

	elapsed := func(what string, t0 time.Time) {
		t.Helper()
		if took := time.Since(t0); took < spanOf(len(items))*95/100 {
			t.Errorf("%s of %d items at RateLimit(%d) took %v; the pool's one bucket allows no less than %v", what, len(items), pacedRate, took, spanOf(len(items)))
		}
	}
	t0 := time.Now()
	starts, err := subprocess.Map(ctx, p, startedAt, items, subprocess.ChunkSize(4))
	if err != nil {
		t.Fatal(err)
	}
	elapsed("Map", t0)
	checkSpacing(t, "Map", starts)

	var unordered []int64
	t0 = time.Now()
	for v, err := range subprocess.MapUnordered(ctx, p, startedAt, slices.Values(items), subprocess.ChunkSize(4)) {
		if err != nil {
			t.Fatal(err)
		}
		unordered = append(unordered, v)
	}
	if len(unordered) != len(items) {
		t.Fatalf("MapUnordered yielded %d results; want %d", len(unordered), len(items))
	}
	elapsed("MapUnordered", t0)
	checkSpacing(t, "MapUnordered", unordered)

	if st := p.Stats(); st.Submitted != 32 || st.Succeeded != 32 {
		t.Errorf("Stats after Map and MapUnordered of 16 items each = %+v; want 32 submitted and succeeded (a paced item is a task)", st)
	}

	dir := t.TempDir()
	paths := make([]string, 8)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprint(i))
	}
	before := p.Stats()
	t0 = time.Now()
	retried, err := subprocess.Map(ctx, p, failOnce, paths)
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Stats().Retries - before.Retries; got != int64(len(paths)) {
		t.Errorf("Stats.Retries grew by %d after a Map of %d items that each failed once; want %d", got, len(paths), len(paths))
	}
	checkSpacing(t, "Map with retries (the second attempts)", retried)
	// Each attempt takes a token: 2*8 starts in all, the first at once.
	if want := spanOf(2 * len(paths)); took < want*9/10 {
		t.Errorf("Map of %d items that each failed once took %v; with each attempt taking a token of RateLimit(%d), want at least %v", len(paths), took, pacedRate, want)
	}
}

// TestMapRateLimitErrors: a paced Map fails at the first error naming the
// item, and starts no item after it; MapUnordered yields the error in
// place of the item and goes on; a ctx that ended is said once.
func TestMapRateLimitErrors(t *testing.T) {
	p := newPool(t, 2)
	ctx := context.Background()

	items := []int{1, 2, -3, 4, 5, 6, 7, 8}
	if _, err := subprocess.Map(ctx, p, pacedFail, items); err == nil || err.Error() != "subprocess: Map item 2: negative -3" {
		t.Errorf("Map with item 2 failing: %v; want subprocess: Map item 2: negative -3", err)
	}
	var oks, errs int
	for v, err := range subprocess.MapUnordered(ctx, p, pacedFail, slices.Values(items)) {
		switch {
		case err == nil && v > 0:
			oks++
		case err != nil && err.Error() == "subprocess: MapUnordered item 2: negative -3":
			errs++
		default:
			t.Errorf("MapUnordered yielded %d, %v", v, err)
		}
	}
	if oks != 7 || errs != 1 {
		t.Errorf("MapUnordered: %d results and %d errors; want 7 and 1", oks, errs)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := subprocess.Map(cctx, p, pacedFail, items); !errors.Is(err, context.Canceled) {
		t.Errorf("Map with a cancelled ctx: %v; want context.Canceled", err)
	}
	n := 0
	for _, err := range subprocess.MapUnordered(cctx, p, pacedFail, slices.Values(items)) {
		n++
		if !errors.Is(err, context.Canceled) {
			t.Errorf("MapUnordered with a cancelled ctx yielded %v; want context.Canceled", err)
		}
	}
	if n != 1 {
		t.Errorf("MapUnordered with a cancelled ctx yielded %d times; want once", n)
	}

	// Breaking out cancels and waits for the items running.
	for _, err := range subprocess.MapUnordered(ctx, p, startedAt, slices.Values(make([]int, 50))) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}

	// Counted: every item of every call above, each once.
	p.Shutdown(ctx)
	st := p.Stats()
	if st.Submitted != st.Succeeded+st.Failed+st.Panicked || st.Running != 0 || st.Queued != 0 {
		t.Errorf("Stats after Shutdown = %+v; want every submitted item ended once", st)
	}
}
