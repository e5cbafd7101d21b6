package errgroup_test

import (
	"context"
	"strconv"
	"testing"

	xerrgroup "golang.org/x/sync/errgroup"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
)

// spin is a CPU-bound task body of about 1µs (640 xorshift rounds).
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
	fn   func() error
}{
	{"noop", func() error { return nil }},
	{"cpu1us", func() error { sink += spin(640); return nil }},
}

// BenchmarkGroup compares the group with x/sync's errgroup used directly
// (WithContext, and SetLimit when limited), on the same task body. Each op
// is one task submitted; the timer includes waiting for the last ones.
func BenchmarkGroup(b *testing.B) {
	for _, task := range benchTasks {
		for _, limit := range []int{0, 8} {
			name := "task=" + task.name + "/limit=" + strconv.Itoa(limit)
			b.Run(name+"/impl=xsync", func(b *testing.B) {
				g, _ := xerrgroup.WithContext(context.Background())
				if limit > 0 {
					g.SetLimit(limit)
				}
				fn := task.fn
				b.ReportAllocs()
				for b.Loop() {
					g.Go(fn)
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			})
			b.Run(name+"/impl=execkit", func(b *testing.B) {
				var opts []errgroup.Option
				if limit > 0 {
					opts = append(opts, errgroup.Limit(limit))
				}
				g, err := errgroup.New(opts...)
				if err != nil {
					b.Fatal(err)
				}
				fn := task.fn
				run := execkit.TaskFunc(func(context.Context) error { return fn() })
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := g.Submit(ctx, run); err != nil {
						b.Fatal(err)
					}
				}
				if err := g.Shutdown(ctx); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
