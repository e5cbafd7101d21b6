package executortest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/execkit/execkit"
)

// The policy checks' tasks: registered functions declaring a policy, each
// recording its attempts in a file under Dir, which both sides of a process
// boundary see.
type policyJob struct {
	Dir       string
	ID        int
	Permanent bool          // failing: wrap execkit.ErrPermanent
	Guard     time.Duration // busy: stop looping after this long, so a broken executor cannot hang the test
}

const (
	// policyLimit is the TimeLimit of the time-limited functions.
	policyLimit = 100 * time.Millisecond
	// policyRate is the RateLimit of rateFunc: starts 100ms apart.
	policyRate = "10/s"
	rateEvery  = 100 * time.Millisecond
	attempts   = "attempts"
	// limitDeadlineFile records the jobs of waitFunc whose ctx reported a
	// deadline within the TimeLimit ahead when they started.
	limitDeadlineFile = "limit-deadline"
)

var (
	// waitFunc waits on its ctx: the cooperative time limit ends it.
	waitFunc = execkit.Register("executortest.policy.wait", func(ctx context.Context, j policyJob) (int, error) {
		if err := appendID(j.Dir, attempts, j.ID); err != nil {
			return 0, err
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) > 0 && time.Until(d) <= policyLimit {
			_ = appendID(j.Dir, limitDeadlineFile, j.ID)
		}
		return 0, waitEnd(ctx, j.Dir, j.ID)
	}, execkit.TimeLimit(policyLimit))

	// busyFunc never looks at its ctx, as C code called through cgo would
	// not; only a hard limit stops it before its Guard.
	busyFunc = execkit.Register("executortest.policy.busy", func(_ context.Context, j policyJob) (int, error) {
		if err := appendID(j.Dir, attempts, j.ID); err != nil {
			return 0, err
		}
		n := 0
		for end := time.Now().Add(j.Guard); time.Now().Before(end); {
			n++
		}
		return n, appendID(j.Dir, finishedFile, j.ID)
	}, execkit.TimeLimit(policyLimit))

	// failFunc always fails, retried twice.
	failFunc = execkit.Register("executortest.policy.fail", func(_ context.Context, j policyJob) (int, error) {
		if err := appendID(j.Dir, attempts, j.ID); err != nil {
			return 0, err
		}
		if j.Permanent {
			return 0, fmt.Errorf("%w: executortest: policy job %d failed", execkit.ErrPermanent, j.ID)
		}
		return 0, fmt.Errorf("executortest: policy job %d failed", j.ID)
	}, execkit.Retry(2, time.Millisecond))

	// rateFunc starts at most at policyRate per executor.
	rateFunc = execkit.Register("executortest.policy.rate", func(_ context.Context, j policyJob) (int, error) {
		return j.ID, appendID(j.Dir, attempts, j.ID)
	}, execkit.RateLimit(policyRate))
)

// The nested time limit: an outer function without a TimeLimit of its own
// (or with a long one) calls innerFunc, whose own limit passes, and
// returns its error, as is or wrapped. That error wraps
// execkit.ErrTimeLimit, but the outer call did not pass its own limit:
// the outer call's executor counts no timeout for it, and innerFunc's
// call counts one where it ran (an execkit.Inline inside the outer
// function).
const (
	// innerLimit is innerFunc's TimeLimit.
	innerLimit = 20 * time.Millisecond
	// nestedFile records, per run of an outer function, one line for
	// each timeout the Inline that ran innerFunc counted.
	nestedFile = "nested-timeouts"
)

var (
	// innerFunc waits on its ctx: its own limit ends it.
	innerFunc = execkit.Register("executortest.policy.inner", func(ctx context.Context, j policyJob) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}, execkit.TimeLimit(innerLimit))

	// outerFunc and outerLongFunc call innerFunc (see outer), retried
	// once; outerLongFunc has a TimeLimit of its own, which never passes.
	outerFunc     = execkit.Register("executortest.policy.outer", outer, execkit.Retry(1, time.Millisecond))
	outerLongFunc = execkit.Register("executortest.policy.outerlong", outer, execkit.TimeLimit(time.Hour), execkit.Retry(1, time.Millisecond))
)

