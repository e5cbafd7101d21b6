package riverexec

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

func TestThousandResults(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		ctx := context.Background()
		const n = 1000
		futures := make([]*execkit.Future[int], n)
		for i := range futures {
			futures[i] = double.Go(ctx, ex, i)
		}
		for i, f := range futures {
			if got, err := f.Wait(ctx); err != nil || got != 2*i {
				t.Fatalf("task %d: Wait = %d, %v; want %d, nil", i, got, err, 2*i)
			}
		}
		if err := ex.Shutdown(ctx); err != nil { // the counters settle once the tasks' goroutines end
			t.Fatal(err)
		}
		if s := ex.Stats(); s.Submitted != n || s.Succeeded != n || s.Queued != 0 || s.Running != 0 {
			t.Errorf("Stats = %+v; want %d submitted and succeeded, none queued or running", s, n)
		}
	})
}

func TestMapKeepsOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		in := []int{5, 3, 8, 1}
		got, err := double.Map(context.Background(), ex, in)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v != 2*in[i] {
				t.Errorf("Map result %d = %d; want %d", i, v, 2*in[i])
			}
		}
	})
}

func TestFailures(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		ctx := context.Background()
		tests := []struct {
			name    string
			f       *execkit.Future[int]
			message string
			panic   bool
		}{
			{"error", fail.Go(ctx, ex, "card declined"), "card declined", false},
			{"panic", boom.Go(ctx, ex, "index out of range"), "index out of range", true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := tt.f.Wait(ctx)
				var je *JobError
				if !errors.As(err, &je) {
					t.Fatalf("Wait error = %v (%T); want a *JobError", err, err)
				}
				if !strings.Contains(err.Error(), tt.message) || je.Attempts != 1 {
					t.Errorf("error %q after %d attempts; want the task's message %q after 1", err, je.Attempts, tt.message)
				}
				var pe *execkit.PanicError
				if got := errors.As(err, &pe); got != tt.panic {
					t.Fatalf("errors.As(err, *PanicError) = %v; want %v", got, tt.panic)
				}
				if tt.panic && !strings.Contains(string(pe.Stack), "riverexec") {
					t.Errorf("panic stack does not show the worker's code:\n%s", pe.Stack)
				}
			})
		}
	})
}

func TestRetries(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		tests := []struct {
			name    string
			opts    []Option
			wantErr bool
		}{
			{"no retry by default", nil, true},
			{"one retry", []Option{Retries(1, 10*time.Millisecond)}, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ex := newExecutor(t, db, tt.opts...)
				ctx := context.Background()
				token := tokenFor(t, "flaky") // unique per run, so -count=N holds
				got, err := flaky.Go(ctx, ex, token).Wait(ctx)
				if tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), "first attempt fails") {
						t.Errorf("Wait = %q, %v; want the first attempt's error", got, err)
					}
					return
				}
				if err != nil || got != "ok "+token {
					t.Errorf("Wait = %q, %v; want %q, nil", got, err, "ok "+token)
				}
			})
		}
	})
}

