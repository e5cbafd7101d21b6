package execkit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
)

var (
	// halfFunc returns nil for odd numbers: gob cannot encode a nil
	// pointer, so those results fail alone.
	halfFunc = execkit.Register("test.half", func(_ context.Context, x int) (*int, error) {
		if x%2 != 0 {
			return nil, nil
		}
		h := x / 2
		return &h, nil
	})
	derefFunc = execkit.Register("test.deref", func(_ context.Context, p *int) (int, error) { return *p, nil })
	// widenFunc has plain integer types, which GobCodec batches as varints.
	addIntFunc = execkit.Register("test.identity", func(_ context.Context, x int) (int, error) { return x, nil })
	widenFunc  = execkit.Register("test.widen", func(_ context.Context, x int8) (uint16, error) {
		if x < 0 {
			return 0, errors.New("negative")
		}
		return uint16(x) << 8, nil
	})
	// negFunc uses a codec that knows int only, not []int.
	negFunc = execkit.Register("test.neg", func(_ context.Context, x int) (int, error) {
		if x == 7 {
			return 0, errors.New("seven")
		}
		return -x, nil
	}, execkit.UseCodec(intCodec{}))
)

type intCodec struct{}

func (intCodec) Marshal(v any) ([]byte, error) {
	x, ok := v.(int)
	if !ok {
		return nil, fmt.Errorf("intCodec: %T is not an int", v)
	}
	return binary.AppendVarint(nil, int64(x)), nil
}

func (intCodec) Unmarshal(b []byte, v any) error {
	x, n := binary.Varint(b)
	if n <= 0 || n != len(b) {
		return errors.New("intCodec: bad varint")
	}
	*v.(*int) = int(x)
	return nil
}

// errText is err's text, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// batch runs items through EncodeBatch, InvokeBatch and DecodeBatch, as a
// worker process would, and returns the results and per-item error texts.
func batch[In, Out any](ctx context.Context, t *testing.T, f *execkit.Func[In, Out], items []In) ([]Out, []string) {
	t.Helper()
	payload, err := driver.EncodeBatch(f, items)
	if err != nil {
		t.Fatalf("EncodeBatch(%v) = %v", items, err)
	}
	res, errs, err := driver.InvokeBatch(ctx, f.Name(), payload)
	if err != nil {
		t.Fatalf("InvokeBatch(%v) = %v", items, err)
	}
	outs, err := driver.DecodeBatch(f, res)
	if err != nil {
		t.Fatalf("DecodeBatch = %v", err)
	}
	if len(outs) != len(items) || (errs != nil && len(errs) != len(items)) {
		t.Fatalf("%d items gave %d results and %d errors; want %d", len(items), len(outs), len(errs), len(items))
	}
	texts := make([]string, len(items))
	for i := range errs {
		texts[i] = errText(errs[i])
	}
	return outs, texts
}

func TestInvokeBatch(t *testing.T) {
	ctx := context.Background()
	t.Run("gob", func(t *testing.T) {
		outs, errs := batch(ctx, t, addFunc, []point{{1, 2}, {-1, 0}, {13, 0}, {4, 5}})
		want := []int{3, 0, 0, 9}
		wantErrs := []string{"", "negative", "execkit: task panicked: unlucky", ""}
		for i := range want {
			if outs[i] != want[i] || errs[i] != wantErrs[i] {
				t.Errorf("item %d: got %d, %q; want %d, %q", i, outs[i], errs[i], want[i], wantErrs[i])
			}
		}
	})
	t.Run("gob/unencodable results", func(t *testing.T) {
		outs, errs := batch(ctx, t, halfFunc, []int{4, 3, 8})
		if outs[0] == nil || *outs[0] != 2 || outs[2] == nil || *outs[2] != 4 || outs[1] != nil {
			t.Errorf("got results %v; want [2 nil 4]", outs)
		}
		if errs[0] != "" || errs[2] != "" || !strings.Contains(errs[1], `bad payload: result of "test.half"`) {
			t.Errorf("got errors %q; want only item 1 failing with a payload error", errs)
		}
	})
	t.Run("custom codec", func(t *testing.T) {
		outs, errs := batch(ctx, t, negFunc, []int{1, 7, 3})
		if fmt.Sprint(outs) != "[-1 0 -3]" || fmt.Sprint(errs) != "[ seven ]" {
			t.Errorf("got %v, %q; want [-1 0 -3], [\"\" \"seven\" \"\"]", outs, errs)
		}
	})
	t.Run("gob/integers", func(t *testing.T) {
		outs, errs := batch(ctx, t, widenFunc, []int8{0, 127, -128, 1})
		if fmt.Sprint(outs) != "[0 32512 0 256]" || fmt.Sprint(errs) != "[  negative ]" {
			t.Errorf("got %v, %q; want [0 32512 0 256], [\"\" \"\" \"negative\" \"\"]", outs, errs)
		}
		outs2, _ := batch(ctx, t, addIntFunc, []int{-1 << 63, 1<<63 - 1, 0})
		if fmt.Sprint(outs2) != "[-9223372036854775808 9223372036854775807 0]" {
			t.Errorf("got %v; want the extremes of int back", outs2)
		}
	})
	t.Run("zero-size", func(t *testing.T) {
		outs, errs := batch(ctx, t, emptyFunc, make([]struct{}, 3))
		if len(outs) != 3 || strings.Join(errs, "") != "" {
			t.Errorf("got %d results, errors %q; want 3, none", len(outs), errs)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if outs, _ := batch(ctx, t, addFunc, nil); len(outs) != 0 {
			t.Errorf("got %d results; want 0", len(outs))
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, errs := batch(cctx, t, addFunc, []point{{1, 2}, {3, 4}})
		for i, e := range errs {
			if e != context.Canceled.Error() {
				t.Errorf("item %d: got %q; want %q", i, e, context.Canceled)
			}
		}
	})
}

func TestInvokeBatchErrors(t *testing.T) {
	ctx := context.Background()
	good, err := driver.EncodeBatch(addFunc, []point{{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		fn      string
		payload []byte
		target  error
		want    string
	}{
		{"unregistered", "test.nope", good, execkit.ErrNotRegistered, `"test.nope"`},
		{"empty payload", "test.add", nil, execkit.ErrPayload, `arguments of "test.add": empty batch`},
		{"unknown layout", "test.add", []byte{9}, execkit.ErrPayload, "unknown batch layout 9"},
		{"bad gob", "test.add", []byte{1, 0xff}, execkit.ErrPayload, `arguments of "test.add"`},
		{"count too large", "test.neg", []byte{2, 5, 1}, execkit.ErrPayload, "bad batch count"},
		{"length too large", "test.neg", []byte{2, 1, 9}, execkit.ErrPayload, "item 0: bad length"},
		{"trailing bytes", "test.neg", []byte{2, 1, 0, 0}, execkit.ErrPayload, "trailing bytes"},
		{"integer out of range", "test.widen", []byte{3, 1, 0x80, 0x04}, execkit.ErrPayload, "bad integer batch"},
		{"integer count too large", "test.widen", []byte{3, 2, 0}, execkit.ErrPayload, "bad integer batch"},
		{"integers, trailing bytes", "test.widen", []byte{3, 1, 0, 0}, execkit.ErrPayload, "bad integer batch"},
		{"integers, not an integer type", "test.add", []byte{3, 1, 0}, execkit.ErrPayload, "bad integer batch"},
		{"integers, another codec", "test.neg", []byte{3, 1, 0}, execkit.ErrPayload, "codec other than GobCodec"},
	}
	for _, tt := range tests {
		res, errs, err := driver.InvokeBatch(ctx, tt.fn, tt.payload)
		if !errors.Is(err, tt.target) || !strings.Contains(errText(err), tt.want) || res != nil || errs != nil {
			t.Errorf("%s: got %v, %v, %v; want an error wrapping %v saying %q", tt.name, res, errs, err, tt.target, tt.want)
		}
	}
	// An item the codec refuses fails alone, not the batch.
	if res, errs, err := driver.InvokeBatch(ctx, "test.neg", []byte{2, 2, 1, 2, 2}); err != nil || len(errs) != 2 || errs[1] != nil ||
		!errors.Is(errs[0], execkit.ErrPayload) || errText(errs[0]) != `execkit: bad payload: argument of "test.neg": intCodec: bad varint` || res == nil {
		t.Errorf("bad item: got %x, %v, %v; want item 0 to fail with ErrPayload, item 1 to run", res, errs, err)
	}
	if _, err := driver.DecodeBatch(halfFunc, []byte{1, 0xff}); !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), `results of "test.half"`) {
		t.Errorf("DecodeBatch(garbage) = %v; want ErrPayload naming the results", err)
	}
	// An argument that does not encode is named.
	one := 1
	if _, err := driver.EncodeBatch(derefFunc, []*int{&one, nil}); !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), `arguments of "test.deref": item 1:`) {
		t.Errorf("EncodeBatch with a nil pointer = %v; want ErrPayload naming item 1", err)
	}
}

