package pool

import (
	"errors"
	"fmt"
)

// An Option changes the behaviour of [New] away from its default: Submit
// blocks while the pool is full, as many submitters as need to may wait, and
// task errors are logged with log/slog. Options are values: the same one may
// be passed to many calls of New.
type Option interface {
	apply(*config) error
}

type config struct {
	maxWaiting int // < 0: no bound; 0: reject at once
	queue      int // capacity of the task queue; 0: none
	onError    func(error)
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// RejectWhenFull makes Submit return [execkit.ErrFull] at once, instead of
// waiting, when size tasks are already running. It is MaxWaiting(0).
func RejectWhenFull() Option {
	return optionFunc(func(c *config) error { c.maxWaiting = 0; return nil })
}

// MaxWaiting bounds the number of Submit calls that may wait for a free
// worker at once at n (n >= 0); a Submit that would be waiter n+1 returns
// [execkit.ErrFull] at once. MaxWaiting(0) is [RejectWhenFull]. A negative n
// makes [New] return an error. The last of MaxWaiting and RejectWhenFull
// given wins.
func MaxWaiting(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%w: MaxWaiting(%d)", errNegative, n)
		}
		c.maxWaiting = n
		return nil
	})
}

// Queue gives the pool a queue of n tasks (n >= 0) in front of its
// workers: Submit admits a task while fewer than size+n are admitted and
// unfinished, appends it to the queue and returns without waiting for a
// worker, and busy workers take the queued tasks one at a time, in order.
// When the queue is full the admission policy applies as without a queue
// (wait for room, honouring ctx, or [RejectWhenFull]/[MaxWaiting]).
// Queue(0) is the default: no queue, each task is handed to a free worker.
// A negative n, or one above 1<<30, makes [New] return an error.
func Queue(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%w: Queue(%d)", errNegative, n)
		}
		if n > maxQueue {
			return fmt.Errorf("pool: Queue(%d) is above %d", n, maxQueue)
		}
		c.queue = n
		return nil
	})
}

// OnError sets the handler that receives the error of every task submitted
// without a [execkit.Future] (a panic arrives as a *execkit.PanicError),
// instead of logging it with log/slog. fn is called from the goroutine that
// ran the task, so it must be safe for concurrent use; a panic in fn is
// recovered and logged. A nil fn makes [New] return an error.
func OnError(fn func(error)) Option {
	return optionFunc(func(c *config) error {
		if fn == nil {
			return errors.New("pool: OnError(nil)")
		}
		c.onError = fn
		return nil
	})
}

var errNegative = errors.New("pool: negative limit")

// maxQueue bounds Queue's n, so that size+n never overflows the gate.
const maxQueue = 1 << 30
