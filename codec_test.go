package execkit_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// ID is a named integer type: GobCodec sends it as gob, not as a varint.
type ID int

var (
	idFunc   = execkit.Register("test.id", func(_ context.Context, x ID) (ID, error) { return x + 1, nil })
	byteFunc = execkit.Register("test.byte", func(_ context.Context, x uint8) (uint8, error) { return x ^ 0xff, nil })
	textFunc = execkit.Register("test.text", func(_ context.Context, s string) ([]byte, error) { return []byte(strings.ToUpper(s)), nil })
)

// compactCase checks one value of a type with a compact form: it encodes
// to want bytes (-1: any), not gob, and decodes back to itself.
type compactCase struct {
	name  string
	check func(t *testing.T)
}

func compact[T any](name string, v T, wantLen int) compactCase {
	return compactCase{name, func(t *testing.T) {
		var c execkit.GobCodec
		b, err := c.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%v) = %v; want no error", v, err)
		}
		if wantLen >= 0 && len(b) != wantLen {
			t.Errorf("Marshal(%v) = % x, %d bytes; want %d", v, b, len(b), wantLen)
		}
		var got T
		if err := c.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(% x) = %v; want no error", b, err)
		}
		if !equal(got, v) {
			t.Errorf("round trip of %v = %v; want the same", v, got)
		}
	}}
}

// equal compares floats by their bits, so that NaN equals itself.
func equal(a, b any) bool {
	if x, ok := a.(float64); ok {
		return math.Float64bits(x) == math.Float64bits(b.(float64))
	}
	return reflect.DeepEqual(a, b)
}

func TestGobCodecCompactRoundTrip(t *testing.T) {
	tests := []compactCase{
		compact("int zero", 0, 1),
		compact("int negative", -1, 1),
		compact("int 21", 21, 1),
		compact("int min", math.MinInt, 10),
		compact("int max", math.MaxInt, 10),
		compact("int64 min", int64(math.MinInt64), 10),
		compact("int64 max", int64(math.MaxInt64), 10),
		compact("int32 min", int32(math.MinInt32), 5),
		compact("int32 max", int32(math.MaxInt32), 5),
		compact("int16 min", int16(math.MinInt16), 3),
		compact("int16 max", int16(math.MaxInt16), 3),
		compact("int8 min", int8(math.MinInt8), 2),
		compact("int8 max", int8(math.MaxInt8), 2),
		compact("int8 -64", int8(-64), 1),
		compact("uint zero", uint(0), 1),
		compact("uint max", uint(math.MaxUint), 10),
		compact("uint64 max", uint64(math.MaxUint64), 10),
		compact("uint32 max", uint32(math.MaxUint32), 5),
		compact("uint16 max", uint16(math.MaxUint16), 3),
		compact("uint8 max", uint8(math.MaxUint8), 2),
		compact("uint8 127", uint8(127), 1),
		compact("bool false", false, 1),
		compact("bool true", true, 1),
		compact("float64 zero", 0.0, 8),
		compact("float64 negative zero", math.Copysign(0, -1), 8),
		compact("float64 pi", math.Pi, 8),
		compact("float64 smallest", math.SmallestNonzeroFloat64, 8),
		compact("float64 max", -math.MaxFloat64, 8),
		compact("float64 -Inf", math.Inf(-1), 8),
		compact("float64 NaN", math.NaN(), 8),
		compact("string empty", "", 0),
		compact("string", "héllo\x00world", len("héllo\x00world")),
		compact("bytes", []byte{0, 1, 0xff}, 3),
		compact("bytes nil", []byte(nil), 0),
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

func TestGobCodecMalformed(t *testing.T) {
	var c execkit.GobCodec
	into := func(v any) func([]byte) error { return func(b []byte) error { return c.Unmarshal(b, v) } }
	tests := []struct {
		name string
		dec  func([]byte) error
		data []byte
		want string
	}{
		{"int empty", into(new(int)), nil, "bad int"},
		{"int truncated", into(new(int)), []byte{0x80}, "bad int"},
		{"int trailing", into(new(int)), []byte{1, 2}, "bad int"},
		{"int padded", into(new(int)), []byte{0x82, 0x00}, "bad int"},
		{"int too long", into(new(int)), bytes.Repeat([]byte{0xff}, 11), "bad int"},
		{"int8 out of range", into(new(int8)), []byte{0x80, 0x02}, "bad int8"},
		{"uint8 out of range", into(new(uint8)), []byte{0x80, 0x02}, "bad uint8"},
		{"uint32 out of range", into(new(uint32)), []byte{0x80, 0x80, 0x80, 0x80, 0x10}, "bad uint32"},
		{"uint64 overflow", into(new(uint64)), append(bytes.Repeat([]byte{0xff}, 9), 0x02), "bad uint64"},
		{"bool empty", into(new(bool)), nil, "bad bool"},
		{"bool 2", into(new(bool)), []byte{2}, "bad bool"},
		{"bool trailing", into(new(bool)), []byte{1, 0}, "bad bool"},
		{"float64 short", into(new(float64)), make([]byte, 7), "bad float64"},
		{"float64 long", into(new(float64)), make([]byte, 9), "bad float64"},
	}
	for _, tt := range tests {
		if err := tt.dec(tt.data); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Unmarshal(% x) = %v; want an error saying %q", tt.name, tt.data, err, tt.want)
		}
	}
}

// A registered function of a compact type refuses a malformed payload, or a
// gob one, with ErrPayload.
func TestInvokeCompactBadPayload(t *testing.T) {
	ctx := context.Background()
	var gobInt bytes.Buffer
	if err := gob.NewEncoder(&gobInt).Encode(21); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		fn      string
		payload []byte
	}{
		{"empty", addIntFunc.Name(), nil},
		{"padded varint", addIntFunc.Name(), []byte{0xff, 0x00}},
		{"gob int", addIntFunc.Name(), gobInt.Bytes()},
		{"uint8 out of range", byteFunc.Name(), []byte{0x80, 0x02}},
	}
	for _, tt := range tests {
		if _, err := driver.Invoke(ctx, tt.fn, tt.payload); !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), "argument of") {
			t.Errorf("%s: Invoke(%s, % x) = %v; want ErrPayload naming the argument", tt.name, tt.fn, tt.payload, err)
		}
	}
}

