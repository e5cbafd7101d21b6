package subprocess_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
	"github.com/execkit/execkit/subprocess"
)

// modeEnv runs the test binary as a helper process instead of the tests:
// see TestMain.
const modeEnv = "SUBPROCESS_TEST_MODE"

func TestMain(m *testing.M) {
	switch os.Getenv(modeEnv) {
	case "nomain": // a program that forgot subprocess.Main
		_, err := subprocess.New(1)
		fmt.Println(err)
		os.Exit(0)
	case "echo": // the raw pipe ping-pong baseline of BenchmarkRoundTrip
		echo()
		os.Exit(0)
	}
	subprocess.Main()
	if os.Getenv(modeEnv) == "orphan" { // a parent with a busy pool, to be SIGKILLed
		orphanParent()
		os.Exit(0)
	}
	// Under -race, a process sleeps a second at exit (GORACE's
	// atexit_sleep_ms); workers need not.
	os.Setenv("GORACE", strings.TrimSpace("atexit_sleep_ms=0 "+os.Getenv("GORACE")))
	goleak.VerifyTestMain(m)
}

// The functions the tests run in workers. They are registered at package
// level, so every worker (the same test binary) has them too.
var (
	double = execkit.Register("test.double", func(_ context.Context, x int) (int, error) {
		return 2 * x, nil
	})
	noop = execkit.Register("test.noop", func(context.Context, struct{}) (struct{}, error) {
		return struct{}{}, nil
	})
	getpid = execkit.Register("test.getpid", func(context.Context, struct{}) (int, error) {
		return os.Getpid(), nil
	})
	fail = execkit.Register("test.fail", func(_ context.Context, msg string) (int, error) {
		return 0, errors.New(msg)
	})
	failOdd = execkit.Register("test.failOdd", func(_ context.Context, x int) (int, error) {
		if x%2 == 1 {
			return 0, fmt.Errorf("odd %d", x)
		}
		return x, nil
	})
	boom = execkit.Register("test.boom", func(_ context.Context, msg string) (int, error) {
		panic(msg)
	})
	// waitCtx returns when its context ends, or after d.
	waitCtx = execkit.Register("test.waitCtx", func(ctx context.Context, d time.Duration) (int, error) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(d):
			return os.Getpid(), nil
		}
	})
	// block tells the test it started, through the FIFO at Fifo, then
	// waits for its context to end or, with IgnoreCtx, forever.
	block = execkit.Register("test.block", func(ctx context.Context, a blockArg) (int, error) {
		f, err := os.OpenFile(a.Fifo, os.O_WRONLY, 0)
		if err != nil {
			return 0, err
		}
		f.Write([]byte{1})
		f.Close()
		if a.IgnoreCtx {
			select {}
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})
	// hang ignores its context.
	hang = execkit.Register("test.hang", func(context.Context, struct{}) (int, error) {
		select {}
	})
	// die ends its worker the way how says.
	die = execkit.Register("test.die", func(_ context.Context, how string) (int, error) {
		switch how {
		case "sigkill":
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		case "exit":
			fmt.Fprintln(os.Stderr, "about to exit 7")
			os.Exit(7)
		case "goroutine-panic":
			go func() { panic("panic in another goroutine") }()
		case "goexit": // as t.FailNow does
			runtime.Goexit()
		case "corrupt-frame":
			// A frame header announcing a 1 GiB frame, on the result pipe.
			subprocess.WriteResultPipe([]byte{0x40, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1})
		}
		select {}
	})
	// say prints its argument on the worker's stdout.
	say = execkit.Register("test.say", func(_ context.Context, msg string) (struct{}, error) {
		_, err := fmt.Println(msg)
		return struct{}{}, err
	})
	// initState records, in the worker, that the initializer ran.
	initPid  int
	initPath = execkit.Register("test.init", func(_ context.Context, failIfExists string) (struct{}, error) {
		if failIfExists != "" {
			if _, err := os.Stat(failIfExists); err == nil {
				return struct{}{}, fmt.Errorf("init refused: %s exists", filepath.Base(failIfExists))
			}
		}
		initPid = os.Getpid()
		return struct{}{}, nil
	})
	// whoami returns the worker's pid and the pid its initializer ran in.
	whoami = execkit.Register("test.whoami", func(context.Context, struct{}) ([2]int, error) {
		return [2]int{os.Getpid(), initPid}, nil
	})
)

type blockArg struct {
	Fifo      string
	IgnoreCtx bool
}

// started returns a FIFO for block, and a function that returns once the
// task has started in its worker.
func started(t testing.TB) (fifo string, wait func()) {
	t.Helper()
	fifo = filepath.Join(t.TempDir(), "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	return fifo, func() {
		t.Helper()
		b, err := os.ReadFile(fifo) // opening blocks until the task opens it
		if err != nil || len(b) != 1 {
			t.Fatalf("reading %s: %q, %v", fifo, b, err)
		}
	}
}

// extraEnv makes workers register one more function than the pool: the
// registry hash differs, and the pool refuses them.
const extraEnv = "SUBPROCESS_TEST_EXTRA"

func init() {
	if os.Getenv(extraEnv) != "" {
		execkit.Register("test.extra", func(context.Context, int) (int, error) { return 0, nil })
	}
}

// newPool starts a pool and shuts it down at the end of the test.
func newPool(t testing.TB, n int, opts ...subprocess.Option) *subprocess.Pool {
	t.Helper()
	p, err := subprocess.New(n, opts...)
	if err != nil {
		t.Fatalf("New(%d): %v", n, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p
}

// testContext bounds a test's waits, so that a hang fails instead of
// stalling the run.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// children returns the pids of this process's children, zombies included.
func children(t testing.TB) []int {
	t.Helper()
	return childrenOf(t, os.Getpid())
}

// childrenOf returns the pids of the children of process pid.
func childrenOf(t testing.TB, pid int) []int {
	t.Helper()
	pids, err := procChildren(pid)
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

// procChildren reads the children of process pid, zombies included, from
// /proc.
func procChildren(pid int) ([]int, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		for _, s := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", f, err)
			}
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// unregistered is a Portable task calling a name no process registered.
type unregistered struct{ err error }

func (u *unregistered) Run(context.Context) error { return errors.New("not run in-process") }

func (u *unregistered) RunVia(ctx context.Context, invoke driver.Invoker) error {
	_, u.err = invoke(ctx, "test.no-such-function", nil)
	return u.err
}