func TestStates(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		// A submitter without workers, then a worker on the same schema.
		ex := newExecutor(t, db, SubmitOnly())
		ctx := context.Background()

		if j, err := ex.Lookup(ctx, 1<<40); err != nil || j.State != StateUnknown {
			t.Errorf("Lookup(never issued) = %+v, %v; want UNKNOWN", j, err)
		}
		if err := ex.Cancel(ctx, 1<<40); !errors.Is(err, ErrUnknownJob) {
			t.Errorf("Cancel(never issued) = %v; want ErrUnknownJob", err)
		}
		ok, err := ex.Enqueue(ctx, double.Task(21))
		if err != nil {
			t.Fatal(err)
		}
		failed, _ := ex.Enqueue(ctx, fail.Task("out of stock"))
		revoked, _ := ex.Enqueue(ctx, double.Task(1))
		dir := t.TempDir()
		running, _ := ex.Enqueue(ctx, waitCtx.Task(dir))
		state := func(id int64) State {
			t.Helper()
			j, err := ex.Lookup(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return j.State
		}
		if got := state(ok); got != StatePending {
			t.Errorf("state before any worker = %s; want PENDING", got)
		}
		if err := ex.Cancel(ctx, revoked); err != nil {
			t.Fatal(err)
		}

		w, err := db.New(WorkOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := w.Shutdown(ctx); err != nil {
				t.Errorf("worker Shutdown = %v", err)
			}
		}()
		waitFor(t, "the blocking task to start", func() bool { return state(running) == StateStarted })
		waitFor(t, "the tasks to finish", func() bool { return state(ok) == StateSuccess && state(failed) == StateFailure })

		j, _ := ex.Lookup(ctx, ok)
		var v int
		if err := double.Codec().Unmarshal(j.Result, &v); err != nil || v != 42 || j.Func != double.Name() {
			t.Errorf("Lookup(success) = %+v, result %d, %v; want %s with 42", j, v, err, double.Name())
		}
		j, _ = ex.Lookup(ctx, failed)
		if !strings.Contains(errString(j.Err), "out of stock") {
			t.Errorf("Lookup(failure).Err = %v; want the task's message", j.Err)
		}
		if j, _ := ex.Lookup(ctx, revoked); j.State != StateRevoked || !errors.Is(j.Err, ErrRevoked) {
			t.Errorf("Lookup(revoked before running) = %+v; want REVOKED, ErrRevoked", j)
		}
		if err := ex.Cancel(ctx, running); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the running task to be revoked", func() bool { return state(running) == StateRevoked })
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestFutureCancelRevokes: cancelling the Future of a running task cancels
// the task's context on its worker and leaves the job REVOKED, with retries
// too (River v0.30 put a cancelled job whose task failed with a retry due
// back to "available", and riverexec repeated the cancel).
func TestFutureCancelRevokes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		for _, retries := range []int{0, 3} {
			t.Run(fmt.Sprintf("retries=%d", retries), func(t *testing.T) {
				queue := fmt.Sprintf("retries%d", retries)
				ex := newExecutor(t, db, Retries(retries, time.Millisecond), Queue(queue))
				ctx := context.Background()
				dir := t.TempDir()
				f := waitCtx.Go(ctx, ex, dir)
				waitFor(t, "the task to start", func() bool {
					_, err := os.Stat(filepath.Join(dir, "started"))
					return err == nil
				})
				f.Cancel()
				if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("Wait after Cancel = %v; want context.Canceled", err)
				}
				waitFor(t, "the job to end REVOKED", func() bool {
					res, err := ex.client.JobList(ctx, river.NewJobListParams().Queues(queue))
					if err != nil || len(res.Jobs) != 1 {
						t.Fatalf("JobList = %v, %v; want one job", res, err)
					}
					j := jobOf(res.Jobs[0])
					if j.State == StatePending || j.State == StateRetry || j.State == StateSuccess || j.State == StateFailure {
						t.Fatalf("job state %s after its Future was cancelled; want REVOKED", j.State)
					}
					return j.State == StateRevoked
				})
			})
		}
	})
}

