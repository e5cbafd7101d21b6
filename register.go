package execkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
)

// A Codec encodes the arguments and results of a registered [Func] when
// they cross a process boundary. It must be safe for concurrent use.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// GobCodec is the default [Codec]: encoding/gob, one self-describing value
// per payload, except for a few plain types that need none of gob's
// machinery and travel in a compact form instead (the same values, a
// fraction of the cost, no type information). Its zero value is ready to
// use.
//
// The compact forms, chosen by the type of the value (the dynamic type of
// Marshal's argument, the type Unmarshal's pointer points to), are for
// these unnamed types only:
//   - int, int8, int16, int32, int64: one varint ([binary.AppendVarint]);
//   - uint, uint8, uint16, uint32, uint64: one uvarint;
//   - bool: one byte, 0 or 1;
//   - float64: 8 bytes, the IEEE 754 bits little-endian;
//   - string and []byte: the bytes themselves (an empty []byte arrives as
//     nil, as with gob).
//
// Everything else, named types included (type ID int: it may have its own
// GobEncode method), goes as gob, batches too (a batch of plain integers
// goes as varints, see [Func.EncodeBatch]); both sides of a registered [Func] have the
// same types, so they agree on the form ([RegistryHash] covers the types).
// Unmarshal of a compact form that is malformed (truncated, trailing bytes,
// out of range for the type) returns an error; it never panics.
//
// # What GobCodec refuses
//
// Gob skips some parts of a value without an error; GobCodec refuses them
// instead of letting the other side see a different value. Marshal and
// Unmarshal return an error (and [Register] panics, for the argument and
// result types of a function registered with GobCodec) for a type that
// holds, at any depth reachable through fields, pointers, slices, arrays
// and maps:
//   - a chan, a func or an unsafe.Pointer;
//   - an unexported struct field (embedded ones included), except a blank
//     (_) or zero-size one, which carries nothing.
//
// A type with a GobEncode, MarshalBinary or MarshalText method is carried
// by that method and not looked into. A value held by an interface can
// only be checked when it is encoded: Marshal refuses it then, with the
// same error, by the path to it. [Func]'s calls wrap these errors with
// [ErrPayload].
//
// # What gob changes on the way
//
// Gob carries values, not identities, and these arrive different from what
// was sent, without an error:
//   - an empty slice arrives as nil (at any depth, []byte too);
//   - a pointer field to a zero number, string or bool (a *int to 0)
//     arrives as nil; a pointer to a zero struct arrives as a pointer to a
//     zero struct;
//   - pointers are followed: two pointers to one value arrive as two
//     values, and a cyclic value does not encode;
//   - a nil pointer as the value, or inside a slice, array or map, does not
//     encode (an error wrapping [ErrPayload]).
type GobCodec struct{}

