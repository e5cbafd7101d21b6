package compare

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// slowOnZero is slow on its first sample only: with fifty samples and
// -benchtime 50x, the first of a sub-benchmark's five rounds of ten calls
// holds the one slow call, the other four are fast.
var slowOnZero = execkit.Register("compare.slowOnZero", func(ctx context.Context, x int) (int, error) {
	if x == 0 {
		t := time.NewTimer(20 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return x, nil
})

const nsopProbeEnv = "COMPARE_NSOP_PROBE"

// BenchmarkNsOpProbe is run by TestBenchmarkNsOpIsTheAdvicesTime in a
// child go test process; it prints the report's time per task of every
// strategy after the sub-benchmarks' lines.
func BenchmarkNsOpProbe(b *testing.B) {
	if os.Getenv(nsopProbeEnv) == "" {
		b.Skip("run by TestBenchmarkNsOpIsTheAdvicesTime")
	}
	samples := make([]int, 50)
	for i := range samples {
		samples[i] = i
	}
	Benchmark(b, slowOnZero, samples, Batch(16))
	benchSessions.Lock()
	s := benchSessions.m[b.Name()]
	benchSessions.Unlock()
	for _, r := range s.report().Results {
		fmt.Printf("time-per-task %s %d %d\n", r.Strategy, int64(r.TimePerTask), len(r.Rounds))
	}
}

// runNsOpProbe runs BenchmarkNsOpProbe in a child go test process at
// -benchtime 50x and -count count, and returns its output and the fields
// of its time-per-task lines (strategy, time per task, rounds).
func runNsOpProbe(t *testing.T, count int) (out []byte, perTask [][]string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkNsOpProbe$", "-test.benchtime=50x", "-test.count="+strconv.Itoa(count))
	cmd.Env = append(os.Environ(), nsopProbeEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	for l := range strings.Lines(string(out)) {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "time-per-task" {
			perTask = append(perTask, f[1:])
		}
	}
	return out, perTask
}

// TestBenchmarkNsOpIsTheAdvicesTime: a sub-benchmark's ns/op is the time
// per task the advice uses. It was testing's whole time over b.N (a mean
// over the rounds, the measuring between them included) where the advice
// takes the rounds' median: a function slow in one round of five read
// some 400µs/op next to an advice of a few µs per task.
func TestBenchmarkNsOpIsTheAdvicesTime(t *testing.T) {
	if os.Getenv(nsopProbeEnv) != "" {
		t.Skip("in the child")
	}
	out, perTask := runNsOpProbe(t, 1)
	suffix := ""
	if p := runtime.GOMAXPROCS(0); p > 1 {
		suffix = "-" + strconv.Itoa(p)
	}
	line := regexp.MustCompile(`^BenchmarkNsOpProbe/strategy=(\S+)\s+(\d+)\s+([0-9.]+) ns/op`)
	nsop := map[string]float64{}
	advice := map[string]float64{}
	for _, l := range strings.Split(string(out), "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			v, _ := strconv.ParseFloat(m[3], 64)
			nsop[strings.TrimSuffix(m[1], suffix)] = v
		}
	}
	for _, f := range perTask {
		v, _ := strconv.ParseFloat(f[1], 64)
		advice[f[0]] = v
	}
	if len(advice) < 5 {
		t.Fatalf("%d strategies in the report; want every one\n%s", len(advice), out)
	}
	for name, want := range advice {
		got, ok := nsop[name]
		if !ok {
			t.Errorf("strategy=%s: no ns/op line\n%s", name, out)
			continue
		}
		// ns/op is printed with a few significant digits, the report's time
		// is whole nanoseconds.
		if d := got - want; d > max(1, want/100) || -d > max(1, want/100) {
			t.Errorf("strategy=%s: %v ns/op; the advice's time per task is %vns", name, got, want)
		}
	}
}

// TestBenchmarkCountKeepsEveryRepetition: go test -count 3 runs each
// sub-benchmark three times, each with a B of its own, and the benchmark
// function once; the advice drew on the last repetition's five rounds
// only, the other ten thrown away (the docs said it drew on all).
func TestBenchmarkCountKeepsEveryRepetition(t *testing.T) {
	if os.Getenv(nsopProbeEnv) != "" {
		t.Skip("in the child")
	}
	out, perTask := runNsOpProbe(t, 3)
	for _, f := range perTask {
		if f[2] != "15" {
			t.Errorf("%s: %s rounds in the report; want 15 (3 repetitions of 5)", f[0], f[2])
		}
	}
	if n := len(perTask); n < 5 {
		t.Fatalf("%d strategies in the report; want every one\n%s", n, out)
	}
}
