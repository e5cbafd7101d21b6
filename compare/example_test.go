package compare_test

import (
	"context"
	"fmt"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/compare"
)

// fetch stands for a call that waits (a database query, an HTTP request):
// registered at package level, like every function execkit runs by name.
var fetch = execkit.Register("compare_test.fetch", func(ctx context.Context, id int) (int, error) {
	select {
	case <-time.After(20 * time.Millisecond):
		return id, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
})

// Run measures the function on every strategy and advises. The numbers
// depend on the machine; what they add up to does not: a call that waits
// is recognised as such, and the executors measured are always these.
// fmt.Println(report) prints the table and the advice with its numbers.
func ExampleRun() {
	report, err := compare.Run(context.Background(), fetch, []int{1, 2, 3},
		compare.TimePerStrategy(50*time.Millisecond), compare.Batch(100))
	if err != nil {
		fmt.Println(err)
		return
	}
	var executors []string
	for _, r := range report.Results {
		if len(executors) == 0 || executors[len(executors)-1] != r.Executor {
			executors = append(executors, r.Executor)
		}
	}
	fmt.Println("measured:", executors)
	fmt.Println("kind:", report.Advice.Kind)
	fmt.Println("reasons given:", len(report.Advice.Reasons) > 0)
	// Output:
	// measured: [inline pool fireforget errgroup subprocess]
	// kind: waits
	// reasons given: true
}
