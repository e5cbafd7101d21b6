package fireforget

import (
	"errors"
	"fmt"
	"time"
)

// An Option changes the behaviour of [New], [Background] or [NewRegistry]
// away from its default. Each option's doc says which of them accept it; the
// others refuse it ([New] and [NewRegistry] return an error, [Background]
// panics). Options are values: the same one may be passed to many calls.
type Option interface {
	apply(*config) error
}

// config collects the options of one constructor call.
type config struct {
	set       optionSet
	limit     int
	reject    bool
	onError   func(error)
	keep      int
	ttl       time.Duration
	maxOutput int
	refresh   time.Duration
}

// optionSet records which options a call received, so that a constructor
// can refuse the ones that do not apply to it.
type optionSet uint8

const (
	optLimit optionSet = 1 << iota
	optReject
	optOnError
	optKeep
	optTTL
	optMaxOutput
	optRefresh
)

var optionNames = map[optionSet]string{
	optLimit:     "Limit",
	optReject:    "RejectAtLimit",
	optOnError:   "OnError",
	optKeep:      "KeepFinished",
	optTTL:       "TTL",
	optMaxOutput: "MaxOutput",
	optRefresh:   "RefreshEvery",
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// Limit caps the tasks running at once at n (n >= 1). Accepted by [New] and
// [Background], where Submit (or the call of the wrapped function) waits for
// a slot unless [RejectAtLimit] is given too, and by [NewRegistry], where it
// caps the unfinished jobs and Start returns [execkit.ErrFull] beyond it. A
// limit below 1 is a configuration error. Without Limit, New and Background
// cap nothing and a Registry caps its unfinished jobs at [DefaultLimit].
//
// A task that waits for a slot of its own limit can deadlock, as with
// x/sync's errgroup.SetLimit: a task that submits to its own Executor (or
// calls its own Background function) while every slot is held, by itself
// and others doing the same, waits for a slot that only its own return
// would free. Such a nested Submit or call returns only when its ctx ends
// (ctx.Err(), or for Background a Thread failed with it) or, on an Executor,
// when Shutdown begins: then a Submit made with the task's own ctx is a
// follow-up and runs in the calling task's goroutine (caller-runs), and any
// other gets [execkit.ErrClosed]. With context.Background() on a Background
// function nothing ends it, and Shutdown waits for the task forever. Pass
// the task's own ctx to the nested call, so that Shutdown ends the wait,
// or use [RejectAtLimit] to get [execkit.ErrFull] at once; a [Registry] never waits, so its jobs may start
// jobs freely.
func Limit(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("fireforget: Limit(%d): the limit must be at least 1", n)
		}
		c.set |= optLimit
		c.limit = n
		return nil
	})
}

// RejectAtLimit makes a caller that finds every slot of [Limit] taken fail
// at once with [execkit.ErrFull] instead of waiting for a slot. Accepted by
// [New] and [Background] (a [Registry] always rejects).
func RejectAtLimit() Option {
	return optionFunc(func(c *config) error {
		c.set |= optReject
		c.reject = true
		return nil
	})
}

// OnError sends the error of every task submitted without a Future
// (including a [*execkit.PanicError]) to fn, called from the goroutine that
// ran the task, instead of logging it with log/slog. fn must be safe for
// concurrent use. Accepted by [New] only. A nil fn is a configuration error.
func OnError(fn func(error)) Option {
	return optionFunc(func(c *config) error {
		if fn == nil {
			return errors.New("fireforget: OnError(nil): the handler must not be nil")
		}
		c.set |= optOnError
		c.onError = fn
		return nil
	})
}

// KeepFinished makes a [Registry] keep at most n finished jobs (n >= 1),
// evicting the oldest finished ones beyond that; the default is
// [DefaultKeepFinished]. Accepted by [NewRegistry] only.
func KeepFinished(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("fireforget: KeepFinished(%d): must keep at least 1 job", n)
		}
		c.set |= optKeep
		c.keep = n
		return nil
	})
}

// TTL makes a [Registry] forget a finished job d after it finished (d > 0);
// the default is [DefaultTTL]. Accepted by [NewRegistry] only.
func TTL(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("fireforget: TTL(%v): the time to live must be positive", d)
		}
		c.set |= optTTL
		c.ttl = d
		return nil
	})
}

// MaxOutput caps the output a [Registry] retains per job at n bytes
// (n >= 2): the first n/2 bytes and the last n/2 are kept, and the bytes cut
// between them are counted. The default is [DefaultMaxOutput]. Accepted by
// [NewRegistry] only.
func MaxOutput(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 2 {
			return fmt.Errorf("fireforget: MaxOutput(%d): must keep at least 2 bytes", n)
		}
		c.set |= optMaxOutput
		c.maxOutput = n
		return nil
	})
}

// RefreshEvery sets how often the HTML status page of [Registry.Handler]
// reloads itself while its job runs: d is rounded down to whole seconds, the
// unit of HTML's refresh, and must be at least one second. The default is
// [DefaultRefresh]. Accepted by [NewRegistry] only.
func RefreshEvery(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("fireforget: RefreshEvery(%v): must be at least 1s", d)
		}
		c.set |= optRefresh
		c.refresh = d.Truncate(time.Second)
		return nil
	})
}

// newConfig applies opts and refuses those outside allowed, naming the
// constructor in the error.
func newConfig(who string, allowed optionSet, opts []Option) (config, error) {
	var c config
	for _, o := range opts {
		if o == nil {
			return c, fmt.Errorf("fireforget: %s: nil Option", who)
		}
		if err := o.apply(&c); err != nil {
			return c, err
		}
	}
	if extra := c.set &^ allowed; extra != 0 {
		for bit := optionSet(1); bit != 0; bit <<= 1 {
			if extra&bit != 0 {
				return c, fmt.Errorf("fireforget: %s does not accept the option %s", who, optionNames[bit])
			}
		}
	}
	if c.reject && c.limit == 0 {
		return c, fmt.Errorf("fireforget: %s: RejectAtLimit needs a Limit", who)
	}
	return c, nil
}
