package compare_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/compare"
)

// release lets deaf's calls return; the test makes it in its synctest
// bubble (so that a call waiting on it is durably blocked) and closes it.
var release chan struct{}

// deaf ignores its ctx: it returns only once release is closed.
var deaf = execkit.Register("compare_test.deaf", func(_ context.Context, x int) (int, error) {
	<-release
	return x, nil
})

// TestRunAbandonsCallIgnoringCtx: a function that ignores its ctx cannot be
// stopped, but Run returns anyway, a second past the end of ctx, with
// ctx's error and the name of the strategy that was stuck (inline runs the
// call in Run's own goroutine: Run hung there until the call returned).
func TestRunAbandonsCallIgnoringCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release = make(chan struct{})
		defer close(release) // lets the abandoned call finish, so the bubble empties
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := compare.Run(ctx, deaf, []int{1}, compare.TimePerStrategy(10*time.Millisecond))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run of a call that ignores ctx: %v; want context.DeadlineExceeded", err)
		}
		if strings.Count(err.Error(), "compare:") != 1 {
			t.Errorf("error %q; want compare: once", err)
		}
		for _, w := range []string{"compare: inline: ", "ignores its ctx"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q; want it to say %q", err, w)
			}
		}
		if got, want := time.Since(start), 2*time.Second; got != want {
			t.Errorf("Run returned after %v; want %v (ctx's timeout and a second)", got, want)
		}
	})
}
