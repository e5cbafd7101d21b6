package subprocess

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// logStart appends its worker's pid and N to Path when it starts;
// logStartLimited too, under a TimeLimit.
var (
	logStart        = execkit.Register("subprocess.internal.logStart", logStartFunc)
	logStartLimited = execkit.Register("subprocess.internal.logStartLimited", logStartFunc, execkit.TimeLimit(time.Second))
)

func logStartFunc(_ context.Context, a startArg) (int, error) {
	f, err := os.OpenFile(a.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	_, err = fmt.Fprintf(f, "%d %d\n", os.Getpid(), a.N)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return a.N, err
}

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
			p.mu.Lock()
			var state []string
			for w := range p.workers {
				var cs []string
				for _, c := range w.sent {
					cs = append(cs, fmt.Sprintf("%s#%d/rev=%v/err=%v", c.req.name[len("subprocess.internal."):], c.id, c.revoking, c.ctxErr != nil))
				}
				state = append(state, fmt.Sprintf("worker %d: sent %v, awaiting %d, assigned %d answered %d", w.pid, cs, w.awaiting, w.assigned, w.answered))
			}
			p.mu.Unlock()
			t.Fatalf("after 10s: %s, still not (%d queued; %s)", what, p.calls.len(), strings.Join(state, "; "))
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

// A steal is two workers, each running a hold and holding quick calls
// (logStart, to path) behind it, once the thief's hold was cancelled: the
// thief ran its quick calls, then asked the victim for want of its. The
// victim's feeder is held (its wmu) so that the REVOKE frames are not
// written until the test calls unblock.
type steal struct {
	victim, thief *worker
	want          int
	victimNs      []int // the Ns of the quick calls the victim holds
	quick         []*execkit.Future[int]
	path          string
	hold          *execkit.Future[int] // the victim's
	unblock       func()
}

// newSteal starts a pool of two workers, terminated at the end of the
// test, and sets a steal up on it.
func newSteal(t *testing.T, quick *execkit.Func[startArg, int]) (*Pool, *steal) {
	t.Helper()
	p, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Terminate)
	hold1, w1 := holding(t, p)
	t.Cleanup(func() { hold1.Cancel() })
	hold2, w2 := holding(t, p)
	t.Cleanup(func() { hold2.Cancel() })
	s := &steal{path: filepath.Join(t.TempDir(), "starts")}
	for i := range 8 { // both busy: they hold these behind their holds
		s.quick = append(s.quick, quick.Go(context.Background(), p, startArg{Path: s.path, N: i}))
	}
	poll(t, p, "the quick calls are sent", func() bool { return len(w1.sent)+len(w2.sent) == 10 })
	p.mu.Lock()
	s.victim, s.thief, s.hold = w1, w2, hold1
	release := hold2
	if len(w2.sent) > len(w1.sent) {
		s.victim, s.thief, s.hold, release = w2, w1, hold2, hold1
	}
	s.want = len(s.victim.sent) / 2 // it holds 4 or more behind its hold: the thief asks for the older half
	// The quick calls were placed in the order they were admitted: a
	// call's N is the rank of its seq.
	var seqs []uint64
	for _, c := range append(slices.Clone(w1.sent[1:]), w2.sent[1:]...) {
		seqs = append(seqs, c.seq)
	}
	slices.Sort(seqs)
	for _, c := range s.victim.sent[1:] {
		s.victimNs = append(s.victimNs, slices.Index(seqs, c.seq))
	}
	p.mu.Unlock()
	s.victim.wmu.Lock()
	var once sync.Once
	s.unblock = func() { once.Do(s.victim.wmu.Unlock) }
	t.Cleanup(s.unblock)
	release.Cancel() // the thief runs what it holds, then asks the victim
	poll(t, p, fmt.Sprintf("thief %d waits for %d calls of victim %d", s.thief.pid, s.want, s.victim.pid), func() bool { return s.thief.awaiting == s.want })
	return p, s
}

