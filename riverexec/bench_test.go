package riverexec

import (
	"context"
	"fmt"
	"testing"

	"github.com/execkit/execkit"
)

// BenchmarkThroughput measures the end-to-end round trip of no-op tasks
// through PostgreSQL: Func.Go for every task of a batch, then Wait for
// every Future. It reports tasks/s; ns/op is per batch of `tasks`.
// mode=both is the default executor (its worker hands results straight to
// its submitter); mode=split is a SubmitOnly and a WorkOnly executor, as on
// two machines (results come back through the job rows and the poll).
func BenchmarkThroughput(b *testing.B) {
	for _, mode := range []string{"both", "split"} {
		for _, n := range []int{1000, 10_000} {
			b.Run(fmt.Sprintf("mode=%s/tasks=%d", mode, n), func(b *testing.B) {
				ex := benchExecutor(b, mode)
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
}

// BenchmarkRoundTrip measures the latency of one no-op task at a time:
// Func.Go, then Wait. In mode=split it is mostly River's completion
// batching (every 250ms when few jobs complete) and the poll.
func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []string{"both", "split"} {
		b.Run("mode="+mode, func(b *testing.B) {
			ex := benchExecutor(b, mode)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := noop.Go(ctx, ex, struct{}{}).Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchExecutor returns the default executor (mode both), or a SubmitOnly
// one with a WorkOnly one beside it on the same schema (mode split).
func benchExecutor(b *testing.B, mode string) *Executor {
	if mode == "both" {
		ex, _, _ := newExecutor(b)
		return ex
	}
	ex, pool, schema := newExecutor(b, SubmitOnly())
	w, err := New(context.Background(), pool, Schema(schema), WorkOnly())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Shutdown(context.Background()) })
	return ex
}
