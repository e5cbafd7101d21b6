package riverexec

import (
	"context"
	"fmt"
	"testing"

	"github.com/execkit/execkit"
)

// BenchmarkThroughput measures the end-to-end round trip of no-op tasks
// through PostgreSQL in one process (submitter and worker): Func.Go for
// every task, then Wait for every Future. It reports tasks/s; ns/op is per
// batch of `tasks`.
func BenchmarkThroughput(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			ex, _, _ := newExecutor(b)
			ctx := context.Background()
			futures := make([]*execkit.Future[struct{}], n)
			b.ReportAllocs()
			for b.Loop() {
				for i := range futures {
					futures[i] = noop.Go(ctx, ex, struct{}{})
				}
				for _, f := range futures {
					if _, err := f.Wait(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}