// outer records its run, calls innerFunc through an execkit.Inline of its
// own, records the timeouts that Inline counted, and returns innerFunc's
// error: as is, or, with Wrap, wrapped with %w.
func outer(ctx context.Context, j nestedJob) (int, error) {
	if err := appendID(j.Dir, attempts, j.ID); err != nil {
		return 0, err
	}
	var inline execkit.Inline
	_, err := innerFunc.Go(ctx, &inline, policyJob{Dir: j.Dir, ID: j.ID}).Wait(ctx)
	for range inline.Stats().Timeouts {
		_ = appendID(j.Dir, nestedFile, j.ID)
	}
	if j.Wrap {
		return 0, fmt.Errorf("executortest: nested job %d: %w", j.ID, err)
	}
	return 0, err
}

// nestedJob is a job of outerFunc and outerLongFunc.
type nestedJob struct {
	Dir  string
	ID   int
	Wrap bool // wrap innerFunc's error with %w, rather than return it as is
}

// checkNestedTimeLimit: a function whose call fails with the error of a
// nested call's own TimeLimit (as is, or wrapped) fails with an error
// wrapping execkit.ErrTimeLimit, but did not pass a limit of its own:
// Stats().Timeouts does not grow for it, with or without a TimeLimit of
// its own, on every executor, wherever the function ran; the nested call
// counts its timeout where it ran. Each call is retried once (Retry(1)),
// so an executor that counts an earlier attempt's timeout from what it
// recorded of that attempt is checked too.
func checkNestedTimeLimit(h *harness) {
	cases := []struct {
		name string
		f    *execkit.Func[nestedJob, int]
		wrap bool
	}{
		{"with a TimeLimit of its own, returning the nested error as is", outerLongFunc, false},
		{"with a TimeLimit of its own, returning the nested error wrapped", outerLongFunc, true},
		{"without a TimeLimit, returning the nested error as is", outerFunc, false},
		{"without a TimeLimit, returning the nested error wrapped", outerFunc, true},
	}
	if h.cfg.failFast { // a failed group admits nothing more
		cases = cases[:1]
	}
	for i, c := range cases {
		id := i + 1
		before, hasStats := h.stats()
		_, err := wait(h, c.f.Go(h.bg, h.ex, nestedJob{Dir: h.dir, ID: id, Wrap: c.wrap}))
		if !errors.Is(err, execkit.ErrTimeLimit) || !errors.Is(err, context.DeadlineExceeded) {
			h.t.Errorf("a function %s: Wait = %v; want an error wrapping execkit.ErrTimeLimit and context.DeadlineExceeded", c.name, err)
		}
		runs := h.lines(attempts)[id]
		if runs != 2 {
			h.t.Errorf("a function %s, with Retry(1), ran %d times; want 2", c.name, runs)
		}
		if n := h.lines(nestedFile)[id]; n != runs {
			h.t.Errorf("a function %s: the nested calls, in %d runs, counted %d timeouts where they ran; want one per run", c.name, runs, n)
		}
		if after, _ := h.stats(); hasStats {
			if d := after.Timeouts - before.Timeouts; d != 0 {
				h.t.Errorf("a function %s: Stats().Timeouts grew by %d; want 0 (a nested call's limit passed, not the function's own)", c.name, d)
			}
			if d := after.Retries - before.Retries; d != 1 {
				h.t.Errorf("a function %s: Stats().Retries grew by %d; want 1", c.name, d)
			}
		}
	}
	h.endFailed(func(err error) bool { return errors.Is(err, execkit.ErrTimeLimit) })
}

// stats returns h.ex's counters, and whether it exposes them: a Stats
// method without arguments that returns an execkit.Stats, or a struct
// that embeds one (pool.Stats, errgroup.Stats).
func (h *harness) stats() (execkit.Stats, bool) {
	return statsOf(h.ex)
}

// statsOf returns ex's counters, and whether it exposes them (see stats).
func statsOf(ex execkit.Executor) (execkit.Stats, bool) {
	m := reflect.ValueOf(ex).MethodByName("Stats")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
		return execkit.Stats{}, false
	}
	out := m.Call(nil)[0]
	if s, ok := out.Interface().(execkit.Stats); ok {
		return s, true
	}
	if out.Kind() != reflect.Struct {
		return execkit.Stats{}, false
	}
	for i := range out.NumField() {
		if f := out.Type().Field(i); f.Anonymous && f.Type == reflect.TypeFor[execkit.Stats]() {
			return out.Field(i).Interface().(execkit.Stats), true
		}
	}
	return execkit.Stats{}, false
}

