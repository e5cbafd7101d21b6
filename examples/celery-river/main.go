// Command celery-river is main.py's Celery app in Go: thumbnails made in the
// background by workers that share a PostgreSQL database, with River
// (through package riverexec) as the queue and the result store. One binary
// is both the submitter and the worker:
//
//	celery-river                # submit and work in this process (the default)
//	celery-river -mode=work     # a worker: run tasks until SIGINT or SIGTERM
//	celery-river -mode=submit   # submit and print the results; workers run elsewhere
//
// It connects to the database in EXECKIT_PG_URL (a postgres:// URL) and
// keeps River's tables in the schema named by -schema, creating them first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/riverexec"
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
		return "", fmt.Errorf("thumbnail %s: width %d is not positive", p.Name, p.Width)
	}
	return fmt.Sprintf("%s -> thumb_%dpx_%s", p.Name, p.Width, p.Name), nil
})

func main() {
	mode := flag.String("mode", "both", "both (submit and work here), work, or submit")
	schema := flag.String("schema", "celery_river", "the PostgreSQL schema for River's tables")
	n := flag.Int("n", 5, "how many thumbnails to make")
	flag.Parse()
	url := os.Getenv("EXECKIT_PG_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "celery-river: set EXECKIT_PG_URL to a PostgreSQL URL (see README.md to start one)")
		os.Exit(2)
	}
	if err := run(*mode, url, *schema, *n); err != nil {
		log.Fatal(err)
	}
}

func run(mode, url, schema string, n int) error {
	ctx := context.Background()
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
	if err := riverexec.Migrate(ctx, pool, schema); err != nil {
		return err
	}
	// No retries, as in Celery by default: a bad width stays bad. For
	// flaky work add riverexec.Retries(3, time.Second), Celery's
	// max_retries=3 with default_retry_delay=1 (it retries any error).
	opts := []riverexec.Option{riverexec.Schema(schema)}
	switch mode {
	case "both":
	case "work":
		opts = append(opts, riverexec.WorkOnly())
	case "submit":
		opts = append(opts, riverexec.SubmitOnly())
	default:
		return fmt.Errorf("celery-river: -mode=%s: want both, work or submit", mode)
	}
	ex, err := riverexec.New(ctx, pool, opts...)
	if err != nil {
		return err
	}
	if mode == "work" {
		return work(ctx, ex)
	}
	err = submit(ctx, ex, n)
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

func submit(ctx context.Context, ex *riverexec.Executor, n int) error {
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
	job, err := ex.Lookup(ctx, id)
	for err == nil && job.State != riverexec.StateSuccess && job.State != riverexec.StateFailure {
		time.Sleep(20 * time.Millisecond)
		job, err = ex.Lookup(ctx, id)
	}
	if err != nil {
		return err
	}
	fmt.Println("job by id:", job.State)
	// Unlike Celery, an id that was never issued is UNKNOWN, not PENDING.
	never, err := ex.Lookup(ctx, 0)
	if err != nil {
		return err
	}
	fmt.Println("never issued:", never.State)
	return nil
}
