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
// executor of the next).
func TestConformance(t *testing.T) {
	pool, schema := newDB(t)
	n := 0
	executortest.Run(t, func(t *testing.T, onError func(error)) execkit.Executor {
		n++
		ex, err := New(context.Background(), pool, Schema(schema), Queue(fmt.Sprintf("check%d", n)), OnError(onError))
		if err != nil {
			t.Fatal(err)
		}
		return ex
	}, executortest.Portable())
}
