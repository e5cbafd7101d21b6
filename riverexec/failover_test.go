package riverexec

import (
	"bufio"
	"context"
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

// worker is a worker process: this test binary re-executed.
type workerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startWorker starts a WorkOnly executor in another process and waits until
// its River client runs. Cleanup stops it (closing its stdin) unless the
// test killed it.
func startWorker(t *testing.T, schema, queue string) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"="+pgURL(t)+" "+schema+" "+queue)
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
	w := &workerProc{cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("worker process said %q, %v; want ready", line, err)
	}
	return w
}

// TestWorkerKilled: a worker process SIGKILLed in the middle of a task has
// the task finished by another worker process, and the Future gets the
// second worker's result.
func TestWorkerKilled(t *testing.T) {
	ctx := context.Background()
	sub, pool, schema := newExecutor(t, SubmitOnly(), Queue("q"), Retries(0, 10*time.Millisecond))

	// This process holds River's leadership (with an idle queue), so that
	// the killed worker leaves no stale leader behind for the TTL.
	leader, err := New(ctx, pool, WorkOnly(), Schema(schema), Queue("idle"), RescueAfter(rescueAfterTest))
	if err != nil {
		t.Fatal(err)
	}
	defer leader.Shutdown(ctx)
	waitFor(t, "a leader", func() bool {
		var n int
		err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "river_leader"}.Sanitize()).Scan(&n)
		return err == nil && n == 1
	})

	w1 := startWorker(t, schema, "q")
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

	w2 := startWorker(t, schema, "q")
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
	ex, _, _ := newExecutor(t, RescueAfter(rescueAfterTest), Logger(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
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
var nap = execkit.Register("riverexec_test.nap", func(ctx context.Context, n int) (int, error) {
	select {
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return 2 * n, nil
})

// testWriter sends River's log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
