package riverexec

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/execkit/execkit/internal/xrun"
)

// An Option configures [New]. Options are sealed: only this package makes
// them. Each is named after the behaviour it turns on; the defaults are the
// single-machine case (submitter and worker in one process).
type Option interface{ apply(*config) }

type config struct {
	submit, work bool
	workers      int
	queue        string
	schema       string
	retries      int
	backoff      time.Duration
	rescueAfter  time.Duration
	maxPending   int
	maxArg       int // the largest encoded argument a job may carry (MaxArgSize)
	// rescueAfterSet and maxPendingSet tell RescueAfter(0) and Limit(0),
	// errors, from the defaults.
	rescueAfterSet, maxPendingSet bool
	onError                       func(error)
	nilOnError                    bool // OnError(nil) was given: New returns an error
	logger                        *slog.Logger
	pollMin                       time.Duration // unexported: the collector's shortest poll interval
	pollMax                       time.Duration // and its longest
	fetchPoll                     time.Duration // unexported: River's FetchPollInterval (0: River's default)
}

const (
	defaultQueue   = "execkit"
	defaultWorkers = 100
	defaultBackoff = time.Second
	// defaultRescueAfter is River's default RescueStuckJobsAfter.
	defaultRescueAfter = time.Hour
	// rescueBudget is how many extra attempts a job may spend on workers
	// that died (or stopped) while running it, on top of its retries.
	rescueBudget = 3
	// maxRetries is the most retries a job can have: River counts its
	// attempts, and their maximum, in a smallint (PostgreSQL's), which
	// holds the first attempt, the retries and the rescue budget.
	maxRetries = math.MaxInt16 - 1 - rescueBudget
	// defaultMaxArg is the largest encoded argument a job carries by
	// default: the job's row holds it (base64 in the row's JSON, 4/3 of
	// it), and one insert of it holds SQLite's only write lock a fraction
	// of a second (measured on a loaded 2-core machine: 0.4s for 1 MiB,
	// 1.8s for 8 MiB, 4.6s for 16 MiB) while every other insert, fetch and
	// completion waits.
	defaultMaxArg = 1 << 20
	// maxMaxArg is the most MaxArgSize allows: an insert of one such job
	// holds SQLite's write lock for seconds (4.6s measured), well within
	// an insert's timeout (insertTimeout) but long enough to delay every
	// other job; larger data belongs in a store of its own, the job
	// carrying its key. It is also below the largest result River
	// records (32 MiB of output JSON: a result of about 24 MiB).
	maxMaxArg = 16 << 20
)

func defaults() config {
	return config{
		submit:  true,
		work:    true,
		workers: defaultWorkers,
		queue:   defaultQueue,
		backoff: defaultBackoff,
		maxArg:  defaultMaxArg,
		pollMin: 2 * time.Millisecond,
		pollMax: 100 * time.Millisecond,
	}
}

func (c *config) validate() error {
	switch {
	case !c.submit && !c.work:
		return fmt.Errorf("riverexec: SubmitOnly and WorkOnly together leave nothing to do")
	case c.workers < 1:
		return fmt.Errorf("riverexec: Workers(%d): want at least 1", c.workers)
	case c.queue == "":
		return fmt.Errorf("riverexec: Queue with an empty name")
	case c.retries < 0 || c.retries > maxRetries:
		return fmt.Errorf("riverexec: Retries(%d, ...): want 0 to %d (River counts a job's attempts in a smallint)", c.retries, maxRetries)
	case c.backoff <= 0:
		return fmt.Errorf("riverexec: Retries(..., %v): want a positive backoff", c.backoff)
	case c.rescueAfterSet && c.rescueAfter <= 0:
		return fmt.Errorf("riverexec: RescueAfter(%v): want a positive duration", c.rescueAfter)
	case c.nilOnError:
		return fmt.Errorf("riverexec: OnError(nil): the handler must not be nil")
	case c.maxPendingSet && c.maxPending < 1:
		return fmt.Errorf("riverexec: Limit(%d): want at least 1", c.maxPending)
	case c.maxArg < 1 || c.maxArg > maxMaxArg:
		return fmt.Errorf("riverexec: MaxArgSize(%d): want 1 to %d (16 MiB)", c.maxArg, maxMaxArg)
	}
	return nil
}

func (c *config) rescueAfterOrDefault() time.Duration {
	if c.rescueAfter > 0 {
		return c.rescueAfter
	}
	return defaultRescueAfter
}

type optionFunc func(*config)

// fetchPoll sets River's FetchPollInterval (for tests).
func fetchPoll(d time.Duration) Option { return optionFunc(func(c *config) { c.fetchPoll = d }) }

func (f optionFunc) apply(c *config) { f(c) }

