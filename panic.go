package execkit

import (
	"fmt"
	"log/slog"
	"runtime/debug"
)

// A PanicError is a panic recovered from a task, delivered where the task's
// error would go: its Future, or the executor's error handler. It keeps the
// panic value and the stack of the goroutine that panicked.
type PanicError struct {
	// Value is the value passed to panic. After a task ran in another
	// process it is the value's text (a string) or, when the value was an
	// error, a [*RemoteError] carrying its text, its type's name and the
	// sentinels it matched, so that errors.Is sees through the panic to
	// the declared sentinels as it does in this process.
	Value any
	// Stack is the stack trace of the panicking goroutine, as
	// runtime/debug.Stack formats it.
	Stack []byte
}

func newPanicError(v any) *PanicError {
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// readablePanic is link.ReadablePanic: err, when it is a *PanicError (a
// type assertion, which calls no method of err), with its Value passed
// through readable when it is an error.
func readablePanic(err error, readable func(error) error) (error, bool) {
	pe, ok := err.(*PanicError)
	if !ok || pe == nil {
		return nil, false
	}
	v := pe.Value
	if e, ok := v.(error); ok && e != nil {
		v = readable(e)
	}
	return &PanicError{Value: v, Stack: pe.Stack}, true
}

// Error returns "execkit: task panicked: " and the panic value. The stack is
// in the Stack field, and in the attributes of LogValue.
func (e *PanicError) Error() string {
	if e == nil {
		return "<nil>"
	}
	return fmt.Sprintf("execkit: task panicked: %v", e.Value)
}

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As see through the panic; otherwise nil.
func (e *PanicError) Unwrap() error {
	if e == nil {
		return nil
	}
	err, _ := e.Value.(error)
	return err
}

// LogValue makes log/slog record the panic value and the stack as a group,
// so the default error handlers, which log with slog, keep the stack.
func (e *PanicError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("panic", fmt.Sprint(e.Value)),
		slog.String("stack", string(e.Stack)),
	)
}
