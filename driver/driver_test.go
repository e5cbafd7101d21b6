package driver_test

import (
	"context"
	"errors"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// panicky is a Portable whose RunVia panics, as a broken codec would.
type panicky struct{}

func (panicky) Run(context.Context) error { return nil }
func (panicky) RunVia(context.Context, driver.Invoker) error {
	panic("broken")
}

func TestRunViaRecoversPanic(t *testing.T) {
	err := driver.RunVia(context.Background(), panicky{}, nil)
	var pe *execkit.PanicError
	if !errors.As(err, &pe) || pe.Value != "broken" || len(pe.Stack) == 0 {
		t.Fatalf("RunVia(panicking Portable) = %v; want a *PanicError with value \"broken\" and a stack", err)
	}
}

func TestRunViaNeverStartsAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	invoked := false
	invoke := func(context.Context, string, []byte) ([]byte, error) { invoked = true; return nil, nil }
	err := driver.RunVia(ctx, greet.Task("x").(driver.Portable), invoke)
	if !errors.Is(err, context.Canceled) || invoked {
		t.Fatalf("RunVia with an ended ctx = %v, invoked %v; want context.Canceled, not invoked", err, invoked)
	}
}

func TestBatchOfNilFunc(t *testing.T) {
	var f *execkit.Func[string, string]
	if _, err := driver.EncodeBatch(f, []string{"a"}); !errors.Is(err, execkit.ErrNotRegistered) {
		t.Errorf("EncodeBatch(nil Func) = %v; want ErrNotRegistered", err)
	}
	if _, err := driver.DecodeBatch(f, []byte{1}); !errors.Is(err, execkit.ErrNotRegistered) {
		t.Errorf("DecodeBatch(nil Func) = %v; want ErrNotRegistered", err)
	}
}

func TestBatchRoundTrip(t *testing.T) {
	payload, err := driver.EncodeBatch(greet, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	res, errs, err := driver.InvokeBatch(context.Background(), greet.Name(), payload)
	if err != nil || errs != nil {
		t.Fatalf("InvokeBatch = %v, %v; want no errors", errs, err)
	}
	outs, err := driver.DecodeBatch(greet, res)
	if err != nil || len(outs) != 2 || outs[0] != "hello, a" || outs[1] != "hello, b" {
		t.Fatalf("DecodeBatch = %q, %v; want [hello, a hello, b]", outs, err)
	}
}
