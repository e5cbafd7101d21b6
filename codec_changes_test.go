package execkit_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// ptrFunc's argument is a pointer.
var ptrFunc = execkit.Register("test.ptr", func(_ context.Context, p *point) (point, error) { return *p, nil })

// roundTrip sends v through GobCodec and returns what arrives.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	var c execkit.GobCodec
	b, err := c.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%#v) = %v", v, err)
	}
	var got T
	if err := c.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal of %#v = %v", v, err)
	}
	return got
}

type (
	withMap  struct{ M map[string]int }
	withPtrs struct {
		I *int
		S *[]int
		M *map[string]int
		P *point
	}
)

// Each change GobCodec's doc lists ("What gob changes on the way") happens
// as it says, and nothing else changes: a change the doc does not list
// (a nil map arriving as an empty one, a time.Time losing its Location's
// name) is silent data loss for whoever reads the doc.
func TestGobCodecDocumentedChanges(t *testing.T) {
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: arrived as %#v; want %#v, as GobCodec's doc says", name, got, want)
		}
	}
	// An empty slice arrives as nil, at any depth, []byte too.
	check("empty slice", roundTrip(t, []point{}), []point(nil))
	check("empty []byte", roundTrip(t, []byte{}), []byte(nil))
	check("empty slices inside", roundTrip(t, [][]int{{}, {1}}), [][]int{nil, {1}})
	check("empty slice in a map", roundTrip(t, map[string][]int{"a": {}}), map[string][]int{"a": nil})

	// A nil map arrives as an empty one, except as a struct field, where
	// nil and empty each arrive as sent.
	check("nil map", roundTrip(t, map[string]int(nil)), map[string]int{})
	check("nil maps inside", roundTrip(t, []map[string]int{nil, {"a": 1}}), []map[string]int{{}, {"a": 1}})
	check("nil map in a map", roundTrip(t, map[int]map[int]int{1: nil}), map[int]map[int]int{1: {}})
	check("nil map field", roundTrip(t, withMap{}), withMap{})
	check("empty map field", roundTrip(t, withMap{M: map[string]int{}}), withMap{M: map[string]int{}})

	// A pointer field to a zero number, string or bool, or to a nil or
	// empty slice or a nil map, arrives as nil; to a zero struct, as a
	// pointer to a zero struct; to an empty map, as one.
	zero, empty, noMap, emptyMap := 0, []int{}, map[string]int(nil), map[string]int{}
	check("pointer fields to zero values", roundTrip(t, withPtrs{I: &zero, S: &empty, M: &noMap, P: &point{}}), withPtrs{P: &point{}})
	check("pointer field to an empty map", roundTrip(t, withPtrs{M: &emptyMap}), withPtrs{M: &emptyMap})

	// Two pointers to one value arrive as two values.
	shared := &point{1, 2}
	got := roundTrip(t, []*point{shared, shared})
	if *got[0] != *shared || *got[1] != *shared || got[0] == got[1] {
		t.Errorf("two pointers to one value arrived as %v, %v; want two values equal to %v", got[0], got[1], *shared)
	}

	// A nil pointer as the value, or in a slice, array or map, does not
	// encode.
	var c execkit.GobCodec
	for _, v := range []any{(*point)(nil), []*point{nil}, [1]*point{}, map[string]*point{"a": nil}} {
		if _, err := c.Marshal(v); err == nil {
			t.Errorf("Marshal(%#v) = nil error; want a refusal", v)
		}
	}
	var nilp *point
	if _, err := ptrFunc.Go(t.Context(), viaInvoke{}, nilp).Wait(t.Context()); !errors.Is(err, execkit.ErrPayload) {
		t.Errorf("a Func's nil pointer argument: %v; want ErrPayload", err)
	}

	// A time.Time keeps its instant and its offset, not its Location's
	// name, nor its monotonic clock reading.
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2020, 1, 2, 3, 4, 5, 6, paris)
	tm := roundTrip(t, at)
	name, off := tm.Zone()
	if !tm.Equal(at) || off != 3600 || name != "" || tm.Location().String() != "" {
		t.Errorf("time %v arrived as %v (zone %q, offset %d); want the same instant at offset 3600 in a zone without a name", at, tm, name, off)
	}
	check("time in UTC", roundTrip(t, at.UTC()), at.UTC())
	now := time.Now()
	if tm := roundTrip(t, now); !tm.Equal(now) || tm == now || tm != now.Round(0) {
		t.Errorf("time.Now() arrived as %v; want it without its monotonic reading (%v)", tm, now.Round(0))
	}
}
