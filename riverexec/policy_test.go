package riverexec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The policy tests' registered functions, each counting its runs per
// token in runs.
var (
	runs sync.Map // token -> *atomic.Int32

	// failing always fails, retried twice.
	failing = execkit.Register("riverexec_test.policy.fail", func(_ context.Context, token string) (int, error) {
		countRun(token)
		return 0, fmt.Errorf("riverexec_test: %s failed", token)
	}, execkit.Retry(2, time.Millisecond))

	// limited waits on its ctx, under a time limit.
	limited = execkit.Register("riverexec_test.policy.limit", func(ctx context.Context, token string) (int, error) {
		countRun(token)
		<-ctx.Done()
		return 0, ctx.Err()
	}, execkit.TimeLimit(100*time.Millisecond))

	// sleepy ignores its ctx and returns a result after its time limit,
	// retried once.
	sleepy = execkit.Register("riverexec_test.policy.sleepy", func(_ context.Context, token string) (string, error) {
		countRun(token)
		time.Sleep(300 * time.Millisecond)
		return "late " + token, nil
	}, execkit.TimeLimit(50*time.Millisecond), execkit.Retry(1, time.Millisecond))

	// refuse fails with a Permanent error, under Retry(2).
	refuse = execkit.Register("riverexec_test.policy.refuse", func(_ context.Context, token string) (int, error) {
		countRun(token)
		return 0, Permanent(errors.New("no such record " + token))
	}, execkit.Retry(2, time.Millisecond))

	// thirdTime fails the first two times it sees a token, under Retry(2).
	thirdTime = execkit.Register("riverexec_test.policy.third", func(_ context.Context, token string) (int, error) {
		countRun(token)
		if runsOf(token) < 3 {
			return 0, errors.New("riverexec_test: not yet")
		}
		return 3, nil
	}, execkit.Retry(2, time.Millisecond))

	// thirdTimeForever is thirdTime under the largest Retry.
	thirdTimeForever = execkit.Register("riverexec_test.policy.thirdForever", func(_ context.Context, token string) (int, error) {
		countRun(token)
		if runsOf(token) < 3 {
			return 0, errors.New("riverexec_test: not yet")
		}
		return 3, nil
	}, execkit.Retry(math.MaxInt, time.Millisecond, time.Millisecond))

	// deadlineOf returns its ctx's deadline, in Unix nanoseconds.
	deadlineOf = execkit.Register("riverexec_test.policy.deadline", func(ctx context.Context, token string) (int64, error) {
		countRun(token)
		dl, ok := ctx.Deadline()
		if !ok {
			return 0, nil
		}
		return dl.UnixNano(), nil
	})
)

// tokens makes the tokens of one run unique, so that -count=N runs do not
// add up.
var tokens atomic.Int64

// tokenFor returns a token for kind, unique in this process.
func tokenFor(t testing.TB, kind string) string {
	name := ""
	if t != nil {
		name = t.Name()
	}
	return fmt.Sprintf("%s-%s-%d", kind, name, tokens.Add(1))
}

func countRun(token string) {
	n, _ := runs.LoadOrStore(token, new(atomic.Int32))
	n.(*atomic.Int32).Add(1)
}

func runsOf(token string) int {
	n, ok := runs.Load(token)
	if !ok {
		return 0
	}
	return int(n.(*atomic.Int32).Load())
}

