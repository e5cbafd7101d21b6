package execkit

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"slices"

	"github.com/execkit/execkit/internal/link"
)

// A batch carries many calls of one [Func] as one payload each way (a
// chunk of subprocess.Pool's Map): driver.EncodeBatch encodes the
// arguments, driver.InvokeBatch runs them where the function runs, and
// driver.DecodeBatch decodes the results; the layouts are below.

// batcher is how package driver reaches a Func of any types (link.go).
type batcher interface {
	encodeArgs(items any) ([]byte, error)
	decodeResults(data []byte) (any, error)
	decodeResultsInto(data []byte, dst any, bad func(i int, err error)) error
}

// encodeArgs encodes items, a []In, as one payload: driver.EncodeBatch.
func (f *Func[In, Out]) encodeArgs(items any) ([]byte, error) {
	if f.unregistered() {
		return nil, ErrNotRegistered
	}
	b, err := encodeBatch(f.codec, nil, items.([]In), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: arguments of %q: %w", ErrPayload, f.name, err)
	}
	return b, nil
}

// decodeResultsInto decodes a batch of results into dst, a []Out as long
// as the batch: link.DecodeBatchInto. On an error dst holds zero values.
// A result the codec refuses is told to bad (wrapping ErrPayload) and
// left zero, the others decode still.
func (f *Func[In, Out]) decodeResultsInto(data []byte, dst any, bad func(i int, err error)) error {
	if f.unregistered() {
		return ErrNotRegistered
	}
	out := dst.([]Out)
	var refused func(int, error)
	if bad != nil {
		refused = func(i int, err error) { bad(i, fmt.Errorf("%w: result of %q: %w", ErrPayload, f.name, err)) }
	}
	res, err := decodeBatchInto(f.codec, data, out[:0:len(out)], refused) // never past out, into its neighbours
	if err == nil && len(res) != len(out) {
		err = fmt.Errorf("%w: %d results for a batch of %d items", link.ErrBatchCount, len(res), len(out))
	}
	if err != nil {
		clear(out)
		return fmt.Errorf("%w: results of %q: %w", ErrPayload, f.name, err)
	}
	if len(out) > 0 && &res[0] != &out[0] { // a whole gob batch decodes into a slice of its own
		copy(out, res)
	}
	return nil
}

// decodeResults decodes a batch of results as a []Out: driver.DecodeBatch.
func (f *Func[In, Out]) decodeResults(data []byte) (any, error) {
	if f.unregistered() {
		return nil, ErrNotRegistered
	}
	outs, err := decodeBatch[Out](f.codec, data)
	if err != nil {
		return nil, fmt.Errorf("%w: results of %q: %w", ErrPayload, f.name, err)
	}
	return outs, nil
}

// invokeBatch runs a batch made by encodeArgs: driver.InvokeBatch. Each
// item runs under f's policy, here where the batch runs: its time limit
// and retries apply per item.
func (f *Func[In, Out]) invokeBatch(ctx context.Context, payload, dst []byte) ([]byte, []error, error) {
	inBuf, _ := f.ins.Get().(*[]In)
	if inBuf == nil {
		inBuf = new([]In)
	}
	// An argument the codec refuses fails its item alone; the others run.
	var refused []int
	var why []error
	ins, err := decodeBatchInto(f.codec, payload, *inBuf, func(i int, err error) {
		refused, why = append(refused, i), append(why, fmt.Errorf("%w: argument of %q: %w", ErrPayload, f.name, err))
	})
	if err != nil {
		clear((*inBuf)[:cap(*inBuf)]) // what a failed decode left there
		f.ins.Put(inBuf)
		return nil, nil, fmt.Errorf("%w: arguments of %q: %w", ErrPayload, f.name, err)
	}
	outBuf, _ := f.outs.Get().(*[]Out)
	if outBuf == nil {
		outBuf = new([]Out)
	}
	outs := *outBuf
	if cap(outs) >= len(ins) {
		outs = outs[:len(ins)] // zero: emptied before it was put back
	} else {
		outs = make([]Out, len(ins))
	}
	defer func() { // after the results are encoded: nothing keeps the values
		clear(ins)
		clear(outs)
		*inBuf, *outBuf = ins[:0], outs[:0]
		f.ins.Put(inBuf)
		f.outs.Put(outBuf)
	}()
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(ins))
		}
		errs[i] = err
	}
	for k, i := range refused {
		fail(i, why[k])
	}
	for i, in := range ins {
		if errs != nil && errs[i] != nil { // refused above
			continue
		}
		if err := ctx.Err(); err != nil {
			fail(i, err)
			continue
		}
		if outs[i], err = f.callPolicy(ctx, in); err != nil {
			fail(i, err)
		}
	}
	// A result that does not encode fails its item alone; the others
	// still get theirs.
	res, err := encodeBatch(f.codec, dst, outs, func(i int, err error) {
		fail(i, fmt.Errorf("%w: result of %q: %w", ErrPayload, f.name, err))
	})
	if err != nil { // not reached: skip reports every item that does not encode
		return nil, nil, fmt.Errorf("%w: results of %q: %w", ErrPayload, f.name, err)
	}
	return res, errs, nil
}