// TestInsertWakesWorkers: tasks submitted one right after another start
// at once, although River sends at most one insert notification per queue
// per FetchCooldown and the workers' poll is an hour away here: the
// inserter notifies after every batch.
func TestInsertWakesWorkers(t *testing.T) {
	ex := newExecutor(t, newDB(t, "postgres"), fetchPoll(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 20 {
		if got, err := double.Go(ctx, ex, i).Wait(ctx); err != nil || got != 2*i {
			t.Fatalf("task %d: Wait = %d, %v; want %d, nil", i, got, err, 2*i)
		}
	}
}

func TestSubmitRefuses(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		ctx := context.Background()
		w, err := db.New(WorkOnly(), Queue("other"))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Shutdown(ctx)
		tests := []struct {
			name string
			ex   *Executor
			task execkit.Task
			want error
		}{
			{"nil", ex, nil, execkit.ErrNilTask},
			{"closure", ex, execkit.TaskFunc(func(context.Context) error { return nil }), execkit.ErrNotPortable},
			{"work only", w, double.Task(1), ErrWorkOnly},
		}
		for _, tt := range tests {
			if err := tt.ex.Submit(ctx, tt.task); !errors.Is(err, tt.want) {
				t.Errorf("%s: Submit = %v; want %v", tt.name, err, tt.want)
			}
		}
		if _, err := ex.Enqueue(ctx, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, execkit.ErrNotPortable) {
			t.Errorf("Enqueue(closure) = %v; want ErrNotPortable", err)
		}
	})
}

// TestNoTables: NewSQLite on a file without River's tables says how to
// make them.
func TestNoTables(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ex, err := NewSQLite(context.Background(), db)
	if err == nil || !strings.Contains(err.Error(), "OpenSQLite") {
		t.Errorf("NewSQLite(empty file) = %v, %v; want an error naming OpenSQLite", ex, err)
	}
}

func TestBadOptions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		tests := []struct {
			name string
			opts []Option
			want string
		}{
			{"both modes off", []Option{SubmitOnly(), WorkOnly()}, "nothing to do"},
			{"no workers", []Option{Workers(0)}, "Workers(0)"},
			{"empty queue", []Option{Queue("")}, "empty name"},
			{"negative retries", []Option{Retries(-1, time.Second)}, "Retries(-1"},
			{"zero backoff", []Option{Retries(1, 0)}, "positive backoff"},
			{"negative rescue", []Option{RescueAfter(-time.Second)}, "RescueAfter"},
			{"negative limit", []Option{Limit(-1)}, "Limit(-1)"},
			{"zero limit", []Option{Limit(0)}, "Limit(0)"},
			{"zero rescue", []Option{RescueAfter(0)}, "RescueAfter(0s)"},
			{"retries past River's count", []Option{Retries(32764, time.Second)}, "Retries(32764"},
			{"largest retries", []Option{Retries(math.MaxInt, time.Second)}, "Retries(9223372036854775807"},
			{"nil handler", []Option{OnError(nil)}, "OnError(nil)"},
			{"zero argument size", []Option{MaxArgSize(0)}, "MaxArgSize(0)"},
			{"argument size past 16 MiB", []Option{MaxArgSize(16<<20 + 1)}, "MaxArgSize(16777217)"},
			{"nil option", []Option{Workers(2), nil}, "nil Option"},
		}
		if db.driver == "postgres" {
			tests = append(tests, struct {
				name string
				opts []Option
				want string
			}{"no tables", []Option{Schema("riverexec_missing")}, "Migrate"})
		} else {
			tests = append(tests, struct {
				name string
				opts []Option
				want string
			}{"schema", []Option{Schema("other")}, "PostgreSQL's"})
		}
		for _, tt := range tests {
			ex, err := db.New(tt.opts...)
			if err == nil || !strings.HasPrefix(err.Error(), "riverexec: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: New error = %v; want one starting riverexec: and mentioning %q", tt.name, err, tt.want)
			}
			if ex != nil {
				t.Errorf("%s: New returned an executor with its error", tt.name)
			}
		}
	})
}

// begin starts a transaction on db: a pgx.Tx or a *sql.Tx.
func (db *testDB) begin(t *testing.T) (tx any, commit, rollback func() error) {
	t.Helper()
	ctx := context.Background()
	if db.driver == "sqlite" {
		tx, err := db.sqlite.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tx, tx.Commit, tx.Rollback
	}
	ptx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ptx, func() error { return ptx.Commit(ctx) }, func() error { return ptx.Rollback(ctx) }
}