// SubmitOnly makes an executor that inserts jobs and collects their results
// but runs none: the web process of a deployment whose workers run
// elsewhere (with [WorkOnly]).
func SubmitOnly() Option { return optionFunc(func(c *config) { c.work = false }) }

// WorkOnly makes an executor that only runs the jobs of its queue, submitted
// by any process that shares the database: a worker process. Its Submit
// returns [ErrWorkOnly]; [Executor.Enqueue], Lookup and Cancel still work.
func WorkOnly() Option { return optionFunc(func(c *config) { c.submit = false }) }

// Workers sets how many tasks this process's worker runs at once (River's
// MaxWorkers for the queue). The default is 100: tasks that cross machines
// usually wait on the network more than they compute. New returns an error
// for n < 1.
func Workers(n int) Option { return optionFunc(func(c *config) { c.workers = n }) }

// Queue names the River queue the executor inserts into and works; the
// default is "execkit". Executors on different queues share a database
// without running each other's jobs.
func Queue(name string) Option { return optionFunc(func(c *config) { c.queue = name }) }

// Schema names the PostgreSQL schema that holds River's tables (see
// [Migrate]); the default is the connection's search_path.
func Schema(name string) Option { return optionFunc(func(c *config) { c.schema = name }) }

// Retries makes a task that returns an error (or panics) run again, up to n
// more times, the first retry after backoff and each later one after twice
// the wait before it (at most an hour). It is the default for the
// registered functions that declare no [execkit.Retry]: a Func's own Retry
// (Retry(0) too) wins for that function, with its own backoff, and does not
// retry panics (see the package documentation's Task policies). Both travel
// with the job, so a worker applies the policy of the executor that
// submitted it. The default is no retry, Celery's default too: a task's
// error is final at once. A retried task may have done part of its work
// before it failed, so make it idempotent (see the package documentation).
// New returns an error for n < 0, n > 32763 (River counts a job's attempts,
// three for rescues among them, in a smallint) or backoff <= 0.
func Retries(n int, backoff time.Duration) Option {
	return optionFunc(func(c *config) { c.retries, c.backoff = n, backoff })
}

// RescueAfter sets how long a job may run before the worker running it is
// presumed dead and the job is run again elsewhere (River's
// RescueStuckJobsAfter; the default is an hour). It is also the task's time
// limit: its context ends after d (River rescues only jobs that have one),
// and the job runs again as if its worker had died. Keep d above your
// longest task. New returns an error for d <= 0.
func RescueAfter(d time.Duration) Option {
	return optionFunc(func(c *config) { c.rescueAfter, c.rescueAfterSet = d, true })
}

// Limit caps the tasks this executor has admitted and not finished at n:
// at n, Submit blocks until one finishes or its ctx ends. Without it Submit
// never blocks; each pending task costs a goroutine and a few hundred bytes.
// New returns an error for n < 1.
func Limit(n int) Option {
	return optionFunc(func(c *config) { c.maxPending, c.maxPendingSet = n, true })
}

// MaxArgSize sets the largest argument, in bytes as the Func's codec
// encodes it, that a job of this executor may carry; the default is 1 MiB
// (1048576 bytes). A call whose argument encodes to more is refused before
// anything is inserted, with an error wrapping [execkit.ErrPayload] that
// gives the size and the limit: Enqueue and EnqueueTx return it (tx is left
// as it was), a task of Submit fails with it (its Future, or the OnError
// handler). The job row holds the argument base64-encoded in its JSON
// arguments (4/3 of its size), and its insert holds the database's
// resources while it is written: on SQLite the only write lock, which
// every insert, fetch and completion of every process on the file waits
// for (about 0.3s per MiB measured; a 32 MiB argument took 50s, while
// River's fetches and leader election timed out). Pass large data by
// reference: write it to a store (a table of your own, a bucket) and give
// the job its key. New returns an error for n < 1 or n > 16 MiB
// (16777216).
func MaxArgSize(n int) Option { return optionFunc(func(c *config) { c.maxArg = n }) }

// OnError sets the function that receives the error of every task
// submitted without a Future (a *[JobError], or a context error when the
// executor gave up on it). It is called from the task's goroutine and must
// be safe for concurrent use; a panic in fn is recovered and logged with
// its stack. The default logs with log/slog. A nil fn makes [New] return an
// error.
func OnError(fn func(error)) Option {
	return optionFunc(func(c *config) { c.onError, c.nilOnError = xrun.Guard("riverexec", fn), fn == nil })
}

// Logger sets the logger River and the executor log to. The default is
// slog.Default(), less its messages below level Error (River warns about
// every failed attempt, which the Future or OnError receives anyway).
func Logger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }
