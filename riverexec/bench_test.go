package riverexec

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/execkit/execkit"
)

// BenchmarkThroughput measures the end-to-end round trip of no-op tasks
// through the database: Func.Go for every task of a batch, then Wait for
// every Future. It reports tasks/s; ns/op is per batch of `tasks`.
// mode=both is the default executor (its worker hands results straight to
// its submitter); mode=split is a SubmitOnly and a WorkOnly executor, as on
// two machines (results come back through the job rows and the poll).
// db=sqlite always, db=postgres with EXECKIT_PG_URL.
func BenchmarkThroughput(b *testing.B) {
	for _, driver := range benchDrivers() {
		for _, mode := range []string{"both", "split"} {
			for _, n := range []int{1000, 10_000} {
				b.Run(fmt.Sprintf("db=%s/mode=%s/tasks=%d", driver, mode, n), func(b *testing.B) {
					ex := benchExecutor(b, driver, mode)
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
}

// BenchmarkRoundTrip measures the latency of one no-op task at a time:
// Func.Go, then Wait. In mode=split it is mostly River's completion
// batching (on PostgreSQL, every 250ms when few jobs complete) and the
// poll.
func BenchmarkRoundTrip(b *testing.B) {
	for _, driver := range benchDrivers() {
		for _, mode := range []string{"both", "split"} {
			b.Run(fmt.Sprintf("db=%s/mode=%s", driver, mode), func(b *testing.B) {
				ex := benchExecutor(b, driver, mode)
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
}

// benchDrivers: SQLite always, PostgreSQL with EXECKIT_PG_URL.
func benchDrivers() []string {
	if os.Getenv("EXECKIT_PG_URL") == "" {
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// benchExecutor returns the default executor (mode both), or a SubmitOnly
// one with a WorkOnly one beside it on the same database (mode split).
func benchExecutor(b *testing.B, driver, mode string) *Executor {
	db := newDB(b, driver)
	if mode == "both" {
		return newExecutor(b, db)
	}
	ex := newExecutor(b, db, SubmitOnly())
	w, err := db.New(WorkOnly())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Shutdown(context.Background()) })
	return ex
}

// BenchmarkRetry measures a call whose function fails twice and succeeds
// the third time under Retry(2, time.Millisecond): two retries, each a new
// River attempt of the same job. On PostgreSQL a retry waits for River to
// record the failed attempt (in batches) and for a worker to fetch the job
// again (woken by the executor's notice, else at the next fetch poll, a
// second).
func BenchmarkRetry(b *testing.B) {
	for _, driver := range benchDrivers() {
		b.Run("db="+driver, func(b *testing.B) {
			ex := benchExecutor(b, driver, "both")
			ctx := context.Background()
			for b.Loop() {
				if _, err := thirdTime.Go(ctx, ex, tokenFor(nil, "bench")).Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
