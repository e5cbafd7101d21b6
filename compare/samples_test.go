package compare_test

import (
	"context"
	"testing"
	"time"

	"github.com/execkit/execkit/compare"
)

// TestRunRoundsPassOverEverySample: every round calls the function on
// every sample, so the time per task is the samples' mean. Rounds sized by
// the time alone called it on different inputs: with a call of 6 ms on
// one input of three and rounds of one call, two rounds of five held the
// slow input, and the median, a fast one, said inline took microseconds
// per call where a call takes 2 ms on average.
func TestRunRoundsPassOverEverySample(t *testing.T) {
	// sleep (compare_test.go) is slow for one input only, as a function
	// whose cost depends on its input is.
	samples := []time.Duration{6 * time.Millisecond, 0, 0}
	rep, err := compare.Run(context.Background(), sleep, samples,
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