// Marshal encodes v in its compact form, or with a fresh gob encoder.
func (GobCodec) Marshal(v any) ([]byte, error) {
	if b, ok := appendScalar(nil, v); ok {
		return b, nil
	}
	if err := gobCarries(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}

// Unmarshal decodes data, made by Marshal, into the pointer v.
func (GobCodec) Unmarshal(data []byte, v any) error {
	if ok, err := readScalar(data, v); ok {
		return err
	}
	if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer {
		if p := verdictOf(t.Elem()).problem; p != "" {
			return errCannotCarry(t.Elem(), p)
		}
	}
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// A RegisterOption configures [Register].
type RegisterOption interface{ apply(*registerConfig) }

type registerConfig struct {
	codec     Codec
	sentinels []error
}

type codecOption struct{ c Codec }

func (o codecOption) apply(c *registerConfig) { c.codec = o.c }

// WithCodec makes a registered function encode its argument and result with
// c instead of [GobCodec]. The codec's type is part of [RegistryHash].
func WithCodec(c Codec) RegisterOption { return codecOption{c} }

// A Func is a function registered by name with [Register], so that a task
// calling it can run in another process (a worker of package subprocess, a
// distributed backend) as well as in this one. In-process executors call the
// function directly, without encoding anything. A Func is safe for
// concurrent use.
type Func[In, Out any] struct {
	name  string
	fn    func(context.Context, In) (Out, error)
	codec Codec
	errs  []error // builtinSentinels, then those declared with Errors
}

// entry is what the registry keeps of a Func, independent of its types.
type entry interface {
	invoke(ctx context.Context, payload []byte) ([]byte, error)
	invokeBatch(ctx context.Context, payload []byte) ([]byte, []error, error)
	signature() string
	sentinels() []error
}

var registry struct {
	sync.Mutex
	funcs  map[string]entry
	sealed bool
	hash   string
}

// Register registers fn under name and returns its handle. Call it at
// package level (in a var declaration or init), so that every process
// running the same binary registers the same functions in the same way.
// When the call crosses a process, its argument and result travel encoded
// with [GobCodec] unless [WithCodec] says otherwise: gob, except for unnamed
// integer types, bool, float64, string and []byte, which go in a compact
// form (an int as one varint) at a fraction of gob's cost. Gob carries
// values, not every detail of them: an empty slice arrives as nil, a
// pointer field to a zero number as nil; [GobCodec] lists what changes on
// the way, and what it refuses rather than change silently.
//
// Register panics, with a message starting "execkit:", when name is empty,
// fn is nil, the codec is nil, name is already registered, the registry
// was sealed by [RegistryHash] (a process-crossing executor started), or,
// with the default codec, In or Out holds something gob would drop
// silently (a chan or func field, an unexported field: see [GobCodec]):
// these are programmer errors, found on the first run. A value held by an
// interface field is checked when it is encoded instead: the call fails
// with an error wrapping [ErrPayload] and nothing is sent.
//
// In this process a call's error is the function's own value. When the
// call runs in another process, what comes back is an [*RemoteError]: the
// error's text and type name, and the sentinels it matched among those
// declared with the [Errors] option (and context.Canceled,
// context.DeadlineExceeded, ErrPayload, ErrNotRegistered), for which
// errors.Is holds as it did where the function ran; a panic comes back as
// a [*PanicError] with the value's text and the stack. Declare the
// sentinels callers test, and the function behaves alike on every
// executor.
func Register[In, Out any](name string, fn func(context.Context, In) (Out, error), opts ...RegisterOption) *Func[In, Out] {
	if name == "" {
		panic("execkit: Register with an empty name")
	}
	if fn == nil {
		panic(fmt.Sprintf("execkit: Register(%q) with a nil function", name))
	}
	cfg := registerConfig{codec: GobCodec{}}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.codec == nil {
		panic(fmt.Sprintf("execkit: Register(%q) WithCodec(nil)", name))
	}
	if isGob(cfg.codec) {
		for _, t := range []reflect.Type{reflect.TypeFor[In](), reflect.TypeFor[Out]()} {
			if p := verdictOf(t).problem; p != "" && t.Size() != 0 {
				panic(fmt.Sprintf("execkit: Register(%q): GobCodec cannot carry %s: %s; change the type, or give it a GobEncode method or a Codec of its own (WithCodec)", name, t, p))
			}
		}
	}
	for i, e := range cfg.sentinels {
		if e == nil {
			panic(fmt.Sprintf("execkit: Register(%q) with Errors whose value %d is nil", name, i))
		}
	}
	f := &Func[In, Out]{name: name, fn: fn, codec: cfg.codec, errs: append(builtinSentinels[:len(builtinSentinels):len(builtinSentinels)], cfg.sentinels...)}
	registry.Lock()
	defer registry.Unlock()
	if registry.sealed {
		panic(fmt.Sprintf("execkit: Register(%q) after the registry was sealed (a process-crossing executor started); register at package level", name))
	}
	if _, dup := registry.funcs[name]; dup {
		panic(fmt.Sprintf("execkit: Register(%q) twice", name))
	}
	if registry.funcs == nil {
		registry.funcs = make(map[string]entry)
	}
	registry.funcs[name] = f
	return f
}

// RegistryHash returns a digest of every registered name with its argument,
// result and codec types and the texts of its [Errors] (type names
// included: a function of a named type
// ID int, which [GobCodec] sends as gob, differs from one of int, which it
// sends as a varint). Two processes that registered the same functions
// the same way get the same hash, so a process-crossing executor compares it
// in its handshake and refuses a worker that differs. The first call seals
// the registry: a later [Register] panics. It never blocks for long and is
// safe for concurrent use.
func RegistryHash() string {
	registry.Lock()
	defer registry.Unlock()
	if !registry.sealed {
		registry.sealed = true
		lines := make([]string, 0, len(registry.funcs))
		for name, e := range registry.funcs {
			lines = append(lines, name+"\x00"+e.signature())
		}
		slices.Sort(lines)
		h := sha256.New()
		for _, l := range lines {
			fmt.Fprintf(h, "%s\n", l)
		}
		registry.hash = hex.EncodeToString(h.Sum(nil)[:16])
	}
	return registry.hash
}

// Invoke runs the function registered under name with an encoded argument
// and returns its encoded result: what a worker process does with a task it
// received. It returns an error wrapping [ErrNotRegistered] for an unknown
// name, one wrapping [ErrPayload] when the argument does not decode or the
// result does not encode, the function's own error, or a [*PanicError] when
// it panicked. It blocks while the function runs.
func Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	registry.Lock()
	e, ok := registry.funcs[name]
	registry.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotRegistered, name)
	}
	return e.invoke(ctx, payload)
}

