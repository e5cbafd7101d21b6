package compare_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/compare"
)

var (
	square = execkit.Register("compare_test.square", func(_ context.Context, x int) (int, error) {
		return x * x, nil
	})
	errOdd = errors.New("odd input")
	even   = execkit.Register("compare_test.even", func(_ context.Context, x int) (int, error) {
		if x%2 != 0 {
			return 0, errOdd
		}
		return x, nil
	})
	sleep = execkit.Register("compare_test.sleep", func(ctx context.Context, d time.Duration) (time.Duration, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return d, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
)

// TestRunReport checks the report's shape: every strategy measured in
// order (subprocess included: TestMain calls subprocess.Main), numbers in
// every row, the table and the JSON.
func TestRunReport(t *testing.T) {
	var progress strings.Builder
	rep, err := compare.Run(context.Background(), square, []int{1, 2, 3},
		compare.TimePerStrategy(20*time.Millisecond), compare.Batch(64), compare.Progress(&progress))
	if err != nil {
		t.Fatal(err)
	}
	var execs []string
	for _, r := range rep.Results {
		if len(execs) == 0 || execs[len(execs)-1] != r.Executor {
			execs = append(execs, r.Executor)
		}
		if r.Tasks == 0 || r.TimePerTask <= 0 || len(r.Rounds) != 5 {
			t.Errorf("%s: %d tasks, %v per task, %d rounds; want some tasks, a time, 5 rounds", r.Strategy, r.Tasks, r.TimePerTask, len(r.Rounds))
		}
		if r.Executor == compare.ExecPool && r.Size > 64 {
			t.Errorf("%s: a pool larger than the batch (64)", r.Strategy)
		}
	}
	want := []string{"inline", "pool", "fireforget", "errgroup", "subprocess"}
	if strings.Join(execs, " ") != strings.Join(want, " ") {
		t.Errorf("executors measured %v; want %v", execs, want)
	}
	if rep.Function != "compare_test.square" || rep.Batch != 64 || rep.Samples != 3 || rep.Cores < 1 {
		t.Errorf("report header %q batch %d samples %d cores %d", rep.Function, rep.Batch, rep.Samples, rep.Cores)
	}
	if rep.Advice.Strategy == "" || rep.Advice.Code == "" || len(rep.Advice.Reasons) == 0 {
		t.Errorf("advice %+v; want a strategy, its code and reasons", rep.Advice)
	}
	s := rep.String()
	for _, w := range []string{"strategy", "time/task", "CPU/task", "peak goroutines", "inline", "subprocess-", "advice: " + rep.Advice.Strategy} {
		if !strings.Contains(s, w) {
			t.Errorf("String() lacks %q:\n%s", w, s)
		}
	}
	if !strings.Contains(progress.String(), "compare: inline: measuring") {
		t.Errorf("progress %q; want a line per strategy", progress.String())
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back compare.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != len(rep.Results) || back.Advice.Strategy != rep.Advice.Strategy || back.Results[0].TimePerTask != rep.Results[0].TimePerTask {
		t.Errorf("JSON round trip lost data: %s", b)
	}
	for _, key := range []string{`"time_per_task_ns"`, `"cpu_per_task_ns"`, `"peak_goroutines"`, `"advice"`, `"reasons"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

// TestRunWaits: a function that only waits is seen as such, and the
// advice is high concurrency, far above a pool of one worker per core.
func TestRunWaits(t *testing.T) {
	rep, err := compare.Run(context.Background(), sleep, []time.Duration{20 * time.Millisecond},
		compare.TimePerStrategy(50*time.Millisecond), compare.Batch(128))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Advice.Kind != compare.KindWaits {
		t.Errorf("kind %q; want %q\n%s", rep.Advice.Kind, compare.KindWaits, rep)
	}
	var pick compare.Result
	for _, r := range rep.Results {
		if r.Strategy == rep.Advice.Strategy {
			pick = r
		}
	}
	if pick.Size != 0 && pick.Size < 8*rep.Cores {
		t.Errorf("advice %s; want at least %d calls at once for a function that waits\n%s", pick.Strategy, 8*rep.Cores, rep)
	}
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := compare.Run(ctx, even, []int{2, 3}, compare.TimePerStrategy(10*time.Millisecond)); !errors.Is(err, errOdd) {
		t.Errorf("Run of a failing function: %v; want an error wrapping %v", err, errOdd)
	} else if !strings.HasPrefix(err.Error(), "compare: ") || strings.Count(err.Error(), "compare:") != 1 {
		t.Errorf("error %q; want it to start with compare:, once", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := compare.Run(cancelled, square, []int{1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled ctx: %v; want context.Canceled", err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"nil Func", func() error { _, err := compare.Run[int, int](ctx, nil, []int{1}); return err }},
		{"zero Func", func() error { _, err := compare.Run(ctx, new(execkit.Func[int, int]), []int{1}); return err }},
		{"no samples", func() error { _, err := compare.Run(ctx, square, nil); return err }},
		{"Batch(0)", func() error { _, err := compare.Run(ctx, square, []int{1}, compare.Batch(0)); return err }},
		{"TimePerStrategy(0)", func() error { _, err := compare.Run(ctx, square, []int{1}, compare.TimePerStrategy(0)); return err }},
		{"Progress(nil)", func() error { _, err := compare.Run(ctx, square, []int{1}, compare.Progress(nil)); return err }},
		{"nil option", func() error { _, err := compare.Run(ctx, square, []int{1}, nil); return err }},
	} {
		if err := tc.run(); err == nil || !strings.HasPrefix(err.Error(), "compare: ") || strings.Count(err.Error(), "compare:") != 1 {
			t.Errorf("%s: error %v; want one starting with compare:, once", tc.name, err)
		}
		if err := tc.run(); strings.HasSuffix(tc.name, " Func") != errors.Is(err, execkit.ErrNotRegistered) {
			t.Errorf("%s: error %v; want it to wrap execkit.ErrNotRegistered only for a nil Func", tc.name, err)
		}
	}
}

// BenchmarkStrategies is the benchmark a user writes:
// go test -bench Strategies -count 6 | benchstat.
func BenchmarkStrategies(b *testing.B) {
	compare.Benchmark(b, sleep, []time.Duration{time.Millisecond})
}

// TestRunSaysWhatADirectCallCosts: square is a few nanoseconds, execkit's
// cost per task (a Future) about a microsecond: the advice says so, with
// the direct call measured, rather than quote inline's time alone as what
// "one call" takes.
func TestRunSaysWhatADirectCallCosts(t *testing.T) {
	rep, err := compare.Run(context.Background(), square, []int{1, 2, 3},
		compare.TimePerStrategy(10*time.Millisecond), compare.Batch(16))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Advice.Reasons, "\n"), "a direct call (f.Call: no executor, no Future) takes") {
		t.Errorf("no reason gives a direct call's time:\n%s", rep)
	}
}
