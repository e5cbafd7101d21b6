// Command celery-river is main.py's Celery app in Go: thumbnails made in the
// background by workers that share a database, with River (through package
// riverexec) as the queue and the result store. By default the database is
// an embedded SQLite file (nothing to install); -db=postgres uses the
// PostgreSQL server in EXECKIT_PG_URL instead, for workers on many machines.
// One binary is both the submitter and the worker:
//
//	celery-river                              # submit and work in this process, SQLite in a temporary directory
//	celery-river -file=jobs.db -mode=work     # a worker on that file: run tasks until SIGINT or SIGTERM
//	celery-river -file=jobs.db -mode=submit   # submit and print the results; workers run elsewhere
//	celery-river -db=postgres                 # the same on PostgreSQL (schema -schema)
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/riverexec"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Photo is the argument of thumbnail: what travels in the job.
type Photo struct {
	Name  string
	Width int
}

// thumbnail stands for the slow work that leaves the web process. Register
// it at package level, so that every process running this binary, submitter
// or worker, knows it by the same name.
var thumbnail = execkit.Register("celery_river.thumbnail", func(ctx context.Context, p Photo) (string, error) {
	if p.Width <= 0 {
		// Another attempt cannot fix a bad width: Permanent skips the
		// retries (Celery: an exception outside autoretry_for).
		return "", riverexec.Permanent(fmt.Errorf("thumbnail %s: width %d is not positive", p.Name, p.Width))
	}
	return fmt.Sprintf("%s -> thumb_%dpx_%s", p.Name, p.Width, p.Name), nil
})

// fetchRates calls a flaky service: its first two attempts fail. Its
// policy is declared with it, as Celery's @app.task(...) arguments are:
// up to two retries, the first after a random wait of up to 50ms, the
// second up to 100ms. Any error is retried but one wrapping
// execkit.ErrPermanent (Celery retries only the exceptions in
// autoretry_for).
var fetchRates = execkit.Register("celery_river.fetch_rates", func(ctx context.Context, key string) (string, error) {
	attempt, err := attempts.add(ctx, key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", execkit.ErrPermanent, err)
	}
	if attempt <= 2 {
		return "", fmt.Errorf("rates service: attempt %d: connection refused", attempt)
	}
	return fmt.Sprintf("fetched on attempt %d", attempt), nil
}, execkit.Retry(2, 50*time.Millisecond))

