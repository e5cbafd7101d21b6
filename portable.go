package execkit

import (
	"context"
	"fmt"

	"github.com/execkit/execkit/internal/link"
)

// A task made by a [Func] is portable: besides Run, which calls the
// function in this goroutine, it has RunVia (driver.Portable), which sends
// the call through an invoker to wherever it runs (a worker process, a
// job queue) and delivers the outcome exactly as Run would.

// invoker is driver.Invoker: it carries a call (the function's name and
// encoded argument) to where it runs and returns the encoded result.
type invoker = func(ctx context.Context, name string, payload []byte) ([]byte, error)

// funcTask is the portable task of Func.Task.
type funcTask[In, Out any] struct {
	f  *Func[In, Out]
	in In
}

func (t *funcTask[In, Out]) Run(ctx context.Context) error {
	if ctx == nil { // as RunVia: the policy reads ctx, and f must not get a nil one
		ctx = context.Background()
	}
	_, err := t.f.callPolicy(ctx, t.in)
	return err
}

func (t *funcTask[In, Out]) RunVia(ctx context.Context, invoke invoker) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Err() != nil { // cancelled before it started: never start
		return context.Cause(ctx)
	}
	if invoke == nil { // no process to cross: call f here
		return t.Run(ctx)
	}
	_, err := t.viaPolicy(ctx, invoke)
	return err
}

// viaPolicy is via under f's policy: it applies here, on the side that
// sends the call, so that a retry is a new call (to a new worker, if the
// limit killed the last one). The time limit bounds the call from when it
// starts where it runs when the executor says it knows when that is (see
// link.StartsClock), from when it is sent otherwise.
func (t *funcTask[In, Out]) viaPolicy(ctx context.Context, invoke invoker) (Out, error) {
	if t.f.unregistered() || t.f.pol == nil || ctx.Value(link.OnceKey{}) != nil { // driver.RunViaOnce: the policy applies where the call runs
		return t.via(ctx, invoke)
	}
	// The argument is encoded once, and the result decoded after the
	// attempt: the codec's time counts neither toward the limit nor as the
	// call running past it.
	return t.encoded(func(payload []byte) ([]byte, error) {
		return runPolicy(ctx, t.f.pol, t.f.name, t.f, true, func(ctx context.Context) ([]byte, error) { return invoke(ctx, t.f.name, payload) })
	})
}

func (t *funcTask[In, Out]) via(ctx context.Context, invoke invoker) (Out, error) {
	if t.f.unregistered() {
		var zero Out
		return zero, ErrNotRegistered
	}
	return t.encoded(func(payload []byte) ([]byte, error) { return invoke(ctx, t.f.name, payload) })
}

// encoded calls call with t's argument encoded, and decodes its result.
func (t *funcTask[In, Out]) encoded(call func(payload []byte) ([]byte, error)) (Out, error) {
	var zero Out
	payload, err := encode(t.f.codec, t.in)
	if err != nil {
		return zero, fmt.Errorf("%w: argument of %q: %w", ErrPayload, t.f.name, err)
	}
	res, err := call(payload)
	if err != nil {
		return zero, err
	}
	out, err := decode[Out](t.f.codec, res)
	if err != nil {
		return zero, fmt.Errorf("%w: result of %q: %w", ErrPayload, t.f.name, err)
	}
	return out, nil
}

// funcFutureTask is the portable task of Func.Go: it completes a Future.
type funcFutureTask[In, Out any] struct {
	funcTask[In, Out]
	fut *Future[Out]
}

// ReportsOutcome marks the task as self-reporting (driver.SelfReporting): the Future gets its outcome.
func (t *funcFutureTask[In, Out]) ReportsOutcome() {}

// TellsFailure marks the task as telling a fail-fast executor of its
// failure before the Future reports it (link.Failed, in Future.run).
func (t *funcFutureTask[In, Out]) TellsFailure() {}

func (t *funcFutureTask[In, Out]) Run(ctx context.Context) error {
	return t.RunVia(ctx, nil)
}

// RunVia runs the call through invoke, or in this goroutine when invoke is
// nil, unless the Future was cancelled first.
func (t *funcFutureTask[In, Out]) RunVia(ctx context.Context, invoke invoker) error {
	// A nil ctx: Future.run takes it as context.Background, and hands
	// that to the call.
	if invoke == nil {
		return t.fut.run(ctx, t.call)
	}
	return t.fut.run(ctx, func(ctx context.Context) (Out, error) { return t.viaPolicy(ctx, invoke) })
}

func (t *funcFutureTask[In, Out]) call(ctx context.Context) (Out, error) {
	if t.f.pol != nil {
		return t.f.callPolicy(ctx, t.in)
	}
	return t.f.fn(ctx, t.in)
}
