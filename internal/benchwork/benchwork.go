package benchwork

import (
	"syscall"
	"testing"
	"time"
)

// Rounds1us is the number of Spin rounds that take about 1µs (1.6ns a
// round on the 2-core AMD EPYC machine the README's figures come from).
const Rounds1us = 640

// Sink keeps the compiler from discarding the work of Spin, which would
// store its result there if it were ever zero (xorshift from a non-zero
// seed never is), so concurrent Spins never race on it.
var Sink uint64

// Spin is CPU-bound work: n rounds of xorshift, no memory, no allocation.
func Spin(n int) {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	if x == 0 {
		Sink = x
	}
}

// A Task is a named task body.
type Task struct {
	Name string
	Run  func()
}

// Tasks are the bodies of the overhead benchmarks: a no-op, which shows the
// executor's cost alone, and about 1µs of CPU work.
var Tasks = []Task{
	{"noop", func() {}},
	{"cpu1us", func() { Spin(Rounds1us) }},
}

// CPUTime returns the CPU time (user and system) the process has used so
// far. Benchmarks report its growth per op as "cpu-ns/op": on a machine
// shared with other work, CPU time varies much less than wall time, which
// also counts the time the benchmark waited for a core.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU reports the CPU time used since start, per op of b, as
// "cpu-ns/op".
func ReportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(CPUTime()-start)/float64(b.N), "cpu-ns/op")
}
