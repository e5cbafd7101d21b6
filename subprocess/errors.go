package subprocess

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/errtext"
	"github.com/execkit/execkit/internal/link"
)

var (
	// ErrNoMain is returned by [New] when [Main] was never called. Without
	// it, a worker process would run the whole program (or test suite)
	// again instead of serving the pool.
	ErrNoMain = errors.New("subprocess: Main was never called: call subprocess.Main() first in main (and in TestMain)")

	// ErrTerminated is the error of every task that had not finished when
	// [Pool.Terminate] was called, and of Submit, Apply and Map after it.
	ErrTerminated = errors.New("subprocess: pool terminated")

	// ErrBroken is wrapped by the error of every pending task, and of
	// Submit, Apply and Map, once workers failed to start too many times in
	// a row: the pool gave up. The wrapped text gives the last start error.
	ErrBroken = errors.New("subprocess: pool is broken: workers keep failing to start")

	// ErrProtocol is wrapped by the errors of a worker that broke the
	// protocol: a frame that does not decode (its worker is killed and its
	// task fails with a [*WorkerError] wrapping ErrProtocol), or a HELLO
	// whose version or registry hash differs from the pool's (the worker is
	// refused: [New] returns the error).
	ErrProtocol = errors.New("subprocess: protocol error")
)

// A WorkerError is the error of a task whose worker process died while it
// ran the task, whether it died by itself (os.Exit, a crash, a panic in
// another goroutine, a signal from outside) or the pool killed it (it broke
// the protocol). Only that task fails: the tasks queued behind it run on
// another worker, and the pool starts a replacement.
type WorkerError struct {
	Pid      int            // the worker's process id
	ExitCode int            // its exit status; -1 when a signal killed it
	Signal   syscall.Signal // the signal that killed it, or 0
	Stderr   []byte         // the end of what it wrote to stderr (at most 8 KiB)
	Err      error          // why the pool killed it, or nil when it died by itself
}

// Error describes the death, and the line of the stderr tail that tells the
// most ("panic: ...", "fatal error: ...", or else the last line).
func (e *WorkerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "subprocess: worker %d ", e.Pid)
	if e.Signal != 0 {
		fmt.Fprintf(&b, "was killed by signal %d (%v)", int(e.Signal), e.Signal)
	} else {
		fmt.Fprintf(&b, "exited with status %d", e.ExitCode)
	}
	b.WriteString(" while running the task")
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if line := stderrSummary(e.Stderr); line != "" {
		fmt.Fprintf(&b, " (stderr: %s)", line)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *WorkerError) Unwrap() error { return e.Err }

// stderrSummary picks the most telling line of a stderr tail.
func stderrSummary(tail []byte) string {
	lines := bytes.Split(bytes.TrimSpace(tail), []byte("\n"))
	pick := ""
	for i := len(lines) - 1; i >= 0; i-- {
		l := string(bytes.TrimSpace(lines[i]))
		if l == "" {
			continue
		}
		if pick == "" {
			pick = l
		}
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			pick = l
			break
		}
	}
	const max = 200
	if len(pick) > max {
		pick = pick[:max] + "..."
	}
	return pick
}

// outcomeOf classifies the error of a call of name in the worker for the
// wire: a panic keeps its value's text and its stack, and a value that is
// an error goes as driver.EncodeError encodes it, so that the sentinels it
// matches still match through the *execkit.PanicError; any other error goes
// as driver.EncodeError encodes it (text, type name, the sentinels it
// matches), under a kind that says whether the call's context ended.
func outcomeOf(name string, err error) outcome {
	err = link.Readable(name, err) // a typed nil's Error or Unwrap panics
	var pe *execkit.PanicError
	kind := kindError
	switch {
	case errors.As(err, &pe):
		stack := pe.Stack
		if len(stack) > errtext.MaxText {
			stack = []byte(errtext.Cap(string(stack)))
		}
		if v, ok := pe.Value.(error); ok && v != nil {
			return outcome{kind: kindPanicError, data: driver.EncodeError(name, link.Readable(name, v)), stack: stack}
		}
		return outcome{kind: kindPanic, data: []byte(errtext.Cap(fmt.Sprint(pe.Value))), stack: stack}
	case errors.Is(err, execkit.ErrNotRegistered):
		kind = kindNotRegistered
	case errors.Is(err, execkit.ErrPayload):
		kind = kindPayload
	case errors.Is(err, context.Canceled):
		kind = kindCanceled
	case errors.Is(err, context.DeadlineExceeded):
		kind = kindDeadline
	}
	return outcome{kind: kind, data: driver.EncodeError(name, err)}
}

// errorOf rebuilds the error of an outcome of a call of name in the pool:
// an *execkit.RemoteError, or an *execkit.PanicError (whose Value is an
// *execkit.RemoteError when the panic value was an error). ctxErr is the error
// of the call's context, if it ended: a task that stopped because of it
// returns it as is, like an in-process task would.
func errorOf(name string, o outcome, ctxErr error) error {
	switch o.kind {
	case kindOK:
		return nil
	case kindPanic:
		return &execkit.PanicError{Value: string(o.data), Stack: o.stack}
	case kindPanicError:
		return &execkit.PanicError{Value: driver.DecodeError(name, o.data), Stack: o.stack}
	case kindCanceled, kindDeadline:
		if ctxErr != nil {
			return ctxErr
		}
	}
	return driver.DecodeError(name, o.data)
}
