package execkit

import "errors"

var (
	// ErrClosed is returned by Submit (and carried by the Future of Go) once
	// Shutdown has begun.
	ErrClosed = errors.New("execkit: executor is shut down")

	// ErrFull is returned by Submit of an executor whose admission policy is
	// to reject work at capacity instead of waiting for a slot.
	ErrFull = errors.New("execkit: executor is at capacity")

	// ErrNilTask is returned by Submit for a nil Task or a nil TaskFunc, by
	// Map for a nil function, and carried by the Future of Go called with a
	// nil function (and by a nil or zero Future).
	ErrNilTask = errors.New("execkit: nil task")

	// ErrNilExecutor is returned by Map and carried by the Future of Go
	// (and of a Func's Go and Map) called with a nil Executor, and returned
	// by Submit and Shutdown of a typed nil executor or of one whose zero
	// value its package says is not usable (made without its constructor).
	ErrNilExecutor = errors.New("execkit: nil executor")

	// ErrNotPortable is returned by Submit of an executor that runs tasks in
	// another process when the task was not made by a registered [Func]: a
	// closure cannot cross a process boundary.
	ErrNotPortable = errors.New("execkit: task is not portable (make it with a registered Func)")

	// ErrNotRegistered is returned by a worker process (driver.Invoke)
	// for a function name that was never registered in that process, and
	// wrapped by every call given a nil *[Func] (one Register never
	// returned): Func's own methods, subprocess's Apply, Map, MapUnordered
	// and Initializer, compare's Run and Benchmark.
	ErrNotRegistered = errors.New("execkit: function not registered")

	// ErrPayload is wrapped by the errors of a worker (driver.Invoke) and of a Future's
	// result when an encoded argument or result does not decode.
	ErrPayload = errors.New("execkit: bad payload")
)
