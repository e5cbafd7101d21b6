package riverexec

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
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/fireforget"
	"github.com/execkit/execkit/pool"
	"github.com/execkit/execkit/subprocess"
)

// This module is the one that can import all six executors, so the test
// that one registered function with a policy behaves the same, as the table
// of guarantees says, on each of them lives here.

const (
	tableLimit   = 100 * time.Millisecond // the TimeLimit of tableFunc
	tableBackoff = time.Millisecond       // Retry's first backoff: the second is at most 2ms
	tableGrace   = 100 * time.Millisecond // the subprocess pool's CancelGrace
	tableGuard   = 300 * time.Millisecond // how long a busy call loops when nothing stops it
	// tableMargin is what a call may take beyond what its policy takes, on a
	// loaded 2-core machine under the race detector (a River job's round
	// trip through SQLite, a worker's respawn).
	tableMargin = 5 * time.Second
)

// A tableMode is what a call of tableFunc does on each attempt.
type tableMode int

const (
	alwaysFail    tableMode = iota // fail with errTable
	failTwice                      // fail with errTable on attempts 1 and 2, then return the ID
	overrun                        // wait on the ctx until the time limit ends it
	permanentFail                  // fail with an error wrapping execkit.ErrPermanent
	busy                           // loop for Guard, never looking at the ctx
	plain                          // return the ID
)

// tableCall is the argument of tableFunc: the attempts are counted in files
// under Dir, which a worker process sees too.
type tableCall struct {
	Dir  string
	ID   int
	Mode tableMode
}

var errTable = errors.New("riverexec_test: the table's task failed")

// tableFunc is the one function of the table: a 100ms time limit and 2
// retries, its sentinel declared so that it crosses process boundaries.
// Besides its attempts, it counts those that returned ("ended.ID") and,
// of them, those that ran past the limit or whose ctx had ended by then
// ("overran.ID").
var tableFunc = execkit.Register("riverexec_test.table", func(ctx context.Context, c tableCall) (_ int, err error) {
	n, err := appendLine(c.Dir, fmt.Sprintf("attempts.%d", c.ID))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	defer func() {
		if ctx.Err() != nil || time.Since(start) >= tableLimit {
			_, _ = appendLine(c.Dir, fmt.Sprintf("overran.%d", c.ID))
		}
		_, _ = appendLine(c.Dir, fmt.Sprintf("ended.%d", c.ID))
	}()
	switch c.Mode {
	case alwaysFail:
		return 0, fmt.Errorf("call %d, attempt %d: %w", c.ID, n, errTable)
	case failTwice:
		if n <= 2 {
			return 0, fmt.Errorf("call %d, attempt %d: %w", c.ID, n, errTable)
		}
	case overrun:
		<-ctx.Done()
		return 0, ctx.Err()
	case permanentFail:
		return 0, fmt.Errorf("%w: call %d, attempt %d", execkit.ErrPermanent, c.ID, n)
	case busy:
		for end := time.Now().Add(tableGuard); time.Now().Before(end); {
		}
		_, err := appendLine(c.Dir, fmt.Sprintf("finished.%d", c.ID))
		return c.ID, err
	}
	return c.ID, nil
}, execkit.TimeLimit(tableLimit), execkit.Retry(2, tableBackoff), execkit.Errors(errTable))

// appendLine appends a line to dir/name and returns how many lines the file
// holds then: the attempt's number, since a retry starts once the attempt
// before it returned or was given up on (only a busy attempt, given up on
// but still running, overlaps the next).
func appendLine(dir, name string) (int, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	_, err = f.WriteString("x\n")
	if err := errors.Join(err, f.Close()); err != nil {
		return 0, err
	}
	return lineCount(dir, name), nil
}

func lineCount(dir, name string) int {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return strings.Count(string(b), "\n")
}

