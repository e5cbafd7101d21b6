package execkit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/execkit/execkit/internal/link"
	"golang.org/x/time/rate"

	"github.com/execkit/execkit/internal/errtext"
)

// Task policies are declared once, with [Register], and hold wherever the
// function runs: the package doc's "Task policies" has the table of what
// each executor guarantees.

// ErrTimeLimit is wrapped by the error of a call of a registered function
// that ran past the limit declared with [TimeLimit]. It wraps
// [context.DeadlineExceeded], so errors.Is(err, context.DeadlineExceeded)
// holds too; errors.Is(err, ErrTimeLimit) tells the function's own limit
// from the caller's deadline.
var ErrTimeLimit = fmt.Errorf("execkit: time limit exceeded: %w", context.DeadlineExceeded)

// ErrPermanent marks an error as not worth retrying: a function registered
// with [Retry] whose error wraps it fails at once, as in
//
//	return fmt.Errorf("%w: %w", execkit.ErrPermanent, err)
//
// (errors.Is then matches both). It is matched across a process boundary
// like the sentinels declared with [Errors].
var ErrPermanent = errors.New("execkit: permanent error")

// policy is a Func's declared policy; a Func without one has a nil policy,
// and its calls take the path they took before policies existed.
type policy struct {
	timeLimit  time.Duration
	retry      bool // Retry was declared (Retry(0) too)
	retries    int
	backoff    time.Duration // the first retry's delay, at most (full jitter)
	maxBackoff time.Duration
	limit      rate.Limit // 0: no rate limit
	fallback   *rate.Limiter
}

type timeLimitOption time.Duration

func (o timeLimitOption) apply(c *registerConfig) {
	if o <= 0 {
		c.policyErr = fmt.Sprintf("TimeLimit(%v) is not positive", time.Duration(o))
	}
	c.pol().timeLimit = time.Duration(o)
}

// TimeLimit limits each run (attempt) of a registered function to d: at d
// the function's ctx is cancelled, and the call fails with an error
// wrapping [ErrTimeLimit], even if the function, ignoring its ctx, returns
// later with a result (which is discarded). In-process executors can only
// cancel the ctx (cooperative); subprocess.Pool also kills a worker whose
// function does not return within a grace period after that (hard). Every
// executor times the limit from when the attempt starts running: waiting
// for a free or respawned worker, or in a queue, does not count toward it.
// A timed-out attempt is retried like any other failure when [Retry]
// allows.
// Register panics when d <= 0.
func TimeLimit(d time.Duration) RegisterOption { return timeLimitOption(d) }

type retryOption struct {
	n       int
	backoff []time.Duration
}

func (o retryOption) apply(c *registerConfig) {
	if o.n < 0 || len(o.backoff) > 2 || slices.ContainsFunc(o.backoff, func(d time.Duration) bool { return d < 0 }) {
		c.policyErr = fmt.Sprintf("Retry(%d, %v): want n >= 0 and at most two non-negative backoffs", o.n, o.backoff)
	}
	p := c.pol()
	p.retry, p.retries = true, o.n
	p.backoff, p.maxBackoff = 100*time.Millisecond, 10*time.Second
	if len(o.backoff) > 0 {
		p.backoff = o.backoff[0]
		p.maxBackoff = max(p.backoff, p.maxBackoff)
	}
	if len(o.backoff) > 1 {
		p.maxBackoff = o.backoff[1]
	}
}

// Retry runs a registered function up to n more times when it fails,
// where it runs, without going back through the caller or the executor's
// queue (on riverexec, as the job's own attempts). Before retry k (from 1) it waits a random time between zero and
// backoff[0]·2^(k-1) (default 100ms), at most backoff[1] (default 10s):
// exponential backoff with full jitter, as Celery's retry_backoff. It does
// not retry an error wrapping [ErrPermanent], a panic, an error wrapping
// [ErrPayload] or [ErrNotRegistered] (the call could not be made, and
// would fail the same way again), or any error once
// the task's ctx has ended (the caller gave up, the executor shut down:
// checked after each attempt and again before the next one starts, so no
// attempt begins after a cancellation but one whose start raced with it,
// which finds its ctx ended); the call's error is the last attempt's. Register panics when n < 0, a
// backoff is negative, or more than two are given.
func Retry(n int, backoff ...time.Duration) RegisterOption {
	return retryOption{n: n, backoff: backoff}
}

type rateOption struct {
	limit rate.Limit
	err   string
}

