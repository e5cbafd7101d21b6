package subprocess_test

import (
	"math"
	"slices"
	"testing"

	"github.com/execkit/execkit/subprocess"
)

// A chunk size larger than the items (up to math.MaxInt: "values below 1
// mean 1", and nothing bounds it above) makes one chunk of them all: Map
// panicked (makeslice: cap out of range), computing its chunk count as
// (len(items) + n - 1) / n, which overflowed.
func TestHugeChunkSize(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	for _, n := range []int{math.MaxInt, math.MaxInt - 1, math.MaxInt / 2} {
		got, err := subprocess.Map(ctx, p, double, []int{1, 2, 3}, subprocess.ChunkSize(n))
		if err != nil || !slices.Equal(got, []int{2, 4, 6}) {
			t.Errorf("Map with ChunkSize(%d) = %v, %v; want [2 4 6]", n, got, err)
		}
		var un []int
		for v, err := range subprocess.MapUnordered(ctx, p, double, slices.Values([]int{1, 2, 3}), subprocess.ChunkSize(n)) {
			if err != nil {
				t.Errorf("MapUnordered with ChunkSize(%d): %v", n, err)
			}
			un = append(un, v)
		}
		if slices.Sort(un); !slices.Equal(un, []int{2, 4, 6}) {
			t.Errorf("MapUnordered with ChunkSize(%d) yielded %v; want 2, 4 and 6", n, un)
		}
	}
}
