package compare_test

import (
	"context"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/compare"
)

// slowOnOne is slow for one input only, as a function whose cost depends
// on its input is.
var slowOnOne = execkit.Register("compare_test.slowOnOne", func(ctx context.Context, x int) (int, error) {
	if x == 1 {
		t := time.NewTimer(6 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return x, nil
})

// TestRunRoundsPassOverEverySample: every round calls the function on
// every sample, so the time per task is the samples' mean. Rounds sized by
// the time alone called it on different inputs: with a call of 6 ms on
// one input of three and rounds of one call, two rounds of five held the
// slow input, and the median, a fast one, said inline took microseconds
// per call where a call takes 2 ms on average.
func TestRunRoundsPassOverEverySample(t *testing.T) {
	samples := []int{1, 2, 3}
	rep, err := compare.Run(context.Background(), slowOnOne, samples,
		compare.TimePerStrategy(5*time.Millisecond), compare.Batch(4))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Tasks%(5*len(samples)) != 0 {
			t.Errorf("%s: %d calls in 5 rounds; want whole passes over the %d samples", r.Strategy, r.Tasks, len(samples))
		}
		if r.Executor == compare.ExecInline && r.TimePerTask < 2*time.Millisecond {
			t.Errorf("inline: %v per call; want at least 2ms (6ms on one input of three, one call at a time)\n%s", r.TimePerTask, rep)
		}
	}
}
