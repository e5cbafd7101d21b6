package execkit

import (
	"encoding"
	"encoding/gob"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// What GobCodec refuses to carry: encoding/gob skips some parts of a value
// without an error (a struct field that is a chan or a func, an unexported
// field, and the same inside a value held by an interface), so the other
// side would get a different value and no error. The type tells most of
// it, once; values of types holding interfaces are checked as they encode.

// A verdict is what a type tells about carrying its values with gob.
type verdict struct {
	problem   string // why gob cannot carry the type faithfully; "" when it can
	dynamic   bool   // the type holds interfaces: their values must be checked too
	recursive bool   // the type holds itself (through a pointer, slice or map): its values may loop or nest without bound
}

// maxNesting bounds the pointers, slices, maps and interfaces that gob
// goes through, one inside the other, to encode a value: gob recurses once
// per level (about 800 bytes of stack for a linked list's node), and a
// goroutine's stack overflowing is a fatal error, not a panic, that ends
// the process. encoding/json's decoder has the same bound.
const maxNesting = 10000

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
	w := typeWalk{seen: map[reflect.Type]bool{}, onPath: map[reflect.Type]bool{}}
	v.problem = w.walk(t, t.String())
	v.dynamic, v.recursive = w.dynamic, w.recursive
	verdicts.Store(t, v)
	return v
}

