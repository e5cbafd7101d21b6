package riverexec

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// TestCancelTellsLocalWorker: once Executor.Cancel has returned, a job
// this process's worker runs has had its ctx cancelled (its cause
// matching river.ErrJobCancelledRemotely, as when River tells the worker),
// and the job ends REVOKED. Before, the worker heard of it from River
// later (15 to 45ms on SQLite), and Cancel had returned meanwhile.
func TestCancelTellsLocalWorker(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ex := newExecutor(t, db, Queue("revoke"))
		ctx := context.Background()
		id, err := ex.Enqueue(ctx, ctxProbe.Task(0))
		if err != nil {
			t.Fatal(err)
		}
		running := <-runningCtx
		if err := ex.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := running.Err(); !errors.Is(err, context.Canceled) || !errors.Is(context.Cause(running), river.ErrJobCancelledRemotely) {
			t.Errorf("after Cancel returned, the job's ctx: Err %v, Cause %v; want context.Canceled, River's revoke", err, context.Cause(running))
		}
		if j := waitDone(t, ex, id); j.State != StateRevoked || !errors.Is(j.Err, ErrRevoked) {
			t.Errorf("the job ended %s (%v); want REVOKED", j.State, j.Err)
		}
	})
}

// The jobs of revokeProbe whose Cancel has returned, and the starts with a
// live ctx seen after that.
var (
	revokedRounds     sync.Map
	lateRevokedStarts atomic.Int64
)

var revokeProbe = execkit.Register("riverexec_test.revokeProbe", func(ctx context.Context, round int) (int, error) {
	if _, ok := revokedRounds.Load(round); ok && ctx.Err() == nil {
		lateRevokedStarts.Add(1)
	}
	return round, nil
})

// TestCancelledJobNeverStarts: once Executor.Cancel has returned, the job
// does not start with a live ctx on this process's worker, also when the
// worker had fetched it before the revoke reached the database (then it
// never starts). Before, such a job started, its ctx live until River
// told the worker.
func TestCancelledJobNeverStarts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		const queue = "revokestart"
		ex := newExecutor(t, db, Queue(queue))
		ctx := context.Background()
		lateRevokedStarts.Store(0)
		const rounds = 100
		for r := range rounds {
			id, err := ex.Enqueue(ctx, revokeProbe.Task(r))
			if err != nil {
				t.Fatal(err)
			}
			if r%2 == 1 { // give the worker's fetch a head start
				time.Sleep(time.Duration(r%7) * time.Millisecond)
			}
			if err := ex.Cancel(ctx, id); err != nil {
				t.Fatal(err)
			}
			revokedRounds.Store(r, true)
		}
		jobs := finalJobs(t, ex, queue)
		if n := lateRevokedStarts.Load(); n > 0 {
			t.Errorf("%d of %d jobs started after their Cancel returned; want none", n, rounds)
		}
		ran := 0
		for _, j := range jobs {
			if j.State == rivertype.JobStateCompleted {
				ran++
			}
		}
		t.Logf("%d of %d jobs ran before Cancel returned (or with their ctx cancelled)", ran, len(jobs))
		revokedRounds.Clear()
	})
}

// TestRevokedBeforeStart: a job that Executor.Cancel revoked while the
// database said it ran, before this worker started it, does not start
// here: Work returns River's JobCancel without calling the function.
func TestRevokedBeforeStart(t *testing.T) {
	jobs := newLocalJobs()
	w := &worker{jobs: jobs}
	jobs.revoke(99)
	calls := lateRevokedStarts.Load()
	revokedRounds.Store(-1, true)
	defer revokedRounds.Delete(-1)
	job := &river.Job[callArgs]{
		JobRow: &rivertype.JobRow{ID: 99, Attempt: 1},
		Args:   callArgs{Func: "riverexec_test.revokeProbe", Payload: mustEncode(t, -1), Format: jobFormat, Registry: driver.RegistryHash()},
	}
	err := w.Work(context.Background(), job)
	var jc *rivertype.JobCancelError
	if !errors.As(err, &jc) {
		t.Errorf("Work of a revoked job = %v; want River's JobCancel", err)
	}
	if n := lateRevokedStarts.Load(); n != calls {
		t.Errorf("the revoked job's function ran")
	}
	if len(jobs.revoked) != 0 || len(jobs.running) != 0 {
		t.Errorf("after Work: %d revoked, %d running; want none", len(jobs.revoked), len(jobs.running))
	}
}

func mustEncode(t *testing.T, n int) []byte {
	t.Helper()
	b, err := revokeProbe.Codec().Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// otherArgs are the arguments of another application's River job.
type otherArgs struct {
	Email string `json:"email"`
}

func (otherArgs) Kind() string { return "send_email" }

// TestOtherApplicationsJob: an id of a River job that is not riverexec's
// (another application's, in the same database) is no job to Lookup
// (UNKNOWN) and Cancel (ErrUnknownJob), which leaves it as it is. Before,
// Lookup read it as a riverexec job with no function, and Cancel revoked
// it.
func TestOtherApplicationsJob(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		var back backend = postgres{db.pool}
		if db.driver == "sqlite" {
			back = sqliteDB{db.sqlite}
		}
		other, err := back.newClient(&river.Config{Schema: db.schema})
		if err != nil {
			t.Fatal(err)
		}
		res, err := other.Insert(ctx, otherArgs{"a@example.com"}, &river.InsertOpts{Queue: "mail"})
		if err != nil {
			t.Fatal(err)
		}
		id := res.Job.ID
		ex := newExecutor(t, db)
		if j, err := ex.Lookup(ctx, id); err != nil || j.State != StateUnknown {
			t.Errorf("Lookup(another application's job) = %+v, %v; want UNKNOWN", j, err)
		}
		if err := ex.Cancel(ctx, id); !errors.Is(err, ErrUnknownJob) {
			t.Errorf("Cancel(another application's job) = %v; want ErrUnknownJob", err)
		}
		row, err := other.JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if row.State != rivertype.JobStateAvailable {
			t.Errorf("another application's job after Cancel is %s; want it available, as it was", row.State)
		}
	})
}