// flakyAttempts counts the runs of flakyBatch per item.
var flakyAttempts sync.Map

var (
	// flakyBatch fails the first two runs of each item, then returns it.
	flakyBatch = execkit.Register("test.batch.flaky", func(_ context.Context, x int) (int, error) {
		n, _ := flakyAttempts.LoadOrStore(x, new(atomic.Int32))
		if n.(*atomic.Int32).Add(1) <= 2 {
			return 0, errors.New("flaky")
		}
		return x, nil
	}, execkit.Retry(2, 0))
	// slowBatch overruns its time limit on negative items.
	slowBatch = execkit.Register("test.batch.slow", func(ctx context.Context, x int) (int, error) {
		if x < 0 {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return x, nil
	}, execkit.TimeLimit(20*time.Millisecond))
)

// A batch runs each item under the function's policy where it runs: a
// worker's chunk of subprocess.Map retries and limits per item.
func TestInvokeBatchPolicy(t *testing.T) {
	ctx := context.Background()
	flakyAttempts.Clear() // counted afresh in each run (-count)
	outs, errs := batch(ctx, t, flakyBatch, []int{1, 2, 3})
	if fmt.Sprint(outs) != "[1 2 3]" || fmt.Sprint(errs) != "[  ]" {
		t.Errorf("Retry(2), two failures per item: got %v, %q; want [1 2 3] and no errors", outs, errs)
	}
	for x := 1; x <= 3; x++ {
		if n, _ := flakyAttempts.Load(x); n.(*atomic.Int32).Load() != 3 {
			t.Errorf("item %d ran %d times; want 3", x, n.(*atomic.Int32).Load())
		}
	}
	payload, err := driver.EncodeBatch(slowBatch, []int{1, -1, 2})
	if err != nil {
		t.Fatal(err)
	}
	_, ierrs, err := driver.InvokeBatch(ctx, slowBatch.Name(), payload)
	if err != nil || len(ierrs) != 3 {
		t.Fatalf("InvokeBatch: got %v, %d errors; want nil and 3", err, len(ierrs))
	}
	if ierrs[0] != nil || ierrs[2] != nil || !errors.Is(ierrs[1], execkit.ErrTimeLimit) {
		t.Errorf("TimeLimit: got %v; want only item 1 failing with ErrTimeLimit", ierrs)
	}
}

// appendCodec carries ints (as varints) and strings (as their bytes),
// through AppendMarshal when append is true, through Marshal otherwise.
// Its strings "bad", "boom" and "short" fail: an error, a panic, and fewer
// bytes returned than AppendMarshal was given.
type appendCodec struct{}

func (appendCodec) Marshal(v any) ([]byte, error) { return appendCodec{}.appendValue(nil, v) }

func (appendCodec) AppendMarshal(b []byte, p any) ([]byte, error) {
	return appendCodec{}.appendValue(b, deref(p))
}

// deref returns the value p points to.
func deref(p any) any { return reflect.ValueOf(p).Elem().Interface() }

func (appendCodec) appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case int:
		return binary.AppendVarint(b, int64(v)), nil
	case string:
		switch v {
		case "bad":
			return nil, errors.New("appendCodec: bad")
		case "boom":
			panic("appendCodec: boom")
		case "short":
			return b[:len(b)/2], nil
		}
		return append(b, v...), nil
	}
	return nil, fmt.Errorf("appendCodec: %T", v)
}

func (appendCodec) Unmarshal(b []byte, v any) error {
	switch p := v.(type) {
	case *int:
		x, n := binary.Varint(b)
		if n <= 0 || n != len(b) {
			return errors.New("appendCodec: bad varint")
		}
		*p = int(x)
	case *string:
		*p = string(b)
	default:
		return fmt.Errorf("appendCodec: %T", v)
	}
	return nil
}

// marshalOnly hides appendCodec's AppendMarshal.
type marshalOnly struct{ appendCodec }

func (marshalOnly) AppendMarshal() {} // not the optional method's signature

// xs returns n bytes of x, or one of appendCodec's failing strings for n < 0.
func xs(_ context.Context, n int) (string, error) {
	if n < 0 {
		return []string{"bad", "boom", "short"}[-n-1], nil
	}
	return strings.Repeat("x", n), nil
}

