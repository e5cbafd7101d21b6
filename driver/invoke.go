package driver

import (
	"context"
	"runtime/debug"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/internal/link"
)

// An Invoker carries a call of a registered function (its name and encoded
// argument) to wherever it runs and returns the encoded result, or the
// error the function returned there. A process-crossing executor provides
// one to [RunVia].
type Invoker = func(ctx context.Context, name string, payload []byte) ([]byte, error)

// Portable is implemented by the tasks a registered [execkit.Func] makes
// (its Task, Go and Map). A process-crossing executor accepts only these
// (others get [execkit.ErrNotPortable]) and runs them with [RunVia]
// instead of [Run].
type Portable interface {
	execkit.Task
	// RunVia runs the task through invoke: it encodes the argument, calls
	// invoke, decodes the result and delivers the outcome (to the task's
	// Future, if any) exactly as Run would. It returns the task's error and
	// blocks until invoke returns.
	RunVia(ctx context.Context, invoke Invoker) error
}

// RunVia runs t through invoke, as [Run] runs a task: a panic (of a codec,
// of a Portable that is not a Func's) is recovered into an
// [*execkit.PanicError], and when ctx has already ended the call is never
// sent (a task with a Future records that outcome). It returns the task's
// error and blocks until invoke returns.
func RunVia(ctx context.Context, t Portable, invoke Invoker) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &execkit.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return t.RunVia(ctx, invoke)
}

// Invoke runs the function registered under name with an encoded argument
// and returns its encoded result: what a worker process does with a task
// it received. It returns an error wrapping [execkit.ErrNotRegistered] for
// an unknown name, one wrapping [execkit.ErrPayload] when the argument does
// not decode or the result does not encode, the function's own error, or an
// [*execkit.PanicError] when it panicked. It blocks while the function
// runs and is safe for concurrent use. A nil ctx is context.Background.
func Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	return link.Invoke(ctx, name, payload)
}

// InvokeBatch runs the function registered under name once per item of a
// batch, in order, in this goroutine: what a worker process does with a
// chunk of a Map, at the cost of one codec pass each way instead of one per
// item. Each item runs under the function's policy ([execkit.TimeLimit],
// [execkit.Retry], [execkit.RateLimit]), applied here; Invoke applies none
// (the submitting side runs the policy around a single call). payload is
// made by [EncodeBatch]; results, one per item, are read
// back with [DecodeBatch], and hold the zero result for an item that
// failed. errs is nil when every item succeeded; otherwise it has one error
// per item, nil for those that succeeded: the function's error, an
// [*execkit.PanicError] when it panicked, ctx.Err() for the items not
// run because ctx ended first, or an error wrapping [execkit.ErrPayload]
// for an item whose argument the codec refused (an error or a panic of
// its Unmarshal: that item is not run, the others are) or whose result it
// could not encode. err is for the batch as a whole: it wraps
// [execkit.ErrNotRegistered] for an unknown name and [execkit.ErrPayload]
// when the payload's framing does not decode, or a whole-slice layout
// (the default codec's) does not (errs and results are then nil). It
// blocks while the items run and is safe for concurrent use. A nil ctx is
// context.Background.
func InvokeBatch(ctx context.Context, name string, payload []byte) (results []byte, errs []error, err error) {
	return link.InvokeBatch(ctx, name, payload, nil)
}

// RegistryHash returns a digest of every registered name with its
// argument, result and codec types and the texts of its declared errors
// (type names included: a function of a named type ID int, which
// [execkit.GobCodec] sends as gob, differs from one of int, which it sends
// as a varint). Two processes that registered the same functions the same
// way get the same hash, so a process-crossing executor compares it in its
// handshake and refuses a worker that differs. The first call seals the
// registry: a later [execkit.Register] panics. It never blocks for long and
// is safe for concurrent use.
func RegistryHash() string { return link.RegistryHash() }
