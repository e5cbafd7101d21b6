//go:build go1.25

package execkit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/internal/link"
	"github.com/execkit/execkit/internal/xrun"
	"golang.org/x/time/rate"
)

var (
	policyCalls atomic.Int64
	policyFail  atomic.Int64 // the first policyFail calls of flaky fail
	errFlaky    = errors.New("flaky")

	// slowPolicy waits for its ctx: a cooperative task under a time limit.
	slowPolicy = execkit.Register("test.policy.slow", func(ctx context.Context, _ int) (int, error) {
		policyCalls.Add(1)
		<-ctx.Done()
		return 0, ctx.Err()
	}, execkit.TimeLimit(100*time.Millisecond), execkit.Retry(2, time.Millisecond))

	// deafPolicy ignores its ctx and returns a result after 150ms.
	deafPolicy = execkit.Register("test.policy.deaf", func(ctx context.Context, _ int) (int, error) {
		time.Sleep(150 * time.Millisecond)
		return 7, nil
	}, execkit.TimeLimit(100*time.Millisecond))

	flakyPolicy = execkit.Register("test.policy.flaky", func(ctx context.Context, n int) (int, error) {
		if policyCalls.Add(1) <= policyFail.Load() {
			if n < 0 {
				return 0, fmt.Errorf("%w: %w", execkit.ErrPermanent, errFlaky)
			}
			return 0, errFlaky
		}
		return n, nil
	}, execkit.Retry(2, 10*time.Millisecond))

	ratePolicy = execkit.Register("test.policy.rate", func(ctx context.Context, n int) (int, error) {
		return n, nil
	}, execkit.RateLimit("10/s"))
)

func TestTimeLimitCooperative(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		policyCalls.Store(0)
		var ex execkit.Inline
		start := time.Now()
		_, err := slowPolicy.Go(context.Background(), &ex, 1).Wait(context.Background())
		if !errors.Is(err, execkit.ErrTimeLimit) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v; want ErrTimeLimit and DeadlineExceeded", err)
		}
		if got := policyCalls.Load(); got != 3 {
			t.Errorf("%d attempts; want 3 (1 + 2 retries)", got)
		}
		if d := time.Since(start); d < 300*time.Millisecond || d > 310*time.Millisecond {
			t.Errorf("took %v; want 3 limits of 100ms and 2 backoffs of at most 1ms", d)
		}
		if s := ex.Stats(); s.Timeouts != 3 || s.Retries != 2 || s.Failed != 1 {
			t.Errorf("Stats = %+v; want Timeouts 3, Retries 2, Failed 1", s)
		}
	})
}

// nestedTimeout returns the ErrTimeLimit of another function's limit (a
// nested call's) within its own limit, or, with n < 0, without one.
var (
	nestedTimeout = execkit.Register("test.policy.nestedtimeout", func(ctx context.Context, _ int) (int, error) {
		return 0, fmt.Errorf("nested: %w", execkit.ErrTimeLimit)
	}, execkit.TimeLimit(time.Hour), execkit.Retry(1, 0))
	nestedTimeoutNoLimit = execkit.Register("test.policy.nestedtimeout.nolimit", func(ctx context.Context, _ int) (int, error) {
		return 0, fmt.Errorf("nested: %w", execkit.ErrTimeLimit)
	}, execkit.Retry(1, 0))
)

// TestTimeoutsOwnLimitOnly: Stats.Timeouts counts the runs that passed the
// function's own TimeLimit, not those that returned an error wrapping
// ErrTimeLimit from another function's limit (a nested call's): those
// counted, also for a function with no TimeLimit at all.
func TestTimeoutsOwnLimitOnly(t *testing.T) {
	for _, f := range []*execkit.Func[int, int]{nestedTimeout, nestedTimeoutNoLimit} {
		t.Run(f.Name(), func(t *testing.T) {
			var ex execkit.Inline
			_, err := f.Go(context.Background(), &ex, 1).Wait(context.Background())
			if !errors.Is(err, execkit.ErrTimeLimit) {
				t.Fatalf("err = %v; want the nested ErrTimeLimit", err)
			}
			if s := ex.Stats(); s.Timeouts != 0 || s.Retries != 1 || s.Failed != 1 {
				t.Errorf("Stats = %+v; want Timeouts 0, Retries 1, Failed 1", s)
			}
		})
	}
}

