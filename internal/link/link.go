// Package link carries package execkit's unexported mechanisms to the
// packages built on it (package driver, execkit's own executors), which the
// root package cannot import. Package execkit sets every variable in its
// init, so they are set before any code of a package that imports execkit
// runs; nothing else sets them. Each has the contract of the driver
// function of the same name. Run and HasFuture, on every task's path, are
// functions of this package, called directly by all of them.
package link

import (
	"context"
	"errors"
	"time"

	"golang.org/x/time/rate"
)

// Task is execkit.Task's method set: an execkit.Task is assignable to it and
// back.
type Task = interface {
	Run(ctx context.Context) error
}

// Set by package execkit at init.
var (
	IsNil   func(t Task) bool
	IsPanic func(err error) bool
	// NewPanic returns the *execkit.PanicError of a panic with value v,
	// with the stack of the calling goroutine.
	NewPanic func(v any) error
	// ReadablePanic returns, when err is an *execkit.PanicError itself
	// (not wrapped), a copy whose Value, when an error, is passed through
	// readable; ok is false for any other err.
	ReadablePanic func(err error, readable func(error) error) (_ error, ok bool)
	Invoke        func(ctx context.Context, name string, payload []byte) ([]byte, error)
	// InvokeBatch encodes the results in dst's room when it has enough.
	InvokeBatch  func(ctx context.Context, name string, payload, dst []byte) ([]byte, []error, error)
	RegistryHash func() string
	EncodeError  func(name string, err error) []byte
	DecodeError  func(name string, data []byte) error
	// EncodeBatch and DecodeBatch take an *execkit.Func[In, Out] as f, a
	// []In as items, and DecodeBatch returns a []Out.
	EncodeBatch func(f, items any) ([]byte, error)
	DecodeBatch func(f any, data []byte) (any, error)
	// DecodeBatchInto decodes into dst, a []Out as long as the batch; on
	// an error dst holds zero values. A batch of another length gives an
	// error wrapping ErrBatchCount. A result the codec refuses is told to
	// bad, if set, with an error wrapping execkit.ErrPayload, and left
	// zero; the batch decodes still.
	DecodeBatchInto func(f any, data []byte, dst any, bad func(i int, err error)) error

	// Set by package execkit's policy.go.
	PolicyOf      func(name string) (Policy, bool)
	InvokeAttempt func(ctx context.Context, name string, payload []byte) (res []byte, timedOut bool, err error)
	// Backoff is the wait before retry k (from 1) with full jitter.
	Backoff func(backoff, maxBackoff time.Duration, k int) time.Duration
)

// Policy is driver.Policy, field for field (driver converts it).
type Policy struct {
	TimeLimit           time.Duration
	Retry               bool
	Retries             int
	Backoff, MaxBackoff time.Duration
	RateLimit           rate.Limit
}

// OnceKey is the context key under which driver.RunViaOnce marks a call
// whose policy the executor applies where the call runs: a Func's task
// then calls its invoker once, without the policy around it.
type OnceKey struct{}

// ScopeKey is the context key under which an executor's base context
// carries its Scope.
type ScopeKey struct{}

// Scope is what the task policies of a registered function need from the
// executor running it: a store for its rate limiters (one per executor and
// function) and the counters of retries and timeouts behind Stats.
type Scope interface {
	// Local returns the value stored under key, storing mk() first if
	// there is none. It is safe for concurrent use.
	Local(key any, mk func() any) any
	CountRetry()
	CountTimeout()
}

// StartsClock is implemented by the Scope of an executor that sends a
// call to another process and knows when it starts there (subprocess.Pool):
// the time limit of a call through its invoker is then timed from that
// start, not from when the call is sent. Such an executor calls the
// StartKey hook of the call's ctx when the call starts.
type StartsClock interface {
	StartsClock() bool
}

// StartKey is the context key under which an attempt's ctx carries its
// start hook, which arms the attempt's time limit; the executor whose
// Scope says StartsClock calls it when the call starts running.
type StartKey struct{}

// A Starter is a start hook. Calling Start more than once, or after the
// attempt ended, does nothing; it never blocks. Limit is the time limit
// Start arms, which the executor may tell the place the call runs.
type Starter interface {
	Start()
	Limit() time.Duration
}

// StartHook returns the start hook ctx carries, or nil.
func StartHook(ctx context.Context) Starter {
	s, _ := ctx.Value(StartKey{}).(Starter)
	return s
}

// YieldKey is the context key under which an executor that sends its
// tasks' first calls in the order it admitted them (subprocess.Pool)
// carries a task's yield hook, a func(). A task's policy calls it (see
// YieldHook) before it waits for something other than the executor: a rate
// limit's token, a retry's backoff. The task then gives up its place in
// that order, so that the tasks admitted after it do not wait for it
// meanwhile (in process it would hold one slot, not all of them), and
// takes a new one when its call goes.
type YieldKey struct{}

// YieldHook returns the yield hook ctx carries, or nil. The hook never
// blocks for long.
func YieldHook(ctx context.Context) func() {
	f, _ := ctx.Value(YieldKey{}).(func())
	return f
}

// ErrBatchCount is wrapped by DecodeBatchInto's error for a batch whose
// count of values is not the length of dst.
var ErrBatchCount = errors.New("a batch of another length")
