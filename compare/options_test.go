package compare_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit/compare"
)

// TestRunOptionsInOrder: the later of two options of a kind wins, a nil
// ctx is context.Background, and bad values are errors before anything
// runs, each saying which option.
func TestRunOptionsInOrder(t *testing.T) {
	//lint:ignore SA1012 a nil ctx is context.Background, as documented
	rep, err := compare.Run(nil, square, []int{1}, compare.Batch(8), compare.TimePerStrategy(5*time.Millisecond), compare.Batch(4))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Batch != 4 {
		t.Errorf("Batch(8) then Batch(4): batch %d; want 4", rep.Batch)
	}
	for _, tc := range []struct {
		opt  compare.RunOption
		want string
	}{
		{compare.Batch(0), "Batch(0)"},
		{compare.Batch(-3), "Batch(-3)"},
		{compare.TimePerStrategy(0), "TimePerStrategy(0s)"},
		{compare.TimePerStrategy(-time.Second), "TimePerStrategy(-1s)"},
		{compare.Progress(nil), "Progress(nil)"},
		{nil, "nil option"},
	} {
		_, err := compare.Run(context.Background(), square, []int{1}, compare.Batch(4), tc.opt)
		if err == nil || !strings.HasPrefix(err.Error(), "compare: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run with %s: %v; want an error starting compare: and naming it", tc.want, err)
		}
	}
}
