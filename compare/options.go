package compare

import (
	"fmt"
	"io"
	"time"
)

// Defaults of the options.
const (
	// DefaultBatch is the number of tasks submitted before the run waits
	// for them: the most that can be in flight at once (see [Batch]).
	DefaultBatch = 1000
	// DefaultTimePerStrategy is the measuring time [Run] spends on each
	// strategy (see [TimePerStrategy]).
	DefaultTimePerStrategy = 500 * time.Millisecond
)

// rounds is the number of timed rounds per strategy: their spread is the
// noise that decides whether two strategies differ.
const rounds = 5

// An Option configures both [Benchmark] and [Run]. Options are values: the
// same one may be passed to many calls. They apply in order, so of two of
// the same kind (Batch(8), Batch(64)) the later wins. When a benchmark
// function runs again in one process (testing.Benchmark in a loop; go test
// -count repeats the sub-benchmarks instead), [Benchmark] keeps its first
// call's batch for the later ones, as it keeps its strategies.
type Option interface {
	RunOption
	apply(*config) error
}

// A RunOption configures [Run] only. Every [Option] is a RunOption too.
type RunOption interface {
	applyRun(*config) error
}

type config struct {
	batch    int
	perStrat time.Duration
	progress io.Writer
}

func defaults() config {
	return config{batch: DefaultBatch, perStrat: DefaultTimePerStrategy}
}

type option func(*config) error

func (o option) apply(c *config) error    { return o(c) }
func (o option) applyRun(c *config) error { return o(c) }

type runOption func(*config) error

func (o runOption) applyRun(c *config) error { return o(c) }

// Batch sets how many tasks are submitted before the run waits for them
// all (n >= 1; the default is [DefaultBatch]): the most tasks in flight at
// once, so the ceiling of the goroutine-per-task strategies and of the
// pool sizes tried. Raise it for work that waits long (a slow network
// call); a value below 1 makes [Benchmark] fail and [Run] return an error.
func Batch(n int) Option {
	return option(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("compare: Batch(%d): want at least 1 task per batch", n)
		}
		c.batch = n
		return nil
	})
}

// TimePerStrategy sets the measuring time [Run] spends on each strategy
// (d > 0; the default is [DefaultTimePerStrategy]), split into five timed
// rounds after a short calibration. A longer time gives steadier numbers
// and a smaller spread. Every round makes at least one wave of calls and
// whole passes over the samples, so for a function slower than d/5 a
// strategy takes longer than d: about ten calls' time, or five passes over
// the samples. ([Benchmark] follows -benchtime instead.)
func TimePerStrategy(d time.Duration) RunOption {
	return runOption(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("compare: TimePerStrategy(%v): want a positive duration", d)
		}
		c.perStrat = d
		return nil
	})
}

// Progress makes [Run] write lines to w (os.Stderr, typically) as it goes:
// one as it starts measuring a strategy, one with that strategy's time per
// task as soon as it is measured (or why it was not), and the advice's
// strategy at the end. Each line starts with "compare: ". Run writes from
// the goroutine that called it, never after it returned.
// A nil w is an error.
func Progress(w io.Writer) RunOption {
	return runOption(func(c *config) error {
		if w == nil {
			return fmt.Errorf("compare: Progress(nil): want a writer")
		}
		c.progress = w
		return nil
	})
}

func runConfig(opts []RunOption) (config, error) {
	c := defaults()
	for _, o := range opts {
		if o == nil {
			return c, fmt.Errorf("compare: nil option")
		}
		if err := o.applyRun(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

func benchConfig(opts []Option) (config, error) {
	c := defaults()
	for _, o := range opts {
		if o == nil {
			return c, fmt.Errorf("compare: nil option")
		}
		if err := o.apply(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}