// report always takes longer than its limit allows. At 200ms its ctx is
// cancelled (Celery's soft_time_limit raises SoftTimeLimitExceeded in the
// task instead); the attempt fails with an error wrapping
// execkit.ErrTimeLimit and is retried, up to twice.
var report = execkit.Register("celery_river.report", func(ctx context.Context, key string) (string, error) {
	// Counted even when the limit strikes during the count.
	if _, err := attempts.add(context.WithoutCancel(ctx), key); err != nil {
		return "", fmt.Errorf("%w: %w", execkit.ErrPermanent, err)
	}
	select {
	case <-time.After(10 * time.Second):
		return "report done", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}, execkit.TimeLimit(200*time.Millisecond), execkit.Retry(2, 50*time.Millisecond))

// attempts is where fetchRates and report count their attempts: a table
// in the database the workers share, so that each attempt sees the ones
// before, whichever worker on whichever machine ran them (main.py's tasks
// count in Redis). run sets it before any task can run.
var attempts counter

// counter counts attempts by key in a table of the database.
type counter struct {
	db    database
	table string
}

// init makes c count in table (a quoted name), creating it if missing.
func (c *counter) init(ctx context.Context, db database, table string) error {
	c.db, c.table = db, table
	create := "CREATE TABLE IF NOT EXISTS " + table + " (key TEXT PRIMARY KEY, n INTEGER NOT NULL)"
	var err error
	if db.pool != nil {
		_, err = db.pool.Exec(ctx, create)
	} else {
		_, err = db.sqlite.ExecContext(ctx, create)
	}
	return err
}

// add adds one to key's count and returns the new count.
func (c *counter) add(ctx context.Context, key string) (int, error) {
	return c.query(ctx, "INSERT INTO "+c.table+" AS a (key, n) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET n = a.n + 1 RETURNING n", key)
}

// take returns key's count and forgets the key.
func (c *counter) take(ctx context.Context, key string) (int, error) {
	return c.query(ctx, "DELETE FROM "+c.table+" WHERE key = $1 RETURNING n", key)
}

func (c *counter) query(ctx context.Context, query, key string) (n int, err error) {
	if c.db.pool != nil {
		err = c.db.pool.QueryRow(ctx, query, key).Scan(&n)
	} else {
		err = c.db.sqlite.QueryRowContext(ctx, query, key).Scan(&n)
	}
	return n, err
}

// config is the command line.
type config struct {
	mode, db, file, schema string
	n                      int
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "both", "both (submit and work here), work, or submit")
	flag.StringVar(&c.db, "db", "sqlite", "sqlite (a file, nothing to install) or postgres (EXECKIT_PG_URL)")
	flag.StringVar(&c.file, "file", "", "the SQLite file (default: one in a temporary directory, removed at the end; give one for -mode=work or submit)")
	flag.StringVar(&c.schema, "schema", "celery_river", "the PostgreSQL schema for River's tables")
	flag.IntVar(&c.n, "n", 5, "how many thumbnails to make")
	flag.Parse()
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// database is the handle the executor and the transactions use.
type database struct {
	sqlite *sql.DB
	pool   *pgxpool.Pool
}

func run(c config) error {
	ctx := context.Background()
	var opts []riverexec.Option
	switch c.mode {
	case "both":
	case "work":
		opts = append(opts, riverexec.WorkOnly())
	case "submit":
		opts = append(opts, riverexec.SubmitOnly())
	default:
		return fmt.Errorf("celery-river: -mode=%s: want both, work or submit", c.mode)
	}
	// No retries, as in Celery by default. For flaky work add
	// riverexec.Retries(3, time.Second), Celery's max_retries=3 with
	// default_retry_delay=1 (it retries any error not marked Permanent).
	var (
		db database
		ex *riverexec.Executor
	)
	switch c.db {
	case "sqlite":
		path := c.file
		if path == "" {
			if c.mode != "both" {
				return errors.New("celery-river: -mode=" + c.mode + " needs -file: the processes share the file")
			}
			dir, err := os.MkdirTemp("", "celery-river")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			path = filepath.Join(dir, "jobs.db")
		}
		sqlite, err := riverexec.OpenSQLite(ctx, path) // creates the file and River's tables
		if err != nil {
			return err
		}
		defer sqlite.Close()
		db.sqlite = sqlite
		if err := attempts.init(ctx, db, "attempts"); err != nil {
			return err
		}
		if ex, err = riverexec.NewSQLite(ctx, sqlite, opts...); err != nil {
			return err
		}
	case "postgres":
		url := os.Getenv("EXECKIT_PG_URL")
		if url == "" {
			return errors.New("celery-river: -db=postgres: set EXECKIT_PG_URL to a PostgreSQL URL (see README.md to start one)")
		}
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return err
		}
		cfg.MaxConns = max(cfg.MaxConns, 10) // River listens on one and works on others
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return err
		}
		defer pool.Close()
		db.pool = pool
		if err := riverexec.Migrate(ctx, pool, c.schema); err != nil {
			return err
		}
		if err := attempts.init(ctx, db, pgx.Identifier{c.schema, "attempts"}.Sanitize()); err != nil {
			return err
		}
		if ex, err = riverexec.New(ctx, pool, append(opts, riverexec.Schema(c.schema))...); err != nil {
			return err
		}
	default:
		return fmt.Errorf("celery-river: -db=%s: want sqlite or postgres", c.db)
	}
	if c.mode == "work" {
		return work(ctx, ex)
	}
	err := submit(ctx, ex, db, c.n)
	return errors.Join(err, ex.Shutdown(ctx))
}

// work runs tasks until SIGINT or SIGTERM, then lets the running ones
// finish (for up to 30 seconds; River runs the rest again elsewhere).
func work(ctx context.Context, ex *riverexec.Executor) error {
	stop, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Println("worker ready")
	<-stop.Done()
	ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return ex.Shutdown(ctx)
}

