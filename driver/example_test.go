package driver_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

var errEmpty = errors.New("empty name")

// greet is registered at package level, so that every process running the
// binary (the caller and its workers) registers it the same way.
var greet = execkit.Register("driver_example.greet", func(_ context.Context, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("greet: %w", errEmpty)
	}
	return "hello, " + name, nil
}, execkit.Errors(errEmpty))

// A wire stands for a process boundary: only bytes cross it.
type wire struct {
	hash   string // the worker's RegistryHash, sent when it starts
	calls  chan request
	closed chan struct{}
}

type request struct {
	name    string
	payload []byte
	reply   chan response
}

type response struct {
	result, err []byte
}

// worker is the other side: it runs each call with Invoke and sends back
// the result or the encoded error.
func worker(w *wire) {
	for {
		select {
		case r := <-w.calls:
			res, err := driver.Invoke(context.Background(), r.name, r.payload)
			r.reply <- response{result: res, err: driver.EncodeError(r.name, err)}
		case <-w.closed:
			return
		}
	}
}

// remote is an Executor that runs registered functions on the other side
// of a wire, one task at a time, in the goroutine that submits it.
type remote struct{ w *wire }

func (e remote) Submit(ctx context.Context, t execkit.Task) error {
	if driver.IsNil(t) {
		return execkit.ErrNilTask
	}
	p, ok := t.(driver.Portable)
	if !ok {
		return execkit.ErrNotPortable // a closure cannot cross
	}
	err := driver.RunVia(ctx, p, func(ctx context.Context, name string, payload []byte) ([]byte, error) {
		reply := make(chan response, 1)
		e.w.calls <- request{name, payload, reply}
		r := <-reply
		if r.err != nil {
			return nil, driver.DecodeError(name, r.err)
		}
		return r.result, nil
	})
	if err != nil && !driver.HasFuture(t) {
		fmt.Println("error handler:", err)
	}
	return nil
}

func (e remote) Shutdown(context.Context) error {
	close(e.w.closed)
	return nil
}

// An executor that crosses a process boundary sends a registered
// function's name and encoded argument, and gets back the encoded result
// or error. Run your executor through package executortest to check the
// whole contract.
func Example() {
	w := &wire{calls: make(chan request), closed: make(chan struct{})}
	ready := make(chan struct{})
	go func() { w.hash = driver.RegistryHash(); close(ready); worker(w) }()
	<-ready
	if w.hash != driver.RegistryHash() {
		fmt.Println("the worker registered other functions")
		return
	}
	ctx := context.Background()
	ex := remote{w}
	defer ex.Shutdown(ctx)

	fmt.Println(greet.Go(ctx, ex, "gopher").Wait(ctx))
	_, err := greet.Go(ctx, ex, "").Wait(ctx)
	var re *execkit.RemoteError
	fmt.Println(errors.Is(err, errEmpty), errors.As(err, &re), err)
	_ = ex.Submit(ctx, greet.Task(""))
	fmt.Println(ex.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil })))
	// Output:
	// hello, gopher <nil>
	// true true greet: empty name
	// error handler: greet: empty name
	// execkit: task is not portable (make it with a registered Func)
}

// A batch runs a registered function on many items with one payload each
// way: what a worker process does with a chunk of subprocess.Pool's Map.
// The caller encodes the items, the worker runs InvokeBatch, and the
// caller decodes the results, with an error per failed item.
func ExampleInvokeBatch() {
	ctx := context.Background()
	payload, err := driver.EncodeBatch(greet, []string{"ann", "", "bob"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// In the worker process:
	res, errs, err := driver.InvokeBatch(ctx, greet.Name(), payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Back in the caller:
	outs, err := driver.DecodeBatch(greet, res)
	fmt.Println(err)
	for i, s := range outs {
		fmt.Printf("%q %v\n", s, errs[i])
	}
	// Output:
	// <nil>
	// "hello, ann" <nil>
	// "" greet: empty name
	// "hello, bob" <nil>
}

// tries counts the calls of flakyGreet.
var tries atomic.Int32

// flakyGreet fails its first two calls.
var flakyGreet = execkit.Register("driver_example.flakyGreet", func(_ context.Context, name string) (string, error) {
	if tries.Add(1) <= 2 {
		return "", errors.New("flaky")
	}
	return "hello, " + name, nil
}, execkit.Retry(2, time.Millisecond))

// An executor whose calls outlive their sender (a durable job queue)
// applies a Func's policy where the call runs: it reads the retry budget
// with PolicyOf (to write it into the job), runs each attempt with
// InvokeAttempt (the time limit and rate limit), and waits Delay between
// attempts. Its sending side submits with RunViaOnce, so that the policy
// does not apply twice. It counts the attempts that passed the function's
// own time limit by what InvokeAttempt reports, not by the error, which
// may wrap execkit.ErrTimeLimit for another function's limit.
func ExampleInvokeAttempt() {
	ctx := context.Background()
	p, _ := driver.PolicyOf(flakyGreet.Name())
	payload, _ := flakyGreet.Codec().Marshal("gopher")
	var (
		res      []byte
		timedOut bool
		timeouts int
		err      error
	)
	for retry := 0; ; retry++ {
		res, timedOut, err = driver.InvokeAttempt(ctx, flakyGreet.Name(), payload)
		if timedOut {
			timeouts++
		}
		if err == nil || retry == p.Retries || errors.Is(err, execkit.ErrPermanent) {
			break
		}
		time.Sleep(p.Delay(retry + 1))
	}
	var s string
	_ = flakyGreet.Codec().Unmarshal(res, &s)
	fmt.Println(p.Retries, tries.Load(), timeouts, s, err)
	// Output:
	// 2 3 0 hello, gopher <nil>
}
