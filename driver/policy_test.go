package driver_test

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"golang.org/x/time/rate"
)

var (
	// slowRuns counts the runs of slow; failRuns those of alwaysFails.
	slowRuns, failRuns atomic.Int64

	// slow ignores its ctx: only the time limit's error stops its call.
	slow = execkit.Register("driver_test.slow", func(_ context.Context, d time.Duration) (string, error) {
		slowRuns.Add(1)
		time.Sleep(d)
		return "late", nil
	}, execkit.TimeLimit(10*time.Millisecond), execkit.RateLimit("100/s"))

	alwaysFails = execkit.Register("driver_test.alwaysFails", func(context.Context, int) (int, error) {
		failRuns.Add(1)
		return 0, errors.New("driver_test: fails")
	}, execkit.Retry(2, 5*time.Millisecond, 40*time.Millisecond))

	// nestedLimit returns, as is, the error of slow's call past its own
	// limit (a nested call's), within a limit of its own.
	nestedLimit = execkit.Register("driver_test.nestedLimit", func(ctx context.Context, d time.Duration) (string, error) {
		var inline execkit.Inline
		return slow.Go(ctx, &inline, d).Wait(ctx)
	}, execkit.TimeLimit(time.Hour))

	// retryZero declares Retry(0): no retries, whatever the executor's default.
	retryZero = execkit.Register("driver_test.retryZero", func(context.Context, int) (int, error) { return 0, nil }, execkit.Retry(0))
)

func TestPolicyOf(t *testing.T) {
	tests := []struct {
		name string
		want driver.Policy
		ok   bool
	}{
		{slow.Name(), driver.Policy{TimeLimit: 10 * time.Millisecond, RateLimit: rate.Limit(100)}, true},
		{alwaysFails.Name(), driver.Policy{Retry: true, Retries: 2, Backoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}, true},
		{retryZero.Name(), driver.Policy{Retry: true, Backoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second}, true},
		{greet.Name(), driver.Policy{}, false},
		{"driver_test.none", driver.Policy{}, false},
	}
	for _, tt := range tests {
		if got, ok := driver.PolicyOf(tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("PolicyOf(%q) = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPolicyDelay(t *testing.T) {
	p := driver.Policy{Backoff: 4 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}
	for k, ceiling := range map[int]time.Duration{1: 4 * time.Millisecond, 2: 8 * time.Millisecond, 3: 10 * time.Millisecond, 40: 10 * time.Millisecond} {
		for range 1000 {
			if d := p.Delay(k); d < 0 || d > ceiling {
				t.Fatalf("Delay(%d) = %v; want it in [0, %v]", k, d, ceiling)
			}
		}
	}
	// Long runs of retries: the ceiling stays at MaxBackoff, never
	// overflowing into a zero wait.
	long := driver.Policy{Backoff: time.Hour, MaxBackoff: 24 * time.Hour}
	for _, k := range []int{23, 25, 31, 40, 63, 64, 1000} {
		var most time.Duration
		for range 200 {
			d := long.Delay(k)
			if d < 0 || d > 24*time.Hour {
				t.Fatalf("Delay(%d) with Backoff 1h, MaxBackoff 24h = %v; want it in [0, 24h]", k, d)
			}
			most = max(most, d)
		}
		if most < time.Hour {
			t.Errorf("Delay(%d) with Backoff 1h, MaxBackoff 24h: at most %v in 200 draws; want draws up to 24h, not an overflowed ceiling", k, most)
		}
	}
	// The largest durations Retry accepts: the draw's bound, ceiling+1,
	// overflowed and rand.N panicked ("invalid argument to N"), in the
	// call (a *PanicError instead of a retry) and in riverexec's NextRetry.
	huge := driver.Policy{Backoff: math.MaxInt64, MaxBackoff: math.MaxInt64}
	for _, k := range []int{1, 2, 64, 1000} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Delay(%d) with Backoff and MaxBackoff math.MaxInt64 panicked: %v", k, r)
				}
			}()
			if d := huge.Delay(k); d < 0 {
				t.Errorf("Delay(%d) with Backoff and MaxBackoff math.MaxInt64 = %v; want it in [0, MaxInt64]", k, d)
			}
		}()
	}
	if d := (driver.Policy{}).Delay(1); d != 0 {
		t.Errorf("zero Policy: Delay(1) = %v; want 0", d)
	}
}