// TestTimeoutsOwnLimitOnlyVia: the same through an invoker (a call sent
// to another process), whose error comes back rebuilt, matching
// ErrTimeLimit: a nested call's limit, not the function's own, which did
// not pass. For a function with a TimeLimit of its own, any such error
// counted, with the limit timed from the call's start where it runs or
// from when it is sent.
func TestTimeoutsOwnLimitOnlyVia(t *testing.T) {
	for _, fromStart := range []bool{false, true} {
		for _, f := range []*execkit.Func[int, int]{nestedTimeout, nestedTimeoutNoLimit} {
			t.Run(fmt.Sprintf("%s/fromStart=%v", f.Name(), fromStart), func(t *testing.T) {
				sc := xrun.Scope{TimedFromStart: fromStart}
				ctx := xrun.WithScope(context.Background(), &sc)
				calls := 0
				invoke := func(ctx context.Context, name string, payload []byte) ([]byte, error) {
					calls++
					if s := link.StartHook(ctx); s != nil {
						s.Start() // the call starts where it runs
					}
					res, err := driver.Invoke(ctx, name, payload)
					if err != nil {
						err = driver.DecodeError(name, driver.EncodeError(name, err))
					}
					return res, err
				}
				err := driver.RunVia(ctx, f.Task(1).(driver.Portable), invoke)
				if !errors.Is(err, execkit.ErrTimeLimit) || calls != 2 {
					t.Fatalf("RunVia = %v after %d calls; want the nested ErrTimeLimit after 2 (Retry(1))", err, calls)
				}
				if got := sc.Timeouts(); got != 0 {
					t.Errorf("Timeouts = %d; want 0", got)
				}
				if got := sc.Retries(); got != 1 {
					t.Errorf("Retries = %d; want 1", got)
				}
			})
		}
	}
}

func TestTimeLimitDiscardsLateResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ex execkit.Inline
		v, err := deafPolicy.Go(context.Background(), &ex, 1).Wait(context.Background())
		if !errors.Is(err, execkit.ErrTimeLimit) || v != 0 {
			t.Errorf("got %d, %v; want 0, ErrTimeLimit", v, err)
		}
	})
}

func TestRetry(t *testing.T) {
	for _, c := range []struct {
		name      string
		fail, arg int
		wantCalls int64
		wantErr   error
		retries   int64
	}{
		{"succeeds", 0, 1, 1, nil, 0},
		{"second retry succeeds", 2, 1, 3, nil, 2},
		{"budget spent", 3, 1, 3, errFlaky, 2},
		{"permanent", 3, -1, 1, errFlaky, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				policyCalls.Store(0)
				policyFail.Store(int64(c.fail))
				var ex execkit.Inline
				_, err := flakyPolicy.Go(context.Background(), &ex, c.arg).Wait(context.Background())
				if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
					t.Errorf("err = %v; want %v", err, c.wantErr)
				}
				if got := policyCalls.Load(); got != c.wantCalls {
					t.Errorf("%d calls; want %d", got, c.wantCalls)
				}
				if got := ex.Stats().Retries; got != c.retries {
					t.Errorf("Stats.Retries = %d; want %d", got, c.retries)
				}
				// Task (no Future) takes the same path.
				policyCalls.Store(0)
				var errs []error
				ex2 := execkit.Inline{OnError: func(err error) { errs = append(errs, err) }}
				_ = ex2.Submit(context.Background(), flakyPolicy.Task(c.arg))
				if got := policyCalls.Load(); got != c.wantCalls {
					t.Errorf("Task: %d calls; want %d", got, c.wantCalls)
				}
			})
		})
	}
}

func TestRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var a, b execkit.Inline
		start := time.Now()
		for i := range 5 {
			if _, err := ratePolicy.Go(context.Background(), &a, i).Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 400*time.Millisecond {
			t.Errorf("5 calls at 10/s took %v; want 400ms (the first at once)", d)
		}
		start = time.Now()
		if _, err := ratePolicy.Go(context.Background(), &b, 1).Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("another executor's first call waited %v; want 0 (a bucket per executor)", d)
		}
	})
}

// Functions limited by RateLimit with an untyped constant, an int and a
// float64: the same limit as "10/s".
var (
	rateInt   = execkit.Register("test.policy.rate.int", func(context.Context, int) (int, error) { return 0, nil }, execkit.RateLimit(10))
	rateFloat = execkit.Register("test.policy.rate.float", func(context.Context, int) (int, error) { return 0, nil }, execkit.RateLimit(10.0))
	rateNamed = execkit.Register("test.policy.rate.named", func(context.Context, int) (int, error) { return 0, nil }, execkit.RateLimit(perSecond(10)))
	rateHalf  = execkit.Register("test.policy.rate.half", func(context.Context, int) (int, error) { return 0, nil }, execkit.RateLimit(0.5))
)

// perSecond is a named int type, which RateLimit takes too.
type perSecond int

// TestRateLimitNumbers: RateLimit takes untyped constants, ints and
// float64s (named or not) as calls per second, as it takes a rate.Limit.
func TestRateLimitNumbers(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    *execkit.Func[int, int]
		want time.Duration // for 3 calls, the first at once
	}{
		{"RateLimit(10)", rateInt, 200 * time.Millisecond},
		{"RateLimit(10.0)", rateFloat, 200 * time.Millisecond},
		{"RateLimit(perSecond(10))", rateNamed, 200 * time.Millisecond},
		{"RateLimit(0.5)", rateHalf, 4 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var ex execkit.Inline
				start := time.Now()
				for i := range 3 {
					if _, err := tt.f.Go(context.Background(), &ex, i).Wait(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				if d := time.Since(start); d != tt.want {
					t.Errorf("3 calls took %v; want %v", d, tt.want)
				}
			})
		})
	}
}

func TestPolicyOptionsPanic(t *testing.T) {
	for name, opt := range map[string]execkit.RegisterOption{
		"zero limit":       execkit.TimeLimit(0),
		"negative retries": execkit.Retry(-1),
		"negative backoff": execkit.Retry(1, -time.Second),
		"three backoffs":   execkit.Retry(1, 1, 2, 3),
		"bad rate":         execkit.RateLimit("ten/s"),
		"bad interval":     execkit.RateLimit("10/fortnight"),
		"zero rate":        execkit.RateLimit(rate.Limit(0)),
		"zero int rate":    execkit.RateLimit(0),
		"negative rate":    execkit.RateLimit(-2.5),
		"NaN rate":         execkit.RateLimit(math.NaN()),
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("Register with %s did not panic", name)
				}
			}()
			execkit.Register("test.policy.bad."+name, func(context.Context, int) (int, error) { return 0, nil }, opt)
		})
	}
}

// napPolicy sleeps n milliseconds under a 100ms limit, watching its ctx.
var napPolicy = execkit.Register("test.policy.napstart", func(ctx context.Context, n int) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(time.Duration(n) * time.Millisecond):
		return n, nil
	}
}, execkit.TimeLimit(100*time.Millisecond))