// TestEnqueueTx: a job enqueued in a transaction that rolls back does not
// exist; one whose transaction commits runs and has its result; a
// transaction of the other database's type is refused.
func TestEnqueueTx(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		ctx := context.Background()

		tx, _, rollback := db.begin(t)
		if _, err := ex.EnqueueTx(ctx, tx, double.Task(1)); err != nil {
			t.Fatal(err)
		}
		if err := rollback(); err != nil {
			t.Fatal(err)
		}
		if n := db.count(t, "river_job", ""); n != 0 {
			t.Fatalf("%d jobs after the rollback; want 0", n)
		}

		tx, commit, _ := db.begin(t)
		id, err := ex.EnqueueTx(ctx, tx, double.Task(21))
		if err != nil {
			t.Fatal(err)
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		j := waitDone(t, ex, id)
		var got int
		if err := double.Codec().Unmarshal(j.Result, &got); err != nil || j.State != StateSuccess || got != 42 {
			t.Errorf("committed job = %+v, result %d, %v; want SUCCESS with 42", j, got, err)
		}

		for _, wrong := range []any{nil, "a string", struct{}{}} {
			if _, err := ex.EnqueueTx(ctx, wrong, double.Task(1)); !errors.Is(err, ErrTxType) {
				t.Errorf("EnqueueTx(%T) = %v; want ErrTxType", wrong, err)
			}
		}
		// Nil transactions of either backend's type: a nil *pgxpool.Tx
		// satisfies pgx.Tx, and its methods would panic.
		for _, nilTx := range []any{(*pgxpool.Tx)(nil), (*sql.Tx)(nil)} {
			_, err := ex.EnqueueTx(ctx, nilTx, double.Task(1))
			if !errors.Is(err, ErrTxType) || !strings.Contains(err.Error(), "nil transaction") {
				t.Errorf("EnqueueTx(%T(nil)) = %v; want ErrTxType, saying the transaction is nil", nilTx, err)
			}
		}
		if _, err := ex.EnqueueTx(ctx, tx, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, execkit.ErrNotPortable) {
			t.Errorf("EnqueueTx(closure) = %v; want ErrNotPortable", err)
		}
	})
}

var (
	// attempts counts the calls of reject per token.
	attempts sync.Map
	// reject fails: permanently when its token says so.
	reject = execkit.Register("riverexec_test.reject", func(_ context.Context, token string) (int, error) {
		n, _ := attempts.LoadOrStore(token, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		err := fmt.Errorf("no such record %s", token)
		if strings.HasPrefix(token, "permanent") {
			return 0, Permanent(err)
		}
		return 0, err
	})
)

// TestPermanent: an error marked Permanent fails the job at its first
// attempt although Retries allows more; an unmarked one uses the retries.
func TestPermanent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db, Retries(2, time.Millisecond))
		ctx := context.Background()
		for _, tt := range []struct {
			kind     string
			attempts int
		}{{"permanent", 1}, {"retried", 3}} {
			token := tokenFor(t, tt.kind) // unique per run, so -count=N holds
			_, err := reject.Go(ctx, ex, token).Wait(ctx)
			var je *JobError
			if !errors.As(err, &je) || je.Attempts != tt.attempts || je.Message != "no such record "+token {
				t.Errorf("%s: Wait = %v; want a *JobError after %d attempt(s) with the task's own message", tt.kind, err, tt.attempts)
			}
			if n, _ := attempts.Load(token); n == nil || int(n.(*atomic.Int32).Load()) != tt.attempts {
				t.Errorf("%s: the task ran %v times; want %d", tt.kind, n, tt.attempts)
			}
		}
		if Permanent(nil) != nil {
			t.Error("Permanent(nil) != nil")
		}
	})
}

