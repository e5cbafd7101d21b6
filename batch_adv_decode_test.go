package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
)

// panicCodec is appendCodec whose Unmarshal panics on the string "kaboom".
type panicCodec struct{ appendCodec }

func (panicCodec) Unmarshal(b []byte, v any) error {
	if string(b) == "kaboom" {
		panic("panicCodec: kaboom")
	}
	return appendCodec{}.Unmarshal(b, v)
}

var panicDecode = execkit.Register("test.adv.panicdecode", func(_ context.Context, s string) (string, error) { return s, nil }, execkit.UseCodec(panicCodec{}))

// A codec's panic while decoding an argument fails that item alone, as an
// error of the codec does, in the worker (InvokeBatch): the other items
// run. The pool's side (DecodeBatch) has no item to fail alone: it fails
// the batch, naming the item.
func TestAdvDecodePanicNamesItem(t *testing.T) {
	ctx := context.Background()
	for at, items := range [][]string{{"kaboom", "b", "c"}, {"a", "kaboom", "c"}, {"a", "b", "kaboom"}} {
		payload, err := driver.EncodeBatch(panicDecode, items)
		if err != nil {
			t.Fatal(err)
		}
		res, errs, err := driver.InvokeBatch(ctx, panicDecode.Name(), payload)
		if err != nil || len(errs) != len(items) {
			t.Fatalf("InvokeBatch(%q) = %v, %v; want no batch error and one error per item", items, errs, err)
		}
		for i, e := range errs {
			if i == at && (!errors.Is(e, execkit.ErrPayload) || errText(e) != `execkit: bad payload: argument of "test.adv.panicdecode": codec panicked: panicCodec: kaboom`) {
				t.Errorf("InvokeBatch(%q): item %d failed with %v; want ErrPayload saying the codec panicked", items, i, e)
			}
			if i != at && e != nil {
				t.Errorf("InvokeBatch(%q): item %d failed with %v; want it to run", items, i, e)
			}
		}
		got := make([]string, len(items))
		if err := link.DecodeBatchInto(panicDecode, res, got, nil); err != nil {
			t.Fatalf("InvokeBatch(%q): results do not decode: %v", items, err)
		}
		want := slices.Clone(items)
		want[at] = ""
		if !slices.Equal(got, want) {
			t.Errorf("InvokeBatch(%q) returned %q; want %q", items, got, want)
		}
		_, err = driver.DecodeBatch(panicDecode, payload)
		if !errors.Is(err, execkit.ErrPayload) || !strings.Contains(errText(err), fmt.Sprintf("item %d: codec panicked", at)) {
			t.Errorf("DecodeBatch(%q) = %v; want ErrPayload saying item %d: codec panicked", items, err, at)
		}
	}
}
