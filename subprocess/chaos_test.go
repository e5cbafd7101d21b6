package subprocess_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// TestChaos runs 10,000 tasks while a goroutine SIGKILLs a random worker
// every 200 finished tasks. Every task must end exactly once, with its
// result or a *WorkerError, none may hang, the pool must serve normally
// afterwards, and no child process may remain after Shutdown.
func TestChaos(t *testing.T) {
	const (
		tasks     = 10_000
		killEvery = 200
	)
	// Workers killed while they start are reported to the error handler.
	startErrs := make(chan error, tasks)
	p, err := subprocess.New(4, subprocess.OnError(func(err error) { startErrs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)

	kill := make(chan struct{}, tasks/killEvery)
	killed := make(chan []int)
	go func() {
		var victims []int
		for range kill {
			pids, err := procChildren(os.Getpid())
			if err != nil || len(pids) == 0 {
				continue
			}
			pid := pids[rand.IntN(len(pids))]
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				victims = append(victims, pid)
			}
		}
		killed <- victims
	}()

	futures := make([]*execkit.Future[int], tasks)
	for i := range futures {
		futures[i] = double.Go(ctx, p, i)
	}
	var results, deaths int
	diedIn := map[int]int{} // deaths per worker pid
	for i, f := range futures {
		v, err := f.Wait(ctx)
		var we *subprocess.WorkerError
		switch {
		case err == nil && v == 2*i:
			results++
		case errors.As(err, &we) && we.Signal == syscall.SIGKILL:
			deaths++
			diedIn[we.Pid]++
		default:
			t.Fatalf("task %d: got %d, %v; want %d or a *WorkerError for SIGKILL", i, v, err, 2*i)
		}
		if (i+1)%killEvery == 0 {
			kill <- struct{}{}
		}
	}
	close(kill)
	victims := <-killed
	if results+deaths != tasks {
		t.Errorf("got %d results and %d worker errors; want %d outcomes", results, deaths, tasks)
	}
	for pid, n := range diedIn {
		if n != 1 || !slices.Contains(victims, pid) {
			t.Errorf("worker %d failed %d tasks; want 1, and only for a worker that was killed (%v)", pid, n, victims)
		}
	}
	t.Logf("%d kills, %d tasks failed with their worker, %d results", len(victims), deaths, results)
	if len(victims) < tasks/killEvery/2 {
		t.Errorf("killed %d workers; want about %d", len(victims), tasks/killEvery)
	}

	// The pool serves normally afterwards, once it noticed the last kill.
	waitReaped(t, victims)
	items := make([]int, 100)
	for i := range items {
		items[i] = i
	}
	got, err := subprocess.Map(ctx, p, double, items)
	if err != nil || len(got) != 100 || got[99] != 198 {
		t.Errorf("Map after the chaos: got %v, %v; want the doubles", got, err)
	}
	if v, err := subprocess.Apply(ctx, p, double, 4); v != 8 || err != nil {
		t.Errorf("Apply after the chaos: got %d, %v; want 8, nil", v, err)
	}

	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	close(startErrs)
	for err := range startErrs {
		if !strings.Contains(err.Error(), "was killed by signal 9 (killed) before its handshake") {
			t.Errorf("error handler got %v; want only workers killed while starting", err)
		}
	}
	if pids := children(t); len(pids) != 0 {
		t.Errorf("after Shutdown: got children %v (zombies or strays); want none", pids)
	}
}

// waitReaped returns once none of pids is a child of this process any
// more: the pool noticed their deaths and reaped them. The kernel tells
// only the parent (the pool) when a child ends, so this polls /proc.
func waitReaped(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := slices.DeleteFunc(children(t), func(pid int) bool { return !slices.Contains(pids, pid) })
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("killed workers %v not reaped after 10s", left)
		}
		time.Sleep(time.Millisecond)
	}
}
