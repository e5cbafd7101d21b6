package errgroup

import "fmt"

// An Option changes the behaviour of [New] away from its default: no limit
// on running tasks, and Shutdown returns the first error only. Options are
// values: the same one may be passed to many calls of New.
type Option interface {
	apply(*config) error
}

type config struct {
	limit int // 0: none
	all   bool
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// Limit caps the group's running tasks at n (n >= 1): Submit waits for one
// of them to return, or for its ctx to end. A smaller n makes [New] return
// an error. It is x/sync's SetLimit, with a wait that can be cancelled.
func Limit(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("errgroup: Limit(%d): the limit must be at least 1", n)
		}
		c.limit = n
		return nil
	})
}

// AllErrors makes Shutdown return every task error, joined with
// errors.Join, the first one first, instead of the first one only. The
// context.Canceled errors of tasks that returned because the group's
// context was cancelled are left out: they are consequences of the
// failure. The group still fails fast.
func AllErrors() Option {
	return optionFunc(func(c *config) error { c.all = true; return nil })
}