// A typeWalk goes through the types a type reaches.
type typeWalk struct {
	seen      map[reflect.Type]bool // walked, or being walked
	onPath    map[reflect.Type]bool // being walked: met again, the type holds itself
	dynamic   bool                  // an interface was met
	recursive bool                  // a type was met inside itself
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

// walk returns why gob cannot carry t (at path) faithfully, or "", and
// records whether t holds an interface, or itself.
func (w *typeWalk) walk(t reflect.Type, path string) string {
	if w.onPath[t] {
		w.recursive = true
	}
	if w.seen[t] || encodesItself(t) {
		return ""
	}
	w.seen[t], w.onPath[t] = true, true
	defer delete(w.onPath, t)
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return fmt.Sprintf("%s is a %s, which gob cannot carry (in a struct field it would arrive as nil, silently)", path, t)
	case reflect.Interface:
		w.dynamic = true
	case reflect.Pointer:
		return w.walk(t.Elem(), path)
	case reflect.Slice, reflect.Array:
		return w.walk(t.Elem(), path+"[i]")
	case reflect.Map:
		if p := w.walk(t.Key(), path+"[key]"); p != "" {
			return p
		}
		return w.walk(t.Elem(), path+"[key]")
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Name == "_" || f.Type.Size() == 0 {
				continue // carries nothing
			}
			if !f.IsExported() {
				return fmt.Sprintf("%s.%s is unexported, and gob would drop it silently", path, f.Name)
			}
			if p := w.walk(f.Type, path+"."+f.Name); p != "" {
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
// type that cannot travel (see typeWalk.walk), an interface inside v
// holding one, or a value that points back into itself or nests deeper
// than maxNesting (gob would recurse until the stack overflows).
func gobCarries(v reflect.Value) error {
	if !v.IsValid() {
		return nil
	}
	vd := verdictOf(v.Type())
	if vd.problem != "" {
		return errCannotCarry(v.Type(), vd.problem)
	}
	if !vd.dynamic && !vd.recursive {
		return nil
	}
	w := valueWalk{root: v.Type(), onPath: map[valueKey]bool{}, done: map[valueKey]int{}}
	return w.walk(v)
}

// A valueKey names what a pointer, a slice or a map refers to.
type valueKey struct {
	p   uintptr
	len int
	t   reflect.Type
}

// A valueWalk goes through a value whose type holds interfaces or itself.
type valueWalk struct {
	root   reflect.Type
	path   []string          // where the walk is, from root
	depth  int               // pointers, slices, maps and interfaces entered
	onPath map[valueKey]bool // being walked: met again, the value loops
	done   map[valueKey]int  // walked, at this depth: met again no deeper, nothing new
}

// where returns the path to the value being walked, its middle elided
// when it is long.
func (w *valueWalk) where() string {
	p := w.path
	if len(p) > 20 {
		return w.root.String() + strings.Join(p[:10], "") + fmt.Sprintf("...(%d more)...", len(p)-20) + strings.Join(p[len(p)-10:], "")
	}
	return w.root.String() + strings.Join(p, "")
}

// enter records that the walk goes through the pointer, slice or map k
// (nil for an interface); ok is false when there is nothing new below it.
func (w *valueWalk) enter(k *valueKey) (ok bool, err error) {
	if k != nil {
		if w.onPath[*k] {
			return false, errCannotCarry(w.root, fmt.Sprintf("%s points back to a value that holds it: gob would recurse until the stack overflows", w.where()))
		}
		if d, seen := w.done[*k]; seen && w.depth <= d {
			return false, nil // shared, and walked from as deep already
		}
	}
	if w.depth++; w.depth > maxNesting {
		return false, errCannotCarry(w.root, fmt.Sprintf("%s nests more than %d pointers, slices, maps or interfaces deep: gob would recurse until the stack overflows", w.where(), maxNesting))
	}
	if k != nil {
		w.onPath[*k] = true
	}
	return true, nil
}

// leave undoes enter.
func (w *valueWalk) leave(k *valueKey) {
	w.depth--
	if k != nil {
		delete(w.onPath, *k)
		w.done[*k] = w.depth
	}
}

// interesting reports whether values of t need walking.
func interesting(t reflect.Type) bool {
	vd := verdictOf(t)
	return vd.dynamic || vd.recursive
}

// walk checks the values held by interfaces inside v, and that v neither
// loops nor nests too deep; v's type holds interfaces or itself.
func (w *valueWalk) walk(v reflect.Value) error {
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
			return errCannotCarry(e.Type(), fmt.Sprintf("held by %s: %s", w.where(), vd.problem))
		}
		if !vd.dynamic && !vd.recursive {
			return nil
		}
		return w.descend(nil, ".("+e.Type().String()+")", e, false)
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return w.descend(&valueKey{v.Pointer(), 0, t}, "", v.Elem(), false)
	case reflect.Slice:
		if v.Len() == 0 || !interesting(t.Elem()) {
			return nil
		}
		return w.descend(&valueKey{v.Pointer(), v.Len(), t}, "", v, true)
	case reflect.Array:
		if interesting(t.Elem()) {
			return w.elems(v)
		}
	case reflect.Map:
		if v.Len() == 0 || !interesting(t.Key()) && !interesting(t.Elem()) {
			return nil
		}
		return w.descend(&valueKey{v.Pointer(), 0, t}, "", v, true)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || !interesting(f.Type) {
				continue
			}
			w.path = append(w.path, "."+f.Name)
			err := w.walk(v.Field(i))
			w.path = w.path[:len(w.path)-1]
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// descend walks, one level deeper, at path + seg, what a pointer or an
// interface holds (v, its element) or, with inside, the elements of the
// slice or map v.
func (w *valueWalk) descend(k *valueKey, seg string, v reflect.Value, inside bool) error {
	ok, err := w.enter(k)
	if !ok {
		return err
	}
	defer w.leave(k)
	if seg != "" {
		w.path = append(w.path, seg)
		defer func() { w.path = w.path[:len(w.path)-1] }()
	}
	switch {
	case !inside:
		return w.walk(v)
	case v.Kind() == reflect.Slice:
		return w.elems(v)
	default: // a map
		for it := v.MapRange(); it.Next(); {
			w.path = append(w.path, "[key]")
			err := w.walk(it.Key())
			if err == nil {
				err = w.walk(it.Value())
			}
			w.path = w.path[:len(w.path)-1]
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// elems walks the elements of the slice or array v.
func (w *valueWalk) elems(v reflect.Value) error {
	for i := range v.Len() {
		w.path = append(w.path, "["+strconv.Itoa(i)+"]")
		err := w.walk(v.Index(i))
		w.path = w.path[:len(w.path)-1]
		if err != nil {
			return err
		}
	}
	return nil
}
