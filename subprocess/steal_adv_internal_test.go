package subprocess

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// hold tells the test it started, through the FIFO at its argument, then
// waits for its ctx to end.
var hold = execkit.Register("subprocess.internal.hold", func(ctx context.Context, fifo string) (int, error) {
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	f.Write([]byte{1})
	f.Close()
	<-ctx.Done()
	return 0, ctx.Err()
})

type startArg struct {
	Path string
	N    int
}

// logStart appends its worker's pid and N to Path when it starts.
var logStart = execkit.Register("subprocess.internal.logStart", func(_ context.Context, a startArg) (int, error) {
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

// holding starts hold in p and returns its Future once it runs, and the
// worker it runs in.
func holding(t *testing.T, p *Pool) (*execkit.Future[int], *worker) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	f := hold.Go(context.Background(), p, fifo)
	if b, err := os.ReadFile(fifo); err != nil || len(b) != 1 {
		t.Fatalf("reading %s: %q, %v", fifo, b, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for w := range p.workers {
		for _, c := range w.sent {
			if c.req.name == hold.Name() && strings.Contains(string(c.frame), fifo) {
				return f, w
			}
		}
	}
	t.Fatal("the holding call is in no worker")
	return nil, nil
}

// poll returns once cond, called with p.mu held, holds.
func poll(t *testing.T, p *Pool, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		ok := cond()
		p.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s, still not", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// startsOf reads what logStart wrote at path: the Ns each pid started, in
// order.
func startsOf(t *testing.T, path string) map[int][]int {
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

// TestThiefDiesReserved: the worker that asked a busy one to give back
// calls dies before they are given back (the busy one, stopped, answers
// only afterwards). The calls given back then run elsewhere, none lost,
// in the order they were admitted, and none of the calls held behind them
// overtakes them.
func TestThiefDiesReserved(t *testing.T) {
	for round := range 3 {
		p, err := New(2)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Terminate()
		hold1, w1 := holding(t, p)
		defer hold1.Cancel()
		hold2, w2 := holding(t, p)
		defer hold2.Cancel()
		path := filepath.Join(t.TempDir(), "starts")
		var quick []*execkit.Future[int]
		for i := range 8 { // both busy: they hold these behind their first
			quick = append(quick, logStart.Go(context.Background(), p, startArg{Path: path, N: i}))
		}
		poll(t, p, "the quick calls are sent", func() bool { return len(w1.sent)+len(w2.sent) == 10 })
		// The victim holds four or more: the thief will ask for two.
		victim, thief, release := w1, w2, hold2
		p.mu.Lock()
		if len(w2.sent) > len(w1.sent) {
			victim, thief, release = w2, w1, hold1
		}
		want := (len(victim.sent) - 1 + 1) / 2
		p.mu.Unlock()
		if err := syscall.Kill(victim.pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		release.Cancel() // the thief runs what it holds, then asks the stopped victim
		poll(t, p, "the thief waits for calls", func() bool { return thief.awaiting == want })
		if err := syscall.Kill(thief.pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		poll(t, p, "the thief is retired", func() bool { return thief.dead })
		if err := syscall.Kill(victim.pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i, f := range quick {
			if v, err := f.Wait(wctx); v != i || err != nil {
				t.Fatalf("round %d: quick task %d: got %d, %v; want %d, nil", round, i, v, err, i)
			}
		}
		for pid, ns := range startsOf(t, path) {
			if !slices.IsSorted(ns) {
				t.Errorf("round %d: worker %d started the quick tasks %v; want them in the order they were admitted", round, pid, ns)
			}
		}
		hold1.Cancel()
		hold2.Cancel()
		if err := p.Shutdown(wctx); err != nil {
			t.Fatal(err)
		}
	}
}