func submit(ctx context.Context, ex *riverexec.Executor, db database, n int) error {
	// delay() for each, then get() for each in order: Map does both.
	photos := make([]Photo, n)
	for i := range photos {
		photos[i] = Photo{Name: fmt.Sprintf("photo%d.jpg", i), Width: 320}
	}
	thumbs, err := thumbnail.Map(ctx, ex, photos)
	if err != nil {
		return err
	}
	for _, t := range thumbs {
		fmt.Println(t)
	}

	// A failure comes back as an error carrying the task's message.
	_, err = thumbnail.Go(ctx, ex, Photo{Name: "bad.jpg", Width: 0}).Wait(ctx)
	var je *riverexec.JobError
	if !errors.As(err, &je) {
		return fmt.Errorf("celery-river: a failing task returned %v", err)
	}
	fmt.Println("error:", je.Message)

	// Keep the id, look the state up later (a status page would).
	id, err := ex.Enqueue(ctx, thumbnail.Task(Photo{Name: "later.jpg", Width: 640}))
	if err != nil {
		return err
	}
	state, err := finalState(ctx, ex, id)
	if err != nil {
		return err
	}
	fmt.Println("job by id:", state)

	// The job exists if and only if the order's transaction commits:
	// Celery's transaction.on_commit, without its window (a crash between
	// the commit and the send loses the task).
	id, err = orderInTx(ctx, ex, db, Photo{Name: "order.jpg", Width: 128})
	if err != nil {
		return err
	}
	if state, err = finalState(ctx, ex, id); err != nil {
		return err
	}
	fmt.Println("order's job:", state)

	// Declared limits and retries: the caller sees the last attempt's outcome.
	if err := policies(ctx, ex); err != nil {
		return err
	}

	// Unlike Celery, an id that was never issued is UNKNOWN, not PENDING.
	never, err := ex.Lookup(ctx, 0)
	if err != nil {
		return err
	}
	fmt.Println("never issued:", never.State)
	return nil
}

// policies calls fetchRates and report, whose retries and time limit
// were declared when they were registered.
func policies(ctx context.Context, ex *riverexec.Executor) error {
	ratesKey, reportKey := "rates-"+rand.Text(), "report-"+rand.Text() // this run's counts
	rates := fetchRates.Go(ctx, ex, ratesKey)
	slow := report.Go(ctx, ex, reportKey)
	r, err := rates.Wait(ctx)
	if err != nil {
		return err
	}
	fmt.Println("rates:", r)
	if _, err := slow.Wait(ctx); !errors.Is(err, execkit.ErrTimeLimit) {
		return fmt.Errorf("celery-river: report returned %v; want its time limit's error", err)
	}
	n, err := attempts.take(ctx, reportKey)
	if err != nil {
		return err
	}
	fmt.Printf("report: time limit exceeded after %d attempts\n", n)
	_, err = attempts.take(ctx, ratesKey)
	return err
}

// orderInTx records an order and enqueues its thumbnail in one transaction.
func orderInTx(ctx context.Context, ex *riverexec.Executor, db database, p Photo) (int64, error) {
	if db.pool != nil {
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			return 0, err
		}
		defer tx.Rollback(ctx) // after Commit: does nothing
		id, err := ex.EnqueueTx(ctx, tx, thumbnail.Task(p))
		if err != nil {
			return 0, err
		}
		// ... INSERT INTO orders ... with tx, then:
		return id, tx.Commit(ctx)
	}
	tx, err := db.sqlite.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() // after Commit: does nothing
	id, err := ex.EnqueueTx(ctx, tx, thumbnail.Task(p))
	if err != nil {
		return 0, err
	}
	// ... INSERT INTO orders ... with tx, then:
	return id, tx.Commit()
}

// finalState polls the job's state until it is SUCCESS or FAILURE.
func finalState(ctx context.Context, ex *riverexec.Executor, id int64) (riverexec.State, error) {
	for {
		job, err := ex.Lookup(ctx, id)
		if err != nil || job.State == riverexec.StateSuccess || job.State == riverexec.StateFailure {
			return job.State, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
