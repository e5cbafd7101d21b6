package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/benchwork"
	"github.com/execkit/execkit/pool"
)

// BenchmarkQueuedPool is the focused loop of the pool cells of the matrix:
// execkit's pool with a bounded queue against pond (its default unbounded
// queue) and ants used directly, 8 workers, on no-op and 1µs tasks. Each op
// is one task submitted; the timer includes waiting for the last ones.
func BenchmarkQueuedPool(b *testing.B) {
	const size, queue = 8, 1024
	for _, task := range benchwork.Tasks {
		fn := task.Run
		b.Run("task="+task.Name+"/impl=pond", func(b *testing.B) {
			p := pond.NewPool(size)
			defer p.StopAndWait()
			var wg sync.WaitGroup
			run := func() { fn(); wg.Done() }
			b.ReportAllocs()
			for b.Loop() {
				wg.Add(1)
				p.Go(run)
			}
			wg.Wait()
		})
		b.Run("task="+task.Name+"/impl=ants", func(b *testing.B) {
			p, err := ants.NewPool(size)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Release()
			var wg sync.WaitGroup
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
		for _, q := range []int{0, queue} {
			name := "pool"
			var opts []pool.Option
			if q > 0 {
				name = "pool-queue"
				opts = append(opts, pool.Queue(q))
			}
			b.Run("task="+task.Name+"/impl="+name, func(b *testing.B) {
				p, err := pool.New(size, opts...)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Shutdown(context.Background())
				var wg sync.WaitGroup
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
			})
		}
	}
}
