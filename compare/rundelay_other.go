//go:build !linux

package compare

import "time"

// threadRunDelay is known on Linux only: elsewhere 0, and the kind of work
// is judged on CPU time over wall time alone.
func threadRunDelay() time.Duration { return 0 }

func threadSched() (onCPU, delay time.Duration) { return 0, 0 }