// The table of guarantees (README's "Task policies", package execkit's
// doc), as data: what a user sees of each policy on each kind of executor.
// Every executor counts Stats.Retries (one per repeated attempt) and
// Stats.Timeouts (one per attempt past its limit).
type guarantee struct {
	// timeLimit is how the time limit stops an attempt:
	//	cooperative: the ctx is cancelled; the call returns when fn does
	//	hard: the ctx is cancelled; a worker whose fn ignores it is killed
	//	      after its grace and respawned
	timeLimit string
	// retry is where an attempt is repeated.
	retry string
	// limitFrom is when an attempt's limit starts:
	//	start: when the function starts running, wherever it runs; waiting
	//	      for a worker (a queue, a respawn, River's fetch) does not
	//	      count toward it
	limitFrom string
}

var guarantees = map[string]guarantee{
	"Inline, pool, errgroup, fireforget": {timeLimit: "cooperative", retry: "in place", limitFrom: "start"},
	"subprocess":                         {timeLimit: "hard", retry: "from the pool's side, a new call each attempt", limitFrom: "start"},
	"riverexec":                          {timeLimit: "cooperative", retry: "on the worker, as the job's River attempts", limitFrom: "start"},
}

// tableExecutor makes a fresh executor for one case and says how to read
// its counters; the executor is shut down when the test ends.
type tableExecutor struct {
	name   string
	column string // of guarantees
	new    func(t *testing.T) (execkit.Executor, func() execkit.Stats)
}

// shutdownAtEnd shuts ex down when t ends; failFast executors return the
// group's error, which the case has checked already.
func shutdownAtEnd(t *testing.T, ex execkit.Executor, failFast bool) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := ex.Shutdown(ctx); err != nil && (!failFast || err == ctx.Err()) {
			t.Errorf("Shutdown = %v; want nil", err)
		}
	})
}

func tableExecutors(db *testDB) []tableExecutor {
	inProcess := "Inline, pool, errgroup, fireforget"
	queue := 0
	return []tableExecutor{
		{"Inline", inProcess, func(t *testing.T) (execkit.Executor, func() execkit.Stats) {
			ex := &execkit.Inline{}
			shutdownAtEnd(t, ex, false)
			return ex, ex.Stats
		}},
		{"fireforget", inProcess, func(t *testing.T) (execkit.Executor, func() execkit.Stats) {
			ex, err := fireforget.New()
			if err != nil {
				t.Fatal(err)
			}
			shutdownAtEnd(t, ex, false)
			return ex, ex.Stats
		}},
		{"pool", inProcess, func(t *testing.T) (execkit.Executor, func() execkit.Stats) {
			ex, err := pool.New(2)
			if err != nil {
				t.Fatal(err)
			}
			shutdownAtEnd(t, ex, false)
			return ex, func() execkit.Stats { return ex.Stats().Stats }
		}},
		{"errgroup", inProcess, func(t *testing.T) (execkit.Executor, func() execkit.Stats) {
			ex, err := errgroup.New()
			if err != nil {
				t.Fatal(err)
			}
			shutdownAtEnd(t, ex, true)
			return ex, func() execkit.Stats { return ex.Stats().Stats }
		}},
		{"subprocess", "subprocess", func(t *testing.T) (execkit.Executor, func() execkit.Stats) {
			// Under -race a process sleeps a second at exit; workers need not.
			t.Setenv("GORACE", strings.TrimSpace("atexit_sleep_ms=0 "+os.Getenv("GORACE")))
			// One worker: each retry after a kill waits for the respawn,
			// which takes longer than the limit on a loaded machine, and
			// must not count toward it (the limit runs from the start).
			ex, err := subprocess.New(1, subprocess.CancelGrace(tableGrace))
			if err != nil {
				t.Fatal(err)
			}
			shutdownAtEnd(t, ex, false)
			return ex, ex.Stats
		}},
		{"riverexec", "riverexec", func(t *testing.T) (execkit.Executor, func() execkit.Stats) {
			queue++
			ex := newExecutor(t, db, Queue(fmt.Sprintf("table%d", queue)))
			return ex, ex.Stats
		}},
	}
}

