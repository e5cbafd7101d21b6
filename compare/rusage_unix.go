//go:build unix

package compare

import (
	"syscall"
	"time"
)

// cpuSelf returns the user + system CPU time of this process, all threads.
func cpuSelf() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// cpuChildren returns the user + system CPU time of the child processes
// that have exited and been waited for (the workers of a subprocess pool
// once it has shut down).
func cpuChildren() time.Duration { return rusage(syscall.RUSAGE_CHILDREN) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