// TestThiefDiesReserved: the worker that asked a busy one to give back
// calls dies before they are given back. The calls given back then run
// elsewhere, none lost, in the order they were admitted, and none of the
// calls held behind them overtakes them.
func TestThiefDiesReserved(t *testing.T) {
	for round := range 3 {
		p, s := newSteal(t, logStart)
		if err := syscall.Kill(s.thief.pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		poll(t, p, "the thief is retired", func() bool { return s.thief.dead })
		s.unblock()
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i, f := range s.quick {
			if v, err := f.Wait(wctx); v != i || err != nil {
				t.Fatalf("round %d: quick task %d: got %d, %v; want %d, nil", round, i, v, err, i)
			}
		}
		for pid, ns := range startsOf(t, s.path) {
			if !slices.IsSorted(ns) {
				t.Errorf("round %d: worker %d started the quick tasks %v; want them in the order they were admitted", round, pid, ns)
			}
		}
		s.hold.Cancel()
		if err := p.Shutdown(wctx); err != nil {
			t.Fatal(err)
		}
	}
}

// lines counts the lines of the file at path (0 if there is none).
func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// givenBack lets the victim answer the thief's REVOKEs while the thief's
// feeder is held, and returns once the calls given back are queued again,
// the thief free to take them; unlock lets its feeder go.
func givenBack(t *testing.T, p *Pool, s *steal) (unlock func()) {
	t.Helper()
	s.thief.wmu.Lock()
	var once sync.Once
	unlock = func() { once.Do(s.thief.wmu.Unlock) }
	t.Cleanup(unlock)
	s.unblock()
	poll(t, p, "the calls are given back", func() bool { return s.thief.awaiting == 0 && p.calls.len() == s.want })
	return unlock
}

// TestCancelGivenBack: a call given back for the idle worker that asked
// for it, and cancelled before that worker's feeder sent it, never
// starts, though the task hears of the cancel only after Cancel returned.
// (Before, the feeder wrote the calls, then their CANCELs: the worker,
// idle, started them first.)
func TestCancelGivenBack(t *testing.T) {
	p, s := newSteal(t, logStart)
	unlock := givenBack(t, p, s)
	before := lines(t, s.path)
	for _, f := range s.quick {
		f.Cancel()
	}
	// The tasks hear of the cancels a moment after Cancel returns: the
	// feeder, let go at once, must see them itself.
	unlock()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, f := range s.quick {
		if _, err := f.Wait(wctx); err == wctx.Err() && err != nil {
			t.Fatalf("quick task %d did not end after Cancel: %v", i, err)
		}
	}
	if after := lines(t, s.path); after != before {
		t.Errorf("%d quick tasks started after Future.Cancel returned; want none", after-before)
	}
}

// TestGivenBackThiefDies: calls given back for a worker that dies before
// its feeder (held) sent them run on another worker, none failing with
// that death; cancelled meanwhile, they fail with their cancellation. The
// pool goes on.
func TestGivenBackThiefDies(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancelled=%v", cancelled), func(t *testing.T) {
			p, s := newSteal(t, logStart)
			unlock := givenBack(t, p, s)
			if err := syscall.Kill(s.thief.pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			poll(t, p, "the thief is being retired", func() bool { return s.thief.dead })
			ran := make([]bool, len(s.quick)) // the thief's own, which it ran before it asked
			for i, f := range s.quick {
				select {
				case <-f.Done():
					ran[i] = true
				default:
				}
			}
			if cancelled {
				for _, f := range s.quick {
					f.Cancel()
				}
			}
			unlock()
			wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for i, f := range s.quick {
				v, err := f.Wait(wctx)
				switch {
				case ran[i]:
				case cancelled && !errors.Is(err, context.Canceled):
					t.Errorf("quick task %d: got %v; want context.Canceled", i, err)
				case !cancelled && (v != i || err != nil):
					t.Errorf("quick task %d: got %d, %v; want %d, nil", i, v, err, i)
				}
			}
			s.hold.Cancel()
			if v, err := turnDouble.Go(wctx, p, 21).Wait(wctx); v != 42 || err != nil {
				t.Errorf("after: got %d, %v; want 42, nil", v, err)
			}
		})
	}
}