// InvokeBatch runs the function registered under name once per item of a
// batch, in order, in this goroutine: what a worker process does with a
// chunk of a Map, at the cost of one codec pass each way instead of one per
// item. payload is made by the function's [Func.EncodeBatch]; results, one
// per item, are read back with its [Func.DecodeBatch], and hold the zero
// result for an item that failed. errs is nil when every item succeeded;
// otherwise it has one error per item, nil for those that succeeded: the
// function's error, a [*PanicError] when it panicked, or ctx.Err() for the
// items not run because ctx ended first. err is for the batch as a whole:
// it wraps [ErrNotRegistered] for an unknown name and [ErrPayload] when the
// payload does not decode (errs and results are then nil). It blocks while
// the items run and is safe for concurrent use.
func InvokeBatch(ctx context.Context, name string, payload []byte) (results []byte, errs []error, err error) {
	registry.Lock()
	e, ok := registry.funcs[name]
	registry.Unlock()
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrNotRegistered, name)
	}
	return e.invokeBatch(ctx, payload)
}

// An Invoker carries a call of a registered function (its name and encoded
// argument) to wherever it runs and returns the encoded result, or the
// error the function returned there. Process-crossing executors provide one
// to [Portable.RunVia].
type Invoker func(ctx context.Context, name string, payload []byte) ([]byte, error)

// Portable is implemented by the tasks a [Func] makes. A process-crossing
// executor accepts only these (others get [ErrNotPortable]) and runs them
// with RunVia instead of Run.
type Portable interface {
	Task
	// RunVia runs the task through invoke: it encodes the argument, calls
	// invoke, decodes the result and delivers the outcome (to the task's
	// Future, if any) exactly as Run would. It returns the task's error and
	// blocks until invoke returns.
	RunVia(ctx context.Context, invoke Invoker) error
}

// Name returns the name f was registered under ("" for a nil Func).
func (f *Func[In, Out]) Name() string {
	if f == nil {
		return ""
	}
	return f.name
}

// Codec returns the codec f encodes its argument and result with (nil for
// a nil Func).
func (f *Func[In, Out]) Codec() Codec {
	if f == nil {
		return nil
	}
	return f.codec
}

