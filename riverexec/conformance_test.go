package riverexec

import (
	"context"
	"fmt"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/executortest"
)

// TestConformance runs execkit's contract checks against a real server,
// each check on a fresh queue (so that no job of one check reaches the
// executor of the next): once unbounded, once with MaxPending.
func TestConformance(t *testing.T) {
	pool, schema := newDB(t)
	tests := []struct {
		name  string
		opts  []Option
		suite []executortest.Option
	}{
		{"unbounded", nil, []executortest.Option{executortest.Portable()}},
		{"MaxPending", []Option{MaxPending(3)}, []executortest.Option{executortest.Portable(), executortest.Blocking(3)}},
	}
	n := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
				n++
				opts := append([]Option{Schema(schema), Queue(fmt.Sprintf("check%d", n)), OnError(onError)}, tt.opts...)
				ex, err := New(context.Background(), pool, opts...)
				if err != nil {
					t.Fatal(err)
				}
				return ex
			}, tt.suite...)
		})
	}
}
