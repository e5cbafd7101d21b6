package compare

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/execkit/execkit"
)

var errSeven = errors.New("seven")

// failsOnSeven fails on one input only: a sub-benchmark's first run, at
// b.N = 1, calls it on the first sample and passes; the next fails.
var failsOnSeven = execkit.Register("compare.failsOnSeven", func(_ context.Context, x int) (int, error) {
	if x == 7 {
		return 0, errSeven
	}
	return x, nil
})

// TestBenchmarkAdviceLeavesFailedOut: a strategy whose sub-benchmark
// failed is never advised. The advice drew on the rounds of the
// sub-benchmark's first run (b.N = 1, one call on a good input), kept
// when the run at the full b.N failed: every sub-benchmark failed, and
// the advice recommended fireforget with numbers.
func TestBenchmarkAdviceLeavesFailedOut(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("20x"); err != nil {
		t.Fatal(err)
	}
	defer bt.Value.Set(old)
	name := ""
	testing.Benchmark(func(b *testing.B) {
		Benchmark(b, failsOnSeven, []int{1, 7}, Batch(8))
		name = b.Name()
	})
	benchSessions.Lock()
	s := benchSessions.m[name]
	delete(benchSessions.m, name)
	benchSessions.Unlock()
	if s == nil {
		t.Fatalf("no session recorded for %q", name)
	}
	rep := s.report()
	if len(rep.Results) != 0 || rep.Advice.Strategy != "" {
		t.Errorf("every sub-benchmark failed, yet %d results and the advice %q:\n%s", len(rep.Results), rep.Advice.Strategy, rep)
	}
	reasons := strings.Join(rep.Advice.Reasons, "\n")
	if !strings.Contains(reasons, "failed, so left out") || !strings.Contains(reasons, "inline") || !strings.Contains(reasons, "errgroup") {
		t.Errorf("reasons:\n%s\nwant one naming the failed strategies", reasons)
	}
}

// TestBenchmarkAgainNamesWhatFailed: when the benchmark function runs
// again in one process (testing.Benchmark in a loop), a strategy that
// failed in an earlier call is tried again and, failing again, named. The
// later call tried only the strategies with rounds: every one had failed,
// so it tried none and said only that nothing was measured.
func TestBenchmarkAgainNamesWhatFailed(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("20x"); err != nil {
		t.Fatal(err)
	}
	defer bt.Value.Set(old)
	name := ""
	for range 2 {
		testing.Benchmark(func(b *testing.B) {
			Benchmark(b, failsOnSeven, []int{1, 7}, Batch(8))
			name = b.Name()
		})
	}
	benchSessions.Lock()
	s := benchSessions.m[name]
	delete(benchSessions.m, name)
	benchSessions.Unlock()
	if s == nil {
		t.Fatalf("no session recorded for %q", name)
	}
	rep := s.report()
	reasons := strings.Join(rep.Advice.Reasons, "\n")
	if len(rep.Results) != 0 || !strings.Contains(reasons, "failed, so left out") || !strings.Contains(reasons, "inline") || !strings.Contains(reasons, "errgroup") {
		t.Errorf("the second call: %d results, reasons:\n%s\nwant none, and a reason naming the failed strategies", len(rep.Results), reasons)
	}
}