func (f *Func[In, Out]) signature() string {
	codec := reflect.TypeOf(f.codec).String()
	switch f.codec.(type) {
	case GobCodec, *GobCodec:
		// The wire form of plain types changed from gob to compact:
		// a binary from before differs.
		codec += "+compact"
	}
	sig := reflect.TypeFor[In]().String() + "\x00" + reflect.TypeFor[Out]().String() + "\x00" + codec
	for _, e := range f.errs[len(builtinSentinels):] {
		sig += "\x00" + e.Error()
	}
	return sig
}

func (f *Func[In, Out]) sentinels() []error { return f.errs }

// Call runs f in this goroutine, recovering a panic into a [*PanicError].
// On a nil Func it returns [ErrNotRegistered].
func (f *Func[In, Out]) Call(ctx context.Context, in In) (out Out, err error) {
	if f == nil {
		return out, ErrNotRegistered
	}
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(r)
		}
	}()
	return f.fn(ctx, in)
}

// Task returns a [Portable] task that calls f with in and discards the
// result: its error goes to the executor's error handler. Use Go to keep
// the result.
func (f *Func[In, Out]) Task(in In) Task { return &funcTask[In, Out]{f: f, in: in} }

// Go submits a call of f with in to ex and returns its Future, like [Go]
// but portable: it runs on every executor, including those that cross a
// process boundary. The Future carries [ErrNilExecutor] for a nil ex and
// [ErrNotRegistered] for a nil f. It never panics.
func (f *Func[In, Out]) Go(ctx context.Context, ex Executor, in In) *Future[Out] {
	fut, t := f.prepare(in)
	if f == nil {
		fut.fail(ErrNotRegistered)
		return fut
	}
	fut.submit(ctx, ex, t)
	return fut
}

// prepare makes the Future of a call of f with in and the task that
// completes it.
func (f *Func[In, Out]) prepare(in In) (*Future[Out], Task) {
	fut := &Future[Out]{done: make(chan struct{})}
	return fut, &funcFutureTask[In, Out]{funcTask: funcTask[In, Out]{f: f, in: in}, fut: fut}
}

// Map calls f on every item through ex, like [Map] but portable, with the
// same cancellation promise and errors ([ErrNotRegistered] for a nil f).
// Executors that batch calls (subprocess.Pool's Map) are faster for many
// small items. It never panics.
func (f *Func[In, Out]) Map(ctx context.Context, ex Executor, items []In) ([]Out, error) {
	if f == nil {
		return nil, ErrNotRegistered
	}
	return mapFutures(ctx, ex, len(items), func(i int) (*Future[Out], Task) {
		return f.prepare(items[i])
	})
}

func (f *Func[In, Out]) invoke(ctx context.Context, payload []byte) (res []byte, err error) {
	in, err := decode[In](f.codec, payload)
	if err != nil {
		return nil, fmt.Errorf("%w: argument of %q: %w", ErrPayload, f.name, err)
	}
	out, err := f.Call(ctx, in)
	if err != nil {
		return nil, err
	}
	if res, err = encode(f.codec, out); err != nil {
		return nil, fmt.Errorf("%w: result of %q: %w", ErrPayload, f.name, err)
	}
	return res, nil
}

// EncodeBatch encodes items as one payload for [InvokeBatch]. The default
// [GobCodec] encodes the whole slice as one gob value (a slice of a plain
// integer type, []int and kin, as varints: the same values, faster);
// other codecs (and
// zero-size types, which carry nothing) encode item by item inside a
// length-prefixed list, so a codec need not know []In. It returns an error
// wrapping [ErrPayload], naming the first item that does not encode (by
// its index, in a batch of more than one). It is safe for concurrent use.
func (f *Func[In, Out]) EncodeBatch(items []In) ([]byte, error) {
	b, err := encodeBatch(f.codec, items, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: arguments of %q: %w", ErrPayload, f.name, err)
	}
	return b, nil
}