// The two layouts of a batch payload, told apart by its first byte.
const (
	batchWhole   byte = 1 // the codec's encoding of the whole slice (GobCodec)
	batchPerItem byte = 2 // uvarint count, then per item uvarint(len+1) and the bytes, or 0 for the zero value
	batchInts    byte = 3 // uvarint count, then per item a varint (signed kinds) or uvarint (unsigned): GobCodec, []int and kin
)

// encodeBatch encodes vs, in dst's room when it has enough (dst's length
// does not count: the payload starts at dst[0]). When skip is not nil, an
// item that does not encode is reported to skip and sent as the zero
// value, instead of failing the batch.
func encodeBatch[T any](c Codec, dst []byte, vs []T, skip func(i int, err error)) ([]byte, error) {
	dst = dst[:0]
	if reflect.TypeFor[T]().Size() != 0 {
		switch c.(type) {
		case GobCodec, *GobCodec:
			// Plain integers need none of gob's machinery: the values
			// gob would carry, at a fraction of the cost. (Unnamed
			// types only, which have no GobEncode method to honour.)
			if b, ok := encodeInts(dst, vs); ok {
				return b, nil
			}
			buf := bytes.NewBuffer(dst)
			buf.WriteByte(batchWhole)
			if encodeWhole(buf, vs) == nil {
				return buf.Bytes(), nil
			}
			// Some item does not encode (a nil pointer, say): item by
			// item, to find it.
		}
	}
	b := append(slices.Grow(dst, 1+binary.MaxVarintLen64+2*len(vs)), batchPerItem)
	b = binary.AppendUvarint(b, uint64(len(vs)))
	am, _ := c.(appendMarshaler)
	for i := 0; i < len(vs); i++ {
		var err error
		if b, i, err = encodeItems(c, am, b, vs, i); err == nil {
			break // every item from i on is in b
		}
		if skip == nil && len(vs) == 1 {
			return nil, err
		}
		if skip == nil {
			return nil, fmt.Errorf("item %d: %v", i, err)
		}
		skip(i, err)
		b = append(b, 0)
	}
	return b, nil
}

// encodeItems appends vs[i:] to b in the batchPerItem layout, each as
// uvarint(len+1) and its bytes, and returns b and len(vs); or it stops at
// the first item that does not encode (an error or a panic of the codec),
// with b as it was before that item, its index and its error. One
// deferred recover serves the whole run of items, not one per item.
func encodeItems[T any](c Codec, am appendMarshaler, dst []byte, vs []T, i int) (b []byte, at int, err error) {
	b, at = dst, i
	keep := len(b)
	defer func() {
		if r := recover(); r != nil {
			b, err = b[:keep], fmt.Errorf("codec panicked: %v", r)
		}
	}()
	if reflect.TypeFor[T]().Size() == 0 { // nothing to carry: see encode
		for ; at < len(vs); at++ {
			b = append(b, 1)
		}
		return b, at, nil
	}
	var cur *T // the item AppendMarshal is given a pointer to: one copy for the run
	if am != nil {
		cur = new(T)
	}
	ptr := viaPointer[T](c)
	for ; at < len(vs); at++ {
		keep = len(b)
		if am == nil {
			e, err := marshal(c, &vs[at], ptr)
			if err != nil {
				return b, at, err
			}
			b = binary.AppendUvarint(b, uint64(len(e))+1)
			b = append(b, e...)
			continue
		}
		// The length goes before the bytes: guess one byte for it (an
		// item under 127 bytes), and make room when it takes more.
		given := append(b, 0)
		last := given[keep-1] // keep > 0: the layout and the count come first
		*cur = vs[at]
		e, err := am.AppendMarshal(given, cur)
		if err != nil {
			return b, at, err
		}
		if len(e) < keep+1 {
			return b, at, errors.New("AppendMarshal returned fewer bytes than it was given")
		}
		if !extends(e, given, last) {
			return b, at, errors.New("AppendMarshal did not return the slice it was given, extended")
		}
		b = e
		n := uint64(len(b)-keep-1) + 1
		if w := varintLen(n); w > 1 {
			var pad [binary.MaxVarintLen64]byte
			b = append(b, pad[:w-1]...)
			copy(b[keep+w:], b[keep+1:len(b)-(w-1)])
		}
		binary.PutUvarint(b[keep:], n)
	}
	return b, at, nil
}