func (o rateOption) apply(c *registerConfig) {
	if o.err != "" {
		c.policyErr = o.err
	} else if !(o.limit > 0) {
		c.policyErr = fmt.Sprintf("RateLimit(%v) is not positive", o.limit)
	}
	c.pol().limit = o.limit
}

// RateLimit lets calls of a registered function start at most at limit:
// a number of calls per second (RateLimit(1000), RateLimit(0.5), a
// [rate.Limit], or a value of any type whose underlying type is float64
// or int) or a string as Celery writes it: "10/s", "100/m", "1000/h", or
// a Go duration after the slash ("5/100ms"). The
// bucket holds one token, so starts are spread evenly. Each executor keeps
// its own bucket per function (a retry takes a token too): two executors
// in one process, or riverexec's several worker processes, each start up
// to the limit; a subprocess pool keeps one for all its workers, its
// Map included. A task run by an executor that is not execkit's (it does
// not call driver.Run from a context of its own) shares one bucket per
// function. A call waits for its token in the executor's worker, holding
// its slot, and fails with the ctx's error if the ctx ends first; when
// the token would come only after the ctx's deadline, it fails at once with
// an error wrapping context.DeadlineExceeded. A retry that cannot get its
// token fails with the last attempt's error. Register panics when limit is not positive or the string does not parse.
func RateLimit[L ~float64 | ~int | string](limit L) RegisterOption {
	// The type set holds named types (rate.Limit is a float64): tell them
	// by kind.
	switch v := reflect.ValueOf(limit); v.Kind() {
	case reflect.Float64:
		return rateOption{limit: rate.Limit(v.Float())}
	case reflect.Int:
		return rateOption{limit: rate.Limit(v.Int())}
	default:
		r, err := parseRate(v.String())
		if err != nil {
			return rateOption{err: err.Error()}
		}
		return rateOption{limit: r}
	}
}

func parseRate(s string) (rate.Limit, error) {
	num, per, ok := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || n <= 0 {
		return 0, fmt.Errorf("RateLimit(%q): want N/interval, as 10/s", s)
	}
	var d time.Duration
	switch per {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	default:
		if d, err = time.ParseDuration(per); err != nil || d <= 0 {
			return 0, fmt.Errorf("RateLimit(%q): the interval is s, m, h or a positive duration", s)
		}
	}
	return rate.Limit(n / d.Seconds()), nil
}

func (c *registerConfig) pol() *policy {
	if c.policy == nil {
		c.policy = &policy{}
	}
	return c.policy
}

// limiter returns the bucket of f's calls on the executor behind sc, or
// the one shared by executors without a scope.
func (p *policy) limiter(sc link.Scope, key any) *rate.Limiter {
	if sc == nil {
		return p.fallback
	}
	return sc.Local(key, func() any { return rate.NewLimiter(p.limit, 1) }).(*rate.Limiter)
}

// scopeOf returns the executor scope ctx carries, if any.
func scopeOf(ctx context.Context) link.Scope {
	sc, _ := ctx.Value(link.ScopeKey{}).(link.Scope)
	return sc
}

// runPolicy calls fn under p: a token, then attempts under the time limit,
// retried with backoff. key names the function in the executor's scope.
// With crossing, fn sends the call to where it runs: if the executor's
// scope starts the clock itself (link.StartsClock), each attempt's time
// limit is armed by the start hook it finds in the attempt's ctx.
func runPolicy[Out any](ctx context.Context, p *policy, name string, key any, crossing bool, fn func(context.Context) (Out, error)) (out Out, err error) {
	sc := scopeOf(ctx)
	fromStart := false
	if cs, ok := sc.(link.StartsClock); ok && crossing {
		fromStart = cs.StartsClock()
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 && ctx.Err() != nil {
			return out, err // given up during the backoff: no attempt starts after
		}
		if p.limit != 0 {
			if werr := p.token(ctx, sc, key, name); werr != nil {
				if attempt > 0 {
					return out, err // the last attempt's error, as after a backoff
				}
				var zero Out
				return zero, werr
			}
		}
		var timedOut bool
		out, timedOut, err = attemptOnce(ctx, p, name, fromStart, fn)
		// A timeout is this function's own limit passing, which
		// attemptOnce decides: for a call sent elsewhere too, since the
		// limit's clock is kept here (the other side only carries it out).
		// An error wrapping ErrTimeLimit that the function returned (a
		// nested call's, as is or wrapped) is not one, whatever side of
		// a process boundary it comes from.
		if sc != nil && timedOut {
			sc.CountTimeout()
		}
		if err == nil || attempt >= p.retries || ctx.Err() != nil || hopeless(err) {
			return out, err
		}
		if sc != nil {
			sc.CountRetry()
		}
		if d := backoffDelay(p.backoff, p.maxBackoff, attempt+1); d > 0 {
			if yield := link.YieldHook(ctx); yield != nil {
				yield() // it waits for no executor now: see link.YieldKey
			}
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return out, err
			case <-t.C:
			}
		}
	}
}

