//go:build linux

package compare

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// runDelay returns the time this process's threads have spent ready to run
// but waiting for a core (the second field of each thread's
// /proc/self/task/<tid>/schedstat), or 0 where the kernel does not say.
// The delays of threads that have exited are not counted: the difference
// of two readings can fall short, never exceed, the time waited between
// them, apart from threads that exit in between.
func runDelay() time.Duration {
	dir, err := os.Open("/proc/self/task")
	if err != nil {
		return 0
	}
	tids, _ := dir.Readdirnames(-1)
	dir.Close()
	var total time.Duration
	for _, tid := range tids {
		b, err := os.ReadFile("/proc/self/task/" + tid + "/schedstat")
		if err != nil {
			continue // the thread has exited
		}
		f := bytes.Fields(b)
		if len(f) < 2 {
			continue
		}
		if ns, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
			total += time.Duration(ns)
		}
	}
	return total
}
