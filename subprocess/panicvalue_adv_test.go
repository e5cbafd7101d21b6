package subprocess_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// isPanics is an error whose Is method panics, and unwrapPanics one whose
// Unwrap does: errors.Is through either panics.
type isPanics struct{}

func (isPanics) Error() string { return "is panics" }
func (isPanics) Is(error) bool { panic("Is panicked") }

type unwrapPanics struct{}

func (unwrapPanics) Error() string { return "unwrap panics" }
func (unwrapPanics) Unwrap() error { panic("Unwrap panicked") }

// panicUnsound panics with an error value whose methods panic.
var panicUnsound = execkit.Register("test.panicUnsound", func(_ context.Context, k int) (int, error) {
	switch k {
	case 0:
		panic(isPanics{})
	case 1:
		panic(unwrapPanics{})
	default:
		var e *nilErr
		panic(e)
	}
})

// A panic whose value is an error with a method that panics (errors.Is
// through it panics) arrives as an *execkit.PanicError with the worker's
// stack, as any panic does: it arrived as an *execkit.RemoteError saying
// "execkit: task panicked: ...", the PanicError and its stack lost, since
// the worker made the whole error readable by encoding it.
func TestPanicWithUnsoundValue(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	for k, want := range []string{"is panics", "unwrap panics", "<nil>"} {
		paths := map[string]func() error{
			"Apply": func() error { _, err := subprocess.Apply(ctx, p, panicUnsound, k); return err },
			"Map": func() error {
				_, err := subprocess.Map(ctx, p, panicUnsound, []int{k, k})
				return err
			},
		}
		for name, run := range paths {
			err := run()
			var pe *execkit.PanicError
			if !errors.As(err, &pe) || len(pe.Stack) == 0 || !strings.HasSuffix(err.Error(), "execkit: task panicked: "+want) {
				t.Errorf("%s, panic %d: %v (%T); want a *execkit.PanicError with a stack, saying %q", name, k, err, err, want)
				continue
			}
			var re *execkit.RemoteError
			if !errors.As(pe.Value.(error), &re) || re.Message != want {
				t.Errorf("%s, panic %d: the PanicError's Value is %#v; want a *execkit.RemoteError saying %q", name, k, pe.Value, want)
			}
		}
	}
}
