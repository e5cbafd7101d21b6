package compare

import (
	"context"
	"flag"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/execkit/execkit"
)

// goexitHere is set by the test in its own process: a subprocess worker
// never sets it, so goexitsHere returns there.
var goexitHere atomic.Bool

var goexitsHere = execkit.Register("compare.goexitsHere", func(_ context.Context, x int) (int, error) {
	if goexitHere.Load() {
		runtime.Goexit()
	}
	return x, nil
})

// TestBenchmarkGoexitInlineFails: a function that ends its goroutine
// (runtime.Goexit) ends the inline sub-benchmark's, which runs its calls;
// that sub-benchmark fails, saying so (it ended without a word, and the
// strategy was left out of the advice as if never tried).
func TestBenchmarkGoexitInlineFails(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("20x"); err != nil {
		t.Fatal(err)
	}
	defer bt.Value.Set(old)
	goexitHere.Store(true)
	defer goexitHere.Store(false)
	failed, name := false, ""
	testing.Benchmark(func(b *testing.B) {
		Benchmark(b, goexitsHere, []int{1}, Batch(8))
		failed, name = b.Failed(), b.Name()
	})
	benchSessions.Lock()
	delete(benchSessions.m, name)
	benchSessions.Unlock()
	if !failed {
		t.Error("Benchmark of a function that calls runtime.Goexit did not fail")
	}
}
