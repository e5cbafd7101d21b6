package riverexec

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

// The test binary doubles as a worker process (TestWorkerKilled,
// TestCrashRestart): with workerEnv set it serves as an executor instead of
// running tests. It is also a subprocess.Pool's worker (TestPolicyTable):
// subprocess.Main serves the pool in a process the pool started.
const workerEnv = "RIVEREXEC_TEST_WORKER" // "mode driver source schema queue"

func TestMain(m *testing.M) {
	subprocess.Main()
	if spec := os.Getenv(workerEnv); spec != "" {
		os.Exit(serveWorker(spec))
	}
	flag.Parse()
	if os.Getenv("EXECKIT_PG_URL") == "" {
		if os.Getenv("CI") == "true" {
			fmt.Println("riverexec: EXECKIT_PG_URL is not set under CI=true: the PostgreSQL tests fail (start a server with testdata/pg.sh)")
		} else {
			fmt.Println("riverexec: EXECKIT_PG_URL is not set: tests run on SQLite only (start PostgreSQL with testdata/pg.sh for both)")
		}
	}
	// Importing package pool (TestPolicyTable) starts ants' default pool's
	// housekeeping pair at import time; package pool's tests name the same.
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}

// serveWorker runs an executor until its stdin closes, printing "ready"
// once River's client has started. mode "work" is a WorkOnly executor;
// mode "both" also enqueues the tasks named on stdin (one "n" a line,
// printing "id n" for each).
func serveWorker(spec string) int {
	f := strings.Fields(spec)
	mode, drv, src, schema, queue := f[0], f[1], f[2], f[3], f[4]
	ctx := context.Background()
	opts := []Option{Queue(queue), RescueAfter(rescueAfterTest)}
	if mode == "work" {
		opts = append(opts, WorkOnly())
	} else {
		opts = append(opts, Workers(4)) // so that a run of nap tasks takes a while
	}
	var (
		ex  *Executor
		err error
	)
	switch drv {
	case "postgres":
		pool, perr := pgxpool.New(ctx, src)
		if perr != nil {
			fmt.Fprintln(os.Stderr, perr)
			return 1
		}
		defer pool.Close()
		ex, err = New(ctx, pool, append(opts, Schema(schema))...)
		_ = schema
	case "sqlite":
		db, oerr := OpenSQLite(ctx, src)
		if oerr != nil {
			fmt.Fprintln(os.Stderr, oerr)
			return 1
		}
		defer db.Close()
		ex, err = NewSQLite(ctx, db, opts...)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, err := strconv.Atoi(in.Text())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		task := nap.Task(n)
		if queue == "crash" { // TestCrashRestart's: see doze
			task = doze.Task(n)
		}
		id, err := ex.Enqueue(ctx, task)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(id, n)
	}
	if err := ex.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

const rescueAfterTest = time.Second

// A testDB is a fresh database of one driver: a SQLite file in a temporary
// directory, or a schema of the PostgreSQL server in EXECKIT_PG_URL.
type testDB struct {
	driver string // "sqlite" or "postgres"
	path   string // the SQLite file
	sqlite *sql.DB
	url    string // the PostgreSQL server
	pool   *pgxpool.Pool
	schema string
}

// forEachDB runs test once per driver: on SQLite always, on PostgreSQL
// when EXECKIT_PG_URL is set (under CI=true its absence fails the test).
func forEachDB(t *testing.T, test func(t *testing.T, db *testDB)) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run("db="+driver, func(t *testing.T) { test(t, newDB(t, driver)) })
	}
}

// pgURL returns the server the tests use, or skips the test without one
// (fails it under CI, which must provide one).
func pgURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("EXECKIT_PG_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("EXECKIT_PG_URL is not set under CI=true: start PostgreSQL first (eval \"$(bash riverexec/testdata/pg.sh start)\")")
		}
		t.Skip("EXECKIT_PG_URL is not set: start PostgreSQL with eval \"$(bash testdata/pg.sh start)\" to run this on it too")
	}
	return url
}

// newDB returns a fresh database holding River's tables, removed when the
// test ends.
func newDB(t testing.TB, driver string) *testDB {
	t.Helper()
	ctx := context.Background()
	if driver == "sqlite" {
		path := filepath.Join(t.TempDir(), "river.db")
		db, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return &testDB{driver: driver, path: path, sqlite: db}
	}
	url := pgURL(t)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if err := Migrate(ctx, pool, schema); err != nil {
		pool.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		pool.Close()
	})
	return &testDB{driver: driver, url: url, pool: pool, schema: schema}
}

// New makes an executor on db.
func (db *testDB) New(opts ...Option) (*Executor, error) {
	if db.driver == "sqlite" {
		return NewSQLite(context.Background(), db.sqlite, opts...)
	}
	return New(context.Background(), db.pool, append([]Option{Schema(db.schema)}, opts...)...)
}

// source is what a worker process opens: the file or the server.
func (db *testDB) source() string {
	if db.driver == "sqlite" {
		return db.path
	}
	return db.url
}

// newExecutor makes an executor on db and shuts it down when the test
// ends.
func newExecutor(t testing.TB, db *testDB, opts ...Option) *Executor {
	t.Helper()
	ex, err := db.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := ex.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown = %v; want nil", err)
		}
	})
	return ex
}

// The test's registered functions.
var (
	double = execkit.Register("riverexec_test.double", func(_ context.Context, n int) (int, error) { return 2 * n, nil })
	fail   = execkit.Register("riverexec_test.fail", func(_ context.Context, msg string) (int, error) {
		return 0, errors.New(msg)
	})
	boom = execkit.Register("riverexec_test.boom", func(_ context.Context, msg string) (int, error) { panic(msg) })
	noop = execkit.Register("riverexec_test.noop", func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil })

	// flaky fails the first time it sees a token, in this process.
	flaky = execkit.Register("riverexec_test.flaky", func(_ context.Context, token string) (string, error) {
		if _, seen := flakySeen.LoadOrStore(token, true); !seen {
			return "", fmt.Errorf("flaky %s: first attempt fails", token)
		}
		return "ok " + token, nil
	})
	flakySeen sync.Map

	// waitCtx blocks until its context ends.
	waitCtx = execkit.Register("riverexec_test.waitCtx", func(ctx context.Context, dir string) (int, error) {
		if err := os.WriteFile(filepath.Join(dir, "started"), nil, 0o644); err != nil {
			return 0, err
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})

	// once writes dir/first with its pid and blocks (until its context
	// ends) the first time it runs; later it returns its pid.
	once = execkit.Register("riverexec_test.once", func(ctx context.Context, dir string) (int, error) {
		first := filepath.Join(dir, "first")
		if f, err := os.OpenFile(first, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
			_, err = f.WriteString(strconv.Itoa(os.Getpid()))
			if err := errors.Join(err, f.Close()); err != nil {
				return 0, err
			}
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return os.Getpid(), nil
	})
)

// waitFor polls cond every few milliseconds for up to a minute: for
// conditions in the database or another process, which send no signal.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after a minute, still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitDone polls ex.Lookup(id) until the job has a final state (SUCCESS,
// FAILURE or REVOKED), for up to a minute, and returns it.
func waitDone(t testing.TB, ex *Executor, id int64) Job {
	t.Helper()
	var j Job
	waitFor(t, fmt.Sprintf("job %d to finish", id), func() bool {
		var err error
		if j, err = ex.Lookup(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return j.State == StateSuccess || j.State == StateFailure || j.State == StateRevoked
	})
	return j
}
