package compare_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/compare"
)

// mainRan is set by TestMain after subprocess.Main returned, as a program
// opens its database after it: a worker process never sets it.
var mainRan bool

var errNoState = errors.New("the state main sets up is missing")

// needsMain works only in a process whose main set things up: in a
// subprocess worker it fails, as a function using a handle opened in main
// does.
var needsMain = execkit.Register("compare_test.needsMain", func(_ context.Context, x int) (int, error) {
	if !mainRan {
		return 0, errNoState
	}
	return x, nil
})

// TestRunSubprocessFailureKeepsReport: a function that cannot run in a
// worker process (here, it needs what main set up) leaves the subprocess
// strategy out, with the reason in the advice, and keeps the report of
// every other strategy (Run returned only the error, after measuring the
// others).
func TestRunSubprocessFailureKeepsReport(t *testing.T) {
	rep, err := compare.Run(context.Background(), needsMain, []int{1, 2},
		compare.TimePerStrategy(10*time.Millisecond), compare.Batch(16))
	if err != nil {
		t.Fatalf("Run: %v; want the report without subprocess", err)
	}
	var execs []string
	for _, r := range rep.Results {
		if len(execs) == 0 || execs[len(execs)-1] != r.Executor {
			execs = append(execs, r.Executor)
		}
	}
	if got, want := strings.Join(execs, " "), "inline pool fireforget errgroup"; got != want {
		t.Errorf("executors measured %q; want %q", got, want)
	}
	reasons := strings.Join(rep.Advice.Reasons, "\n")
	if !strings.Contains(reasons, "subprocess-") || !strings.Contains(reasons, "not measured") || !strings.Contains(reasons, errNoState.Error()) {
		t.Errorf("advice reasons:\n%s\nwant one saying subprocess was not measured, and why (%q)", reasons, errNoState)
	}
	if rep.Advice.Strategy == "" {
		t.Errorf("no advice: %+v", rep.Advice)
	}
}