// queueJobs returns the job rows of queue.
func queueJobs(t *testing.T, ex *Executor, queue string) []*rivertype.JobRow {
	t.Helper()
	res, err := ex.client.JobList(context.Background(), river.NewJobListParams().Queues(queue).First(100))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

// finalJobs returns the job rows of queue once none is waiting or running:
// River records a job's end in batches, after the worker of this process
// handed its outcome to the Future.
func finalJobs(t *testing.T, ex *Executor, queue string) []*rivertype.JobRow {
	t.Helper()
	var jobs []*rivertype.JobRow
	waitFor(t, "the jobs of "+queue+" to end", func() bool {
		jobs = queueJobs(t, ex, queue)
		for _, j := range jobs {
			switch j.State {
			case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
			default:
				return false
			}
		}
		return true
	})
	return jobs
}

// TestPolicyOnWorker: a Func's Retry is the job's own attempts, on the
// worker: Retry(2) of a failing function runs it 3 times in ONE job (three
// attempts, three attempt errors), the executor's Retries does not add to
// it, and the time limit ends an attempt on the worker; a Func that
// declares no Retry gets the executor's Retries. The submitter's Stats
// count the retries and the timeouts, with each task counted once.
func TestPolicyOnWorker(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		const queue = "policy"
		ex := newExecutor(t, db, Queue(queue), Retries(5, time.Millisecond))
		ctx := context.Background()
		token := tokenFor(t, "fail")
		_, err := failing.Go(ctx, ex, token).Wait(ctx)
		var je *JobError
		if !errors.As(err, &je) || je.Attempts != 3 || !strings.Contains(err.Error(), token+" failed") {
			t.Errorf("Wait = %v; want a *JobError after 3 attempts with the last attempt's error", err)
		}
		if n := runsOf(token); n != 3 {
			t.Errorf("Retry(2) of a failing function ran it %d times; want 3 (the Func's Retry wins over the executor's Retries(5))", n)
		}
		jobs := finalJobs(t, ex, queue)
		if len(jobs) != 1 || jobs[0].Attempt != 3 || len(jobs[0].Errors) != 3 || jobs[0].MaxAttempts != 3+rescueBudget {
			for _, j := range jobs {
				t.Logf("job %d: %s, attempt %d of %d, %d errors", j.ID, j.State, j.Attempt, j.MaxAttempts, len(j.Errors))
			}
			t.Errorf("%d job rows; want 1, with 3 attempts, 3 attempt errors and MaxAttempts %d", len(jobs), 3+rescueBudget)
		}

		// limited declares no Retry: the executor's Retries(5) applies.
		token = tokenFor(t, "limit")
		_, err = limited.Go(ctx, ex, token).Wait(ctx)
		if !errors.Is(err, execkit.ErrTimeLimit) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &je) || je.Attempts != 6 {
			t.Errorf("Wait = %v; want a *JobError after 6 attempts (Retries(5)) wrapping ErrTimeLimit and DeadlineExceeded", err)
		}
		// A Future gets its outcome a moment before the executor counts
		// the task finished: wait for the count.
		s := ex.Stats()
		for end := time.Now().Add(10 * time.Second); s.Running != 0 && time.Now().Before(end); s = ex.Stats() {
			time.Sleep(time.Millisecond)
		}
		if s.Retries != 2+5 || s.Timeouts != 6 || s.Failed != 2 || s.Running != 0 || s.Submitted != 2 {
			t.Errorf("Stats = %+v; want Submitted 2, Failed 2, Running 0, Retries 7, Timeouts 6", s)
		}
	})
}

// TestPolicyTimeLimitIgnored: a task that ignores its ctx runs on past its
// time limit (the limit is cooperative on riverexec); its late result is
// discarded, the attempt fails with ErrTimeLimit, River records it so, and
// Retry(1) runs it once more.
func TestPolicyTimeLimitIgnored(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		const queue = "sleepy"
		ex := newExecutor(t, db, Queue(queue))
		ctx := context.Background()
		token := tokenFor(t, "sleepy")
		got, err := sleepy.Go(ctx, ex, token).Wait(ctx)
		if got != "" || !errors.Is(err, execkit.ErrTimeLimit) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait = %q, %v; want no result and an error wrapping ErrTimeLimit and DeadlineExceeded", got, err)
		}
		if n := runsOf(token); n != 2 {
			t.Errorf("the task ran %d times; want 2 (Retry(1) retries a timed-out attempt)", n)
		}
		jobs := finalJobs(t, ex, queue)
		if len(jobs) != 1 || jobs[0].Attempt != 2 || len(jobs[0].Errors) != 2 {
			t.Fatalf("%d job rows; want 1 with 2 attempts and 2 attempt errors", len(jobs))
		}
		for _, e := range jobs[0].Errors {
			if !strings.Contains(e.Error, "time limit exceeded") {
				t.Errorf("attempt %d's error %q does not say it timed out", e.Attempt, e.Error)
			}
		}
		if s := ex.Stats(); s.Timeouts != 2 || s.Retries != 1 {
			t.Errorf("Stats = %+v; want Timeouts 2, Retries 1", s)
		}
	})
}

