package fireforget

import (
	"errors"
	"fmt"
	"time"
)

// An Option configures [New]. Options are values: the same one may be
// passed to many calls. Each constructor takes its own kind of option, so
// that one which does not apply to it does not compile: [Limit] configures
// [New], [Background] and [NewRegistry]; [RejectWhenFull] configures New and
// Background; [OnError] configures New only; the rest configure NewRegistry
// only. A nil option, or an invalid one, makes New and NewRegistry return an
// error and Background panic.
type Option interface {
	applyExecutor(*config) error
}

// A BackgroundOption configures [Background]; each one configures [New] too.
type BackgroundOption interface {
	Option
	applyBackground(*config) error
}

// A RegistryOption configures [NewRegistry].
type RegistryOption interface {
	applyRegistry(*config) error
}

// A LimitOption configures [New], [Background] and [NewRegistry]: [Limit]
// makes one.
type LimitOption interface {
	BackgroundOption
	RegistryOption
}

// config collects the options of one constructor call.
type config struct {
	limit     int
	reject    bool
	onError   func(error)
	keep      int
	ttl       time.Duration
	maxOutput int
	refresh   time.Duration
}

// The option kinds: each implements the methods of the constructors it
// configures, and no others, so that a type assertion cannot move an
// option to a constructor it does not apply to either.
type (
	executorOption   func(*config) error // New
	backgroundOption func(*config) error // New, Background
	registryOption   func(*config) error // NewRegistry
	limitOption      func(*config) error // New, Background, NewRegistry
)

func (f executorOption) applyExecutor(c *config) error   { return f(c) }
func (f backgroundOption) applyExecutor(c *config) error { return f(c) }
func (f backgroundOption) applyBackground(c *config) error {
	return f(c)
}
func (f registryOption) applyRegistry(c *config) error { return f(c) }
func (f limitOption) applyExecutor(c *config) error    { return f(c) }
func (f limitOption) applyBackground(c *config) error  { return f(c) }
func (f limitOption) applyRegistry(c *config) error    { return f(c) }

// Limit caps the tasks running at once at n (n >= 1). Accepted by [New] and
// [Background], where Submit (or the call of the wrapped function) waits for
// a slot unless [RejectWhenFull] is given too, and by [NewRegistry], where it
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
// or use [RejectWhenFull] to get [execkit.ErrFull] at once; a [Registry] never waits, so its jobs may start
// jobs freely.
func Limit(n int) LimitOption {
	return limitOption(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("fireforget: Limit(%d): the limit must be at least 1", n)
		}
		c.limit = n
		return nil
	})
}

// RejectWhenFull makes a caller that finds every slot of [Limit] taken fail
// at once with [execkit.ErrFull] instead of waiting for a slot. Accepted by
// [New] and [Background] (a [Registry] always rejects); without a Limit it
// is a configuration error.
func RejectWhenFull() BackgroundOption {
	return backgroundOption(func(c *config) error {
		c.reject = true
		return nil
	})
}

// OnError sends the error of every task submitted without a Future
// (including a [*execkit.PanicError]) to fn, called from the goroutine that
// ran the task, instead of logging it with log/slog. fn must be safe for
// concurrent use; a panic in fn is recovered and logged with log/slog,
// with its stack, and the Executor goes on (a runtime.Goexit in fn ends
// the task's goroutine, and the Executor goes on too). Accepted by [New] only. A nil
// fn makes New return an error.
func OnError(fn func(error)) Option {
	return executorOption(func(c *config) error {
		if fn == nil {
			return errors.New("fireforget: OnError(nil): the handler must not be nil")
		}
		c.onError = fn
		return nil
	})
}

// KeepFinished makes a [Registry] keep at most n finished jobs (n >= 1),
// evicting the oldest finished ones beyond that; the default is
// [DefaultKeepFinished]. Accepted by [NewRegistry] only.
func KeepFinished(n int) RegistryOption {
	return registryOption(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("fireforget: KeepFinished(%d): must keep at least 1 job", n)
		}
		c.keep = n
		return nil
	})
}

// TTL makes a [Registry] forget a finished job d after it finished (d > 0);
// the default is [DefaultTTL]. Accepted by [NewRegistry] only.
func TTL(d time.Duration) RegistryOption {
	return registryOption(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("fireforget: TTL(%v): the time to live must be positive", d)
		}
		c.ttl = d
		return nil
	})
}

// MaxOutput caps the output a [Registry] retains per job at n bytes
// (n >= 2): the first n/2 bytes and the last n/2 are kept, and the bytes cut
// between them are counted. The default is [DefaultMaxOutput]. Accepted by
// [NewRegistry] only.
func MaxOutput(n int) RegistryOption {
	return registryOption(func(c *config) error {
		if n < 2 {
			return fmt.Errorf("fireforget: MaxOutput(%d): must keep at least 2 bytes", n)
		}
		c.maxOutput = n
		return nil
	})
}

// RefreshEvery sets how often the HTML status page of [Registry.Handler]
// reloads itself while its job runs: d is rounded down to whole seconds, the
// unit of HTML's refresh, and must be at least one second. The default is
// [DefaultRefresh]. Accepted by [NewRegistry] only.
func RefreshEvery(d time.Duration) RegistryOption {
	return registryOption(func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("fireforget: RefreshEvery(%v): must be at least 1s", d)
		}
		c.refresh = d.Truncate(time.Second)
		return nil
	})
}

// newConfig applies the options of New or Background, and refuses a nil
// one and a RejectWhenFull without a Limit, naming the constructor.
func newConfig[O Option](who string, opts []O) (config, error) {
	var c config
	for i, o := range opts {
		if Option(o) == nil {
			return c, fmt.Errorf("fireforget: %s with a nil Option (option %d)", who, i+1)
		}
		if err := o.applyExecutor(&c); err != nil {
			return c, err
		}
	}
	if c.reject && c.limit == 0 {
		return c, fmt.Errorf("fireforget: %s: RejectWhenFull needs a Limit", who)
	}
	return c, nil
}

// registryConfig applies the options of NewRegistry, and refuses a nil one.
func registryConfig(opts []RegistryOption) (config, error) {
	var c config
	for i, o := range opts {
		if o == nil {
			return c, fmt.Errorf("fireforget: NewRegistry with a nil Option (option %d)", i+1)
		}
		if err := o.applyRegistry(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}