// extends reports whether e, which AppendMarshal returned when given
// given (the batch so far, then a placeholder 0 after the byte last),
// still starts with given's bytes, as an append does: an AppendMarshal
// that returns a slice of its own, or writes over the bytes it was given,
// would otherwise make a payload that carries other values than the
// items, silently. A slice in a new array is compared in full (append
// makes one a few times in a batch, so this costs about as much as the
// batch once); a slice in given's array, at the bytes an encoder that
// ignores b or drops its last byte would overwrite.
func extends(e, given []byte, last byte) bool {
	keep := len(given) - 1
	if &e[0] != &given[0] {
		return bytes.Equal(e[:keep+1], given)
	}
	return e[0] == batchPerItem && e[keep-1] == last && e[keep] == 0
}

// varintLen is the length of binary.AppendUvarint(nil, n).
func varintLen(n uint64) int {
	return (bits.Len64(n|1) + 6) / 7
}

// encodeWhole gob-encodes vs after what buf holds.
func encodeWhole[T any](buf *bytes.Buffer, vs []T) (err error) {
	defer recoverCodec(&err)
	if err := gobCarries(reflect.ValueOf(vs)); err != nil {
		return err
	}
	return gob.NewEncoder(buf).Encode(vs)
}

// decodeWhole gob-decodes what encodeWhole wrote.
func decodeWhole[T any](data []byte) (vs []T, err error) {
	defer recoverCodec(&err)
	if p := verdictOf(reflect.TypeFor[T]()).problem; p != "" {
		return nil, errCannotCarry(reflect.TypeFor[T](), p)
	}
	r := bytes.NewReader(data)
	if err = gob.NewDecoder(r).Decode(&vs); err == nil && r.Len() != 0 {
		err = fmt.Errorf("execkit: GobCodec: %d bytes after the batch (of %d)", r.Len(), len(data))
	}
	return vs, err
}

func decodeBatch[T any](c Codec, data []byte) ([]T, error) {
	return decodeBatchInto[T](c, data, nil, nil)
}

// decodeBatchInto decodes data into buf[:n] when buf has room for the n
// values of the batch (they are zeroed first), or else into a new slice,
// and returns the values. With bad set, an item the codec refuses is told
// to bad and left zero, and the batch decodes still (see decodeItems).
func decodeBatchInto[T any](c Codec, data []byte, buf []T, bad func(i int, err error)) ([]T, error) {
	if len(data) == 0 {
		return nil, errors.New("empty batch")
	}
	switch data[0] {
	case batchWhole, batchInts:
		if _, ok := c.(GobCodec); !ok {
			if _, ok := c.(*GobCodec); !ok {
				return nil, fmt.Errorf("a batch of layout %d for a codec other than GobCodec", data[0])
			}
		}
	}
	switch data[0] {
	case batchWhole:
		// Plain gob, as encodeWhole wrote it: not GobCodec.Unmarshal,
		// which would read a []byte batch in its compact form.
		return decodeWhole[T](data[1:])
	case batchInts:
		vs := buf[:0] // readInts writes every value: nothing to zero
		if !decodeInts(&vs, data[1:]) {
			return nil, errors.New("bad integer batch")
		}
		return vs, nil
	case batchPerItem:
	default:
		return nil, fmt.Errorf("unknown batch layout %d", data[0])
	}
	n, k := binary.Uvarint(data[1:])
	p := data[1:]
	if k <= 0 || n > uint64(len(p)-k) { // every item takes at least a byte
		return nil, errors.New("bad batch count")
	}
	p = p[k:]
	var vs []T
	if uint64(cap(buf)) >= n {
		vs = buf[:n]
		clear(vs) // Unmarshal gets a pointer to a zero value
	} else {
		vs = make([]T, n)
	}
	if err := decodeItems(c, vs, p, bad); err != nil {
		return nil, err
	}
	return vs, nil
}