// TestTimeLimitFromStartHook: through an invoker of an executor whose
// scope starts the clock itself (as subprocess.Pool's does), an attempt's
// limit runs from the start hook, not from when the call is sent: a call
// queued 500ms that then runs 50ms succeeds; one that runs 150ms after its
// start fails with ErrTimeLimit, counted; one never started is not limited
// by the policy.
func TestTimeLimitFromStartHook(t *testing.T) {
	for _, tc := range []struct {
		name    string
		queued  time.Duration // before the hook is called
		start   bool          // whether the invoker calls the hook
		run     int           // the function's milliseconds
		timeout bool
	}{
		{"queued long, runs within", 500 * time.Millisecond, true, 50, false},
		{"runs past", 0, true, 150, true},
		{"queued, runs past", 300 * time.Millisecond, true, 150, true},
		{"never started", 0, false, 150, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sc := &xrun.Scope{TimedFromStart: true}
				ctx := xrun.WithScope(context.Background(), sc)
				var startedAt time.Time
				invoke := func(ctx context.Context, name string, payload []byte) ([]byte, error) {
					time.Sleep(tc.queued)
					if ctx.Err() != nil {
						t.Errorf("the attempt's ctx ended while queued: %v", context.Cause(ctx))
					}
					if tc.start {
						startedAt = time.Now()
						link.StartHook(ctx).Start()
					}
					return driver.Invoke(ctx, name, payload)
				}
				err := driver.RunVia(ctx, napPolicy.Task(tc.run).(driver.Portable), invoke)
				if tc.timeout {
					if !errors.Is(err, execkit.ErrTimeLimit) || !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("err = %v; want ErrTimeLimit and DeadlineExceeded", err)
					}
					if d := time.Since(startedAt); d != 100*time.Millisecond {
						t.Errorf("failed %v after the start; want the 100ms limit", d)
					}
				} else if err != nil {
					t.Fatalf("err = %v; want nil", err)
				}
				want := int64(0)
				if tc.timeout {
					want = 1
				}
				if got := sc.Timeouts(); got != want {
					t.Errorf("Timeouts = %d; want %d", got, want)
				}
			})
		})
	}
}

var (
	cancelReturned atomic.Bool  // this round's Cancel has returned
	lateAttempts   atomic.Int64 // attempts of spinPolicy begun after it
	spinStarted    = make(chan struct{}, 1)

	// spinPolicy always fails and is retried at once, for ever.
	spinPolicy = execkit.Register("test.policy.spin", func(ctx context.Context, _ int) (int, error) {
		if cancelReturned.Load() {
			lateAttempts.Add(1)
			if ctx.Err() == nil {
				panic("an attempt begun after Cancel returned has a live ctx")
			}
		}
		select {
		case spinStarted <- struct{}{}:
		default:
		}
		return 0, errFlaky
	}, execkit.Retry(1<<30, 0, 0))
)

// goExec runs each task in a goroutine of its own; wg counts them.
type goExec struct{ wg *sync.WaitGroup }

func (e goExec) Submit(ctx context.Context, t execkit.Task) error {
	e.wg.Go(func() { _ = driver.Run(ctx, t) })
	return nil
}

func (goExec) Shutdown(context.Context) error { return nil }

// TestRetryNotAfterCancel: once a Future is cancelled, its retried task
// stops: no attempt begins after Cancel returned, but for one whose start
// raced with it, and that one's ctx has already ended. Without the check
// before each retry, a retry with no backoff ran on and on.
func TestRetryNotAfterCancel(t *testing.T) {
	for range 200 {
		var wg sync.WaitGroup
		cancelReturned.Store(false)
		lateAttempts.Store(0)
		f := spinPolicy.Go(context.Background(), goExec{&wg}, 0)
		<-spinStarted
		f.Cancel()
		cancelReturned.Store(true)
		wg.Wait() // the task has returned
		if n := lateAttempts.Load(); n > 1 {
			t.Fatalf("%d attempts began after Cancel returned; want at most the one racing with it", n)
		}
		if _, err := f.Wait(context.Background()); err == nil {
			t.Fatal("Wait = nil; want the last attempt's error")
		}
	}
}

