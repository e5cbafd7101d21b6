package compare

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/execkit/execkit"
)

var triple = execkit.Register("compare.triple", func(_ context.Context, x int) (int, error) {
	return 3 * x, nil
})

// TestBenchmarkSubBenchmarks runs Benchmark as go test -bench would, with
// a fixed -benchtime: it runs every strategy as a sub-benchmark, keeps the
// first call's strategies for the second (-count), accumulates their
// rounds (whole passes over the samples: rounds of 40 calls on 3 samples
// timed different mixes of inputs) and prints the advice to stderr.
func TestBenchmarkSubBenchmarks(t *testing.T) {
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("200x"); err != nil {
		t.Fatal(err)
	}
	defer bt.Value.Set(old)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	out := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); out <- b }()
	var names []string
	for range 2 {
		testing.Benchmark(func(b *testing.B) {
			Benchmark(b, triple, []int{1, 2, 3}, Batch(32))
			names = append(names, b.Name())
		})
	}
	os.Stderr = stderr
	w.Close()
	printed := <-out
	r.Close()
	if !strings.Contains(string(printed), "advice: ") {
		t.Errorf("stderr %q; want the advice", printed)
	}
	benchSessions.Lock()
	s := benchSessions.m[names[0]]
	delete(benchSessions.m, names[0])
	benchSessions.Unlock()
	if s == nil {
		t.Fatalf("no session recorded for %q", names[0])
	}
	var execs []string
	for _, a := range s.accs {
		if len(execs) == 0 || execs[len(execs)-1] != a.s.executor {
			execs = append(execs, a.s.executor)
		}
		if len(a.rounds) != 2*rounds { // two calls, five rounds each
			t.Errorf("%s: %d rounds; want %d", a.s.name(), len(a.rounds), 2*rounds)
		}
		tasks := 0
		for _, r := range a.rounds {
			tasks += r.tasks
			if r.tasks%3 != 0 {
				t.Errorf("%s: a round of %d calls; want whole passes over the 3 samples", a.s.name(), r.tasks)
			}
		}
		// Of b.N = 200, five rounds of 39 calls (13 passes over the 3
		// samples), the 5 left over made before them.
		if tasks != 2*195 {
			t.Errorf("%s: %d calls timed; want 2 × 5 rounds × 39", a.s.name(), tasks)
		}
	}
	// subprocess runs: the external tests' TestMain, which calls
	// subprocess.Main, is this binary's.
	want := "inline pool fireforget errgroup subprocess"
	if got := strings.Join(execs, " "); got != want {
		t.Errorf("strategies %q; want %q", got, want)
	}
}

// TestMeasureCountsOnlyTheCalls: a round's allocations are its calls'
// only, not the measuring's (reading the run delay inside the round
// allocated some 100 objects a round: 10 more per call in rounds of ten),
// so a round of one call allocates what a call does in a round of a
// thousand.
func TestMeasureCountsOnlyTheCalls(t *testing.T) {
	ex := &execkit.Inline{}
	defer ex.Shutdown(context.Background())
	d := &driver[int, int]{f: triple, samples: []int{1, 2, 3}, batch: 1000}
	ctx := context.Background()
	if _, err := d.measure(ctx, ex, 1000, 0); err != nil { // warm up
		t.Fatal(err)
	}
	many, err := d.measure(ctx, ex, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	per := float64(many.allocs) / 1000
	for range 3 {
		one, err := d.measure(ctx, ex, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if float64(one.allocs) > per+1 {
			t.Errorf("a round of one call allocated %d objects; a call allocates %.1f in a round of 1000", one.allocs, per)
		}
	}
}