// DecodeBatch decodes the results [InvokeBatch] returned for a batch of f:
// one per item, the zero result for an item that failed. It returns an
// error wrapping [ErrPayload] when data does not decode. It is safe for
// concurrent use.
func (f *Func[In, Out]) DecodeBatch(data []byte) ([]Out, error) {
	outs, err := decodeBatch[Out](f.codec, data)
	if err != nil {
		return nil, fmt.Errorf("%w: results of %q: %w", ErrPayload, f.name, err)
	}
	return outs, nil
}

func (f *Func[In, Out]) invokeBatch(ctx context.Context, payload []byte) ([]byte, []error, error) {
	ins, err := decodeBatch[In](f.codec, payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: arguments of %q: %w", ErrPayload, f.name, err)
	}
	outs := make([]Out, len(ins))
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(ins))
		}
		errs[i] = err
	}
	for i, in := range ins {
		if err := ctx.Err(); err != nil {
			fail(i, err)
			continue
		}
		if outs[i], err = f.Call(ctx, in); err != nil {
			fail(i, err)
		}
	}
	// A result that does not encode fails its item alone; the others
	// still get theirs.
	res, err := encodeBatch(f.codec, outs, func(i int, err error) {
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

// encodeBatch encodes vs. When skip is not nil, an item that does not
// encode is reported to skip and sent as the zero value, instead of
// failing the batch.
func encodeBatch[T any](c Codec, vs []T, skip func(i int, err error)) ([]byte, error) {
	if reflect.TypeFor[T]().Size() != 0 {
		switch c.(type) {
		case GobCodec, *GobCodec:
			// Plain integers need none of gob's machinery: the values
			// gob would carry, at a fraction of the cost. (Unnamed
			// types only, which have no GobEncode method to honour.)
			if b, ok := encodeInts(vs); ok {
				return b, nil
			}
			var buf bytes.Buffer
			buf.WriteByte(batchWhole)
			if encodeWhole(&buf, vs) == nil {
				return buf.Bytes(), nil
			}
			// Some item does not encode (a nil pointer, say): item by
			// item, to find it.
		}
	}
	b := append(make([]byte, 0, 1+binary.MaxVarintLen64+len(vs)), batchPerItem)
	b = binary.AppendUvarint(b, uint64(len(vs)))
	for i, v := range vs {
		e, err := encode(c, v)
		if err != nil {
			if skip == nil && len(vs) == 1 {
				return nil, err
			}
			if skip == nil {
				return nil, fmt.Errorf("item %d: %v", i, err)
			}
			skip(i, err)
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(e))+1)
		b = append(b, e...)
	}
	return b, nil
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
	err = gob.NewDecoder(bytes.NewReader(data)).Decode(&vs)
	return vs, err
}

func decodeBatch[T any](c Codec, data []byte) ([]T, error) {
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
		var vs []T
		if !decodeInts(&vs, data[1:]) {
			return nil, errors.New("bad integer batch")
		}
		return vs, nil
	case batchPerItem:
	default:
		return nil, fmt.Errorf("unknown batch layout %d", data[0])
	}
	p := data[1:]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	n, ok := next()
	if !ok || n > uint64(len(p)) { // every item takes at least a byte
		return nil, errors.New("bad batch count")
	}
	vs := make([]T, n)
	for i := range vs {
		l, ok := next()
		if !ok || l > uint64(len(p))+1 {
			return nil, fmt.Errorf("item %d: bad length", i)
		}
		if l == 0 {
			continue // the zero value
		}
		var err error
		if vs[i], err = decode[T](c, p[:l-1]); err != nil {
			return nil, fmt.Errorf("item %d: %v", i, err)
		}
		p = p[l-1:]
	}
	if len(p) != 0 {
		return nil, errors.New("trailing bytes after the batch")
	}
	return vs, nil
}