// TestRateLimitDeadline: a call whose token would come after its ctx's
// deadline fails at once with an error matching DeadlineExceeded, on the
// first attempt; a retry that cannot get its token returns the last
// attempt's error.
func TestRateLimitDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ex execkit.Inline
		if _, err := ratePolicy.Go(context.Background(), &ex, 1).Wait(context.Background()); err != nil {
			t.Fatal(err) // takes the bucket's token
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := ratePolicy.Go(ctx, &ex, 2).Wait(context.Background())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a token after the deadline: got %v; want an error matching DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("it failed after %v; want at once", d)
		}
	})
}

// rateRetry fails every time, under a rate limit of one call a minute.
var rateRetry = execkit.Register("test.policy.rateretry", func(context.Context, int) (int, error) {
	return 0, errFlaky
}, execkit.Retry(1, 0, 0), execkit.RateLimit("1/m"))

// TestRateLimitRetryToken: a retry whose token would come after the ctx's
// deadline does not run, and the call fails with the last attempt's error,
// not the rate limit's.
func TestRateLimitRetryToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ex execkit.Inline
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := rateRetry.Go(ctx, &ex, 1).Wait(context.Background())
		if !errors.Is(err, errFlaky) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v; want the first attempt's error, not the rate limit's", err)
		}
	})
}

// countingCodec is gob, except that Marshal fails for a negative int, and
// counts its calls.
type countingCodec struct{ marshals *atomic.Int64 }

func (c countingCodec) Marshal(v any) ([]byte, error) {
	c.marshals.Add(1)
	if n, ok := v.(int); ok && n < 0 {
		return nil, errors.New("no negative numbers")
	}
	return execkit.GobCodec{}.Marshal(v)
}

func (countingCodec) Unmarshal(b []byte, p any) error { return execkit.GobCodec{}.Unmarshal(b, p) }

var (
	hopelessMarshals atomic.Int64
	hopelessPolicy   = execkit.Register("test.policy.hopeless", func(ctx context.Context, n int) (int, error) {
		return n, nil
	}, execkit.UseCodec(countingCodec{&hopelessMarshals}), execkit.Retry(3, time.Millisecond))
)

// TestRetryNotHopeless: Retry does not try again a call that could not be
// made: an argument the codec refuses (ErrPayload), a result that does not
// decode (ErrPayload), a function the place it runs does not know
// (ErrNotRegistered). Each fails the same way every time.
func TestRetryNotHopeless(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int64
	for _, c := range []struct {
		name   string
		arg    int
		invoke driver.Invoker
		want   error
	}{
		{"argument", -1, driver.Invoke, execkit.ErrPayload},
		{"result", 1, func(context.Context, string, []byte) ([]byte, error) {
			calls.Add(1)
			return []byte{0xff, 0x00}, nil
		}, execkit.ErrPayload},
		{"unregistered", 1, func(ctx context.Context, _ string, payload []byte) ([]byte, error) {
			calls.Add(1)
			return driver.Invoke(ctx, "test.policy.nowhere", payload)
		}, execkit.ErrNotRegistered},
	} {
		t.Run(c.name, func(t *testing.T) {
			hopelessMarshals.Store(0)
			calls.Store(0)
			ex := viaExecutor{&execkit.Inline{OnError: func(error) {}}, c.invoke}
			if _, err := hopelessPolicy.Go(ctx, ex, c.arg).Wait(ctx); !errors.Is(err, c.want) {
				t.Fatalf("Wait = %v; want an error wrapping %v", err, c.want)
			}
			if got := hopelessMarshals.Load(); got != 1 {
				t.Errorf("the argument was encoded %d times; want 1 (no retry)", got)
			}
			if c.arg >= 0 && calls.Load() != 1 {
				t.Errorf("the call was made %d times; want 1 (no retry)", calls.Load())
			}
		})
	}
}

// foreverAttempts receives each attempt of retryForever.
var foreverAttempts = make(chan struct{}, 2)

