//go:build !linux

package compare

import "time"

// threadSched is known on Linux only: elsewhere zeros, and the kind of
// work is judged on CPU time over wall time alone.
func threadSched() (onCPU, delay time.Duration) { return 0, 0 }
