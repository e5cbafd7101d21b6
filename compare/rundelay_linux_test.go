//go:build linux

package compare

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/execkit/execkit"
)

// pinToCPU0 binds the calling thread to the first CPU it may run on.
func pinToCPU0() error {
	var set [16]uint64
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set))); e != 0 {
		return e
	}
	var one [16]uint64
	for i, w := range set {
		if w != 0 {
			one[i] = w & -w // the lowest CPU allowed
			break
		}
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(one), uintptr(unsafe.Pointer(&one))); e != 0 {
		return e
	}
	return nil
}

// TestRunDelaySeesCompetition: two threads bound to one CPU, each wanting
// 30 ms of it, wait for each other: each one's run delay (threadSched) grows by a
// good part of that (it is what the advice subtracts from an inline call's
// wall time before it judges the kind of work).
func TestRunDelaySeesCompetition(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for two threads at once")
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	type outcome struct {
		delay time.Duration
		err   error
	}
	out := make(chan outcome, 2)
	for range 2 {
		wg.Go(func() {
			runtime.LockOSThread() // the thread exits with the goroutine, its affinity with it
			if err := pinToCPU0(); err != nil {
				out <- outcome{err: err}
				return
			}
			<-start
			_, before := threadSched()
			end := cpuThread() + 30*time.Millisecond
			for cpuThread() < end {
			}
			_, after := threadSched()
			out <- outcome{delay: after - before}
		})
	}
	close(start)
	wg.Wait()
	var total time.Duration
	for range 2 {
		o := <-out
		if o.err != nil {
			t.Skipf("cannot bind a thread to one CPU: %v", o.err)
		}
		total += o.delay
	}
	if total < 10*time.Millisecond {
		t.Errorf("the run delay grew by %v in all while two threads shared one CPU for 30ms each; want at least 10ms", total)
	}
}

// cpuThread is the calling thread's CPU time.
func cpuThread() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

var (
	// spin1ms uses about a millisecond of its thread's CPU.
	spin1ms = execkit.Register("compare.spin1ms", func(_ context.Context, _ int) (int, error) {
		end := cpuThread() + time.Millisecond
		n := 0
		for cpuThread() < end {
			n++
		}
		return n, nil
	})
	// sleep1ms waits a millisecond.
	sleep1ms = execkit.Register("compare.sleep1ms", func(ctx context.Context, _ int) (int, error) {
		time.Sleep(time.Millisecond)
		return 0, nil
	})
)

// TestDelayShareOnABusyCore: inline calls sharing their core with a thread
// that spins. CPU-bound calls wait for the core about half their time,
// and delayShare says so (it is what keeps the advice from calling them
// waits); calls that block get 0, since the locked probe's waits to be
// woken are not the timed rounds' (a fetch that waits 5 ms had 38% of its
// time counted as waiting for a core, and was called mixed).
func TestDelayShareOnABusyCore(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for the competing thread")
	}
	for _, tc := range []struct {
		f        *execkit.Func[int, int]
		min, max float64
	}{
		{spin1ms, 0.2, 1},
		{sleep1ms, 0, 0},
	} {
		var stop atomic.Bool
		ready := make(chan error)
		var wg sync.WaitGroup
		wg.Go(func() { // the competitor, on the same core
			runtime.LockOSThread()
			err := pinToCPU0()
			ready <- err
			if err != nil {
				return
			}
			for !stop.Load() { // spins: it keeps the core busy
			}
		})
		if err := <-ready; err != nil {
			wg.Wait()
			t.Skipf("cannot bind a thread to one CPU: %v", err)
		}
		type outcome struct {
			share float64
			err   error
		}
		out := make(chan outcome)
		go func() {
			runtime.LockOSThread() // delayShare's lock nests in this one: the same, pinned thread
			defer runtime.UnlockOSThread()
			if err := pinToCPU0(); err != nil {
				out <- outcome{err: err}
				return
			}
			d := &driver[int, int]{f: tc.f, samples: []int{0}, batch: 1}
			share, err := d.delayShare(context.Background(), &execkit.Inline{}, 30)
			out <- outcome{share, err}
		}()
		o := <-out
		stop.Store(true)
		wg.Wait()
		if o.err != nil {
			t.Fatalf("%s: %v", tc.f.Name(), o.err)
		}
		if o.share < tc.min || o.share > tc.max {
			t.Errorf("%s on a core shared with a spinning thread: delay share %.2f; want %.2f to %.2f", tc.f.Name(), o.share, tc.min, tc.max)
		}
	}
}
