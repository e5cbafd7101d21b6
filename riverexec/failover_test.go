package riverexec

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/jackc/pgx/v5"
)

// workerProc is a worker process: this test binary re-executed.
type workerProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// startWorker starts an executor in another process (mode "work": a
// WorkOnly one; "both": one that also enqueues what it reads) and waits
// until its River client runs. Cleanup stops it (closing its stdin) unless
// the test killed it.
func startWorker(t *testing.T, db *testDB, mode, queue string) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	schema := db.schema
	if schema == "" {
		schema = "-"
	}
	cmd.Env = append(os.Environ(), workerEnv+"="+mode+" "+db.driver+" "+db.source()+" "+schema+" "+queue)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := w.stdout.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("worker process said %q, %v; want ready", line, err)
	}
	return w
}

// count runs a count(*) query on db's River tables; table is River's name.
func (db *testDB) count(t *testing.T, table, where string) int {
	t.Helper()
	var (
		n   int
		err error
	)
	if db.driver == "sqlite" {
		err = db.sqlite.QueryRow("SELECT count(*) FROM " + table + " " + where).Scan(&n)
	} else {
		err = db.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{db.schema, table}.Sanitize()+" "+where).Scan(&n)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// holdLeadership makes an executor in this process (on an idle queue) that
// becomes River's leader, so that a killed worker leaves no stale leader
// behind for the leadership's TTL. Give it up by shutting it down.
func holdLeadership(t *testing.T, db *testDB) *Executor {
	t.Helper()
	leader, err := db.New(WorkOnly(), Queue("idle"), RescueAfter(rescueAfterTest))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = leader.Shutdown(context.Background()) })
	waitFor(t, "a leader", func() bool { return db.count(t, "river_leader", "") == 1 })
	return leader
}

// TestWorkerKilled: a worker process SIGKILLed in the middle of a task has
// the task finished by another worker process, and the Future gets the
// second worker's result.
func TestWorkerKilled(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		sub := newExecutor(t, db, SubmitOnly(), Queue("q"), Retries(0, 10*time.Millisecond))
		leader := holdLeadership(t, db)

		w1 := startWorker(t, db, "work", "q")
		dir := t.TempDir()
		f := once.Go(ctx, sub, dir)
		var pid1 int
		waitFor(t, "the task to start on the first worker", func() bool {
			b, err := os.ReadFile(filepath.Join(dir, "first"))
			pid1, _ = strconv.Atoi(string(b))
			return err == nil && pid1 != 0
		})
		startedAt := time.Now()
		if pid1 != w1.cmd.Process.Pid {
			t.Fatalf("the task started in process %d; want the worker %d", pid1, w1.cmd.Process.Pid)
		}
		if err := w1.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = w1.cmd.Wait()

		w2 := startWorker(t, db, "work", "q")
		// River's rescuer takes a job for abandoned once it has run longer
		// than RescueAfter; hand leadership over after that, so that the new
		// leader's first rescue pass finds it.
		waitFor(t, "the rescue horizon", func() bool { return time.Since(startedAt) > rescueAfterTest+100*time.Millisecond })
		if err := leader.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		got, err := f.Wait(wctx)
		if err != nil || got != w2.cmd.Process.Pid {
			t.Fatalf("Wait = %d, %v; want the second worker's pid %d, nil", got, err, w2.cmd.Process.Pid)
		}
	})
}

