package bench_test

import (
	"fmt"

	"github.com/execkit/execkit/bench"
)

// The median of the rounds is what the report shows: one slow round (the
// machine was busy) does not move it.
func ExampleMedian() {
	fmt.Println(bench.Median([]float64{210, 205, 900}))
	// Output: 210
}

// Ratios compare each cell with its family's baseline (time over time:
// below 1 is faster) and with its Python original (Python's time over
// Go's: how many times faster).
func ExampleFillRatios() {
	rs := []bench.Result{
		{Workload: "noop", Strategy: "raw-go", Kind: bench.KindBatch, NsPerTask: 200, Python: "py-thread"},
		{Workload: "noop", Strategy: "ants", Kind: bench.KindBatch, NsPerTask: 300, Baseline: "raw-go"},
		{Workload: "noop", Strategy: "py-thread", Kind: bench.KindBatch, NsPerTask: 150_000},
	}
	bench.FillRatios(rs)
	fmt.Println("ants vs raw-go:", bench.FormatRatio(*rs[1].VsBaseline))
	fmt.Println("raw-go vs py-thread:", bench.FormatRatio(*rs[0].VsPython), "faster")
	// Output:
	// ants vs raw-go: 1.50x
	// raw-go vs py-thread: 750x faster
}

// Strategies alternate within each round, and each round starts one
// strategy later, so none always runs first.
func ExampleSchedule() {
	noop := bench.WorkloadNamed("noop")
	cases := []bench.Case{
		{Workload: noop, Strategy: bench.StrategyNamed("raw-go")},
		{Workload: noop, Strategy: bench.StrategyNamed("ants")},
	}
	for r, round := range bench.Schedule(cases, 3) {
		fmt.Print("round ", r+1, ":")
		for _, c := range round {
			fmt.Print(" ", c.Strategy.Name)
		}
		fmt.Println()
	}
	// Output:
	// round 1: raw-go ants
	// round 2: ants raw-go
	// round 3: raw-go ants
}
