package pool_test

import (
	"context"
	"sync"
	"testing"

	"github.com/panjf2000/ants/v2"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/benchwork"
	"github.com/execkit/execkit/pool"
)

const benchSize = 8

// BenchmarkPool compares the pool with ants used directly (its blocking
// Submit, the way ants is usually used), on the same task body. Each op is
// one task submitted; the timer includes waiting for the last ones.
func BenchmarkPool(b *testing.B) {
	for _, task := range benchwork.Tasks {
		b.Run("task="+task.Name+"/impl=ants", func(b *testing.B) {
			p, err := ants.NewPool(benchSize)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Release()
			var wg sync.WaitGroup
			fn := task.Run
			run := func() { fn(); wg.Done() }
			b.ReportAllocs()
			cpu := benchwork.CPUTime()
			for b.Loop() {
				wg.Add(1)
				if err := p.Submit(run); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			benchwork.ReportCPU(b, cpu)
		})
		b.Run("task="+task.Name+"/impl=execkit", func(b *testing.B) {
			p, err := pool.New(benchSize)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Shutdown(context.Background())
			var wg sync.WaitGroup
			fn := task.Run
			run := execkit.TaskFunc(func(context.Context) error { fn(); wg.Done(); return nil })
			ctx := context.Background()
			b.ReportAllocs()
			cpu := benchwork.CPUTime()
			for b.Loop() {
				wg.Add(1)
				if err := p.Submit(ctx, run); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			benchwork.ReportCPU(b, cpu)
			st := p.Stats()
			b.ReportMetric(float64(st.Waited)/float64(b.N), "waits/op")
			b.ReportMetric(float64(st.Spilled)/float64(b.N), "spills/op")
		})
	}
}