// hopeless reports whether err is one that another attempt cannot mend:
// the function said so (ErrPermanent), it panicked, or the call could not
// be made (its argument or result does not cross the process boundary, or
// the function is not registered where it runs), which fails the same way
// each time.
func hopeless(err error) bool {
	return errtext.Is(err, ErrPermanent) || isPanic(err) || errtext.Is(err, ErrPayload) || errtext.Is(err, ErrNotRegistered)
}

// token waits for a token of the rate limit of name's calls on the
// executor behind sc. It returns ctx.Err() if ctx ends first, and at once
// an error wrapping context.DeadlineExceeded (and x/time/rate's own) when
// the token would come after ctx's deadline.
func (p *policy) token(ctx context.Context, sc link.Scope, key any, name string) error {
	lim := p.limiter(sc, key)
	if yield := link.YieldHook(ctx); yield != nil && lim.Tokens() < 1 {
		// It will wait, for no executor: see link.YieldKey. (A token
		// taken by another call between here and Wait makes it wait
		// without having yielded, at most one interval.) Only where an
		// executor gave a hook: elsewhere Tokens would cost a lock and a
		// clock reading per call for nothing.
		yield()
	}
	err := lim.Wait(ctx)
	// x/time/rate's "would exceed context deadline" wraps nothing: tell it
	// by the error itself, not by ctx.Err(), which may change meanwhile.
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("execkit: %q: %w (%w)", name, context.DeadlineExceeded, err)
	}
	return err
}

// backoffDelay is the wait before retry k (from 1): random in [0,
// min(backoff·2^(k-1), maxBackoff)], exponential backoff with full jitter.
func backoffDelay(backoff, maxBackoff time.Duration, k int) time.Duration {
	ceiling := maxBackoff
	if shift := min(max(k-1, 0), 62); backoff <= maxBackoff>>shift {
		ceiling = backoff << shift // cannot overflow: at most maxBackoff
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Uint64N(uint64(ceiling) + 1)) // ceiling+1 as a Duration overflows at math.MaxInt64
}

// attemptOnce runs fn once under p's time limit, recovering a panic, and
// reports whether the limit passed (the error then wraps ErrTimeLimit). The
// limit runs from now, or, with fromStart, from when the executor calls the
// start hook it finds in fn's ctx (link.StartKey).
//
// Whether the limit passed is decided by when fn returned, read as it
// returns, not by the limit's timer: a timer that fires after fn returned
// in time, before the attempt ends, must not turn its result into a
// timeout. fn ran past its limit when it returned at or after the limit's
// end (whether or not it returned its ctx's error), while ctx had not
// ended.
func attemptOnce[Out any](ctx context.Context, p *policy, name string, fromStart bool, fn func(context.Context) (Out, error)) (out Out, timedOut bool, err error) {
	if p.timeLimit <= 0 {
		defer func() {
			if r := recover(); r != nil {
				err = newPanicError(r)
			}
		}()
		out, err = fn(ctx)
		return out, false, err
	}
	var (
		actx   context.Context
		passed func(at time.Time) bool // the limit had passed at at
	)
	if fromStart {
		var c *clock
		actx, c = startClock(ctx, p.timeLimit)
		defer c.stop()
		passed = c.passed
	} else {
		end := time.Now().Add(p.timeLimit)
		var cancel context.CancelFunc
		actx, cancel = context.WithDeadlineCause(ctx, end, ErrTimeLimit)
		defer cancel()
		passed = func(at time.Time) bool { return !at.Before(end) }
	}
	returned := false
	var late bool // fn returned past its limit, ctx live
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(r)
		}
		if returned && late {
			var zero Out
			out, timedOut, err = zero, true, fmt.Errorf("%w: %q ran past its %v limit", ErrTimeLimit, name, p.timeLimit)
		}
	}()
	out, err = fn(actx)
	late = passed(time.Now()) && ctx.Err() == nil
	returned = true
	return out, false, err
}

