package subprocess_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

var (
	// length returns the length of its argument.
	length = execkit.Register("test.length", func(_ context.Context, b []byte) (int, error) {
		return len(b), nil
	})
	// grow returns n bytes.
	grow = execkit.Register("test.grow", func(_ context.Context, n int) ([]byte, error) {
		return make([]byte, n), nil
	})
)

// The tests run with a frame limit of 64 KiB (see SetMaxFrame): what
// they move is the same, a thousand times smaller.
const kib = 1 << 10

// TestMapLargeItems: Map and MapUnordered split a chunk that does not fit
// in a frame, whatever the chunk size says, and join results that do not
// fit in one; an argument or result too large alone fails with ErrTooLarge,
// naming the limit, and the pool goes on.
func TestMapLargeItems(t *testing.T) {
	subprocess.SetMaxFrame(t, 64*kib)
	p := newPool(t, 1)
	ctx := testContext(t)
	item := make([]byte, 8*kib)
	items := make([][]byte, 36) // one worker: default chunks of 9 items, 72 KiB
	for i := range items {
		items[i] = item
	}

	t.Run("arguments", func(t *testing.T) {
		got, err := subprocess.Map(ctx, p, length, items)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range got {
			if n != len(item) {
				t.Fatalf("item %d: got length %d; want %d", i, n, len(item))
			}
		}
	})
	t.Run("arguments unordered", func(t *testing.T) {
		n := 0
		for v, err := range subprocess.MapUnordered(ctx, p, length, slices.Values(items), subprocess.WithChunkSize(len(items))) {
			if err != nil || v != len(item) {
				t.Fatalf("got %d, %v; want %d, nil", v, err, len(item))
			}
			n++
		}
		if n != len(items) {
			t.Errorf("got %d results; want %d", n, len(items))
		}
	})
	t.Run("results", func(t *testing.T) {
		sizes := slices.Repeat([]int{8 * kib}, 9) // 72 KiB of results in one chunk: two frames
		got, err := subprocess.Map(ctx, p, grow, sizes, subprocess.WithChunkSize(9))
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range got {
			if len(b) != 8*kib {
				t.Fatalf("item %d: got %d bytes; want %d", i, len(b), 8*kib)
			}
		}
	})

	pid, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	huge := make([]byte, 65*kib)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"Map argument", func() error {
			_, err := subprocess.Map(ctx, p, length, [][]byte{item, huge}, subprocess.WithChunkSize(2))
			return err
		}, "Map item 1: its argument makes a frame of"},
		{"MapUnordered argument", func() error {
			var errs []error
			for _, err := range subprocess.MapUnordered(ctx, p, length, slices.Values([][]byte{item, huge}), subprocess.WithChunkSize(2)) {
				if err != nil {
					errs = append(errs, err)
				}
			}
			if len(errs) != 1 {
				return errors.Join(errors.New("not one error"), errors.Join(errs...))
			}
			return errs[0]
		}, "MapUnordered item 1: its argument makes a frame of"},
		{"Apply argument", func() error {
			_, err := subprocess.Apply(ctx, p, length, huge)
			return err
		}, `the argument of "test.length" makes a frame of`},
		{"Apply result", func() error {
			_, err := subprocess.Apply(ctx, p, grow, 65*kib)
			return err
		}, "the result makes more than"},
		{"Map result", func() error {
			_, err := subprocess.Map(ctx, p, grow, []int{1, 65 * kib}, subprocess.WithChunkSize(1))
			return err
		}, "the result makes more than"},
		{"Map results of a chunk", func() error {
			_, err := subprocess.Map(ctx, p, grow, []int{130 * kib, 1}, subprocess.WithChunkSize(2))
			return err
		}, "the results of a chunk of 2 items total more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, subprocess.ErrTooLarge) || !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "65536-byte frame limit") {
				t.Errorf("got %v; want ErrTooLarge and ErrPayload: %q ... 65536-byte frame limit", err, tt.want)
			}
			if got, err := subprocess.Apply(ctx, p, getpid, struct{}{}); err != nil || got != pid {
				t.Errorf("after: got worker %d, %v; want the same worker %d", got, err, pid)
			}
		})
	}
}