// decodeItems decodes p, the items of a batchPerItem payload after its
// count, into vs: each straight into its element. A bad length or
// trailing bytes fail the batch. An item whose bytes the codec refuses
// (an error, or a panic) fails the batch too when bad is nil; otherwise
// it is told to bad, keeps its zero value, and the items after it are
// decoded still: its bytes were framed, so its neighbours' are intact.
func decodeItems[T any](c Codec, vs []T, p []byte, bad func(i int, err error)) error {
	zero := reflect.TypeFor[T]().Size() == 0 // nothing to decode: see decode
	for i := 0; i < len(vs); i++ {
		var framing bool
		var err error
		if i, p, framing, err = decodeFrom(c, vs, p, i, zero); err == nil {
			break
		}
		if framing || bad == nil {
			return fmt.Errorf("item %d: %v", i, err)
		}
		var z T
		vs[i] = z // whatever the codec left there
		bad(i, err)
	}
	if len(p) != 0 {
		return errors.New("trailing bytes after the batch")
	}
	return nil
}

// decodeFrom decodes the items of vs from index i on, out of p (which
// starts at item i), with one deferred recover for the run. It stops at
// the end, or at the first item that does not decode: it then returns
// that item's index, the bytes after the item (when its length was read),
// whether the length was bad (framing), and the codec's error.
func decodeFrom[T any](c Codec, vs []T, p []byte, i int, zero bool) (at int, rest []byte, framing bool, err error) {
	at, rest = i, p
	defer func() {
		if r := recover(); r != nil { // named, as an error of the codec is
			err = fmt.Errorf("codec panicked: %v", r)
		}
	}()
	for ; at < len(vs); at++ {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l > uint64(len(rest)-n)+1 {
			return at, rest, true, errors.New("bad length")
		}
		item := rest[n:]
		if l == 0 || zero {
			rest = item[max(l, 1)-1:]
			continue // the zero value
		}
		rest = item[l-1:] // past the item, before the codec may fail on it
		// Capacity cut at the item's end: a codec that keeps data (a
		// []byte without a copy) must not share room to grow with the
		// next item, which appending to the value would overwrite.
		if err := c.Unmarshal(item[:l-1:l-1], &vs[at]); err != nil {
			return at, rest, false, err
		}
	}
	return at, rest, false, nil
}

// encodeInts encodes vs in the batchInts layout if T is a plain integer
// type.
func encodeInts[T any](dst []byte, vs []T) ([]byte, bool) {
	switch s := any(vs).(type) {
	case []int:
		return appendInts(dst, s), true
	case []int64:
		return appendInts(dst, s), true
	case []int32:
		return appendInts(dst, s), true
	case []int16:
		return appendInts(dst, s), true
	case []int8:
		return appendInts(dst, s), true
	case []uint:
		return appendInts(dst, s), true
	case []uint64:
		return appendInts(dst, s), true
	case []uint32:
		return appendInts(dst, s), true
	case []uint16:
		return appendInts(dst, s), true
	}
	return nil, false
}

// decodeInts decodes data, in the batchInts layout, into *vs (in the room
// *vs has, when it is enough); false means
// T is not a plain integer type, or data is malformed.
func decodeInts[T any](vs *[]T, data []byte) bool {
	switch p := any(vs).(type) {
	case *[]int:
		return readInts(p, data)
	case *[]int64:
		return readInts(p, data)
	case *[]int32:
		return readInts(p, data)
	case *[]int16:
		return readInts(p, data)
	case *[]int8:
		return readInts(p, data)
	case *[]uint:
		return readInts(p, data)
	case *[]uint64:
		return readInts(p, data)
	case *[]uint32:
		return readInts(p, data)
	case *[]uint16:
		return readInts(p, data)
	}
	return false
}

func appendInts[E integer](dst []byte, s []E) []byte {
	b := slices.Grow(dst[:0], 1+binary.MaxVarintLen64+3*len(s))
	b = binary.AppendUvarint(append(b, batchInts), uint64(len(s)))
	for _, v := range s {
		b = appendInt(b, v)
	}
	return b
}

// readInts refuses a value that does not fit E.
func readInts[E integer](vs *[]E, data []byte) bool {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)-k) { // every item takes at least a byte
		return false
	}
	data = data[k:]
	s := *vs // its room, if it has enough
	if uint64(cap(s)) >= n {
		s = s[:n]
	} else {
		s = make([]E, n)
	}
	for i := range s {
		if s[i], k = readInt[E](data); k == 0 {
			return false
		}
		data = data[k:]
	}
	*vs = s
	return len(data) == 0
}

// appendScalar appends v in its [GobCodec] compact form; false means v's
