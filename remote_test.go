package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/execkit/execkit"
)

var (
	errFirst  = errors.New("first")
	errSecond = errors.New("second")
	errOther  = errors.New("other")

	// failWith returns the error its argument names, through the boundary
	// of local (encoded both ways, as a worker process would).
	failWith = execkit.Register("test.failWith", func(ctx context.Context, which string) (int, error) {
		switch which {
		case "first":
			return 0, fmt.Errorf("wrapped: %w", errFirst)
		case "both":
			return 0, errors.Join(errSecond, errFirst)
		case "other":
			return 0, errOther
		case "canceled":
			return 0, fmt.Errorf("stopped: %w", context.Canceled)
		}
		return 0, nil
	}, execkit.Errors(errFirst, errSecond))
)

// crossed is what a caller gets back from a process-crossing executor for
// the error of failWith(which): EncodeError in the worker, DecodeError in
// the caller.
func crossed(which string) error {
	_, err := execkit.Invoke(context.Background(), "test.failWith", []byte(which))
	return execkit.DecodeError("test.failWith", execkit.EncodeError("test.failWith", err))
}

func TestRemoteErrorIdentity(t *testing.T) {
	tests := []struct {
		which, typ, msg string
		sentinels       []error
	}{
		{"first", "*fmt.wrapError", "wrapped: first", []error{errFirst}},
		{"both", "*errors.joinError", "second\nfirst", []error{errFirst, errSecond}}, // declaration order
		{"other", "*errors.errorString", "other", nil},
		{"canceled", "*fmt.wrapError", "stopped: context canceled", []error{context.Canceled}},
	}
	for _, tt := range tests {
		err := crossed(tt.which)
		var re *execkit.RemoteError
		if !errors.As(err, &re) {
			t.Fatalf("%s: got %#v; want a *RemoteError", tt.which, err)
		}
		if re.Type != tt.typ || re.Message != tt.msg || err.Error() != tt.msg {
			t.Errorf("%s: got Type %q, Message %q, Error %q; want %q, %q", tt.which, re.Type, re.Message, err.Error(), tt.typ, tt.msg)
		}
		if fmt.Sprint(re.Sentinels) != fmt.Sprint(tt.sentinels) {
			t.Errorf("%s: Sentinels = %v; want %v", tt.which, re.Sentinels, tt.sentinels)
		}
		for _, s := range tt.sentinels {
			if !errors.Is(err, s) {
				t.Errorf("%s: errors.Is(err, %v) = false; want true", tt.which, s)
			}
		}
		if errors.Is(err, errOther) {
			t.Errorf("%s: errors.Is(err, errOther) = true; errOther was not declared", tt.which)
		}
	}
	// The executor's own errors keep their identity for any function,
	// registered here or not.
	_, err := execkit.Invoke(context.Background(), "test.nowhere", nil)
	for _, name := range []string{"test.nowhere", "test.failWith"} {
		if got := execkit.DecodeError(name, execkit.EncodeError(name, err)); !errors.Is(got, execkit.ErrNotRegistered) || got.Error() != err.Error() {
			t.Errorf("ErrNotRegistered crossed as %v; want it, with its text", got)
		}
	}
	// A relayed RemoteError keeps the original's type.
	if got := execkit.DecodeError("test.failWith", execkit.EncodeError("test.failWith", crossed("first"))); got.(*execkit.RemoteError).Type != "*fmt.wrapError" || !errors.Is(got, errFirst) {
		t.Errorf("relayed: got %#v; want the original's type and sentinel", got)
	}
	if execkit.EncodeError("test.failWith", nil) != nil {
		t.Error("EncodeError(nil) != nil")
	}
}

func TestDecodeErrorMalformed(t *testing.T) {
	good := execkit.EncodeError("test.failWith", fmt.Errorf("x: %w", errSecond))
	for n := range len(good) {
		if err := execkit.DecodeError("test.failWith", good[:n]); !errors.Is(err, execkit.ErrPayload) {
			t.Errorf("DecodeError of %d of %d bytes = %v; want ErrPayload", n, len(good), err)
		}
	}
	if err := execkit.DecodeError("test.failWith", append(good, 0)); !errors.Is(err, execkit.ErrPayload) {
		t.Errorf("DecodeError with a trailing byte = %v; want ErrPayload", err)
	}
	// An index past this process's declarations matches nothing here.
	if err := execkit.DecodeError("test.failWith", []byte{1, 0, 1, 'm', 1, 99}); err.Error() != "m" || len(err.(*execkit.RemoteError).Sentinels) != 0 {
		t.Errorf("DecodeError with an unknown index = %#v; want message m, no sentinel", err)
	}
}

func FuzzDecodeError(f *testing.F) {
	f.Add(execkit.EncodeError("test.failWith", fmt.Errorf("x: %w", errFirst)))
	f.Add(execkit.EncodeError("test.failWith", errors.Join(errFirst, errSecond, context.DeadlineExceeded)))
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		err := execkit.DecodeError("test.failWith", data)
		if err == nil {
			t.Fatal("DecodeError = nil")
		}
		var re *execkit.RemoteError
		if errors.As(err, &re) {
			// What decodes crosses again unchanged.
			got, ok := execkit.DecodeError("test.failWith", execkit.EncodeError("test.failWith", err)).(*execkit.RemoteError)
			if !ok || got.Type != re.Type || got.Message != re.Message {
				t.Fatalf("round trip of %#v = %#v", re, got)
			}
			for _, s := range re.Sentinels {
				if !errors.Is(got, s) {
					t.Errorf("round trip of %#v lost %v", re, s)
				}
			}
		}
	})
}

func TestRegisterNilSentinel(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `execkit: Register("test.nilsentinel") with Errors whose value 1 is nil`) {
			t.Errorf("recovered %v; want a panic naming the nil sentinel", r)
		}
	}()
	execkit.Register("test.nilsentinel", failWith.Call, execkit.Errors(errFirst, nil))
}
