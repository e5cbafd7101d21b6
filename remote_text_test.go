package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

// nilErr's methods dereference their receiver: a nil *nilErr returned as
// an error (the typed nil that is not == nil) panics in Error and Unwrap.
type nilErr struct{ err error }

func (e *nilErr) Error() string { return e.err.Error() }
func (e *nilErr) Unwrap() error { return e.err }

// panicErr's Error panics.
type panicErr struct{}

func (panicErr) Error() string { panic("test: Error panicked") }

var errOf = execkit.Register("test.errof", func(_ context.Context, kind string) (int, error) {
	switch kind {
	case "typed nil":
		var e *nilErr
		return 0, e
	case "panicking":
		return 0, panicErr{}
	}
	return 0, &nilErr{execkit.ErrPermanent}
}, execkit.Errors(errSentinel))

var errSentinel = errors.New("test: sentinel")

// An error whose Error (or Unwrap) method panics, a typed nil above all,
// crosses a process boundary as an *RemoteError with the text fmt prints
// for it: encoding it called Error outside any recover, which killed the
// worker process that ran the function (a subprocess worker: its call
// failed with a *WorkerError; a riverexec job ended in River's recover).
func TestEncodeErrorPanickingMethods(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		kind, typ, msg string
		is             error
	}{
		{"typed nil", "*execkit_test.nilErr", "<nil>", nil},
		{"panicking", "execkit_test.panicErr", "%!v(PANIC=Error method: test: Error panicked)", nil},
		{"wrapping", "*execkit_test.nilErr", execkit.ErrPermanent.Error(), execkit.ErrPermanent},
	} {
		_, orig := errOf.Call(ctx, tt.kind)
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("EncodeError panicked: %v", r)
				}
			}()
			err = driver.DecodeError(errOf.Name(), driver.EncodeError(errOf.Name(), orig))
		}()
		var re *execkit.RemoteError
		if !errors.As(err, &re) || re.Type != tt.typ || re.Message != tt.msg || (tt.is != nil) != errors.Is(err, tt.is) {
			t.Errorf("%s: %#v; want a RemoteError of type %s, text %q, matching %v", tt.kind, err, tt.typ, tt.msg, tt.is)
		}
	}
}

// An error's text longer than 1 MiB crosses cut in the middle, with a line
// saying how much was cut, its identity whole: a frame or a job row would
// not hold it (the executors' own tests check what they did then).
func TestEncodeErrorLongText(t *testing.T) {
	long := fmt.Errorf("%w: %s", errSentinel, strings.Repeat("x", 3<<20))
	err := driver.DecodeError(errOf.Name(), driver.EncodeError(errOf.Name(), long))
	msg := err.Error()
	keep := (1<<20 - 64) / 2 // of each end, so that the text and the line hold in 1 MiB
	if !errors.Is(err, errSentinel) || len(msg) > 1<<20 || !strings.HasPrefix(msg, "test: sentinel: xxx") || !strings.HasSuffix(msg, "xxx") ||
		!strings.Contains(msg, fmt.Sprintf("[... %d bytes cut ...]", len(long.Error())-2*keep)) {
		t.Errorf("the error of 3 MiB of text arrived as %d bytes, %.100q...; want 1 MiB of it around a line saying how much was cut, matching its sentinel", len(msg), msg)
	}
}