// TestIncompatibleJob: a worker refuses, with an error naming both sides,
// a job of another job format (one queued by an older build has none) or
// from a submitter with another registry, instead of decoding it.
func TestIncompatibleJob(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		ctx := context.Background()
		payload, err := double.Codec().Marshal(21)
		if err != nil {
			t.Fatal(err)
		}
		reg := driver.RegistryHash()
		tests := []struct {
			name     string
			format   int
			registry string
			want     []string
		}{
			{"older build", 0, "", []string{"job format 0", "registry (none)", fmt.Sprintf("reads format %d", jobFormat), reg}},
			{"newer format", jobFormat + 1, reg, []string{fmt.Sprintf("job format %d", jobFormat+1), fmt.Sprintf("reads format %d", jobFormat)}},
			{"other registry", jobFormat, "0123456789abcdef", []string{"registry 0123456789abcdef", "has registry " + reg}},
			{"this build", jobFormat, reg, nil},
		}
		for _, tt := range tests {
			args := callArgs{Func: double.Name(), Payload: payload, Format: tt.format, Registry: tt.registry}
			res, err := ex.client.Insert(ctx, args, ex.opts)
			if err != nil {
				t.Fatal(err)
			}
			var j Job
			waitFor(t, tt.name+" to finish", func() bool {
				if j, err = ex.Lookup(ctx, res.Job.ID); err != nil {
					t.Fatal(err)
				}
				return j.State == StateSuccess || j.State == StateFailure
			})
			if tt.want == nil {
				if j.State != StateSuccess {
					t.Errorf("%s: %s, %v; want SUCCESS", tt.name, j.State, j.Err)
				}
				continue
			}
			if j.State != StateFailure || !errors.Is(j.Err, ErrIncompatible) {
				t.Fatalf("%s: %s, %v; want FAILURE wrapping ErrIncompatible", tt.name, j.State, j.Err)
			}
			for _, w := range tt.want {
				if !strings.Contains(j.Err.Error(), w) {
					t.Errorf("%s: error %q does not say %q", tt.name, j.Err, w)
				}
			}
		}
	})
}

// TestOpenSQLiteConcurrently: processes that open a new file at once (here
// handles of one process, each with its own connection) all get River's
// tables.
func TestOpenSQLiteConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			db, err := OpenSQLite(context.Background(), path)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("OpenSQLite = %v; want nil", err)
		}
	}
}

// TestOptionsRefusedBeforeTheDatabase holds the option rules that need no
// server: New refuses a nil Option and OnError(nil) before it reads the
// database (a pool is lazy: it connects on first use).
func TestOptionsRefusedBeforeTheDatabase(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, tt := range []struct {
		opts []Option
		want string
	}{
		{[]Option{Workers(2), nil}, "riverexec: New with a nil Option"},
		{[]Option{OnError(nil)}, "riverexec: OnError(nil)"},
	} {
		ex, err := New(context.Background(), pool, tt.opts...)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || ex != nil {
			t.Errorf("New(%d options) = %v, %v; want no executor and an error starting %q", len(tt.opts), ex, err, tt.want)
		}
	}
}

// goexit ends its goroutine, as t.FailNow does.
var goexit = execkit.Register("riverexec.test.goexit", func(context.Context, int) (int, error) {
	runtime.Goexit()
	return 0, nil
}, execkit.Retry(0))

// TestGoexit: a function that ends its goroutine fails its call with an
// error saying so, at once, and the executor goes on; before, it ended
// River's worker goroutine, and the call, and the calls after it, waited
// until their contexts ended.
func TestGoexit(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := goexit.Go(ctx, ex, 1).Wait(ctx); err == nil || !strings.Contains(err.Error(), "called runtime.Goexit") {
			t.Fatalf("a call of a function that calls Goexit: err = %v; want one saying so", err)
		}
		if v, err := double.Go(ctx, ex, 4).Wait(ctx); v != 8 || err != nil {
			t.Fatalf("the next call: %d, %v; want 8, nil", v, err)
		}
	})
}
