package subprocess_test

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
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

// pickyCodec carries ints as varints, and refuses to decode 5 and 70:
// tenfold (below) gets 5 as an argument, decoded in the worker, and
// returns 70 for 7, decoded in the caller.
type pickyCodec struct{}

func (pickyCodec) Marshal(v any) ([]byte, error) {
	return binary.AppendVarint(nil, int64(v.(int))), nil
}

func (pickyCodec) Unmarshal(b []byte, v any) error {
	x, n := binary.Varint(b)
	switch {
	case n <= 0:
		return errors.New("pickyCodec: bad varint")
	case x == 5:
		return errors.New("pickyCodec: 5 refused")
	case x == 70:
		panic("pickyCodec: 70 refused")
	}
	*v.(*int) = int(x)
	return nil
}

var tenfold = execkit.Register("test.tenfold", func(_ context.Context, x int) (int, error) { return 10 * x, nil }, execkit.UseCodec(pickyCodec{}))

// TestMapItemThatDoesNotDecode holds that an item whose argument (in the
// worker) or result (in the caller) the codec refuses fails alone, named
// by its index in the input, while the other items of its chunk run and
// return: a chunk's items are framed one by one, so their bytes are
// intact. (The whole chunk failed, naming its first item, with the
// item's index within the chunk inside the text.)
func TestMapItemThatDoesNotDecode(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	items := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	_, err := subprocess.Map(ctx, p, tenfold, items, subprocess.ChunkSize(4))
	const want = `subprocess: Map item 5: execkit: bad payload: argument of "test.tenfold": pickyCodec: 5 refused`
	if !errors.Is(err, execkit.ErrPayload) || errorText(err) != want {
		t.Errorf("Map: got %v; want %q", err, want)
	}
	_, err = subprocess.Map(ctx, p, tenfold, slices.Delete(slices.Clone(items), 5, 6), subprocess.ChunkSize(4))
	const wantResult = `subprocess: Map item 6: execkit: bad payload: result of "test.tenfold": codec panicked: pickyCodec: 70 refused`
	if !errors.Is(err, execkit.ErrPayload) || errorText(err) != wantResult {
		t.Errorf("Map without 5: got %v; want %q", err, wantResult)
	}

	got := make(map[int]int)
	failed := make(map[string]bool)
	for v, err := range subprocess.MapUnordered(ctx, p, tenfold, slices.Values(items), subprocess.ChunkSize(4)) {
		if err != nil {
			if !errors.Is(err, execkit.ErrPayload) {
				t.Errorf("MapUnordered: got %v; want an ErrPayload", err)
			}
			failed[strings.SplitN(err.Error(), ":", 3)[1]] = true
			continue
		}
		got[v/10]++
	}
	if len(failed) != 2 || !failed[" MapUnordered item 5"] || !failed[" MapUnordered item 7"] {
		t.Errorf("MapUnordered: failed %v; want items 5 and 7", failed)
	}
	for _, x := range items {
		if want := x != 5 && x != 7; (got[x] == 1) != want || got[x] > 1 {
			t.Errorf("MapUnordered: item %d returned %d times; want %v", x, got[x], want)
		}
	}
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
