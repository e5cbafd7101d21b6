package execkit

import (
	"context"
	"fmt"
	"reflect"
	"sync"
)

// A Func is a function registered by name with [Register], so that a task
// calling it can run in another process (a worker of package subprocess, a
// distributed backend) as well as in this one. In-process executors call the
// function directly, without encoding anything. A Func is safe for
// concurrent use. Only Register makes one: a nil or zero Func is no
// function, whose calls fail with [ErrNotRegistered].
type Func[In, Out any] struct {
	name  string
	fn    func(context.Context, In) (Out, error)
	codec Codec
	errs  []error // builtinSentinels, then those declared with Errors
	pol   *policy // nil without TimeLimit, Retry, RateLimit

	// The slices invokeBatch decodes arguments into and gathers results
	// in, reused from one batch to the next (*[]In, *[]Out), emptied of
	// values first.
	ins, outs sync.Pool
}

// unregistered reports whether f is nil or a zero Func: not made by
// Register, so there is no function to call.
func (f *Func[In, Out]) unregistered() bool { return f == nil || f.fn == nil }

// Name returns the name f was registered under ("" for a nil Func).
func (f *Func[In, Out]) Name() string {
	if f == nil {
		return ""
	}
	return f.name
}

// Codec returns the codec f encodes its argument and result with (nil for
// a nil Func).
func (f *Func[In, Out]) Codec() Codec {
	if f == nil {
		return nil
	}
	return f.codec
}

func (f *Func[In, Out]) signature() string {
	codec := reflect.TypeOf(f.codec).String()
	switch f.codec.(type) {
	case GobCodec, *GobCodec:
		// The wire form of plain types changed from gob to compact:
		// a binary from before differs.
		codec += "+compact"
	}
	sig := reflect.TypeFor[In]().String() + "\x00" + reflect.TypeFor[Out]().String() + "\x00" + codec
	for _, e := range f.errs[len(builtinSentinels):] {
		sig += "\x00" + e.Error()
	}
	return sig
}

func (f *Func[In, Out]) sentinels() []error { return f.errs }

// Call runs f once in this goroutine, recovering a panic into a
// [*PanicError]. It does not apply f's policy ([TimeLimit], [Retry],
// [RateLimit]): the tasks of f's Task, Go and Map do.
// On a nil or zero Func it returns [ErrNotRegistered]. A nil ctx is
// [context.Background]: f never receives a nil one.
func (f *Func[In, Out]) Call(ctx context.Context, in In) (out Out, err error) {
	if f.unregistered() {
		return out, ErrNotRegistered
	}
	if ctx == nil {
		ctx = context.Background()
	}
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(r)
		}
	}()
	return f.fn(ctx, in)
}

// Task returns a portable task that calls f with in and discards the
// result: its error goes to the executor's error handler. Use Go to keep
// the result. It never blocks; making a task is not submitting it, and an
// executor that has shut down refuses it in Submit ([ErrClosed]). Its Run,
// called directly, takes a nil ctx as [context.Background].
func (f *Func[In, Out]) Task(in In) Task { return &funcTask[In, Out]{f: f, in: in} }

// Go submits a call of f with in to ex and returns its Future, like [Go]
// but portable: it runs on every executor, including those that cross a
// process boundary. As with Go, it returns at once, or once ex's Submit
// admits the call when ex blocks at capacity (ctx bounds that wait); ctx's
// deadline reaches the call, and cancelling ctx does not cancel it
// (Future.Cancel does). When ex does not admit the call the Future carries
// Submit's error: [ErrClosed] once ex's Shutdown has begun. The Future
// carries [ErrNilExecutor] for a nil ex and [ErrNotRegistered] for a nil or
// zero f. It never panics.
func (f *Func[In, Out]) Go(ctx context.Context, ex Executor, in In) *Future[Out] {
	fut, t := f.prepare(in)
	if f.unregistered() {
		fut.fail(ErrNotRegistered)
		return fut
	}
	fut.submit(ctx, ex, t)
	return fut
}

// prepare makes the Future of a call of f with in and the task that
// completes it.
func (f *Func[In, Out]) prepare(in In) (*Future[Out], Task) {
	fut := &Future[Out]{done: make(chan struct{})}
	return fut, &funcFutureTask[In, Out]{funcTask: funcTask[In, Out]{f: f, in: in}, fut: fut}
}

// Map calls f on every item through ex, like [Map] but portable, with the
// same cancellation promise and errors ([ErrNotRegistered] for a nil or
// zero f).
// Like Map it blocks until every call has finished, and returns
// [ErrClosed] once ex's Shutdown has begun. Executors that batch calls
// (subprocess.Pool's Map) are faster for many small items. It never panics.
func (f *Func[In, Out]) Map(ctx context.Context, ex Executor, items []In) ([]Out, error) {
	if f.unregistered() {
		return nil, ErrNotRegistered
	}
	return mapFutures(ctx, ex, len(items), func(i int) (*Future[Out], Task) {
		return f.prepare(items[i])
	})
}

// callPolicy calls f with in under f's policy, or once without one.
func (f *Func[In, Out]) callPolicy(ctx context.Context, in In) (Out, error) {
	if f.unregistered() || f.pol == nil {
		return f.Call(ctx, in)
	}
	return runPolicy(ctx, f.pol, f.name, f, false, func(ctx context.Context) (Out, error) { return f.fn(ctx, in) })
}

func (f *Func[In, Out]) invoke(ctx context.Context, payload []byte) (res []byte, err error) {
	in, err := decode[In](f.codec, payload)
	if err != nil {
		return nil, fmt.Errorf("%w: argument of %q: %w", ErrPayload, f.name, err)
	}
	out, err := f.Call(ctx, in)
	if err != nil {
		return nil, err
	}
	if res, err = encode(f.codec, out); err != nil {
		return nil, fmt.Errorf("%w: result of %q: %w", ErrPayload, f.name, err)
	}
	return res, nil
}
