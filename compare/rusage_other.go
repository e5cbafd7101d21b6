//go:build !unix

package compare

import "time"

// Without getrusage the CPU time is unknown: 0, and the report leaves it
// blank.
func cpuSelf() time.Duration     { return 0 }
func cpuChildren() time.Duration { return 0 }
