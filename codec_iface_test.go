package execkit_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/execkit/execkit"
)

// ifaceFunc's argument and result are interfaces.
var ifaceFunc = execkit.Register("test.iface", func(_ context.Context, v any) (any, error) { return v, nil })

// A Func whose argument or result is an interface carries what the
// interface holds (a type gob knows, or one given to gob.Register) alone
// as in a batch. Alone it failed: GobCodec chose the form by the value's
// dynamic type (an int went as a varint, a point as a bare gob value),
// and the other side, decoding into an interface, read neither ("unexpected
// EOF"); a nil one did not encode; a batch ([]any) carried them all.
func TestGobCodecInterfaceTypes(t *testing.T) {
	ctx := context.Background()
	values := []any{7, -1, "text", []byte("b"), 2.5, true, []int{1, 2}, point{1, 2}, nil}
	for _, v := range values {
		got, err := ifaceFunc.Go(ctx, viaInvoke{}, v).Wait(ctx)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("Go(%#v) = %#v, %v; want it back", v, got, err)
		}
	}
	outs, errs := batch(ctx, t, ifaceFunc, values)
	for i, v := range values {
		if errs[i] != "" || !reflect.DeepEqual(outs[i], v) {
			t.Errorf("batch item %d (%#v) = %#v, %q; want it back", i, v, outs[i], errs[i])
		}
	}
	// A type gob was not told about fails, loudly.
	if _, err := ifaceFunc.Go(ctx, viaInvoke{}, map[string]int{"a": 1}).Wait(ctx); !errors.Is(err, execkit.ErrPayload) {
		t.Errorf("Go(map[string]int{...}) = %v; want ErrPayload (gob.Register it)", err)
	}
	// GobCodec used directly carries an interface's value through a
	// pointer to it, as Unmarshal gets.
	var c execkit.GobCodec
	in := any(7)
	b, err := c.Marshal(&in)
	var out any
	if err != nil || c.Unmarshal(b, &out) != nil || out != in {
		t.Errorf("Marshal(&any(7)) then Unmarshal(&out) = %#v, %v; want 7", out, err)
	}
}
