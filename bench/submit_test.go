package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/fireforget"
	"github.com/sourcegraph/conc"
)

// BenchmarkGoroutinePerTask measures starting a no-op task on a goroutine
// of its own: a bare go statement with a sync.WaitGroup (the baseline),
// conc's WaitGroup (which also recovers panics) and the fireforget
// Executor, in the same run. It lives here, not beside fireforget's own
// BenchmarkSubmit, so that conc stays out of the library's go.mod.
func BenchmarkGoroutinePerTask(b *testing.B) {
	ctx := context.Background()
	noop := execkit.TaskFunc(func(context.Context) error { return nil })
	b.Run("impl=go+WaitGroup", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = noop.Run(ctx)
			}()
		}
		wg.Wait()
	})
	b.Run("impl=conc.WaitGroup", func(b *testing.B) {
		b.ReportAllocs()
		var wg conc.WaitGroup
		for b.Loop() {
			wg.Go(func() { _ = noop.Run(ctx) })
		}
		wg.Wait()
	})
	b.Run("impl=fireforget", func(b *testing.B) {
		b.ReportAllocs()
		e, err := fireforget.New()
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := e.Submit(ctx, noop); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.Shutdown(ctx); err != nil {
			b.Fatal(err)
		}
	})
}
