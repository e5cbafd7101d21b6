package execkit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
)

// The batch decoder reads bytes that come from another process: the
// results a worker sends back (DecodeBatch, in the pool) and the arguments
// the pool sends (InvokeBatch, in the worker). FuzzDecodeBatch feeds it
// arbitrary bytes. The seed corpus in testdata/fuzz/FuzzDecodeBatch holds
// one payload of each layout (whole gob, integers, item by item) and some
// malformed ones. Run it with
//
//	go test -run='^$' -fuzz=FuzzDecodeBatch -fuzztime=30s .
//
// Every call of the code under test goes through the three functions
// below, so that moving the entry points is a change here only.

func decodeBatch[In, Out any](f *execkit.Func[In, Out], data []byte) ([]Out, error) {
	return driver.DecodeBatch(f, data)
}

func encodeBatch[In, Out any](f *execkit.Func[In, Out], items []In) ([]byte, error) {
	return driver.EncodeBatch(f, items)
}

func invokeBatch(ctx context.Context, name string, payload []byte) ([]byte, []error, error) {
	return driver.InvokeBatch(ctx, name, payload)
}

// fuzzRecord is a struct that the default codec batches as one gob value,
// or item by item when an item does not encode.
type fuzzRecord struct {
	N int
	S string
	B []byte
	P *int16
	L []uint32
}

var (
	fuzzInts   = execkit.Register("fuzz.ints", func(_ context.Context, x int) (int, error) { return x, nil })
	fuzzUint16 = execkit.Register("fuzz.uint16", func(_ context.Context, x uint16) (uint16, error) { return x, nil })
	fuzzText   = execkit.Register("fuzz.text", func(_ context.Context, s string) (string, error) { return s, nil })
	fuzzRecs   = execkit.Register("fuzz.record", func(_ context.Context, r fuzzRecord) (fuzzRecord, error) { return r, nil })
	// fuzzCodec has a codec other than gob: always item by item.
	fuzzCodec = execkit.Register("fuzz.intcodec", func(_ context.Context, x int) (int, error) { return x, nil }, execkit.UseCodec(intCodec{}))
	// fuzzAppend has a codec with AppendMarshal: its items are appended
	// to the payload being built (rudeCodec with no mode appends as it
	// should).
	fuzzAppend = execkit.Register("fuzz.append", func(_ context.Context, s string) (string, error) { return s, nil }, execkit.UseCodec(rudeCodec{}))
)

func FuzzDecodeBatch(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeBatch(t, fuzzInts, data)
		checkDecodeBatch(t, fuzzUint16, data)
		checkDecodeBatch(t, fuzzText, data)
		checkDecodeBatch(t, fuzzRecs, data)
		checkDecodeBatch(t, fuzzCodec, data)
		checkDecodeBatch(t, fuzzAppend, data)
	})
}

