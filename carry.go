package execkit

import (
	"encoding"
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
)

// What GobCodec refuses to carry: encoding/gob skips some parts of a value
// without an error (a struct field that is a chan or a func, an unexported
// field, and the same inside a value held by an interface), so the other
// side would get a different value and no error. The type tells most of
// it, once; values of types holding interfaces are checked as they encode.

// A verdict is what a type tells about carrying its values with gob.
type verdict struct {
	problem string // why gob cannot carry the type faithfully; "" when it can
	dynamic bool   // the type holds interfaces: their values must be checked too
}

var verdicts sync.Map // reflect.Type -> verdict

var (
	gobEncoderType    = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalType = reflect.TypeFor[encoding.BinaryMarshaler]()
	textMarshalType   = reflect.TypeFor[encoding.TextMarshaler]()
)

// verdictOf returns, and caches, what t tells.
func verdictOf(t reflect.Type) verdict {
	if v, ok := verdicts.Load(t); ok {
		return v.(verdict)
	}
	var v verdict
	v.problem = walkType(t, t.String(), map[reflect.Type]bool{}, &v.dynamic)
	verdicts.Store(t, v)
	return v
}

// encodesItself reports whether gob hands values of t to a method of the
// type (GobEncode, MarshalBinary, MarshalText), which then decides what
// travels.
func encodesItself(t reflect.Type) bool {
	for _, m := range []reflect.Type{gobEncoderType, binaryMarshalType, textMarshalType} {
		if t.Implements(m) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(m) {
			return true
		}
	}
	return false
}

// walkType returns why gob cannot carry t (at path) faithfully, or "", and
// sets *dynamic when t holds an interface.
func walkType(t reflect.Type, path string, seen map[reflect.Type]bool, dynamic *bool) string {
	if seen[t] || encodesItself(t) {
		return ""
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return fmt.Sprintf("%s is a %s, which gob cannot carry (in a struct field it would arrive as nil, silently)", path, t)
	case reflect.Interface:
		*dynamic = true
	case reflect.Pointer:
		return walkType(t.Elem(), path, seen, dynamic)
	case reflect.Slice, reflect.Array:
		return walkType(t.Elem(), path+"[i]", seen, dynamic)
	case reflect.Map:
		if p := walkType(t.Key(), path+"[key]", seen, dynamic); p != "" {
			return p
		}
		return walkType(t.Elem(), path+"[key]", seen, dynamic)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Name == "_" || f.Type.Size() == 0 {
				continue // carries nothing
			}
			if !f.IsExported() {
				return fmt.Sprintf("%s.%s is unexported, and gob would drop it silently", path, f.Name)
			}
			if p := walkType(f.Type, path+"."+f.Name, seen, dynamic); p != "" {
				return p
			}
		}
	}
	return ""
}

// errCannotCarry is the error of a value GobCodec refuses.
func errCannotCarry(t reflect.Type, problem string) error {
	return fmt.Errorf("execkit: GobCodec cannot carry %s: %s", t, problem)
}

// gobCarries returns an error when gob would not carry v faithfully: a
// type that cannot travel (see walkType), or an interface inside v holding
// one.
func gobCarries(v reflect.Value) error {
	if !v.IsValid() {
		return nil
	}
	vd := verdictOf(v.Type())
	if vd.problem != "" {
		return errCannotCarry(v.Type(), vd.problem)
	}
	if !vd.dynamic {
		return nil
	}
	return walkValue(v, v.Type().String(), map[any]bool{})
}

// walkValue checks the values held by interfaces inside v, whose type
// holds interfaces.
func walkValue(v reflect.Value, path string, seen map[any]bool) error {
	t := v.Type()
	if encodesItself(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		e := v.Elem()
		vd := verdictOf(e.Type())
		if vd.problem != "" {
			return errCannotCarry(e.Type(), fmt.Sprintf("held by %s: %s", path, vd.problem))
		}
		if vd.dynamic {
			return walkValue(e, path+".("+e.Type().String()+")", seen)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		key := struct {
			p uintptr
			t reflect.Type
		}{v.Pointer(), t}
		if seen[key] {
			return nil
		}
		seen[key] = true
		return walkValue(v.Elem(), path, seen)
	case reflect.Slice, reflect.Array:
		if !verdictOf(t.Elem()).dynamic {
			return nil
		}
		for i := range v.Len() {
			if err := walkValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i), seen); err != nil {
				return err
			}
		}
	case reflect.Map:
		if !verdictOf(t.Key()).dynamic && !verdictOf(t.Elem()).dynamic {
			return nil
		}
		for it := v.MapRange(); it.Next(); {
			if err := walkValue(it.Key(), path+"[key]", seen); err != nil {
				return err
			}
			if err := walkValue(it.Value(), path+"[key]", seen); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || !verdictOf(f.Type).dynamic {
				continue
			}
			if err := walkValue(v.Field(i), path+"."+f.Name, seen); err != nil {
				return err
			}
		}
	}
	return nil
}
