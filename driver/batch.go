package driver

import (
	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/link"
)

// EncodeBatch encodes items, arguments of f, as one payload for
// [InvokeBatch]. The default [execkit.GobCodec] encodes the whole slice as
// one gob value (a slice of a plain integer type, []int and kin, as
// varints: the same values, faster); other codecs (and zero-size types,
// which carry nothing) encode item by item inside a length-prefixed list,
// so a codec need not know []In. It returns an error wrapping
// [execkit.ErrPayload], naming the first item that does not encode (by its
// index, in a batch of more than one), and [execkit.ErrNotRegistered] for
// a nil f. It never blocks and is safe for concurrent use.
func EncodeBatch[In, Out any](f *execkit.Func[In, Out], items []In) ([]byte, error) {
	return link.EncodeBatch(f, items)
}

// DecodeBatch decodes the results [InvokeBatch] returned for a batch of f:
// one per item, the zero result for an item that failed. It returns an
// error wrapping [execkit.ErrPayload] when data does not decode, also
// when only one item's does (naming it: subprocess's Map fails that item
// alone), and
// [execkit.ErrNotRegistered] for a nil f. It never blocks and is safe for
// concurrent use.
func DecodeBatch[In, Out any](f *execkit.Func[In, Out], data []byte) ([]Out, error) {
	v, err := link.DecodeBatch(f, data)
	if err != nil {
		return nil, err
	}
	return v.([]Out), nil
}
