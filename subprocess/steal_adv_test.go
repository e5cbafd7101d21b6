package subprocess_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// Adversarial tests of stealing: an idle worker asks the busiest one to
// give back the oldest half of its unstarted calls, and takes no other call
// until each is given back or kept (see Pool.stealLocked).

type recordArg struct {
	Path string
	N    int
}

// recordStart appends its worker's pid and N to Path when it starts.
var recordStart = execkit.Register("test.steal.record", func(_ context.Context, a recordArg) (int, error) {
	f, err := os.OpenFile(a.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	_, err = fmt.Fprintf(f, "%d %d\n", os.Getpid(), a.N)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return a.N, err
})

// starts reads what recordStart wrote at path: the Ns each pid started,
// in order.
func starts(t *testing.T, path string) map[int][]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	byPid := map[int][]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		pid, _ := strconv.Atoi(f[0])
		n, _ := strconv.Atoi(f[1])
		byPid[pid] = append(byPid[pid], n)
	}
	return byPid
}

// TestStealOnlyWhatItCanRun: a worker that falls idle having reached
// MaxTasksPerChild is let go; it does not ask a busy worker to give back
// calls it may not take, which would then go back, newest first, to the
// queue, where the busy worker takes them again behind its long call and
// the replacement takes back the newer of them first. With two workers
// each holding four calls behind a long one (MaxTasksPerChild(5)), the
// calls held behind the long one start on the replacement in the order
// they were admitted.
func TestStealOnlyWhatItCanRun(t *testing.T) {
	p := newPool(t, 2, subprocess.MaxTasksPerChild(5))
	ctx := testContext(t)
	fifo1, wait1 := started(t)
	long := block.Go(ctx, p, blockArg{Fifo: fifo1})
	defer long.Cancel()
	wait1()
	fifo2, wait2 := started(t)
	short := block.Go(ctx, p, blockArg{Fifo: fifo2})
	wait2()
	path := filepath.Join(t.TempDir(), "starts")
	var quick []*execkit.Future[int]
	for i := range 8 { // both busy: each holds four, all it may take
		quick = append(quick, recordStart.Go(ctx, p, recordArg{Path: path, N: i}))
	}
	// Each worker holds its four before the short call ends: a call the
	// worker running it took after the short one ended would start before
	// older ones held behind the long one (as Prefetch says).
	for deadline := time.Now().Add(10 * time.Second); subprocess.Held(p) != 10; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the workers hold %d calls after 10s; want 10", subprocess.Held(p))
		}
	}
	short.Cancel() // its worker runs its four and reaches its maximum
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for i, f := range quick {
		if v, err := f.Wait(wctx); v != i || err != nil {
			t.Fatalf("quick task %d: got %d, %v; want %d, nil", i, v, err, i)
		}
	}
	for pid, ns := range starts(t, path) {
		for i := 1; i < len(ns); i++ {
			if ns[i] < ns[i-1] {
				t.Errorf("worker %d started the quick tasks %v; want them in the order they were admitted", pid, ns)
				break
			}
		}
	}
}