// startClock returns a ctx that is cancelled with cause ErrTimeLimit d
// after the start hook it carries (link.StartKey: the clock) is first
// called, and the clock, whose stop ends it; the hook does nothing once
// stop was called.
func startClock(ctx context.Context, d time.Duration) (actx context.Context, c *clock) {
	c = &clock{d: d}
	actx, c.cancel = context.WithCancelCause(ctx)
	return context.WithValue(actx, link.StartKey{}, link.Starter(c)), c
}

// clock is an attempt's time limit, armed when the call starts.
type clock struct {
	d       time.Duration
	cancel  context.CancelCauseFunc
	mu      sync.Mutex
	timer   *time.Timer
	end     time.Time // when the limit passes, once armed
	stopped bool
}

// passed reports whether the clock was armed and its limit had passed at at.
func (c *clock) passed(at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timer != nil && !at.Before(c.end)
}

// Limit implements link.Starter.
func (c *clock) Limit() time.Duration { return c.d }

// Start implements link.Starter.
func (c *clock) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer == nil && !c.stopped {
		c.end = time.Now().Add(c.d)
		c.timer = time.AfterFunc(c.d, func() { c.cancel(ErrTimeLimit) })
	}
}

func (c *clock) stop() {
	c.mu.Lock()
	c.stopped = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	c.cancel(nil)
}

// The policy's mechanisms for executors that carry a call's retries
// themselves (riverexec maps them onto its job queue's attempts): the
// driver functions of the same names document them.
func init() {
	link.PolicyOf = policyOf
	link.InvokeAttempt = invokeAttempt
	link.Backoff = backoffDelay
}

// policied is implemented by every Func: its declared policy, nil without
// one.
type policied interface {
	policyOf() *policy
	invokeAttempt(ctx context.Context, payload []byte) ([]byte, bool, error)
}

func (f *Func[In, Out]) policyOf() *policy { return f.pol }

// invokeAttempt runs one attempt of f under its time limit with an
// encoded argument, and reports whether the limit passed (attemptOnce):
// the argument is decoded before the limit starts and the result encoded
// after f returned, so that the codec's time counts neither toward the
// limit nor as f running past it.
func (f *Func[In, Out]) invokeAttempt(ctx context.Context, payload []byte) ([]byte, bool, error) {
	in, err := decode[In](f.codec, payload)
	if err != nil {
		return nil, false, fmt.Errorf("%w: argument of %q: %w", ErrPayload, f.name, err)
	}
	out, timedOut, err := attemptOnce(ctx, f.pol, f.name, false, func(ctx context.Context) (Out, error) { return f.fn(ctx, in) })
	if err != nil {
		return nil, timedOut, err
	}
	res, err := encode(f.codec, out)
	if err != nil {
		return nil, false, fmt.Errorf("%w: result of %q: %w", ErrPayload, f.name, err)
	}
	return res, false, nil
}

// lookup returns the registry's entry for name.
func lookup(name string) (entry, bool) {
	registry.Lock()
	defer registry.Unlock()
	e, ok := registry.funcs[name]
	return e, ok
}

// policyOf returns the policy declared for the function registered under
// name: driver.PolicyOf documents it.
func policyOf(name string) (link.Policy, bool) {
	e, ok := lookup(name)
	if !ok {
		return link.Policy{}, false
	}
	p := e.(policied).policyOf()
	if p == nil {
		return link.Policy{}, false
	}
	return link.Policy{TimeLimit: p.timeLimit, Retry: p.retry, Retries: p.retries, Backoff: p.backoff, MaxBackoff: p.maxBackoff, RateLimit: p.limit}, true
}

// invokeAttempt runs one attempt of the function registered under name
// under its time limit and rate limit: driver.InvokeAttempt documents it.
func invokeAttempt(ctx context.Context, name string, payload []byte) ([]byte, bool, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	e, ok := lookup(name)
	if !ok {
		return nil, false, fmt.Errorf("%w: %q", ErrNotRegistered, name)
	}
	p := e.(policied).policyOf()
	if p == nil {
		res, err := e.invoke(ctx, payload)
		return res, false, err
	}
	if p.limit != 0 {
		if err := p.token(ctx, scopeOf(ctx), e, name); err != nil {
			return nil, false, err
		}
	}
	return e.(policied).invokeAttempt(ctx, payload)
}