// checkDecodeBatch decodes data as the results of f, and runs it as a batch of
// arguments of f (an identity function), and checks what the decoder
// promises: an error wrapping ErrPayload or values that encode again and
// decode to themselves; the integer layout has one encoding per value; the
// worker's side (InvokeBatch) reads the same values as the pool's side
// (DecodeBatch).
func checkDecodeBatch[T any](t *testing.T, f *execkit.Func[T, T], data []byte) {
	t.Helper()
	outs, err := decodeBatch(f, data)
	if err != nil {
		if !errors.Is(err, execkit.ErrPayload) {
			t.Fatalf("%s: DecodeBatch(%x) = %v; want an error wrapping ErrPayload", f.Name(), data, err)
		}
		if outs != nil {
			t.Fatalf("%s: DecodeBatch(%x) = %v with error %v; want no results", f.Name(), data, outs, err)
		}
	} else {
		again, err := encodeBatch(f, outs)
		if err != nil {
			// A value the decoder made that the encoder refuses (a gob
			// value the encoder would not write, say) must say so as
			// a payload error, not crash.
			if !errors.Is(err, execkit.ErrPayload) {
				t.Fatalf("%s: EncodeBatch(%v) = %v; want an error wrapping ErrPayload", f.Name(), outs, err)
			}
		} else {
			if len(data) > 0 && data[0] == 3 && f == any(fuzzInts) && !bytes.Equal(intValues(again), intValues(data)) {
				// The integer layout: one value, one encoding.
				t.Fatalf("%s: %x decodes to %v, which encodes to %x", f.Name(), data, outs, again)
			}
			checkStable(t, f, again)
		}
	}

	res, errs, err := invokeBatch(context.Background(), f.Name(), data)
	switch {
	case err != nil:
		if !errors.Is(err, execkit.ErrPayload) {
			t.Fatalf("%s: InvokeBatch(%x) = %v; want an error wrapping ErrPayload", f.Name(), data, err)
		}
		if res != nil || errs != nil {
			t.Fatalf("%s: InvokeBatch(%x) failed (%v) with results %x, errors %v; want none", f.Name(), data, err, res, errs)
		}
	case errs != nil:
		// Only an argument the codec refuses fails, alone: the pool's
		// side, item by item, refuses the same ones, and the others
		// come back as it reads them.
		args := make([]T, len(errs))
		refused := make([]bool, len(errs))
		if err := link.DecodeBatchInto(f, data, args, func(i int, _ error) { refused[i] = true }); err != nil {
			t.Fatalf("%s: InvokeBatch(%x) ran its items, but DecodeBatchInto refuses the batch: %v", f.Name(), data, err)
		}
		for i, e := range errs {
			if (e != nil) != refused[i] || e != nil && (!errors.Is(e, execkit.ErrPayload) || !strings.Contains(e.Error(), "argument of")) {
				t.Fatalf("%s: InvokeBatch(%x): item %d failed with %v, refused by the pool's side: %v", f.Name(), data, i, e, refused[i])
			}
		}
		got, derr := decodeBatch(f, res)
		if derr != nil || !reflect.DeepEqual(got, args) {
			t.Fatalf("%s: InvokeBatch(%x) returned %v (%v); the pool read the items as %v", f.Name(), data, got, derr, args)
		}
	default:
		got, derr := decodeBatch(f, res)
		if derr != nil {
			t.Fatalf("%s: InvokeBatch(%x) returned %x, which does not decode: %v", f.Name(), data, res, derr)
		}
		args, err := decodeBatch(f, data)
		if err != nil {
			t.Fatalf("%s: InvokeBatch accepted %x, which DecodeBatch refuses: %v", f.Name(), data, err)
		}
		if !reflect.DeepEqual(got, args) && !(len(got) == 0 && len(args) == 0) {
			t.Fatalf("%s: the worker read %x as %v, the pool as %v", f.Name(), data, got, args)
		}
	}
}

// intValues returns the values of a batch in the integer layout: what
// follows its layout byte and item count. (The count, like the lengths of
// the other layouts, may be a padded uvarint: the values may not.)
func intValues(b []byte) []byte {
	_, k := binary.Uvarint(b[1:])
	return b[1+k:]
}

// checkStable checks that enc, made by EncodeBatch, decodes to values that
// encode and decode to the same values again.
func checkStable[T any](t *testing.T, f *execkit.Func[T, T], enc []byte) {
	t.Helper()
	v1, err := decodeBatch(f, enc)
	if err != nil {
		t.Fatalf("%s: DecodeBatch of EncodeBatch's %x: %v", f.Name(), enc, err)
	}
	enc2, err := encodeBatch(f, v1)
	if err != nil {
		t.Fatalf("%s: EncodeBatch(%v), decoded from EncodeBatch's %x: %v", f.Name(), v1, enc, err)
	}
	v2, err := decodeBatch(f, enc2)
	if err != nil {
		t.Fatalf("%s: DecodeBatch of EncodeBatch's %x: %v", f.Name(), enc2, err)
	}
	if !reflect.DeepEqual(v1, v2) {
		t.Fatalf("%s: %v encodes to %x, which decodes to %v", f.Name(), v1, enc2, v2)
	}
}