// TestPolicyTable: the same registered function, with a 100ms time limit
// and 2 retries, behaves as the table of guarantees says on Inline,
// fireforget, pool, errgroup, subprocess and riverexec (on SQLite, and on
// PostgreSQL when EXECKIT_PG_URL is set). Only what a user sees is
// checked: the runs the task counts itself, the error's identity, the
// Stats of the executor the call went through, and the time it took.
func TestPolicyTable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		for _, te := range tableExecutors(db) {
			g, ok := guarantees[te.column]
			if !ok {
				t.Fatalf("executor %s: no column %q in the table", te.name, te.column)
			}
			t.Run("executor="+te.name, func(t *testing.T) {
				for _, tc := range tableCases {
					t.Run("case="+tc.name, func(t *testing.T) {
						ex, stats := te.new(t)
						dir := t.TempDir()
						before := stats()
						start := time.Now()
						v, err := tableFunc.Go(context.Background(), ex, tableCall{Dir: dir, ID: 1, Mode: tc.mode}).Wait(testCtx(t))
						r := tableRun{t: t, g: g, dir: dir, v: v, err: err, took: time.Since(start)}
						after := stats()
						r.checkLimitFrom(after.Timeouts - before.Timeouts)
						tc.check(&r)
						after = stats()
						if d := after.Retries - before.Retries; d != r.retries {
							t.Errorf("Stats().Retries grew by %d; want %d", d, r.retries)
						}
						if d := after.Timeouts - before.Timeouts; d != r.timeouts {
							t.Errorf("Stats().Timeouts grew by %d; want %d", d, r.timeouts)
						}
						if r.next {
							checkNext(t, ex, dir)
						}
					})
				}
			})
		}
	})
}

// testCtx bounds a call's Wait, so that a broken executor fails the test
// rather than hanging it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// tableRun is one call's outcome, and what its check expects of the
// executor's Stats.
type tableRun struct {
	t    *testing.T
	g    guarantee
	dir  string
	v    int
	err  error
	took time.Duration

	retries, timeouts int64 // the Stats deltas the case expects
	next              bool  // check that the executor serves a next call
}

func (r *tableRun) attempts() int { return lineCount(r.dir, "attempts.1") }

// checkLimitFrom tells the timeouts of attempts that ran past their limit
// (the function saw its ctx end, or was killed running) from those of
// attempts that timed out before they got that far, still waiting for a
// worker: with every limit timed from the start (limitFrom), there are
// none, however loaded the machine.
func (r *tableRun) checkLimitFrom(timeouts int64) {
	r.t.Helper()
	if r.g.limitFrom != "start" {
		r.t.Fatalf("no expectation for a limit timed from %q", r.g.limitFrom)
	}
	started := lineCount(r.dir, "attempts.1")
	killed := started - lineCount(r.dir, "ended.1")
	ranPast := int64(lineCount(r.dir, "overran.1") + killed)
	var msg string
	switch {
	case timeouts > ranPast:
		msg = fmt.Sprintf("%d of the call's %d timeouts were of attempts that never ran past the limit, waiting for a worker (%d started, %d ran past it or were killed, %v in all)", timeouts-ranPast, timeouts, started, ranPast, r.took)
	case timeouts < ranPast:
		msg = fmt.Sprintf("%d attempts ran past the limit or were killed, and the executor counted %d timeouts (%v in all)", ranPast, timeouts, r.took)
	default:
		return
	}
	r.t.Fatalf("%s; want one timeout per attempt that ran past its limit, timed from its start", msg)
}