// retryForever fails and retries after a wait of up to math.MaxInt64.
var retryForever = execkit.Register("test.policy.retryForever", func(context.Context, int) (int, error) {
	foreverAttempts <- struct{}{}
	return 0, errors.New("test: fails")
}, execkit.Retry(1, math.MaxInt64, math.MaxInt64))

// The largest backoffs Retry accepts make a retry wait (until the caller
// gives up), not fail: the draw of the wait overflowed and panicked, so
// the call failed with a *PanicError after its first attempt.
func TestRetryLargestBackoff(t *testing.T) {
	ex := &execkit.Inline{}
	futures := make(chan *execkit.Future[int])
	go func() { futures <- retryForever.Go(context.Background(), ex, 1) }() // Inline runs it in Go
	<-foreverAttempts
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	_ = ex.Shutdown(ended) // cancels the task's ctx, ending the retry's wait
	_, err := (<-futures).Wait(context.Background())
	var pe *execkit.PanicError
	if errors.As(err, &pe) || err == nil || err.Error() != "test: fails" {
		t.Errorf("Wait = %v; want the attempt's error, the retry's wait ended by Cancel", err)
	}
}

// slowResult is the result of slowCodecFunc: slowCodec takes codecDelay to
// encode or decode it.
type slowResult struct{ N int }

const codecDelay = time.Second

// slowCodec is GobCodec, codecDelay slower for a slowResult.
type slowCodec struct{ execkit.GobCodec }

func (c slowCodec) Marshal(v any) ([]byte, error) {
	if _, ok := v.(slowResult); ok {
		time.Sleep(codecDelay)
	}
	return c.GobCodec.Marshal(v)
}

func (c slowCodec) Unmarshal(data []byte, v any) error {
	if _, ok := v.(*slowResult); ok {
		time.Sleep(codecDelay)
	}
	return c.GobCodec.Unmarshal(data, v)
}

// slowCodecFunc returns at once, well within its limit; its result takes
// longer than the limit to encode or decode.
var slowCodecFunc = execkit.Register("test.policy.slowcodec", func(_ context.Context, n int) (slowResult, error) {
	return slowResult{n + 1}, nil
}, execkit.TimeLimit(100*time.Millisecond), execkit.UseCodec(slowCodec{}))

// TestTimeLimitByReturn: a function that returned within its TimeLimit is
// never reported as timed out, though the limit passes before its attempt
// ends (its result being encoded where it ran, or decoded where it was
// sent from): the limit's timer fired between its return and the check,
// and the call failed with ErrTimeLimit, counted in Timeouts.
func TestTimeLimitByReturn(t *testing.T) {
	t.Run("InvokeAttempt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			payload, err := slowCodecFunc.Codec().Marshal(1)
			if err != nil {
				t.Fatal(err)
			}
			res, timedOut, err := driver.InvokeAttempt(context.Background(), slowCodecFunc.Name(), payload)
			if err != nil || timedOut {
				t.Fatalf("InvokeAttempt = %v (timed out: %v); want the result of a function that returned at once", err, timedOut)
			}
			var out slowResult
			if err := (execkit.GobCodec{}).Unmarshal(res, &out); err != nil || out.N != 2 {
				t.Fatalf("result %+v, %v; want {N:2}", out, err)
			}
		})
	})
	t.Run("invoker", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var sc xrun.Scope
			ctx := xrun.WithScope(context.Background(), &sc)
			invoke := func(ctx context.Context, name string, payload []byte) ([]byte, error) {
				return (execkit.GobCodec{}).Marshal(slowResult{2}) // the function returned at once
			}
			if err := driver.RunVia(ctx, slowCodecFunc.Task(1).(driver.Portable), invoke); err != nil {
				t.Fatalf("RunVia = %v; want nil: the call returned at once", err)
			}
			if got := sc.Timeouts(); got != 0 {
				t.Errorf("Timeouts = %d; want 0", got)
			}
		})
	})
}
