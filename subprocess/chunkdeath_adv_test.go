package subprocess_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// exitAtFive returns its argument, or ends its worker with os.Exit at 5.
var exitAtFive = execkit.Register("test.exitAtFive", func(_ context.Context, x int) (int, error) {
	if x == 5 {
		os.Exit(7)
	}
	return x, nil
})

// When the worker running a chunk of Map dies, the whole chunk fails (its
// results travel together, after its last item), and the error names the
// chunk's items: it named the chunk's first item alone, as if that item
// had failed, while the item that killed the worker was another (and the
// first had run and returned). MapUnordered yields every item of such a
// chunk with an error that says so, not as if each had failed.
func TestMapChunkWorkerDeath(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	items := []int{0, 1, 2, 3, 4, 5, 6, 7}
	const dies = 5 // in the chunk of items 4 to 7
	_, err := subprocess.Map(ctx, p, exitAtFive, items, subprocess.ChunkSize(4))
	var we *subprocess.WorkerError
	if !errors.As(err, &we) || !strings.HasPrefix(err.Error(), "subprocess: Map items 4 to 7 ") {
		t.Errorf("Map, the worker dying at item %d: %v; want a *WorkerError naming items 4 to 7", dies, err)
	}
	seq := func(yield func(int) bool) {
		for _, a := range items {
			if !yield(a) {
				return
			}
		}
	}
	failed := 0
	for _, err := range subprocess.MapUnordered(ctx, p, exitAtFive, seq, subprocess.ChunkSize(4)) {
		if err == nil {
			continue
		}
		failed++
		if !errors.As(err, &we) || !strings.Contains(err.Error(), "of the chunk of items 4 to 7, which failed as a whole") {
			t.Errorf("MapUnordered, the worker dying at item %d: %v; want a *WorkerError saying its chunk, items 4 to 7, failed as a whole", dies, err)
		}
	}
	if failed != 4 {
		t.Errorf("MapUnordered: %d items failed; want the 4 of the chunk whose worker died", failed)
	}
}
