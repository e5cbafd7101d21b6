package subprocess_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

var (
	// deref fails in the caller on a nil argument: gob cannot encode it.
	deref = execkit.Register("test.deref", func(_ context.Context, p *int) (int, error) { return *p, nil })
	// halve returns nil for odd numbers: gob cannot encode that result,
	// which fails that item alone, in the worker.
	halve = execkit.Register("test.halve", func(_ context.Context, x int) (*int, error) {
		if x%2 != 0 {
			return nil, nil
		}
		h := x / 2
		return &h, nil
	})
)

// TestMapBatchPayloads checks that an item whose argument or result does
// not encode is named, and fails alone where the API goes on.
func TestMapBatchPayloads(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	ptrs := make([]*int, 7)
	for i := range ptrs {
		if i != 4 {
			ptrs[i] = new(int)
			*ptrs[i] = i
		}
	}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"Map argument", func() error {
			_, err := subprocess.Map(ctx, p, deref, ptrs, subprocess.ChunkSize(3))
			return err
		}, `subprocess: Map item 4: execkit: bad payload: arguments of "test.deref": `},
		{"Map result", func() error {
			_, err := subprocess.Map(ctx, p, halve, []int{0, 2, 4, 6, 7}, subprocess.ChunkSize(2))
			return err
		}, `subprocess: Map item 4: execkit: bad payload: result of "test.halve": `},
	}
	for _, tt := range tests {
		if err := tt.run(); !errors.Is(err, execkit.ErrPayload) || !strings.HasPrefix(errorText(err), tt.want) {
			t.Errorf("%s: got %v; want an ErrPayload starting %q", tt.name, err, tt.want)
		}
	}

	t.Run("MapUnordered goes on", func(t *testing.T) {
		var sum, errs int
		for v, err := range subprocess.MapUnordered(ctx, p, deref, func(yield func(*int) bool) {
			for _, q := range ptrs {
				if !yield(q) {
					return
				}
			}
		}, subprocess.ChunkSize(3)) {
			if err != nil {
				errs++
				if !errors.Is(err, execkit.ErrPayload) || !strings.HasPrefix(err.Error(), "subprocess: MapUnordered item 4: ") {
					t.Errorf("got %v; want an ErrPayload naming item 4", err)
				}
				continue
			}
			sum += v
		}
		if sum != 0+1+2+3+5+6 || errs != 1 {
			t.Errorf("got sum %d and %d errors; want 17 and 1", sum, errs)
		}
	})
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
