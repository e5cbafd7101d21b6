package subprocess_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

var (
	errNotFound   = errors.New("not found")
	errUndeclared = errors.New("undeclared")

	// lookup fails with a declared sentinel, an undeclared one, or an
	// error of its own type, by key.
	lookup = execkit.Register("test.lookup", func(_ context.Context, key string) (int, error) {
		switch key {
		case "missing":
			return 0, fmt.Errorf("lookup %q: %w", key, errNotFound)
		case "undeclared":
			return 0, fmt.Errorf("lookup %q: %w", key, errUndeclared)
		case "path":
			return 0, &fs.PathError{Op: "open", Path: key, Err: fs.ErrNotExist}
		}
		return len(key), nil
	}, execkit.Errors(errNotFound))
)

// The sentinels declared with Errors keep their identity across the
// process boundary, on every path a call takes (a task, Apply, a chunk of
// Map or MapUnordered); other errors arrive as an *execkit.RemoteError with
// their text and type name (Map and MapUnordered say which item failed
// first).
func TestErrorIdentity(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	paths := map[string]func(key string) error{
		"Func.Go": func(key string) error { _, err := lookup.Go(ctx, p, key).Wait(ctx); return err },
		"Apply":   func(key string) error { _, err := subprocess.Apply(ctx, p, lookup, key); return err },
		"Map": func(key string) error {
			_, err := subprocess.Map(ctx, p, lookup, []string{"a", key, "b"})
			return err
		},
		"Func.Map": func(key string) error { _, err := lookup.Map(ctx, p, []string{"a", key}); return err },
		"MapUnordered": func(key string) error {
			for _, err := range subprocess.MapUnordered(ctx, p, lookup, func(yield func(string) bool) { yield(key) }) {
				return err
			}
			return errors.New("MapUnordered yielded nothing")
		},
	}
	tests := []struct {
		key, typ, msg string
		is            error // want errors.Is(err, is)
		isNot         error // want !errors.Is(err, isNot)
	}{
		{"missing", "*fmt.wrapError", `lookup "missing": not found`, errNotFound, nil},
		{"undeclared", "*fmt.wrapError", `lookup "undeclared": undeclared`, nil, errUndeclared},
		{"path", "*fs.PathError", "open path: file does not exist", nil, fs.ErrNotExist},
	}
	for name, run := range paths {
		for _, tt := range tests {
			err := run(tt.key)
			var re *execkit.RemoteError
			if !errors.As(err, &re) || re.Type != tt.typ || re.Message != tt.msg || !strings.HasSuffix(err.Error(), tt.msg) {
				t.Errorf("%s(%q) = %#v; want a *RemoteError of type %s saying %q", name, tt.key, err, tt.typ, tt.msg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%s(%q): errors.Is(%v, %v) = false; want true (declared with Errors)", name, tt.key, err, tt.is)
			}
			if tt.isNot != nil && errors.Is(err, tt.isNot) {
				t.Errorf("%s(%q): errors.Is(%v, %v) = true; want false (not declared)", name, tt.key, err, tt.isNot)
			}
		}
	}
}

// nilErr's methods dereference their receiver: a nil *nilErr returned as
// an error (the typed nil that is not == nil) panics in Error and Unwrap.
type nilErr struct{ err error }

func (e *nilErr) Error() string { return e.err.Error() }
func (e *nilErr) Unwrap() error { return e.err }

// typedNil returns a typed nil error.
var typedNil = execkit.Register("test.typednil", func(_ context.Context, _ int) (int, error) {
	var e *nilErr
	return 0, e
})

// A function's error whose Error method panics (a typed nil) arrives as an
// *execkit.RemoteError saying "<nil>", as fmt prints it, on every path, and
// its worker goes on: encoding it panicked outside any recover, and the
// worker died, the call failing with a *WorkerError (a whole chunk of Map).
func TestTypedNilError(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	check := func(path string, err error) {
		t.Helper()
		var re *execkit.RemoteError
		if !errors.As(err, &re) || re.Type != "*subprocess_test.nilErr" || !strings.HasSuffix(err.Error(), "<nil>") {
			t.Errorf("%s: %v (%T); want a RemoteError of *subprocess_test.nilErr saying <nil>", path, err, err)
		}
	}
	pid, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = subprocess.Apply(ctx, p, typedNil, 1)
	check("Apply", err)
	_, err = typedNil.Go(ctx, p, 1).Wait(ctx)
	check("Func.Go", err)
	_, err = subprocess.Map(ctx, p, typedNil, []int{1, 2})
	check("Map", err)
	if after, err := subprocess.Apply(ctx, p, getpid, struct{}{}); err != nil || after != pid {
		t.Errorf("the worker after them: pid %d, %v; want the same worker, %d", after, err, pid)
	}
}

// hugeFailure fails with an error of n bytes of text matching errNotFound,
// or panics with a value of -n bytes.
var hugeFailure = execkit.Register("test.hugefailure", func(_ context.Context, n int) (int, error) {
	if n < 0 {
		panic(strings.Repeat("p", -n))
	}
	return 0, fmt.Errorf("%w: %s", errNotFound, strings.Repeat("e", n))
}, execkit.Errors(errNotFound))

// An error or a panic whose text does not fit in a frame arrives with its
// text cut in the middle, its identity whole: the call failed with
// ErrTooLarge about a "result", the function's error and its sentinels, or
// its panic, lost.
func TestHugeErrorText(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	const n = 65 << 20
	_, err := subprocess.Apply(ctx, p, hugeFailure, n)
	var re *execkit.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, errNotFound) || len(err.Error()) > 2<<20 || !strings.Contains(err.Error(), "bytes cut") || !strings.HasPrefix(err.Error(), "not found: eee") || !strings.HasSuffix(err.Error(), "eee") {
		t.Errorf("an error of 65 MiB: %.200s (%T, %d bytes); want a RemoteError matching errNotFound, its text cut to 1 MiB or so", err, err, len(err.Error()))
	}
	_, err = subprocess.Apply(ctx, p, hugeFailure, -n)
	var pe *execkit.PanicError
	if !errors.As(err, &pe) || len(err.Error()) > 2<<20 || !strings.Contains(err.Error(), "bytes cut") {
		t.Errorf("a panic of 65 MiB: %.200s (%T, %d bytes); want a PanicError, its text cut to 1 MiB or so", err, err, len(err.Error()))
	}
	if _, err = subprocess.Map(ctx, p, hugeFailure, []int{1, n}); !errors.Is(err, errNotFound) {
		t.Errorf("Map with an error of 65 MiB: %.200s; want it to match errNotFound", err)
	}
}
