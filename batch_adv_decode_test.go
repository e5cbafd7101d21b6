package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
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

// A codec's panic while decoding an argument fails the batch with an error
// naming the item, as an error of the codec does (and as it did before
// the items were decoded under one recover).
func TestAdvDecodePanicNamesItem(t *testing.T) {
	ctx := context.Background()
	for at, items := range [][]string{{"kaboom", "b", "c"}, {"a", "kaboom", "c"}, {"a", "b", "kaboom"}} {
		payload, err := driver.EncodeBatch(panicDecode, items)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = driver.InvokeBatch(ctx, panicDecode.Name(), payload)
		if !errors.Is(err, execkit.ErrPayload) || !strings.Contains(errText(err), fmt.Sprintf("item %d: codec panicked: panicCodec: kaboom", at)) {
			t.Errorf("InvokeBatch(%q) = %v; want ErrPayload saying item %d: codec panicked", items, err, at)
		}
		_, err = driver.DecodeBatch(panicDecode, payload)
		if !errors.Is(err, execkit.ErrPayload) || !strings.Contains(errText(err), fmt.Sprintf("item %d: codec panicked", at)) {
			t.Errorf("DecodeBatch(%q) = %v; want ErrPayload saying item %d: codec panicked", items, err, at)
		}
	}
}