// TestInvokeAttempt: one attempt, under the time limit (the late result
// discarded, timedOut reported), and never retried.
func TestInvokeAttempt(t *testing.T) {
	ctx := context.Background()
	payload, err := slow.Codec().Marshal(300 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	res, timedOut, err := driver.InvokeAttempt(ctx, slow.Name(), payload)
	if res != nil || !timedOut || !errors.Is(err, execkit.ErrTimeLimit) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("InvokeAttempt past the time limit = %q, %v, %v; want nil, true, an error wrapping ErrTimeLimit", res, timedOut, err)
	}
	before := failRuns.Load()
	payload, _ = alwaysFails.Codec().Marshal(1)
	if _, timedOut, err := driver.InvokeAttempt(ctx, alwaysFails.Name(), payload); err == nil || timedOut || failRuns.Load()-before != 1 {
		t.Errorf("InvokeAttempt of a failing function with Retry(2) = %v, %v after %d runs; want false, its error after 1", timedOut, err, failRuns.Load()-before)
	}
	if _, timedOut, err := driver.InvokeAttempt(ctx, "driver_test.none", nil); timedOut || !errors.Is(err, execkit.ErrNotRegistered) {
		t.Errorf("InvokeAttempt(unknown) = %v, %v; want false, ErrNotRegistered", timedOut, err)
	}
}

// TestInvokeAttemptNestedLimit: a function that returns the error of a
// nested call's time limit fails with it (wrapping ErrTimeLimit), but
// InvokeAttempt does not report its own limit passing: an executor that
// counted timeouts by the error counted the nested call's as its own.
func TestInvokeAttemptNestedLimit(t *testing.T) {
	payload, err := nestedLimit.Codec().Marshal(300 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	res, timedOut, err := driver.InvokeAttempt(context.Background(), nestedLimit.Name(), payload)
	if res != nil || timedOut || !errors.Is(err, execkit.ErrTimeLimit) {
		t.Errorf("InvokeAttempt of a function returning a nested call's ErrTimeLimit = %q, %v, %v; want nil, false (not its own limit), an error wrapping ErrTimeLimit", res, timedOut, err)
	}
}

// TestRunViaOnce: the invoker is called once, with no policy around it;
// RunVia applies the Func's Retry on the sending side.
func TestRunViaOnce(t *testing.T) {
	for _, tt := range []struct {
		name  string
		run   func(context.Context, driver.Portable, driver.Invoker) error
		calls int
	}{{"RunVia", driver.RunVia, 3}, {"RunViaOnce", driver.RunViaOnce, 1}} {
		calls := 0
		invoke := func(context.Context, string, []byte) ([]byte, error) {
			calls++
			return nil, errors.New("driver_test: the other side failed")
		}
		if err := tt.run(context.Background(), alwaysFails.Task(1).(driver.Portable), invoke); err == nil || calls != tt.calls {
			t.Errorf("%s of a Retry(2) Func failing = %v after %d calls; want its error after %d", tt.name, err, calls, tt.calls)
		}
	}
}

// TestPolicyNilCtx: InvokeAttempt and RunViaOnce take a nil ctx as
// context.Background, as Invoke and RunVia do.
func TestPolicyNilCtx(t *testing.T) {
	var nilCtx context.Context
	payload, err := slow.Codec().Marshal(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := driver.InvokeAttempt(nilCtx, slow.Name(), payload); err != nil {
		t.Errorf("InvokeAttempt(nil ctx) = %v; want nil", err)
	}
	invoke := func(ctx context.Context, name string, payload []byte) ([]byte, error) {
		return driver.Invoke(ctx, name, payload)
	}
	if err := driver.RunViaOnce(nilCtx, slow.Task(time.Millisecond).(driver.Portable), invoke); err != nil {
		t.Errorf("RunViaOnce(nil ctx) = %v; want nil", err)
	}
}