// TestGivenBackClock: the TimeLimit of a call given back for an idle
// worker runs from when a worker is sent it, not from when it was given
// back: the thief's feeder, held longer than the limit, sends it late, and
// it runs within its limit. (Once, a call given back went to the thief at
// once, and a clock started before it was written.)
func TestGivenBackClock(t *testing.T) {
	p, s := newSteal(t, logStartLimited)
	unlock := givenBack(t, p, s)
	time.Sleep(1500 * time.Millisecond) // past the limit, the thief's feeder held
	unlock()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, f := range s.quick {
		if v, err := f.Wait(wctx); v != i || err != nil {
			t.Errorf("quick task %d: got %d, %v; want %d, nil", i, v, err, i)
		}
	}
}

// TestEndWhileStealing: Terminate, or Shutdown whose ctx ended, while a
// worker waits for calls asked back (the victim's feeder held), or while
// calls given back are not yet sent (the thief's feeder held): every
// task ends, none with a panic, and the pool's end returns.
func TestEndWhileStealing(t *testing.T) {
	for _, back := range []bool{false, true} {
		for _, how := range []string{"Terminate", "Shutdown"} {
			t.Run(fmt.Sprintf("%s/givenback=%v", how, back), func(t *testing.T) {
				p, s := newSteal(t, logStart)
				unlock := func() {}
				if back {
					unlock = givenBack(t, p, s)
				}
				ended := make(chan struct{})
				go func() {
					defer close(ended)
					if how == "Terminate" {
						p.Terminate()
						return
					}
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					p.Shutdown(ctx)
				}()
				if how == "Shutdown" {
					<-ended // it returns at once, its ctx ended
				}
				wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				time.Sleep(10 * time.Millisecond) // let the end reach the tasks while the feeders are held
				s.unblock()
				unlock()
				for i, f := range append(s.quick, s.hold) {
					if _, err := f.Wait(wctx); errors.As(err, new(*execkit.PanicError)) || err == wctx.Err() && err != nil {
						t.Errorf("task %d: got %v", i, err)
					}
				}
				select {
				case <-ended:
				case <-wctx.Done():
					t.Fatalf("%s did not return", how)
				}
				if err := p.Shutdown(wctx); err != nil {
					t.Errorf("Shutdown after: %v", err)
				}
			})
		}
	}
}

// TestVictimDiesRevoking: the busy worker asked to give calls back dies
// before it answers (its feeder held, the REVOKEs unwritten): its running
// call fails with its death, and the calls it held, those asked back
// included, run on the worker that asked, in the order they were
// admitted; that worker is not left waiting for them.
func TestVictimDiesRevoking(t *testing.T) {
	p, s := newSteal(t, logStart)
	if err := syscall.Kill(s.victim.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	poll(t, p, "the victim is being retired", func() bool { return s.victim.dead })
	s.unblock()
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.hold.Wait(wctx); !errors.As(err, new(*WorkerError)) {
		t.Errorf("the victim's running call: got %v; want a *WorkerError", err)
	}
	for i, f := range s.quick {
		if v, err := f.Wait(wctx); v != i || err != nil {
			t.Errorf("quick task %d: got %d, %v; want %d, nil", i, v, err, i)
		}
	}
	for pid, ns := range startsOf(t, s.path) {
		ns = slices.DeleteFunc(ns, func(n int) bool { return !slices.Contains(s.victimNs, n) })
		if !slices.IsSorted(ns) {
			t.Errorf("worker %d started the victim's quick tasks %v; want them in the order they were admitted", pid, ns)
		}
	}
	poll(t, p, "no worker waits for calls asked back", func() bool {
		for w := range p.workers {
			if w.awaiting != 0 {
				return false
			}
		}
		return true
	})
}
