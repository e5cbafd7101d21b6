package fireforget

import (
	"context"
	"reflect"
	"runtime"
	"strings"

	"github.com/execkit/execkit"
)

// Background wraps fn the way Python's @background decorator wraps a
// function: every call of the returned function starts fn(ctx, in) on ex and
// returns its [Thread] at once, without waiting for fn. The Thread is named
// after fn and its ID ("task-7") and carries fn's error or panic to [Thread.Join].
//
// Options [Limit] and [RejectAtLimit] cap the calls of this function running
// at once, whatever else ex runs: a call at the limit waits for a slot (or
// until its ctx ends), or with RejectAtLimit returns a Thread already failed
// with [execkit.ErrFull]. ctx bounds that wait and ex's admission only; fn
// runs with the context ex gives it, so a job outlives the request that
// started it. A nil ctx is taken as context.Background(). A call from inside
// fn while every slot is held waits for a slot only its own caller's return
// would free: give it fn's ctx, or use RejectAtLimit (see [Limit]). A call
// after ex shut down returns a Thread failed with [execkit.ErrClosed]. The
// returned function is safe for concurrent use and never panics.
//
// Background panics when fn or ex is nil (a nil pointer in ex included) or
// an option does not apply, since it has no error to return: that is a
// programming error.
func Background[In any](ex execkit.Executor, fn func(context.Context, In) error, opts ...Option) func(context.Context, In) *Thread {
	if isNilExecutor(ex) || fn == nil {
		panic("fireforget: Background needs a non-nil executor and function")
	}
	c, err := newConfig("Background", optLimit|optReject, opts)
	if err != nil {
		panic(err.Error())
	}
	name := funcName(fn)
	var sem chan struct{}
	if c.limit > 0 {
		sem = make(chan struct{}, c.limit)
	}
	return func(ctx context.Context, in In) *Thread {
		if ctx == nil {
			ctx = context.Background()
		}
		th := NewThread(name, execkit.TaskFunc(func(ctx context.Context) error { return fn(ctx, in) }))
		th.numbered = true
		th.begun.Store(true)
		if sem != nil {
			if err := acquireSlot(ctx, sem, c.reject); err != nil {
				th.finish(err)
				return th
			}
			th.after = func() { <-sem }
		}
		_ = th.submit(ctx, ex) // the error is the Thread's
		return th
	}
}

// isNilExecutor reports whether ex is nil or holds a nil pointer (or another
// nil value), whose methods would fail at the first call.
func isNilExecutor(ex execkit.Executor) bool {
	if ex == nil {
		return true
	}
	switch v := reflect.ValueOf(ex); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// acquireSlot takes a slot of sem, waiting unless reject.
func acquireSlot(ctx context.Context, sem chan struct{}, reject bool) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	if reject {
		return execkit.ErrFull
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// funcName returns the short name of fn's function ("task" for main.task,
// "task.func1" for a closure in it).
func funcName(fn any) string {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return ""
	}
	name := f.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return name
}
