package errgroup_test

import (
	"context"
	"strconv"
	"testing"

	xerrgroup "golang.org/x/sync/errgroup"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/errgroup"
	"github.com/execkit/execkit/internal/benchwork"
)

// BenchmarkGroup compares the group with x/sync's errgroup used directly
// (WithContext, and SetLimit when limited), on the same task body. Each op
// is one task submitted; the timer includes waiting for the last ones.
func BenchmarkGroup(b *testing.B) {
	for _, task := range benchwork.Tasks {
		for _, limit := range []int{0, 8} {
			name := "task=" + task.Name + "/limit=" + strconv.Itoa(limit)
			b.Run(name+"/impl=xsync", func(b *testing.B) {
				g, _ := xerrgroup.WithContext(context.Background())
				if limit > 0 {
					g.SetLimit(limit)
				}
				fn := task.Run
				run := func() error { fn(); return nil }
				b.ReportAllocs()
				cpu := benchwork.CPUTime()
				for b.Loop() {
					g.Go(run)
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				benchwork.ReportCPU(b, cpu)
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
				fn := task.Run
				run := execkit.TaskFunc(func(context.Context) error { fn(); return nil })
				ctx := context.Background()
				b.ReportAllocs()
				cpu := benchwork.CPUTime()
				for b.Loop() {
					if err := g.Submit(ctx, run); err != nil {
						b.Fatal(err)
					}
				}
				if err := g.Shutdown(ctx); err != nil {
					b.Fatal(err)
				}
				benchwork.ReportCPU(b, cpu)
			})
		}
	}
}