// TestPolicyPermanent: a Permanent error stops the Func's Retry at the
// first attempt, and its mark reaches the submitter: the Future's error
// and Lookup's Job.Err match execkit.ErrPermanent, with the task's text
// and type.
func TestPolicyPermanent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		ctx := context.Background()
		token := tokenFor(t, "refuse")
		_, err := refuse.Go(ctx, ex, token).Wait(ctx)
		checkPermanent(t, "Future", err, token)
		if n := runsOf(token); n != 1 {
			t.Errorf("the task ran %d times; want 1", n)
		}

		token = tokenFor(t, "refuse-enqueued")
		id, err := ex.Enqueue(ctx, refuse.Task(token))
		if err != nil {
			t.Fatal(err)
		}
		j := waitDone(t, ex, id)
		if j.State != StateFailure {
			t.Errorf("the enqueued job ended %s; want FAILURE", j.State)
		}
		checkPermanent(t, "Lookup", j.Err, token)
		if n := runsOf(token); n != 1 || j.Attempt != 1 {
			t.Errorf("the enqueued task ran %d times in %d attempts; want 1", n, j.Attempt)
		}
	})
}

func checkPermanent(t *testing.T, path string, err error, token string) {
	t.Helper()
	var (
		je *JobError
		re *execkit.RemoteError
	)
	if !errors.Is(err, execkit.ErrPermanent) || !errors.As(err, &je) || !errors.As(err, &re) ||
		je.Message != "no such record "+token || re.Type != "*errors.errorString" {
		t.Errorf("%s: %#v; want a *JobError saying %q, whose RemoteError has the task's type and matches ErrPermanent", path, err, "no such record "+token)
	}
}

// TestPolicyEnqueued: a job written by Enqueue, which no submitter waits
// for, gets the Func's retries all the same: they live in the job.
func TestPolicyEnqueued(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		ctx := context.Background()
		token := tokenFor(t, "enqueued")
		id, err := ex.Enqueue(ctx, failing.Task(token))
		if err != nil {
			t.Fatal(err)
		}
		j := waitDone(t, ex, id)
		if j.State != StateFailure {
			t.Errorf("the enqueued job ended %s; want FAILURE", j.State)
		}
		if n := runsOf(token); n != 3 || j.Attempt != 3 {
			t.Errorf("an enqueued task of a Func with Retry(2) that always fails ran %d times in %d attempts; want 3", n, j.Attempt)
		}
	})
}

// TestDeadlineInRow: the deadline of a call's ctx is written into its job.
// A job whose deadline passes before a worker takes it never runs and
// fails with an error matching context.DeadlineExceeded (the submitter's
// Future fails so at the deadline, without revoking the job); a job that
// runs in time gives the task a ctx with the caller's deadline.
func TestDeadlineInRow(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		const queue = "deadline"
		ctx := context.Background()
		sub := newExecutor(t, db, Queue(queue), SubmitOnly())
		token := tokenFor(t, "late")
		dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if _, err := deadlineOf.Go(dctx, sub, token).Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait without a worker = %v; want context.DeadlineExceeded", err)
		}
		jobs := queueJobs(t, sub, queue)
		if len(jobs) != 1 {
			t.Fatalf("%d job rows; want 1", len(jobs))
		}
		id := jobs[0].ID
		newExecutor(t, db, Queue(queue), WorkOnly())
		j := waitDone(t, sub, id)
		var je *JobError
		if j.State != StateFailure || !errors.Is(j.Err, context.DeadlineExceeded) || !errors.As(j.Err, &je) || !strings.Contains(je.Message, "not started") {
			t.Errorf("the late job: %s, %v; want FAILURE, not started, matching context.DeadlineExceeded", j.State, j.Err)
		}
		if n := runsOf(token); n != 0 {
			t.Errorf("the late job's task ran %d times; want 0", n)
		}

		token = tokenFor(t, "in-time")
		dl := time.Now().Add(time.Minute)
		dctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
		got, err := deadlineOf.Go(dctx, sub, token).Wait(ctx)
		if d := time.Duration(got - dl.UnixNano()).Abs(); err != nil || d > time.Millisecond {
			t.Errorf("the task's ctx deadline = %v, %v; want the caller's, %v (within 1ms)", time.Unix(0, got), err, dl)
		}

		// A deadline past what Unix nanoseconds hold (after 2262): its
		// UnixNano wrapped to the past, and the job failed at once, not
		// started. It runs, its ctx's deadline that of the job's attempt
		// (RescueAfter).
		token = tokenFor(t, "far")
		dctx, cancel = context.WithDeadline(ctx, time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC))
		defer cancel()
		got, err = deadlineOf.Go(dctx, sub, token).Wait(ctx)
		if err != nil || !time.Unix(0, got).After(time.Now()) || runsOf(token) != 1 {
			t.Errorf("a task whose caller's deadline is in 2500: %d run(s), its ctx deadline %v, %v; want it run once, with a deadline to come", runsOf(token), time.Unix(0, got).UTC(), err)
		}

		// A running job whose deadline passes ends on its worker, FAILURE
		// after one attempt: the submitter does not revoke it.
		const queue2 = "deadline-running"
		ex := newExecutor(t, db, Queue(queue2))
		dctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := waitCtx.Go(dctx, ex, t.TempDir()).Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait of a task waiting on its ctx = %v; want context.DeadlineExceeded", err)
		}
		jobs = finalJobs(t, ex, queue2)
		if len(jobs) != 1 {
			t.Fatalf("%d job rows; want 1", len(jobs))
		}
		if j, err := ex.Lookup(ctx, jobs[0].ID); err != nil || j.State != StateFailure || j.Attempt != 1 || !errors.Is(j.Err, context.DeadlineExceeded) {
			t.Errorf("the running job after its deadline: %s after %d attempt(s), %v, %v; want FAILURE after 1, matching context.DeadlineExceeded", j.State, j.Attempt, j.Err, err)
		}
	})
}

