package riverexec_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/riverexec"
)

// Register at package level, in every process that submits or works: the
// name is what travels with the job.
var (
	add    = execkit.Register("example.add", func(_ context.Context, xy [2]int) (int, error) { return xy[0] + xy[1], nil })
	refuse = execkit.Register("example.refuse", func(_ context.Context, who string) (string, error) {
		return "", fmt.Errorf("no entry for %s", who)
	})
)

// open opens a SQLite file in a fresh directory (nothing to install) and
// returns a function that closes it and removes the directory. On
// PostgreSQL the same code takes a *pgxpool.Pool (riverexec.Migrate, then
// riverexec.New).
func open(ctx context.Context) (*sql.DB, func()) {
	dir, err := os.MkdirTemp("", "riverexec-example")
	if err != nil {
		log.Fatal(err)
	}
	db, err := riverexec.OpenSQLite(ctx, filepath.Join(dir, "jobs.db"))
	if err != nil {
		log.Fatal(err)
	}
	return db, func() {
		_ = db.Close()
		_ = os.RemoveAll(dir)
	}
}

// Submitter and worker in one process: the single-machine default. Futures
// work as on every execkit executor.
func Example() {
	ctx := context.Background()
	db, done := open(ctx)
	defer done()

	ex, err := riverexec.NewSQLite(ctx, db)
	if err != nil {
		log.Fatal(err)
	}
	sum, err := add.Go(ctx, ex, [2]int{2, 3}).Wait(ctx)
	fmt.Println(sum, err)
	sums, err := add.Map(ctx, ex, [][2]int{{1, 1}, {2, 2}, {3, 3}})
	fmt.Println(sums, err)
	_, err = refuse.Go(ctx, ex, "mallory").Wait(ctx)
	fmt.Println(strings.Contains(err.Error(), "no entry for mallory"))
	if err := ex.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 5 <nil>
	// [2 4 6] <nil>
	// true
}

// Celery's delay-and-keep-the-id: Enqueue returns the job's id, which any
// process can look up later; an id never issued is UNKNOWN, not PENDING.
func ExampleExecutor_Enqueue() {
	ctx := context.Background()
	db, done := open(ctx)
	defer done()

	// A web process submits only; the worker could be on another machine.
	web, err := riverexec.NewSQLite(ctx, db, riverexec.SubmitOnly())
	if err != nil {
		log.Fatal(err)
	}
	id, err := web.Enqueue(ctx, add.Task([2]int{40, 2}))
	if err != nil {
		log.Fatal(err)
	}
	job, _ := web.Lookup(ctx, id)
	fmt.Println(job.State)
	never, _ := web.Lookup(ctx, id+1000)
	fmt.Println(never.State)

	worker, err := riverexec.NewSQLite(ctx, db, riverexec.WorkOnly())
	if err != nil {
		log.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); job.State != riverexec.StateSuccess && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // polling, as a status page would
		job, _ = web.Lookup(ctx, id)
	}
	var sum int
	_ = add.Codec().Unmarshal(job.Result, &sum)
	fmt.Println(job.State, sum)
	_ = worker.Shutdown(ctx)
	_ = web.Shutdown(ctx)
	// Output:
	// PENDING
	// UNKNOWN
	// SUCCESS 42
}

// The job exists if and only if the transaction that writes the order
// commits: Celery's transaction.on_commit, without the window where the
// row is committed and the process dies before the task is sent.
func ExampleExecutor_EnqueueTx() {
	ctx := context.Background()
	db, done := open(ctx)
	defer done()
	if _, err := db.ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, job INTEGER)"); err != nil {
		log.Fatal(err)
	}
	web, err := riverexec.NewSQLite(ctx, db, riverexec.SubmitOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer web.Shutdown(ctx)

	order := func(commit bool) int64 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		id, err := web.EnqueueTx(ctx, tx, add.Task([2]int{20, 22}))
		if err != nil {
			log.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO orders (job) VALUES (?)", id); err != nil {
			log.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			log.Fatal(err)
		}
		return id
	}
	job, _ := web.Lookup(ctx, order(false))
	fmt.Println(job.State)
	job, _ = web.Lookup(ctx, order(true))
	fmt.Println(job.State)
	// Output:
	// UNKNOWN
	// PENDING
}
