package pool_test

import (
	"context"
	"sync"
	"testing"

	"github.com/panjf2000/ants/v2"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/pool"
)

// spin is a CPU-bound task body of about 1µs (640 xorshift rounds; 1.6ns a
// round on the machine the figures in the package doc come from).
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

var sink uint64

var benchTasks = []struct {
	name string
	fn   func()
}{
	{"noop", func() {}},
	{"cpu1us", func() { sink += spin(640) }},
}

const benchSize = 8

// BenchmarkPool compares the pool with ants used directly (its blocking
// Submit, the way ants is usually used), on the same task body. Each op is
// one task submitted; the timer includes waiting for the last ones.
func BenchmarkPool(b *testing.B) {
	for _, task := range benchTasks {
		b.Run("task="+task.name+"/impl=ants", func(b *testing.B) {
			p, err := ants.NewPool(benchSize)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Release()
			var wg sync.WaitGroup
			fn := task.fn
			run := func() { fn(); wg.Done() }
			b.ReportAllocs()
			for b.Loop() {
				wg.Add(1)
				if err := p.Submit(run); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		})
		b.Run("task="+task.name+"/impl=execkit", func(b *testing.B) {
			p, err := pool.New(benchSize)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Shutdown(context.Background())
			var wg sync.WaitGroup
			fn := task.fn
			run := execkit.TaskFunc(func(context.Context) error { fn(); wg.Done(); return nil })
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				wg.Add(1)
				if err := p.Submit(ctx, run); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			st := p.Stats()
			b.ReportMetric(float64(st.Waited)/float64(b.N), "waits/op")
			b.ReportMetric(float64(st.Spilled)/float64(b.N), "spills/op")
		})
	}
}
