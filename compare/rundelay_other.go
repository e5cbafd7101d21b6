//go:build !linux

package compare

import "time"

// runDelay is known on Linux only: elsewhere 0, and the kind of work is
// judged on CPU time over wall time alone.
func runDelay() time.Duration { return 0 }
