package riverexec

import (
	"bufio"
	"context"
	"crypto/rand"
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
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

// The test binary doubles as a worker process (TestWorkerKilled): with
// workerEnv set it serves as a WorkOnly executor instead of running tests.
const workerEnv = "RIVEREXEC_TEST_WORKER" // "url schema queue"

func TestMain(m *testing.M) {
	if spec := os.Getenv(workerEnv); spec != "" {
		os.Exit(serveWorker(spec))
	}
	flag.Parse()
	if os.Getenv("EXECKIT_PG_URL") == "" && os.Getenv("CI") != "true" {
		// The tests skip themselves; the examples cannot, so leave them out.
		if run := flag.Lookup("test.run"); run.Value.String() == "" {
			_ = run.Value.Set("^Test")
		}
		fmt.Println("riverexec: EXECKIT_PG_URL is not set: tests skip and examples do not run (start a server with testdata/pg.sh)")
	}
	goleak.VerifyTestMain(m)
}

// serveWorker runs a worker until its stdin closes, printing "ready" once
// River's client has started.
func serveWorker(spec string) int {
	f := strings.Fields(spec)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, f[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pool.Close()
	ex, err := New(ctx, pool, WorkOnly(), Schema(f[1]), Queue(f[2]), RescueAfter(rescueAfterTest))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	if err := ex.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

const rescueAfterTest = time.Second

// pgURL returns the server the tests use, or skips the test without one
// (fails it under CI, which must provide one).
func pgURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("EXECKIT_PG_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("EXECKIT_PG_URL is not set under CI=true: start PostgreSQL first (eval \"$(bash riverexec/testdata/pg.sh start)\")")
		}
		t.Skip("EXECKIT_PG_URL is not set: these tests need a real PostgreSQL; start one with eval \"$(bash testdata/pg.sh start)\"")
	}
	return url
}

// newDB returns a pool and a fresh schema holding River's tables, both
// removed when the test ends.
func newDB(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgURL(t))
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
	return pool, schema
}

// newExecutor makes an executor on a fresh schema and shuts it down when
// the test ends.
func newExecutor(t testing.TB, opts ...Option) (*Executor, *pgxpool.Pool, string) {
	t.Helper()
	pool, schema := newDB(t)
	ex, err := New(context.Background(), pool, append([]Option{Schema(schema)}, opts...)...)
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
	return ex, pool, schema
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