// margin is the slack the policy checks allow for scheduling on a loaded
// machine, above what the policy itself takes.
func margin() time.Duration { return patience / 4 }

func (h *harness) policyJob(id int) policyJob { return policyJob{Dir: h.dir, ID: id} }

// waitWithin waits for f at most d, and reports whether it completed.
func waitWithin[T any](f *execkit.Future[T], d time.Duration) (T, error, bool) {
	var zero T
	select {
	case <-f.Done():
		v, err := f.Wait(context.Background())
		return v, err, true
	case <-time.After(d):
		return zero, nil, false
	}
}

// endFailed ends a check whose last task failed with an error matching
// is: a fail-fast group's Shutdown returns that error.
func (h *harness) endFailed(is func(error) bool) {
	h.t.Helper()
	if h.cfg.failFast {
		h.end(is)
		return
	}
	h.end(nil)
}

// checkTimeLimit: a registered function with a TimeLimit that waits on its
// ctx sees the ctx end at the limit, and the call fails with an error
// wrapping execkit.ErrTimeLimit (and context.DeadlineExceeded) within the
// limit plus the margin; Stats counts the timeout where the executor
// exposes Stats.
func checkTimeLimit(h *harness) {
	before, hasStats := h.stats()
	start := time.Now()
	bound := policyLimit + h.cfg.grace + margin()
	_, err, ok := waitWithin(waitFunc.Go(h.bg, h.ex, h.policyJob(1)), bound)
	if !ok {
		h.t.Fatalf("a call of a function with a %v TimeLimit that waits on its ctx had not returned after %v; want ErrTimeLimit by then (does the executor pass the attempt's ctx to the function?)", policyLimit, bound)
	}
	if d := time.Since(start); d < policyLimit {
		h.t.Errorf("the call returned after %v; want it to run until its %v limit", d, policyLimit)
	}
	if !errors.Is(err, execkit.ErrTimeLimit) || !errors.Is(err, context.DeadlineExceeded) {
		h.t.Errorf("Wait = %v; want an error wrapping execkit.ErrTimeLimit and context.DeadlineExceeded", err)
	}
	if c := h.lines(cancelledFile); c[1] != 1 {
		h.t.Errorf("the function saw its ctx end %d times; want 1 (at its limit)", c[1])
	}
	h.ctxEndedWith(1, ctxExpiredFile)
	if c := h.lines(limitDeadlineFile); c[1] != 1 {
		h.t.Errorf("the function's ctx.Deadline() did not report the end of its %v TimeLimit; want a deadline at most that far ahead when it starts, on every executor", policyLimit)
	}
	if after, _ := h.stats(); hasStats && after.Timeouts-before.Timeouts != 1 {
		h.t.Errorf("Stats().Timeouts grew by %d; want 1", after.Timeouts-before.Timeouts)
	}
	h.endFailed(func(err error) bool { return errors.Is(err, execkit.ErrTimeLimit) })
}

// checkHardTimeLimit: under a declared hard limit, a function that never
// looks at its ctx is stopped within the limit plus the grace (and the
// margin), its call fails with ErrTimeLimit, and the executor serves the
// next task.
func checkHardTimeLimit(h *harness) {
	bound := policyLimit + h.cfg.grace + margin()
	j := h.policyJob(1)
	j.Guard = 3 * bound
	start := time.Now()
	_, err, ok := waitWithin(busyFunc.Go(h.bg, h.ex, j), bound)
	if !ok {
		h.t.Fatalf("a function ignoring its ctx under a %v TimeLimit and a hard limit (grace %v) was not stopped within %v", policyLimit, h.cfg.grace, bound)
	}
	d := time.Since(start)
	if !errors.Is(err, execkit.ErrTimeLimit) {
		h.t.Errorf("Wait = %v after %v; want an error wrapping execkit.ErrTimeLimit", err, d)
	}
	if c := h.lines(finishedFile); c[1] != 0 {
		h.t.Errorf("the busy function finished (after %v); want it stopped at its limit plus grace", d)
	}
	if h.cfg.failFast {
		h.end(func(err error) bool { return errors.Is(err, execkit.ErrTimeLimit) })
		return
	}
	if got, err := wait(h, h.goJob(2, record)); err != nil || got != 2 {
		h.t.Errorf("after the hard limit, Wait = %d, %v; want 2, nil (the executor goes on)", got, err)
	}
	h.end(nil)
}