// TestNextRetry: a Func's Retry waits a random time up to its backoff
// doubled per retry and capped (full jitter); the executor's Retries
// waits its backoff doubled per retry. Rescues do not count as retries.
func TestNextRetry(t *testing.T) {
	w := &worker{}
	failed := func(n int, extra ...string) []rivertype.AttemptError {
		var errs []rivertype.AttemptError
		for i := range n {
			errs = append(errs, rivertype.AttemptError{Attempt: i + 1, Error: "failed"})
		}
		for _, e := range extra {
			errs = append(errs, rivertype.AttemptError{Error: e})
		}
		return errs
	}
	tests := []struct {
		name     string
		args     callArgs
		errs     []rivertype.AttemptError
		min, max time.Duration
	}{
		{"Retry, first", callArgs{FuncRetry: true, Backoff: 40 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}, nil, 0, 40 * time.Millisecond},
		{"Retry, second", callArgs{FuncRetry: true, Backoff: 40 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}, failed(1), 0, 80 * time.Millisecond},
		{"Retry, capped", callArgs{FuncRetry: true, Backoff: 40 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}, failed(5), 0, 100 * time.Millisecond},
		{"Retry, rescues not counted", callArgs{FuncRetry: true, Backoff: 40 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}, failed(0, rescuedText, interruptedText+"x"), 0, 40 * time.Millisecond},
		{"Retries, first", callArgs{Backoff: time.Second}, nil, time.Second, time.Second},
		{"Retries, third", callArgs{Backoff: time.Second}, failed(2), 4 * time.Second, 4 * time.Second},
		{"Retries, capped", callArgs{Backoff: time.Second}, failed(30), maxBackoff, maxBackoff},
		{"Retries, huge backoff, no overflow", callArgs{Backoff: 3 * time.Hour}, failed(25), maxBackoff, maxBackoff},
	}
	for _, tt := range tests {
		for range 200 {
			before := time.Now()
			next := w.NextRetry(&river.Job[callArgs]{JobRow: &rivertype.JobRow{Errors: tt.errs}, Args: tt.args})
			slack := time.Since(before)
			if d := next.Sub(before); d < tt.min || d > tt.max+slack {
				t.Fatalf("%s: NextRetry is %v after now; want between %v and %v", tt.name, d, tt.min, tt.max)
			}
		}
	}
}

// TestTimedOutBefore: an attempt reads the timeouts of the attempts
// before it from the output the last one that ended recorded on the row
// (rows written by builds before this one included, which recorded it the
// same way), not from the texts of their errors: an error that begins
// with ErrTimeLimit's text may be a nested call's limit, returned as is,
// and counted as the Func's own.
func TestTimedOutBefore(t *testing.T) {
	limitText := execkit.ErrTimeLimit.Error() + `: "nested" ran past its 20ms limit`
	tests := []struct {
		name     string
		metadata string
		errs     []string
		want     int
	}{
		{"first attempt", "", nil, 0},
		{"no output", `{}`, []string{rescuedText}, 0},
		{"two recorded", `{"output":{"error":"x","retried":2,"timed_out":2}}`, []string{"x", "x"}, 2},
		{"a nested call's limit", `{"output":{"error":` + fmt.Sprintf("%q", limitText) + `,"retried":1}}`, []string{limitText}, 0},
		{"then rescued", `{"output":{"error":"x","retried":1,"timed_out":1},"other":true}`, []string{"x", rescuedText}, 1},
		{"malformed", `{"output":"`, []string{"x"}, 0},
	}
	for _, tt := range tests {
		row := &rivertype.JobRow{Metadata: []byte(tt.metadata)}
		for i, e := range tt.errs {
			row.Errors = append(row.Errors, rivertype.AttemptError{Attempt: i + 1, Error: e})
		}
		if got := timedOutBefore(row); got != tt.want {
			t.Errorf("%s: timedOutBefore = %d; want %d", tt.name, got, tt.want)
		}
	}
}

