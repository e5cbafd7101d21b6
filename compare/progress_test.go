package compare_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit/compare"
)

// TestProgressReportsEachStrategyAsMeasured: Progress gives a strategy's
// time as soon as it is measured, before the next starts, not all of them
// at the end: a user watching a long run saw only "measuring" lines until
// it ended.
func TestProgressReportsEachStrategyAsMeasured(t *testing.T) {
	var progress strings.Builder
	rep, err := compare.Run(context.Background(), square, []int{1, 2, 3},
		compare.TimePerStrategy(10*time.Millisecond), compare.Batch(16), compare.Progress(&progress))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(progress.String(), "\n"), "\n")
	i := 0
	for _, r := range rep.Results {
		for i < len(lines) && lines[i] != "compare: "+r.Strategy+": measuring" {
			i++
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "compare: "+r.Strategy+": ") || !strings.Contains(lines[i+1], " per task ") {
			t.Fatalf("no line with %s's time right after its measuring line:\n%s", r.Strategy, progress.String())
		}
		i += 2
	}
	if last := lines[len(lines)-1]; last != "compare: advice: "+rep.Advice.Strategy {
		t.Errorf("last line %q; want the advice's strategy (%s)", last, rep.Advice.Strategy)
	}
}