// TestCrashRestart: a process that enqueues tasks and works them is
// SIGKILLed mid-run (tasks running, others waiting); once a process runs
// on the database again, every enqueued task has exactly one outcome, its
// result, and no job is lost or duplicated.
func TestCrashRestart(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		leader := holdLeadership(t, db)
		w := startWorker(t, db, "both", "crash")
		const n = 300
		ids := make(map[int64]int, n)
		go func() {
			for i := range n {
				fmt.Fprintln(w.stdin, i)
			}
		}()
		for range n {
			line, err := w.stdout.ReadString('\n')
			var id int64
			var i int
			if _, serr := fmt.Sscan(line, &id, &i); err != nil || serr != nil {
				t.Fatalf("worker process said %q, %v", line, errors.Join(err, serr))
			}
			ids[id] = i
		}
		waitFor(t, "some tasks done and some running", func() bool {
			return db.count(t, "river_job", "WHERE state = 'completed'") > 0 && db.count(t, "river_job", "WHERE state = 'running'") > 0
		})
		if err := w.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = w.cmd.Wait()
		killed := time.Now()
		done, running := db.count(t, "river_job", "WHERE state = 'completed'"), db.count(t, "river_job", "WHERE state = 'running'")
		t.Logf("killed with %d of %d tasks completed and %d running", done, n, running)
		if done == n {
			t.Fatalf("all %d tasks finished before the kill; want some left", n)
		}

		// The restarted process: an executor on the same database, leader
		// once the horizon of the stuck jobs has passed.
		ex := newExecutor(t, db, Queue("crash"), RescueAfter(rescueAfterTest))
		waitFor(t, "the rescue horizon", func() bool { return time.Since(killed) > rescueAfterTest+100*time.Millisecond })
		if err := leader.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		for id, i := range ids {
			var j Job
			waitFor(t, fmt.Sprintf("job %d to finish", id), func() bool {
				var err error
				if j, err = ex.Lookup(ctx, id); err != nil {
					t.Fatal(err)
				}
				return j.State != StatePending && j.State != StateStarted && j.State != StateRetry
			})
			var got int
			if err := doze.Codec().Unmarshal(j.Result, &got); j.State != StateSuccess || err != nil || got != 2*i {
				t.Fatalf("job %d (task %d) = %s, result %d (%v), %v; want SUCCESS with %d", id, i, j.State, got, err, j.Err, 2*i)
			}
		}
		if got := db.count(t, "river_job", "WHERE queue = 'crash'"); got != n {
			t.Errorf("%d jobs in the queue; want %d, one per task", got, n)
		}
	})
}

// TestServerRestart: PostgreSQL restarting in the middle of a run loses
// no task.
func TestServerRestart(t *testing.T) {
	pgURL(t)
	restart := os.Getenv("EXECKIT_PG_RESTART")
	if restart == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("EXECKIT_PG_RESTART is not set under CI=true: start PostgreSQL with riverexec/testdata/pg.sh, which sets it")
		}
		t.Skip("EXECKIT_PG_RESTART is not set: it comes with a server started by testdata/pg.sh")
	}
	ex := newExecutor(t, newDB(t, "postgres"), RescueAfter(rescueAfterTest), Logger(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
	ctx := context.Background()
	const n = 2000
	futures := make([]*execkit.Future[int], 0, n)
	for i := range n / 2 {
		futures = append(futures, nap.Go(ctx, ex, i))
	}
	if _, err := futures[199].Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// Restart while about a hundred tasks run and the rest are inserted.
	restarted := make(chan error, 1)
	go func() {
		out, err := exec.Command("sh", "-c", restart).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%s: %v\n%s", restart, err, out)
		}
		restarted <- err
	}()
	for i := n / 2; i < n; i++ {
		futures = append(futures, nap.Go(ctx, ex, i))
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for i, f := range futures {
		if got, err := f.Wait(wctx); err != nil || got != 2*i {
			t.Fatalf("task %d: Wait = %d, %v; want %d, nil", i, got, err, 2*i)
		}
	}
}

// nap doubles n after a short nap: a task that takes a while.
var (
	nap = execkit.Register("riverexec_test.nap", func(ctx context.Context, n int) (int, error) {
		return napFor(ctx, 20*time.Millisecond, n)
	})
	// doze is nap at 100ms, for TestCrashRestart's queue: its 300 tasks on
	// 4 workers outlast their enqueueing, so that the test finds some done
	// and some running to kill (with 20ms they could all be done by the
	// time the last one was enqueued, on a slow disk).
	doze = execkit.Register("riverexec_test.doze", func(ctx context.Context, n int) (int, error) {
		return napFor(ctx, 100*time.Millisecond, n)
	})
)

// napFor waits d, or until ctx ends, and returns 2n.
func napFor(ctx context.Context, d time.Duration, n int) (int, error) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return 2 * n, nil
}

// testWriter sends River's log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