// checkRetry: a function with Retry(2) that always fails runs exactly 3
// times per call, through a Future and through a Task, and Stats counts
// 2 retries per call where the executor exposes Stats. An executor that
// retries a failed task itself would run it more often.
func checkRetry(h *harness) {
	before, hasStats := h.stats()
	_, err := wait(h, failFunc.Go(h.bg, h.ex, h.policyJob(1)))
	if !mentions("policy job 1 failed")(err) {
		h.t.Errorf("Wait = %v; want the last attempt's error", err)
	}
	calls := 1
	if !h.cfg.failFast { // a failed group admits nothing more
		calls++
		if err := h.submit(h.bg, failFunc.Task(h.policyJob(2))); err != nil {
			h.t.Fatalf("Submit = %v; want nil", err)
		}
		if err := h.errs.await(h.t, 1)[0]; !mentions("policy job 2 failed")(err) {
			h.t.Errorf("onError got %v; want the last attempt's error", err)
		}
	}
	c := h.lines(attempts)
	for id := 1; id <= calls; id++ {
		if c[id] != 3 {
			h.t.Errorf("call %d of a function with Retry(2) that always fails ran %d times; want 3", id, c[id])
		}
	}
	if after, _ := h.stats(); hasStats && after.Retries-before.Retries != int64(2*calls) {
		h.t.Errorf("Stats().Retries grew by %d after %d calls; want %d", after.Retries-before.Retries, calls, 2*calls)
	}
	h.endFailed(mentions("policy job 1 failed"))
}

// checkRetryPermanent: an error wrapping execkit.ErrPermanent is not
// retried, and keeps its identity.
func checkRetryPermanent(h *harness) {
	j := h.policyJob(1)
	j.Permanent = true
	_, err := wait(h, failFunc.Go(h.bg, h.ex, j))
	if !errors.Is(err, execkit.ErrPermanent) {
		h.t.Errorf("Wait = %v; want an error wrapping execkit.ErrPermanent", err)
	}
	if c := h.lines(attempts); c[1] != 1 {
		h.t.Errorf("a function with Retry(2) failing with ErrPermanent ran %d times; want 1 (not retried)", c[1])
	}
	h.endFailed(func(err error) bool { return errors.Is(err, execkit.ErrPermanent) })
}

// checkRateLimit: n calls of a function limited to 10/s start 100ms apart
// (the bucket holds one token), on the real clock: the last cannot finish
// before (n-1)·100ms, less a little for the clock, and should not take the
// margin longer. The bucket is the executor's (or, on an executor that
// carries no scope, the process's) and the check's executor is fresh, so
// the first call does not wait, or not more than 100ms.
func checkRateLimit(h *harness) {
	// The calls wait for their token while admitted: a rejecting executor
	// gets no more than it holds at once.
	n := h.small(5)
	least := time.Duration(n-1)*rateEvery - rateEvery/4
	most := time.Duration(n+1)*rateEvery + margin()
	start := time.Now()
	futs := make([]*execkit.Future[int], n)
	for i := range futs {
		futs[i] = rateFunc.Go(h.bg, h.ex, h.policyJob(i+1))
	}
	var errs []string
	for i, f := range futs {
		if got, err := wait(h, f); err != nil || got != i+1 {
			errs = append(errs, fmt.Sprintf("call %d: %d, %v", i+1, got, err))
		}
	}
	d := time.Since(start)
	if len(errs) > 0 {
		h.t.Errorf("calls of a rate-limited function: %s; want each its ID, nil", strings.Join(errs, "; "))
	}
	if d < least || d > most {
		h.t.Errorf("%d calls of a function limited to %s took %v; want between %v and %v (each start %v after the last)", n, policyRate, d, least, most, rateEvery)
	}
	h.end(nil)
}
