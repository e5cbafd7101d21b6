package benchwork

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"
)

// A Starter starts fn on a goroutine, the way the strategy under test
// starts a task: a bare go statement, or an executor's Submit with a task
// that calls fn.
type Starter func(fn func()) error

// ParkedStack starts n goroutines with start, each descending depth frames
// of [Descend] and then parking until ParkedStack has measured, and
// returns the stack bytes (runtime.MemStats.StackInuse) that each holds
// while parked. A goroutine starts on a 2 KB stack and keeps it as long as
// its deepest call fits; one frame too many and the runtime copies it to a
// stack twice as large, which it keeps while parked. So the figure is about
// 2048 or 4096 (or more), a property of the code path that does not depend
// on the machine's load. It returns once every goroutine it started has
// returned from fn, with the first error of start.
func ParkedStack(n, depth int, start Starter) (float64, error) {
	// Atomic counters, not WaitGroups: a WaitGroup's Done that wakes a
	// waiter goes deeper into the runtime than the receive that parks.
	release := make(chan struct{})
	var ready, running atomic.Int64
	park := func() {
		ready.Add(-1)
		<-release
	}
	fn := func() {
		Descend(depth, park)
		running.Add(-1)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		ready.Add(1)
		running.Add(1)
		if err := start(fn); err != nil {
			ready.Add(-1)
			running.Add(-1)
			close(release)
			waitZero(&running)
			return 0, err
		}
	}
	waitZero(&ready)
	// A goroutine marks itself ready just before it parks; let the last
	// ones reach the receive (which may still grow the stack).
	runtime.ReadMemStats(&after)
	for stable := 0; stable < 3; {
		runtime.Gosched()
		prev := after.StackInuse
		runtime.ReadMemStats(&after)
		if after.StackInuse == prev {
			stable++
		} else {
			stable = 0
		}
	}
	close(release)
	waitZero(&running)
	return float64(after.StackInuse-before.StackInuse) / float64(n), nil
}

// waitZero yields until n is zero.
func waitZero(n *atomic.Int64) {
	for n.Load() > 0 {
		runtime.Gosched()
	}
}

// Descend calls itself depth times, each call holding one frame of
// [DescendFrame] bytes, then calls park and returns.
//
//go:noinline
func Descend(depth int, park func()) int {
	var pad [2]uint64
	pad[depth&1] = uint64(depth)
	if depth <= 0 {
		park()
		return 0
	}
	return Descend(depth-1, park) + int(pad[(depth+1)&1])
}

// DescendFrame returns the bytes of stack one call of [Descend] takes.
func DescendFrame() int {
	var lo, hi uintptr
	probe := func() {}
	depthAt := func(d int) uintptr {
		var sp uintptr
		Descend(d, func() {
			var x byte
			sp = uintptr(unsafe.Pointer(&x))
			probe()
		})
		return sp
	}
	hi, lo = depthAt(1), depthAt(2)
	return int(hi - lo)
}

// Headroom returns the greatest depth of [Descend] below which a goroutine
// started by start still parks on its initial stack, found by bisection
// over depths up to 256 (n goroutines per probe). The difference between
// two strategies' Headroom, times [DescendFrame], is the stack the frames
// of the one with less headroom take beyond the other's.
func Headroom(n int, start Starter) (int, error) {
	fits := func(d int) (bool, error) {
		b, err := ParkedStack(n, d, start)
		return b < 3072, err
	}
	lo, hi := 0, 256 // fits(lo) is assumed, fits(hi) is not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := fits(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// ExtraStack returns the bytes of stack the frames of submit take from a
// task's goroutine beyond those of bare, which starts the same task with a
// go statement: the difference of their [Headroom] (n goroutines per
// probe) times [DescendFrame]. It also returns bare's headroom, the depth
// of the deepest task bare still parks on its initial stack.
func ExtraStack(n int, bare, submit Starter) (extra, bareHeadroom int, err error) {
	hBare, err := Headroom(n, bare)
	if err != nil {
		return 0, 0, err
	}
	hSubmit, err := Headroom(n, submit)
	if err != nil {
		return 0, 0, err
	}
	return (hBare - hSubmit) * DescendFrame(), hBare, nil
}

// fixedStart is the GODEBUG setting that makes every goroutine start on a
// 2 KB stack: by default (adaptivestackstart=1) the runtime starts new
// goroutines on the average stack the last GC saw in use, plus its guard,
// which depends on whatever else the process did.
const fixedStart = "adaptivestackstart=0"

// InFixedStackChild reports whether this process starts every goroutine
// on a 2 KB stack, so that [ParkedStack] and [Headroom] measure the code
// path alone. When it does not, it runs the calling test again in a child
// process that does, logs the child's output, fails t if the child failed,
// and returns false: the caller then returns.
func InFixedStackChild(t *testing.T) bool {
	t.Helper()
	if strings.Contains(os.Getenv("GODEBUG"), fixedStart) {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GODEBUG="+fixedStart)
	out, err := cmd.CombinedOutput()
	t.Logf("in a child with GODEBUG=%s:\n%s", fixedStart, out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	return false
}