// TestRetryLargest: a Func's Retry past what River counts (its attempts are
// a smallint on PostgreSQL) retries as far as River can: the job's
// MaxAttempts overflowed, and the call failed after its first attempt.
func TestRetryLargest(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db, Queue("retry-largest"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		token := tokenFor(t, "forever")
		if got, err := thirdTimeForever.Go(ctx, ex, token).Wait(ctx); err != nil || got != 3 || runsOf(token) != 3 {
			t.Errorf("a Func under Retry(math.MaxInt) failing twice: %d, %v after %d runs; want 3, nil after 3", got, err, runsOf(token))
		}
	})
}

// nilErr's methods dereference their receiver: a nil *nilErr returned as
// an error (the typed nil that is not == nil) panics in Error and Unwrap.
type nilErr struct{ err error }

func (e *nilErr) Error() string { return e.err.Error() }
func (e *nilErr) Unwrap() error { return e.err }

// typedNil returns a typed nil error, without retries.
var typedNil = execkit.Register("riverexec_test.policy.typednil", func(_ context.Context, token string) (int, error) {
	countRun(token)
	var e *nilErr
	return 0, e
}, execkit.Retry(0))

// TestTypedNilError: a task whose error's methods panic (a typed nil) fails
// once, with the text fmt prints for it: the worker's reading of the error
// panicked, River recovered that as a failed attempt and ran the job again
// (four runs under Retry(0)), and the error said "runtime error: invalid
// memory address or nil pointer dereference".
func TestTypedNilError(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db, Queue("typed-nil"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		token := tokenFor(t, "typed-nil")
		_, err := typedNil.Go(ctx, ex, token).Wait(ctx)
		var re *execkit.RemoteError
		if !errors.As(err, &re) || re.Message != "<nil>" || re.Type != "*riverexec.nilErr" || runsOf(token) != 1 {
			t.Errorf("a task returning a typed nil error: %v (%#v) after %d runs; want a RemoteError of *riverexec.nilErr saying <nil>, after 1 run", err, re, runsOf(token))
		}
	})
}

// hugeFailure fails with an error of n bytes of text matching errHuge, or
// panics with a value of -n bytes.
var (
	errHuge     = errors.New("riverexec_test: huge")
	hugeFailure = execkit.Register("riverexec_test.policy.huge", func(_ context.Context, n int) (int, error) {
		if n < 0 {
			panic(strings.Repeat("p", -n))
		}
		return 0, fmt.Errorf("%w: %s", errHuge, strings.Repeat("e", n))
	}, execkit.Errors(errHuge), execkit.Retry(0))
)

// TestHugeErrorText: a job that fails with an error (or a panic) whose text
// is over what River records on the row (32 MB) is FAILURE, with its
// identity and its text cut in the middle: the record failed unnoticed and
// the job read as REVOKED, its error lost.
func TestHugeErrorText(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db, Queue("huge-errors"))
		ctx := context.Background()
		for _, n := range []int{33 << 20, -(33 << 20)} {
			id, err := ex.Enqueue(ctx, hugeFailure.Task(n))
			if err != nil {
				t.Fatal(err)
			}
			j := waitDone(t, ex, id)
			var pe *execkit.PanicError
			if j.State != StateFailure || len(j.Err.Error()) > 2<<20 || !strings.Contains(j.Err.Error(), "bytes cut") ||
				(n > 0) != errors.Is(j.Err, errHuge) || (n < 0) != errors.As(j.Err, &pe) {
				t.Errorf("a job failing with %d bytes of text: %s, %.200s (%d bytes); want FAILURE, its text cut to 1 MiB or so, its identity kept", abs(n), j.State, j.Err, len(fmt.Sprint(j.Err)))
			}
		}
	})
}

func abs(n int) int { return max(n, -n) }
