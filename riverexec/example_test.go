package riverexec_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/riverexec"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Register at package level, in every process that submits or works: the
// name is what travels with the job.
var (
	add    = execkit.Register("example.add", func(_ context.Context, xy [2]int) (int, error) { return xy[0] + xy[1], nil })
	refuse = execkit.Register("example.refuse", func(_ context.Context, who string) (string, error) {
		return "", fmt.Errorf("no entry for %s", who)
	})
)

// connect opens a pool on the test server with a fresh schema, and returns
// a function that drops it and closes the pool.
func connect(ctx context.Context, schema string) (*pgxpool.Pool, func()) {
	pool, err := pgxpool.New(ctx, os.Getenv("EXECKIT_PG_URL"))
	if err != nil {
		log.Fatal(err)
	}
	_, _ = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	if err := riverexec.Migrate(ctx, pool, schema); err != nil {
		log.Fatal(err)
	}
	return pool, func() {
		_, _ = pool.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		pool.Close()
	}
}

// Submitter and worker in one process: the single-machine default. Futures
// work as on every execkit executor.
func Example() {
	ctx := context.Background()
	pool, done := connect(ctx, "example_basic")
	defer done()

	ex, err := riverexec.New(ctx, pool, riverexec.Schema("example_basic"))
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
	pool, done := connect(ctx, "example_enqueue")
	defer done()

	// A web process submits only; the worker could be on another machine.
	web, err := riverexec.New(ctx, pool, riverexec.Schema("example_enqueue"), riverexec.SubmitOnly())
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

	worker, err := riverexec.New(ctx, pool, riverexec.Schema("example_enqueue"), riverexec.WorkOnly())
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
