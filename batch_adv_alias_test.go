package execkit_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// bytesCodec carries []byte as itself, without a copy: Unmarshal keeps the
// slice it is given (encoding.BinaryUnmarshaler's contract asks for a
// copy; Codec's says nothing).
type bytesCodec struct{}

func (bytesCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (bytesCodec) AppendMarshal(b []byte, p any) ([]byte, error) {
	return append(b, *p.(*[]byte)...), nil
}
func (bytesCodec) Unmarshal(b []byte, v any) error {
	*v.(*[]byte) = b
	return nil
}

var bytesFunc = execkit.Register("test.adv.bytes", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }, execkit.UseCodec(bytesCodec{}))

// Values decoded from one batch must not share spare capacity: appending
// to one must not change the next (as it would not in process, where each
// item is a slice of its own).
func TestAdvDecodedItemsDoNotOverlap(t *testing.T) {
	items := [][]byte{[]byte("first"), []byte("second"), []byte("third")}
	payload, err := driver.EncodeBatch(bytesFunc, items)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := driver.DecodeBatch(bytesFunc, payload)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(outs[0], "XXXXXXXXXXXX"...)
	if !bytes.Equal(outs[1], items[1]) || !bytes.Equal(outs[2], items[2]) {
		t.Errorf("appending to item 0 changed the others: %q", outs)
	}
}
