package driver

import (
	"context"
	"time"

	"github.com/execkit/execkit/internal/link"
	"golang.org/x/time/rate"
)

// A Policy is what a registered function declared with [execkit.TimeLimit],
// [execkit.Retry] and [execkit.RateLimit]. The zero Policy is no policy.
type Policy struct {
	// TimeLimit limits each attempt; 0 without TimeLimit.
	TimeLimit time.Duration
	// Retry says the function declared Retry (Retry(0) too): Retries is
	// then its budget, not a default to fill in.
	Retry bool
	// Retries is how many times a failed attempt may run again.
	Retries int
	// Backoff is the ceiling of the wait before the first retry (Retry's
	// first backoff, 100ms by default) and MaxBackoff the most any later
	// ceiling grows to (its second, 10s by default): see Delay.
	Backoff, MaxBackoff time.Duration
	// RateLimit is the most attempts per second each executor starts; 0
	// without RateLimit.
	RateLimit rate.Limit
}

// PolicyOf returns the policy declared for the function registered under
// name, and false when it declared none (or no function has that name). It
// never blocks and is safe for concurrent use.
func PolicyOf(name string) (Policy, bool) {
	p, ok := link.PolicyOf(name)
	return Policy(p), ok
}

// Delay returns the wait before retry k (from 1): a random time between
// zero and min(Backoff·2^(k-1), MaxBackoff), exponential backoff with full
// jitter, as every execkit executor waits between attempts.
func (p Policy) Delay(k int) time.Duration { return link.Backoff(p.Backoff, p.MaxBackoff, k) }

// InvokeAttempt is [Invoke] under the function's own policy, less the
// retries: it takes a token of the function's rate limit (from the bucket
// of the executor whose scope ctx carries, or the process-wide one), then
// runs the function once with a ctx that ends at its time limit (with
// cause [execkit.ErrTimeLimit]). An attempt that passes the limit returns
// an error wrapping execkit.ErrTimeLimit (so context.DeadlineExceeded too)
// and timedOut true, and its result, if it comes late, is discarded; the
// function runs on until it returns, since only its ctx can stop it.
// timedOut is the one way to tell the attempt's own limit passing: the
// function's own error may wrap execkit.ErrTimeLimit too (a nested call's
// limit passed, and the function returned that error, as is or wrapped),
// and then timedOut is false. When ctx ends (or its deadline would come)
// before a token, InvokeAttempt returns ctx's error (one wrapping
// context.DeadlineExceeded). Retrying is the caller's: see [PolicyOf]. It
// counts nothing in the executor's Stats: the caller counts a timeout for
// each attempt that reports timedOut, where it reports the call. It
// blocks while the function runs and is safe for concurrent use.
func InvokeAttempt(ctx context.Context, name string, payload []byte) (res []byte, timedOut bool, err error) {
	return link.InvokeAttempt(ctx, name, payload)
}

// RunViaOnce is [RunVia] for an executor that applies the function's
// policy where the call runs (with [InvokeAttempt] and retries of its own):
// t calls invoke once, with no time limit, retry or rate limit around it.
// invoke's ctx has the call's deadline, if it has one, for the executor to
// carry. A task that is not a Func's behaves as under RunVia. It returns
// the task's error and blocks until invoke returns.
func RunViaOnce(ctx context.Context, t Portable, invoke Invoker) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return RunVia(context.WithValue(ctx, link.OnceKey{}, true), t, invoke)
}