var tableCases = []struct {
	name  string
	mode  tableMode
	check func(r *tableRun)
}{
	{"always fails", alwaysFail, func(r *tableRun) {
		// Retry(2): three runs, and the call's error is the last one's.
		if !errors.Is(r.err, errTable) || !strings.Contains(fmt.Sprint(r.err), "attempt 3") {
			r.t.Errorf("Wait = %d, %v; want the third attempt's error, wrapping errTable", r.v, r.err)
		}
		if n := r.attempts(); n != 3 {
			r.t.Errorf("the function ran %d times; want 3", n)
		}
		r.retries = 2
	}},
	{"fails twice", failTwice, func(r *tableRun) {
		if r.v != 1 || r.err != nil {
			r.t.Errorf("Wait = %d, %v; want 1, nil (the third attempt's result)", r.v, r.err)
		}
		if n := r.attempts(); n != 3 {
			r.t.Errorf("the function ran %d times; want 3", n)
		}
		r.retries = 2
	}},
	{"overruns cooperatively", overrun, func(r *tableRun) {
		// Every attempt waits for its ctx, which ends at the limit: three
		// timeouts, each retried but the last.
		if !errors.Is(r.err, execkit.ErrTimeLimit) || !errors.Is(r.err, context.DeadlineExceeded) {
			r.t.Errorf("Wait = %d, %v; want an error wrapping execkit.ErrTimeLimit and context.DeadlineExceeded", r.v, r.err)
		}
		if n := r.attempts(); n != 3 {
			r.t.Errorf("the function ran %d times; want 3", n)
		}
		least, most := 3*tableLimit, 3*tableLimit+3*tableBackoff+tableMargin
		if r.took < least || r.took > most {
			r.t.Errorf("the call took %v; want between %v and %v (3 attempts of %v)", r.took, least, most, tableLimit)
		}
		r.retries, r.timeouts = 2, 3
	}},
	{"permanent error", permanentFail, func(r *tableRun) {
		if !errors.Is(r.err, execkit.ErrPermanent) {
			r.t.Errorf("Wait = %d, %v; want an error wrapping execkit.ErrPermanent", r.v, r.err)
		}
		if n := r.attempts(); n != 1 {
			r.t.Errorf("the function ran %d times; want 1 (not retried)", n)
		}
	}},
	{"ignores its ctx", busy, func(r *tableRun) {
		// Each attempt loops for tableGuard, past its limit, never looking
		// at its ctx; each fails with ErrTimeLimit, even after returning a
		// result, and is retried.
		if !errors.Is(r.err, execkit.ErrTimeLimit) {
			r.t.Errorf("Wait = %d, %v; want an error wrapping execkit.ErrTimeLimit", r.v, r.err)
		}
		r.retries, r.timeouts, r.next = 2, 3, true
		switch r.g.timeLimit {
		case "hard": // each attempt killed at its limit plus the grace
			if n := r.attempts(); n != 3 {
				r.t.Errorf("the function ran %d times; want 3", n)
			}
			if n := lineCount(r.dir, "finished.1"); n != 0 {
				r.t.Errorf("the busy function finished %d times; want 0 (killed at its limit plus grace)", n)
			}
			least, most := 3*tableLimit, 3*(tableLimit+tableGrace)+tableMargin
			if r.took < least || r.took > most {
				r.t.Errorf("the call took %v; want between %v and %v (3 attempts killed after %v + %v)", r.took, least, most, tableLimit, tableGrace)
			}
		case "cooperative": // the call returns when fn does
			if n, f := r.attempts(), lineCount(r.dir, "finished.1"); n != 3 || f != 3 {
				r.t.Errorf("the function ran %d times and finished %d; want 3 and 3 (nothing stops it)", n, f)
			}
			least, most := 3*tableGuard, 3*tableGuard+tableMargin
			if r.took < least || r.took > most {
				r.t.Errorf("the call took %v; want between %v and %v (3 attempts of %v)", r.took, least, most, tableGuard)
			}
		default:
			r.t.Fatalf("no expectation for a %q time limit", r.g.timeLimit)
		}
	}},
}

// checkNext: after a call that overran its limit the executor serves the
// next one (on subprocess, from a respawned worker, whose start does not
// count toward the call's limit).
func checkNext(t *testing.T, ex execkit.Executor, dir string) {
	t.Helper()
	if _, ok := ex.(*errgroup.Group); ok {
		return // the group failed: it admits nothing more, as its doc says
	}
	v, err := tableFunc.Go(context.Background(), ex, tableCall{Dir: dir, ID: 2, Mode: plain}).Wait(testCtx(t))
	if v != 2 || err != nil {
		t.Errorf("the next call: Wait = %d, %v; want 2, nil", v, err)
	}
}
