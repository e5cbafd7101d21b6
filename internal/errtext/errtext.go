// Package errtext reads a task's error (to classify it, to show it, to
// send it to another process) without the panic of a method that does not
// expect its receiver: a typed nil pointer returned as an error (not ==
// nil) panics in Error and Unwrap when they dereference it, and that panic
// must not reach an executor's goroutine. Package execkit encodes errors
// with it, the executors classify them, riverexec records their text,
// fireforget shows it.
package errtext

import (
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"
)

// Of returns err.Error(), or, when that panics, what fmt prints for err:
// "<nil>" for a nil pointer, else "%!v(PANIC=Error method: <value>)".
func Of(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			if v := reflect.ValueOf(err); v.Kind() == reflect.Pointer && v.IsNil() {
				s = "<nil>"
				return
			}
			s = fmt.Sprintf("%%!v(PANIC=Error method: %v)", r)
		}
	}()
	return err.Error()
}

// Matches returns the indexes of the targets that err matches with
// errors.Is, in order, as far as err's Unwrap and Is methods let it look:
// where one panics, the matching stops, with what it found before.
func Matches(err error, targets []error, is func(err, target error) bool) (matched []uint64) {
	defer func() { _ = recover() }()
	for i, t := range targets {
		if is(err, t) {
			matched = append(matched, uint64(i))
		}
	}
	return matched
}

// errProbe is matched by no error: errors.Is(err, errProbe) walks all of
// err's tree.
var errProbe = errors.New("errtext: probe")

// Sound reports whether err's Error, Unwrap and Is methods return without
// a panic, so that errors.Is, errors.As and Error may be called on it.
func Sound(err error) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = err.Error()
	return !errors.Is(err, errProbe)
}

// MaxText is the most bytes of an error's (or a panic's) text, or of a
// stack, that cross a process boundary: Cap keeps its first and last
// halves. A text that long would fill a frame of subprocess's protocol
// (64 MiB) or River's recorded output (32 MB), and the call would fail
// for its size, the error's identity lost.
const MaxText = 1 << 20

// Cap returns s, or its first and last bytes around a line saying how many
// were cut, MaxText bytes at most in all. It cuts between runes, and a text
// it returns comes back unchanged: a text capped where it was made (in a
// worker) is not cut again where it arrives (a job row).
func Cap(s string) string {
	if len(s) <= MaxText {
		return s
	}
	const keep = (MaxText - 64) / 2 // each side; the line takes less than 64 bytes
	head, tail := keep, len(s)-keep
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + fmt.Sprintf("\n[... %d bytes cut ...]\n", tail-head) + s[tail:]
}

// Is is errors.Is, false where a method of err panics on the way (a typed
// nil's Unwrap): an executor's look at a task's error must not panic in
// the executor's goroutine.
func Is(err, target error) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return errors.Is(err, target)
}

// As is errors.As, false where a method of err panics on the way.
func As(err error, target any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return errors.As(err, target)
}
