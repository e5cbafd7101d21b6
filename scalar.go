package execkit

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// integer is the plain integer types [GobCodec] sends as varints: alone,
// and in a batch as a slice (except uint8: []uint8 is []byte, which gob
// already sends as bytes).
type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// signed reports whether E is a signed type.
func signed[E integer]() bool {
	var zero E
	return zero-1 < zero
}

// appendInt appends v as a varint (signed E) or a uvarint.
func appendInt[E integer](b []byte, v E) []byte {
	if signed[E]() {
		return binary.AppendVarint(b, int64(v))
	}
	return binary.AppendUvarint(b, uint64(v))
}

// readInt reads what appendInt wrote at the start of data and returns the
// number of bytes it took, or 0 when data does not start with a value that
// fits E in its shortest form (a padded varint, ending in a 0 byte, is
// refused: one value, one encoding).
func readInt[E integer](data []byte) (E, int) {
	if signed[E]() {
		v, k := binary.Varint(data)
		if k <= 0 || int64(E(v)) != v || k > 1 && data[k-1] == 0 {
			return 0, 0
		}
		return E(v), k
	}
	v, k := binary.Uvarint(data)
	if k <= 0 || uint64(E(v)) != v || k > 1 && data[k-1] == 0 {
		return 0, 0
	}
	return E(v), k
}

// type has none.
func appendScalar(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case int:
		return appendInt(b, x), true
	case int64:
		return appendInt(b, x), true
	case int32:
		return appendInt(b, x), true
	case int16:
		return appendInt(b, x), true
	case int8:
		return appendInt(b, x), true
	case uint:
		return appendInt(b, x), true
	case uint64:
		return appendInt(b, x), true
	case uint32:
		return appendInt(b, x), true
	case uint16:
		return appendInt(b, x), true
	case uint8:
		return appendInt(b, x), true
	case bool:
		if x {
			return append(b, 1), true
		}
		return append(b, 0), true
	case float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)), true
	case string:
		return append(b, x...), true
	case []byte:
		return append(b, x...), true
	}
	return b, false
}

// readScalar decodes data, in the compact form of the type v points to,
// into *v. ok is false when that type has no compact form; err reports a
// malformed data.
func readScalar(data []byte, v any) (ok bool, err error) {
	switch p := v.(type) {
	case *int:
		return true, readOne(p, data)
	case *int64:
		return true, readOne(p, data)
	case *int32:
		return true, readOne(p, data)
	case *int16:
		return true, readOne(p, data)
	case *int8:
		return true, readOne(p, data)
	case *uint:
		return true, readOne(p, data)
	case *uint64:
		return true, readOne(p, data)
	case *uint32:
		return true, readOne(p, data)
	case *uint16:
		return true, readOne(p, data)
	case *uint8:
		return true, readOne(p, data)
	case *bool:
		if len(data) != 1 || data[0] > 1 {
			return true, fmt.Errorf("execkit: GobCodec: bad bool: % x; want one byte, 0 or 1", data)
		}
		*p = data[0] == 1
		return true, nil
	case *float64:
		if len(data) != 8 {
			return true, fmt.Errorf("execkit: GobCodec: bad float64: %d bytes; want 8", len(data))
		}
		*p = math.Float64frombits(binary.LittleEndian.Uint64(data))
		return true, nil
	case *string:
		*p = string(data)
		return true, nil
	case *[]byte:
		*p = nil // empty arrives as nil, as with gob
		if len(data) > 0 {
			*p = bytes.Clone(data) // data may be a reused buffer
		}
		return true, nil
	}
	return false, nil
}

// readOne decodes data, exactly one varint or uvarint, into *p.
func readOne[E integer](p *E, data []byte) error {
	v, k := readInt[E](data)
	if k == 0 || k != len(data) {
		form := "uvarint"
		if signed[E]() {
			form = "varint"
		}
		return fmt.Errorf("execkit: GobCodec: bad %T: % x; want one %s, in range, nothing after", v, data, form)
	}
	*p = v
	return nil
}
