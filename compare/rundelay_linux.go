//go:build linux

package compare

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// threadRunDelay returns the time the calling thread has spent ready to
// run but waiting for a core (the second field of its
// /proc/self/task/<tid>/schedstat), or 0 where the kernel does not say.
// Read by a goroutine locked to its thread, it is what the goroutine's own
// work waited for cores taken by other work: other threads' waits (GC
// workers, other goroutines at the same time) are not on its path and are
// not counted.
func threadRunDelay() time.Duration {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(syscall.Gettid()) + "/schedstat")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	ns, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return time.Duration(ns)
}

// threadBlocks returns how many times the calling thread has blocked (its
// voluntary context switches, from getrusage(RUSAGE_THREAD)).
func threadBlocks() int64 {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return ru.Nvcsw
}