// Named types go as gob, on both sides; unnamed ones in their compact form;
// calls of both kinds round-trip through their encoded form.
func TestGobCodecNamedTypes(t *testing.T) {
	var c execkit.GobCodec
	b, err := c.Marshal(ID(41))
	if err != nil {
		t.Fatal(err)
	}
	var viaGob ID
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&viaGob); err != nil || viaGob != 41 {
		t.Errorf("gob decode of Marshal(ID(41)) = %v, %v; want 41 (named types go as gob)", viaGob, err)
	}
	if b, _ := c.Marshal(41); len(b) != 1 {
		t.Errorf("Marshal(41) = % x; want one varint byte", b)
	}

	ctx := context.Background()
	ex := viaExecutor{&execkit.Inline{}, local}
	defer ex.Shutdown(ctx)
	if got, err := idFunc.Go(ctx, ex, 41).Wait(ctx); err != nil || got != 42 {
		t.Errorf("idFunc(41) via Invoke = %v, %v; want 42", got, err)
	}
	if got, err := byteFunc.Go(ctx, ex, 0x0f).Wait(ctx); err != nil || got != 0xf0 {
		t.Errorf("byteFunc(0x0f) via Invoke = %#x, %v; want 0xf0", got, err)
	}
	if got, err := textFunc.Go(ctx, ex, "go").Wait(ctx); err != nil || string(got) != "GO" {
		t.Errorf("textFunc(go) via Invoke = %q, %v; want GO", got, err)
	}
}

// Batches of the compact types still round-trip: []uint8 and [][]byte go
// as gob, []ID too.
func TestInvokeBatchCompactTypes(t *testing.T) {
	ctx := context.Background()
	t.Run("uint8", func(t *testing.T) {
		checkBatch(t, ctx, byteFunc, []uint8{0, 1, 0xff}, []uint8{0xff, 0xfe, 0})
	})
	t.Run("ID", func(t *testing.T) {
		checkBatch(t, ctx, idFunc, []ID{-1, 0, math.MaxInt - 1}, []ID{0, 1, math.MaxInt})
	})
	t.Run("string", func(t *testing.T) {
		checkBatch(t, ctx, textFunc, []string{"", "a"}, [][]byte{nil, []byte("A")})
	})
}

func checkBatch[In, Out any](t *testing.T, ctx context.Context, f *execkit.Func[In, Out], in []In, want []Out) {
	t.Helper()
	payload, err := driver.EncodeBatch(f, in)
	if err != nil {
		t.Fatalf("EncodeBatch(%v) = %v", in, err)
	}
	res, errs, err := driver.InvokeBatch(ctx, f.Name(), payload)
	if err != nil || errs != nil {
		t.Fatalf("InvokeBatch(%v) = %v, %v; want no errors", in, errs, err)
	}
	got, err := driver.DecodeBatch(f, res)
	if err != nil || len(got) != len(want) {
		t.Fatalf("DecodeBatch = %v, %v; want %v", got, err, want)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("item %d = %v; want %v", i, got[i], want[i])
		}
	}
}

// FuzzGobCodecCompact: decoding any bytes into a compact type never panics,
// and what decodes is the one encoding of its value.
func FuzzGobCodecCompact(f *testing.F) {
	for _, s := range [][]byte{nil, {0}, {1}, {0x80}, {0xff, 0x00}, {0x80, 0x02}, bytes.Repeat([]byte{0xff}, 10), make([]byte, 8)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []any{new(int), new(int64), new(int32), new(int16), new(int8), new(uint), new(uint64), new(uint32), new(uint16), new(uint8), new(bool), new(float64), new(string), new([]byte)} {
			var c execkit.GobCodec
			if c.Unmarshal(data, v) != nil {
				continue
			}
			b, err := c.Marshal(reflect.ValueOf(v).Elem().Interface())
			if err != nil || !bytes.Equal(b, data) {
				t.Errorf("%T: Unmarshal(% x) then Marshal = % x, %v; want the same bytes", v, data, b, err)
			}
		}
	})
}

// BenchmarkGobCodec measures one Marshal and Unmarshal of an int: the
// compact form (int) against gob (the named type ID).
func BenchmarkGobCodec(b *testing.B) {
	b.Run("type=int", func(b *testing.B) { benchCodec(b, 1<<40) })
	b.Run("type=ID", func(b *testing.B) { benchCodec(b, ID(1<<40)) })
}

func benchCodec[T comparable](b *testing.B, v T) {
	var c execkit.GobCodec
	b.ReportAllocs()
	for b.Loop() {
		data, err := c.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		var got T
		if err := c.Unmarshal(data, &got); err != nil || got != v {
			b.Fatalf("round trip of %v = %v, %v", v, got, err)
		}
	}
}