var (
	xsAppend  = execkit.Register("test.xs.append", xs, execkit.UseCodec(appendCodec{}))
	xsMarshal = execkit.Register("test.xs.marshal", xs, execkit.UseCodec(marshalOnly{}))
)

// TestBatchAppendMarshal checks the optional AppendMarshal method of a
// Codec: the payload it builds is byte for byte the one Marshal builds,
// whatever the length of an item's encoding (1 to 4 bytes of length
// before it), and an item whose encoding fails (an error, a panic, a
// slice shorter than given) fails alone, with its neighbours intact.
func TestBatchAppendMarshal(t *testing.T) {
	ctx := context.Background()
	sizes := []int{0, 1, 126, 127, 128, 200, 16382, 16383, 16384, 70000, 2097151, 2097152, 3, 0} // 1 to 4 bytes of length
	for _, f := range []*execkit.Func[int, string]{xsAppend, xsMarshal} {
		outs, errs := batch(ctx, t, f, sizes)
		for i, n := range sizes {
			if len(outs[i]) != n || strings.Trim(outs[i], "x") != "" || errs[i] != "" {
				t.Errorf("%s: item %d: got %d bytes, error %q; want %d x", f.Name(), i, len(outs[i]), errs[i], n)
			}
		}
	}
	a, err := driver.EncodeBatch(xsAppend, sizes)
	if err != nil {
		t.Fatal(err)
	}
	m, err := driver.EncodeBatch(xsMarshal, sizes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, m) {
		t.Errorf("the arguments' payload through AppendMarshal differs from the one through Marshal:\n%x\n%x", a, m)
	}
	ra, _, err := driver.InvokeBatch(ctx, xsAppend.Name(), a)
	if err != nil {
		t.Fatal(err)
	}
	rm, _, err := driver.InvokeBatch(ctx, xsMarshal.Name(), m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ra, rm) {
		t.Error("the results' payload through AppendMarshal differs from the one through Marshal")
	}

	items := []int{5, -1, 130, -2, 7, -3, 1}
	for _, f := range []*execkit.Func[int, string]{xsAppend, xsMarshal} {
		outs, errs := batch(ctx, t, f, items)
		want := []string{"", "appendCodec: bad", "", "codec panicked: appendCodec: boom", "", "", ""}
		if f == xsAppend { // Marshal's short slice is an empty string
			want[5] = "AppendMarshal returned fewer bytes than it was given"
		}
		for i, n := range items {
			if n >= 0 && (len(outs[i]) != n || errs[i] != "") {
				t.Errorf("%s: item %d: got %d bytes, error %q; want %d x", f.Name(), i, len(outs[i]), errs[i], n)
			}
			if n < 0 && (outs[i] != "" || !strings.HasSuffix(errs[i], want[i])) {
				t.Errorf("%s: item %d: got %q, error %q; want the zero value, an error ending %q", f.Name(), i, outs[i], errs[i], want[i])
			}
		}
	}
}

// sparse is carried by sparseCodec, which writes and reads Note only when
// it is set: an element decoded into a slice reused from an earlier batch
// keeps what that batch left there unless it was emptied first.
type sparse struct {
	N    int
	Note *string
}

type sparseCodec struct{}

func (sparseCodec) Marshal(v any) ([]byte, error) {
	s := v.(sparse)
	b := binary.AppendVarint(nil, int64(s.N))
	if s.Note != nil {
		b = append(b, *s.Note...)
	}
	return b, nil
}

func (sparseCodec) Unmarshal(b []byte, v any) error {
	p := v.(*sparse)
	x, n := binary.Varint(b)
	if n <= 0 {
		return errors.New("sparseCodec: bad varint")
	}
	p.N = int(x)
	if n < len(b) {
		note := string(b[n:])
		p.Note = &note
	}
	return nil
}

var echoSparse = execkit.Register("test.echoSparse", func(_ context.Context, s sparse) (sparse, error) {
	return s, nil
}, execkit.UseCodec(sparseCodec{}))

