//go:build linux

package compare

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
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

// TestRunDelaySeesCompetition: two threads of this process bound to one
// CPU, each wanting 30 ms of it, wait for each other: runDelay grows by a
// good part of that (it is what the advice subtracts from a call's wall
// time before it judges the kind of work).
func TestRunDelaySeesCompetition(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for two threads at once")
	}
	before := runDelay()
	var wg, spun sync.WaitGroup
	start, release := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2)
	for range 2 {
		spun.Add(1)
		wg.Go(func() {
			runtime.LockOSThread() // the thread exits with the goroutine, its affinity with it
			err := pinToCPU0()
			errs <- err
			<-start
			if err == nil {
				end := cpuThread() + 30*time.Millisecond
				for cpuThread() < end {
				}
			}
			spun.Done()
			<-release // alive until read: an exited thread's delay is not counted
		})
	}
	for range 2 {
		if err := <-errs; err != nil {
			close(start)
			close(release)
			wg.Wait()
			t.Skipf("cannot bind a thread to one CPU: %v", err)
		}
	}
	close(start)
	spun.Wait()
	got := runDelay() - before
	close(release)
	wg.Wait()
	if got < 5*time.Millisecond {
		t.Errorf("runDelay grew by %v while two threads shared one CPU for 30ms each; want at least 5ms", got)
	}
}

// cpuThread is the calling thread's CPU time.
func cpuThread() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