// encodeInts encodes vs in the batchInts layout if T is a plain integer
// type.
func encodeInts[T any](vs []T) ([]byte, bool) {
	switch s := any(vs).(type) {
	case []int:
		return appendInts(s), true
	case []int64:
		return appendInts(s), true
	case []int32:
		return appendInts(s), true
	case []int16:
		return appendInts(s), true
	case []int8:
		return appendInts(s), true
	case []uint:
		return appendInts(s), true
	case []uint64:
		return appendInts(s), true
	case []uint32:
		return appendInts(s), true
	case []uint16:
		return appendInts(s), true
	}
	return nil, false
}

// decodeInts decodes data, in the batchInts layout, into *vs; false means
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

func appendInts[E integer](s []E) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+3*len(s))
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
	s := make([]E, n)
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

// encode and decode skip the codec for zero-size types (struct{}), which
// carry no information and which gob refuses.
//
// A codec that panics (gob does, on a nil pointer) fails with the panic's
// value as the error, instead of taking down the worker process.
func encode[T any](c Codec, v T) (b []byte, err error) {
	if reflect.TypeFor[T]().Size() == 0 {
		return nil, nil
	}
	defer recoverCodec(&err)
	return c.Marshal(v)
}

func decode[T any](c Codec, data []byte) (v T, err error) {
	if reflect.TypeFor[T]().Size() == 0 {
		return v, nil
	}
	defer recoverCodec(&err)
	err = c.Unmarshal(data, &v)
	return v, err
}

// recoverCodec turns a codec's panic into *err.
func recoverCodec(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("codec panicked: %v", r)
	}
}

// isGob reports whether c is the default codec.
func isGob(c Codec) bool {
	switch c.(type) {
	case GobCodec, *GobCodec:
		return true
	}
	return false
}

// funcTask is the Portable task of Func.Task.
type funcTask[In, Out any] struct {
	f  *Func[In, Out]
	in In
}

func (t *funcTask[In, Out]) Run(ctx context.Context) error {
	_, err := t.f.Call(ctx, t.in)
	return err
}

func (t *funcTask[In, Out]) RunVia(ctx context.Context, invoke Invoker) error {
	if ctx.Err() != nil { // cancelled before it started: never start
		return context.Cause(ctx)
	}
	_, err := t.via(ctx, invoke)
	return err
}

func (t *funcTask[In, Out]) via(ctx context.Context, invoke Invoker) (Out, error) {
	var zero Out
	if t.f == nil {
		return zero, ErrNotRegistered
	}
	payload, err := encode(t.f.codec, t.in)
	if err != nil {
		return zero, fmt.Errorf("%w: argument of %q: %w", ErrPayload, t.f.name, err)
	}
	res, err := invoke(ctx, t.f.name, payload)
	if err != nil {
		return zero, err
	}
	out, err := decode[Out](t.f.codec, res)
	if err != nil {
		return zero, fmt.Errorf("%w: result of %q: %w", ErrPayload, t.f.name, err)
	}
	return out, nil
}

// funcFutureTask is the Portable task of Func.Go: it completes a Future.
type funcFutureTask[In, Out any] struct {
	funcTask[In, Out]
	fut *Future[Out]
}

// ReportsOutcome marks the task as SelfReporting: the Future gets its outcome.
func (t *funcFutureTask[In, Out]) ReportsOutcome() {}

func (t *funcFutureTask[In, Out]) Run(ctx context.Context) error {
	return t.RunVia(ctx, nil)
}

// RunVia runs the call through invoke, or in this goroutine when invoke is
// nil, unless the Future was cancelled first.
func (t *funcFutureTask[In, Out]) RunVia(ctx context.Context, invoke Invoker) error {
	if invoke == nil {
		return t.fut.run(ctx, t.call)
	}
	return t.fut.run(ctx, func(ctx context.Context) (Out, error) { return t.via(ctx, invoke) })
}

func (t *funcFutureTask[In, Out]) call(ctx context.Context) (Out, error) { return t.f.fn(ctx, t.in) }