// TestInvokeBatchReusesNothingStale runs batches one after the other
// where the function runs (InvokeBatch reuses its slices of arguments and
// results from batch to batch): a longer batch with every Note set, then
// shorter ones with none, then a longer one again; each must see only its
// own values.
func TestInvokeBatchReusesNothingStale(t *testing.T) {
	ctx := context.Background()
	note := "stale"
	mk := func(n int, withNote bool) []sparse {
		s := make([]sparse, n)
		for i := range s {
			s[i].N = i + 1
			if withNote {
				s[i].Note = &note
			}
		}
		return s
	}
	for round, b := range []struct {
		n    int
		note bool
	}{{300, true}, {10, false}, {200, false}, {500, true}, {1, false}} {
		items := mk(b.n, b.note)
		outs, errs := batch(ctx, t, echoSparse, items)
		for i, o := range outs {
			if o.N != i+1 || (o.Note != nil) != b.note || errs[i] != "" {
				t.Fatalf("round %d, item %d: got N=%d, Note set %v, error %q; want N=%d, Note set %v", round, i, o.N, o.Note != nil, errs[i], i+1, b.note)
			}
		}
	}
}

// TestDecodeBatchIntoStaysInItsSlice: results decoded into a part of a
// larger slice (a chunk's place among a Map's results) never reach past
// that part, even when the batch holds more values than it has room for
// (a worker that breaks the protocol); the part is left zero and the
// error says the count is wrong.
func TestDecodeBatchIntoStaysInItsSlice(t *testing.T) {
	for _, f := range []*execkit.Func[int, int]{negFunc, addIntFunc} { // item by item; integers
		payload, err := driver.EncodeBatch(f, []int{1, 2, 3, 4, 5})
		if err != nil {
			t.Fatal(err)
		}
		all := []int{9, 9, 9, 9, 9, 9, 9, 9}
		err = link.DecodeBatchInto(f, payload, all[2:5], nil)
		if !errors.Is(err, execkit.ErrPayload) || !errors.Is(err, link.ErrBatchCount) {
			t.Errorf("%s: DecodeBatchInto(5 values, room for 3) = %v; want ErrPayload and ErrBatchCount", f.Name(), err)
		}
		if fmt.Sprint(all) != "[9 9 0 0 0 9 9 9]" {
			t.Errorf("%s: after it, the slice holds %v; want [9 9 0 0 0 9 9 9]", f.Name(), all)
		}
	}
}

// TestInvokeBatchConcurrent runs batches of one function from many
// goroutines at once (an in-process executor's Map may), each with its own
// values and length: the reused slices are never shared between two
// batches (run it with -race).
func TestInvokeBatchConcurrent(t *testing.T) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 40 {
				n := 1 + (g*7+r*13)%97
				items := make([]sparse, n)
				for i := range items {
					items[i].N = g*1_000_000 + r*1000 + i
				}
				payload, err := driver.EncodeBatch(echoSparse, items)
				if err != nil {
					t.Error(err)
					return
				}
				res, errs, err := driver.InvokeBatch(ctx, echoSparse.Name(), payload)
				if err != nil || errs != nil {
					t.Errorf("InvokeBatch = %v, %v", errs, err)
					return
				}
				outs, err := driver.DecodeBatch(echoSparse, res)
				if err != nil || len(outs) != n {
					t.Errorf("DecodeBatch = %d values, %v; want %d", len(outs), err, n)
					return
				}
				for i, o := range outs {
					if o.N != items[i].N || o.Note != nil {
						t.Errorf("goroutine %d, batch %d, item %d: got %+v; want N=%d", g, r, i, o, items[i].N)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// scribbleCodec carries ints; its AppendMarshal writes through the pointer
// it is given once it has encoded the value, which Codec's doc says
// changes nothing the caller sees.
type scribbleCodec struct{ intCodec }

func (scribbleCodec) AppendMarshal(b []byte, p any) ([]byte, error) {
	x := p.(*int)
	b = binary.AppendVarint(b, int64(*x))
	*x = -1
	return b, nil
}

var scribbled = execkit.Register("test.scribbled", func(_ context.Context, x int) (int, error) { return x, nil }, execkit.UseCodec(scribbleCodec{}))

// TestAppendMarshalGetsACopy: AppendMarshal's pointer is to a copy: the
// caller's items, and the values the batch carries, stay as they were.
func TestAppendMarshalGetsACopy(t *testing.T) {
	items := []int{1, 2, 300, 4}
	outs, errs := batch(context.Background(), t, scribbled, items)
	if fmt.Sprint(items) != "[1 2 300 4]" {
		t.Errorf("after EncodeBatch the items are %v; want [1 2 300 4]", items)
	}
	if fmt.Sprint(outs) != "[1 2 300 4]" || strings.Join(errs, "") != "" {
		t.Errorf("the batch carried %v, errors %q; want [1 2 300 4], none", outs, errs)
	}
}
