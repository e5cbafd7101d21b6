//go:build linux

package compare

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// threadSched returns the time the calling thread has spent on a core and
// ready to run but waiting for one (the first two fields of its
// /proc/self/task/<tid>/schedstat), or zeros where the kernel does not say.
// Read by a goroutine locked to its thread, the delay is what the
// goroutine's own work waited for cores taken by other work: other
// threads' waits (GC workers, other goroutines at the same time) are not
// on its path and are not counted.
func threadSched() (onCPU, delay time.Duration) {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(syscall.Gettid()) + "/schedstat")
	if err != nil {
		return 0, 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, 0
	}
	run, err1 := strconv.ParseInt(string(f[0]), 10, 64)
	wait, err2 := strconv.ParseInt(string(f[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return time.Duration(run), time.Duration(wait)
}
