package execkit

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
)

// A Codec encodes the arguments and results of a registered [Func] when
// they cross a process boundary. It must be safe for concurrent use.
//
// A Codec may also have the method
//
//	AppendMarshal(b []byte, p any) ([]byte, error)
//
// which appends to b what Marshal would return for the value p points to
// (a pointer, as Unmarshal gets) and returns the extended slice (as
// [encoding.BinaryAppender] does for a value); on an error, what it
// returns is ignored. p points to a copy, valid during the call only:
// writing through it changes nothing the caller sees. Where one payload
// carries many values (a chunk of subprocess.Map), each is then encoded
// into the payload being built, with no slice of its own, and, through
// the pointer, without boxing the value into an interface (an allocation
// for most types).
//
// Unmarshal is called with a pointer to a zero value and the bytes of one
// value.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// appendMarshaler is a [Codec]'s optional AppendMarshal method.
type appendMarshaler interface {
	AppendMarshal(b []byte, p any) ([]byte, error)
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
// goes as varints); both sides of a registered [Func] have the same
// types, so they agree on the form (the registry hash that workers check
// covers the types). A value of an interface type (a Func's argument or
// result of type any, error, ...) goes as gob's form of an interface,
// which carries the dynamic type's name (gob.Register it, unless gob knows
// it) and decodes into the interface: pass Marshal a pointer to the
// interface, as Unmarshal gets (a Func's calls do). Given the interface's
// value alone, Marshal chooses by its dynamic type, which Unmarshal into a
// pointer to an interface does not read.
// Unmarshal of a compact form that is malformed (truncated, trailing bytes,
// out of range for the type) returns an error, and so does Unmarshal of a
// gob form followed by more bytes; neither method panics, on a nil pointer
// either.
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
// same error, by the path to it. Marshal also refuses a value that gob
// would recurse into until the goroutine's stack overflows (a fatal error
// that ends the process, which no recover catches): one that points back
// into itself (a cycle, through pointers, slices, maps or interfaces), or
// that nests more than 10000 of them one inside the other (a linked list
// of more than 10000 nodes). [Func]'s calls wrap these errors with
// [ErrPayload].
//
// # What gob changes on the way
//
// Gob carries values, not identities, and these arrive different from what
// was sent, without an error:
//   - an empty slice arrives as nil (at any depth, []byte too);
//   - a nil map arrives as an empty map, except as a struct field (where a
//     nil map and an empty one each arrive as sent);
//   - a pointer field to a zero number, string or bool, or to a nil or
//     empty slice or a nil map (a *int to 0), arrives as nil; a pointer to
//     a zero struct arrives as a pointer to a zero struct;
//   - a time.Time (carried by its MarshalBinary method) keeps its instant
//     and its offset from UTC, not its Location: one other than UTC, or
//     than Local where Local has that offset, arrives as a zone without a
//     name (time.FixedZone("", offset)); its monotonic clock reading is
//     dropped. Compare times with Equal, not ==;
//   - pointers are followed: two pointers to one value arrive as two
//     values (a cyclic value is refused, see above);
//   - a nil pointer as the value, or inside a slice, array or map, does not
//     encode (an error wrapping [ErrPayload]).
type GobCodec struct{}

// Marshal encodes v in its compact form, or with a fresh gob encoder.
// It returns an error, and never panics, for what gob cannot encode (nil,
// a nil pointer) and for what GobCodec refuses.
func (GobCodec) Marshal(v any) (b []byte, err error) {
	if b, ok := appendScalar(nil, v); ok {
		return b, nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		return nil, errors.New("execkit: GobCodec cannot carry nil: gob encodes no nil value")
	case rv.Kind() == reflect.Pointer && rv.IsNil():
		return nil, fmt.Errorf("execkit: GobCodec cannot carry a nil %s: gob encodes no nil value", rv.Type())
	}
	if err := gobCarries(rv); err != nil {
		return nil, err
	}
	defer recoverGob(&err)
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}

// Unmarshal decodes data, made by Marshal, into the pointer v. It returns
// an error, and never panics, when v is not a non-nil pointer, and when
// data is not one value of v's type, whole: malformed, truncated, or
// followed by more bytes.
func (GobCodec) Unmarshal(data []byte, v any) (err error) {
	switch rv := reflect.ValueOf(v); {
	case !rv.IsValid():
		return errors.New("execkit: GobCodec: Unmarshal into nil; want a non-nil pointer")
	case rv.Kind() != reflect.Pointer:
		return fmt.Errorf("execkit: GobCodec: Unmarshal into a %s; want a non-nil pointer", rv.Type())
	case rv.IsNil():
		return fmt.Errorf("execkit: GobCodec: Unmarshal into a nil %s; want a non-nil pointer", rv.Type())
	}
	if ok, err := readScalar(data, v); ok {
		return err
	}
	elem := reflect.TypeOf(v).Elem()
	if p := verdictOf(elem).problem; p != "" {
		return errCannotCarry(elem, p)
	}
	defer recoverGob(&err)
	r := bytes.NewReader(data)
	if err := gob.NewDecoder(r).Decode(v); err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("execkit: GobCodec: %d bytes after the %s value (of %d)", r.Len(), elem, len(data))
	}
	return nil
}

// recoverGob turns a panic of gob (or of a type's GobEncode, MarshalBinary
// or MarshalText method) into *err.
func recoverGob(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("execkit: GobCodec: gob panicked: %v", r)
	}
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
	return marshal(c, &v, viaPointer[T](c))
}

// viaPointer reports whether values of T go to c.Marshal as a pointer:
// for GobCodec when T is an interface, whose value alone would go in the
// form of its dynamic type, which Unmarshal into a *T does not read.
func viaPointer[T any](c Codec) bool {
	return reflect.TypeFor[T]().Kind() == reflect.Interface && isGob(c)
}

// marshal encodes *p with c, passing p itself when ptr says so.
func marshal[T any](c Codec, p *T, ptr bool) ([]byte, error) {
	if ptr {
		return c.Marshal(p)
	}
	return c.Marshal(*p)
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
