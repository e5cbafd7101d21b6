package subprocess_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

func TestNewWithoutMain(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), modeEnv+"=nomain")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), subprocess.ErrNoMain.Error(); got != want {
		t.Errorf("New without Main: got %q; want %q", got, want)
	}
}

func TestNewBadArguments(t *testing.T) {
	tests := []struct {
		name string
		n    int
		opts []subprocess.Option
		want string
	}{
		{"negative count", -1, nil, "subprocess: New(-1)"},
		{"huge count", math.MaxInt, nil, "subprocess: New(9223372036854775807): want a worker count"},
		{"max tasks zero", 1, []subprocess.Option{subprocess.MaxTasksPerChild(0)}, "MaxTasksPerChild(0)"},
		{"grace zero", 1, []subprocess.Option{subprocess.CancelGrace(0)}, "CancelGrace(0s)"},
		{"start timeout zero", 1, []subprocess.Option{subprocess.StartTimeout(0)}, "StartTimeout(0s)"},
		{"negative prefetch", 1, []subprocess.Option{subprocess.Prefetch(-1)}, "Prefetch(-1)"},
		{"huge prefetch", 1, []subprocess.Option{subprocess.Prefetch(1 << 20)}, "Prefetch(1048576)"},
		{"nil handler", 1, []subprocess.Option{subprocess.OnError(nil)}, "OnError(nil)"},
		{"nil initializer", 1, []subprocess.Option{subprocess.Initializer[int, int](nil, 0)}, "nil Func"},
		{"nil option", 1, []subprocess.Option{subprocess.StartTimeout(time.Minute), nil}, "New with a nil Option (option 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := subprocess.New(tt.n, tt.opts...)
			if err == nil {
				p.Terminate()
				t.Fatalf("New: got nil error; want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "subprocess: ") {
				t.Errorf("New: got %q; want a subprocess error containing %q", err, tt.want)
			}
		})
	}
}

// TestNilFunc holds one error for a nil Func, or a zero one, at every
// entry point that takes one, as the root package's Func methods give it:
// execkit.ErrNotRegistered, wrapped in a subprocess error that names the
// call.
func TestNilFunc(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	for name, nilFunc := range map[string]*execkit.Func[int, int]{"nil": nil, "zero": new(execkit.Func[int, int])} {
		t.Run(name, func(t *testing.T) { testNilFunc(t, ctx, p, nilFunc) })
	}
}

// testNilFunc is TestNilFunc for one Func not made by Register.
func testNilFunc(t *testing.T, ctx context.Context, p *subprocess.Pool, nilFunc *execkit.Func[int, int]) {
	tests := []struct {
		name string
		run  func() error
	}{
		{"Apply", func() error { _, err := subprocess.Apply(ctx, p, nilFunc, 1); return err }},
		{"Map", func() error { _, err := subprocess.Map(ctx, p, nilFunc, []int{1}); return err }},
		{"MapUnordered", func() error {
			var first error
			for _, err := range subprocess.MapUnordered(ctx, p, nilFunc, slices.Values([]int{1})) {
				first = err
				break
			}
			return first
		}},
		{"Initializer", func() error {
			q, err := subprocess.New(1, subprocess.Initializer(nilFunc, 0))
			if err == nil {
				q.Terminate()
			}
			return err
		}},
		{"Func.Go", func() error { _, err := nilFunc.Go(ctx, p, 1).Wait(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, execkit.ErrNotRegistered) {
				t.Errorf("got %v; want an error wrapping execkit.ErrNotRegistered", err)
			}
			if tt.name != "Func.Go" && (err == nil || !strings.HasPrefix(err.Error(), "subprocess: "+tt.name+" with a nil Func")) {
				t.Errorf("got %v; want it to start with %q", err, "subprocess: "+tt.name+" with a nil Func")
			}
		})
	}
}

func TestApply(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	tests := []struct {
		name    string
		run     func() (int, error)
		want    int
		wantErr string
	}{
		{"result", func() (int, error) { return subprocess.Apply(ctx, p, double, 21) }, 42, ""},
		{"error", func() (int, error) { return subprocess.Apply(ctx, p, fail, "no luck") }, 0, "no luck"},
		{"panic", func() (int, error) { return subprocess.Apply(ctx, p, boom, "kaboom") }, 0, "execkit: task panicked: kaboom"},
		{"nil func", func() (int, error) { return subprocess.Apply[int, int](ctx, p, nil, 1) }, 0, "subprocess: Apply with a nil Func"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.run()
			if got != tt.want {
				t.Errorf("got %d; want %d", got, tt.want)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("got error %v; want %q", err, tt.wantErr)
			}
		})
	}
}

func TestPanicKeepsWorker(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	before, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = subprocess.Apply(ctx, p, boom, "kaboom")
	var pe *execkit.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v (%T); want a *execkit.PanicError", err, err)
	}
	if pe.Value != "kaboom" {
		t.Errorf("got panic value %q; want %q", pe.Value, "kaboom")
	}
	// The stack is the worker's: it shows the registered function.
	if !strings.Contains(string(pe.Stack), "subprocess_test.init") {
		t.Errorf("got stack\n%s\nwant the worker's, through the registered function", pe.Stack)
	}
	after, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil || after != before {
		t.Errorf("after the panic: got worker %d, %v; want the same worker %d", after, err, before)
	}
}

func TestUnregistered(t *testing.T) {
	p := newPool(t, 1, subprocess.OnError(func(error) {}))
	u := &unregistered{}
	if err := p.Submit(testContext(t), u); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(u.err, execkit.ErrNotRegistered) || !strings.Contains(u.err.Error(), "test.no-such-function") {
		t.Errorf("got %v; want execkit.ErrNotRegistered naming the function", u.err)
	}
}

func TestSubmitRefusals(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	closure := execkit.TaskFunc(func(context.Context) error { return nil })
	if err := p.Submit(ctx, closure); !errors.Is(err, execkit.ErrNotPortable) {
		t.Errorf("Submit(closure): got %v; want ErrNotPortable", err)
	}
	if err := p.Submit(ctx, nil); !errors.Is(err, execkit.ErrNilTask) {
		t.Errorf("Submit(nil): got %v; want ErrNilTask", err)
	}
	if _, err := execkit.Go(ctx, p, func(context.Context) (int, error) { return 1, nil }).Wait(ctx); !errors.Is(err, execkit.ErrNotPortable) {
		t.Errorf("execkit.Go(closure): got %v; want ErrNotPortable", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(ctx, double.Task(1)); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Submit after Shutdown: got %v; want ErrClosed", err)
	}
	if _, err := subprocess.Apply(ctx, p, double, 1); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Apply after Shutdown: got %v; want ErrClosed", err)
	}
	if _, err := subprocess.Map(ctx, p, double, []int{1}); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Map after Shutdown: got %v; want ErrClosed", err)
	}
	// The three refused after Shutdown; bad input is not counted.
	if got := p.Stats().Rejected; got != 3 {
		t.Errorf("Stats().Rejected: got %d; want 3", got)
	}
}

func TestFutures(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	var futures []*execkit.Future[int]
	for i := range 20 {
		futures = append(futures, double.Go(ctx, p, i))
	}
	var got []int
	for f := range execkit.AsCompleted(futures) {
		v, err := f.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	slices.Sort(got)
	for i, v := range got {
		if v != 2*i {
			t.Fatalf("got results %v; want the doubles of 0..19", got)
		}
	}
	if err := p.Shutdown(ctx); err != nil { // the counters are final once it returned
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Submitted != 20 || st.Succeeded != 20 || st.Queued != 0 || st.Running != 0 {
		t.Errorf("Stats: got %+v; want 20 submitted and succeeded, none queued or running", st)
	}
}

func TestErrorHandler(t *testing.T) {
	errs := make(chan error, 2)
	p := newPool(t, 1, subprocess.OnError(func(err error) { errs <- err }))
	ctx := testContext(t)
	if err := p.Submit(ctx, fail.Task("to the handler")); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(ctx, boom.Task("panic to the handler")); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for range 2 {
		texts = append(texts, (<-errs).Error())
	}
	slices.Sort(texts)
	want := []string{"execkit: task panicked: panic to the handler", "to the handler"}
	if !slices.Equal(texts, want) {
		t.Errorf("handler got %q; want %q", texts, want)
	}
}

func TestMap(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	items := make([]int, 1001)
	want := make([]int, len(items))
	for i := range items {
		items[i], want[i] = i, 2*i
	}
	tests := []struct {
		name string
		opts []subprocess.MapOption
	}{
		{"default chunks", nil},
		{"chunk=1", []subprocess.MapOption{subprocess.ChunkSize(1)}},
		{"chunk=7", []subprocess.MapOption{subprocess.ChunkSize(7)}},
		{"chunk=5000", []subprocess.MapOption{subprocess.ChunkSize(5000)}},
		{"chunk=-3", []subprocess.MapOption{subprocess.ChunkSize(-3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := subprocess.Map(ctx, p, double, items, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %v...; want %v...", got[:10], want[:10])
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		got, err := subprocess.Map(ctx, p, double, nil)
		if err != nil || len(got) != 0 {
			t.Errorf("got %v, %v; want [], nil", got, err)
		}
	})
	t.Run("nil option", func(t *testing.T) {
		got, err := subprocess.Map(ctx, p, double, items, subprocess.ChunkSize(2), nil)
		if err == nil || err.Error() != "subprocess: Map with a nil MapOption (option 2)" || got != nil {
			t.Errorf("got %d results, %v; want none and a nil MapOption error", len(got), err)
		}
	})
	t.Run("error", func(t *testing.T) {
		_, err := subprocess.Map(ctx, p, failOdd, []int{0, 2, 4, 5, 6}, subprocess.ChunkSize(2))
		if err == nil || err.Error() != "subprocess: Map item 3: odd 5" {
			t.Errorf("got %v; want %q", err, "subprocess: Map item 3: odd 5")
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := subprocess.Map(ctx, p, waitCtx, []time.Duration{time.Hour, time.Hour, time.Hour}, subprocess.ChunkSize(1))
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v; want context.Canceled", err)
		}
	})
}

func TestMapUnordered(t *testing.T) {
	p := newPool(t, 2)
	ctx := testContext(t)
	t.Run("all", func(t *testing.T) {
		for _, chunk := range []int{1, 3} {
			var got []int
			for v, err := range subprocess.MapUnordered(ctx, p, double, countTo(100), subprocess.ChunkSize(chunk)) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			slices.Sort(got)
			if len(got) != 100 || got[0] != 0 || got[99] != 198 {
				t.Errorf("chunk=%d: got %d results %v...; want the doubles of 0..99", chunk, len(got), got[:min(5, len(got))])
			}
		}
	})
	t.Run("nil option", func(t *testing.T) {
		var errs []error
		for v, err := range subprocess.MapUnordered(ctx, p, double, countTo(10), nil) {
			if err == nil {
				t.Errorf("got result %d; want only the nil MapOption error", v)
			}
			errs = append(errs, err)
		}
		if len(errs) != 1 || errs[0].Error() != "subprocess: MapUnordered with a nil MapOption (option 1)" {
			t.Errorf("got %v; want one nil MapOption error", errs)
		}
	})
	t.Run("errors go on", func(t *testing.T) {
		var oks, errs int
		for _, err := range subprocess.MapUnordered(ctx, p, failOdd, countTo(10)) {
			if err != nil {
				if !strings.HasPrefix(err.Error(), "subprocess: MapUnordered item ") {
					t.Errorf("got %q; want it to name the item", err)
				}
				errs++
			} else {
				oks++
			}
		}
		if oks != 5 || errs != 5 {
			t.Errorf("got %d results and %d errors; want 5 and 5", oks, errs)
		}
	})
	t.Run("backpressure", func(t *testing.T) {
		// The consumer takes 3 results and stops: the input is read only a
		// bounded distance ahead (16 chunks per worker), not to its end.
		read := 0
		items := func(yield func(int) bool) {
			for i := 0; i < 1_000_000; i++ {
				read++
				if !yield(i) {
					return
				}
			}
		}
		taken := 0
		for _, err := range subprocess.MapUnordered(ctx, p, double, items) {
			if err != nil {
				t.Fatal(err)
			}
			if taken++; taken == 3 {
				break
			}
		}
		if limit := 3 + 16*p.Workers() + 1; read > limit {
			t.Errorf("read %d items for 3 results; want at most %d", read, limit)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		items := func(yield func(time.Duration) bool) {
			for range 2 {
				if !yield(time.Hour) {
					return
				}
			}
			cancel() // both are running or queued: MapUnordered is waiting for them
		}
		var errs []error
		for _, err := range subprocess.MapUnordered(ctx, p, waitCtx, items) {
			errs = append(errs, err)
		}
		if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
			t.Errorf("got %v; want context.Canceled, once", errs)
		}
	})
}

func countTo(n int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

func TestRecycling(t *testing.T) {
	p := newPool(t, 1, subprocess.MaxTasksPerChild(2), subprocess.Initializer(initPath, ""))
	ctx := testContext(t)
	count := map[int]int{}
	for range 6 {
		got, err := subprocess.Apply(ctx, p, whoami, struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		pid, initRanIn := got[0], got[1]
		if initRanIn != pid {
			t.Errorf("task in worker %d: initializer ran in %d; want in the same worker", pid, initRanIn)
		}
		count[pid]++
	}
	if len(count) != 3 {
		t.Errorf("got tasks per worker %v; want 6 tasks in 3 workers", count)
	}
	for pid, n := range count {
		if n != 2 {
			t.Errorf("worker %d ran %d tasks; want 2", pid, n)
		}
	}
}

func TestInitializerFailure(t *testing.T) {
	marker := t.TempDir() + "/refuse"
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := subprocess.New(2, subprocess.Initializer(initPath, marker))
	if err == nil {
		p.Terminate()
		t.Fatal("New: got nil error; want the initializer's")
	}
	want := `subprocess: initializer "test.init" failed in worker `
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "init refused: refuse exists") {
		t.Errorf("New: got %q; want %q... the initializer's error", err, want)
	}
	if got := children(t); len(got) != 0 {
		t.Errorf("after New failed: got children %v; want none", got)
	}
}

func TestRegistryMismatch(t *testing.T) {
	t.Setenv(extraEnv, "1") // new workers register one more function
	p, err := subprocess.New(1)
	if err == nil {
		p.Terminate()
		t.Fatal("New: got nil error; want the worker refused")
	}
	if !errors.Is(err, subprocess.ErrProtocol) || !strings.Contains(err.Error(), "registered other functions") {
		t.Errorf("New: got %v; want ErrProtocol saying the worker registered other functions", err)
	}
}

func TestStderrTail(t *testing.T) {
	p := newPool(t, 1)
	ctx := testContext(t)
	_, err := subprocess.Apply(ctx, p, die, "exit")
	var we *subprocess.WorkerError
	if !errors.As(err, &we) {
		t.Fatalf("got %v; want a *WorkerError", err)
	}
	if !strings.Contains(string(we.Stderr), "about to exit 7") || !strings.Contains(err.Error(), "(stderr: about to exit 7)") {
		t.Errorf("got stderr %q, error %q; want both to show what the worker wrote", we.Stderr, err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	p, err := subprocess.New(1, subprocess.CancelGrace(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	f := hang.Go(ctx, p, struct{}{})
	short, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Shutdown(short); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with an ended context: got %v; want context.Canceled", err)
	}
	if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("the hanging task: got %v; want context.Canceled", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: got %v; want nil", err)
	}
	if got := children(t); len(got) != 0 {
		t.Errorf("after Shutdown: got children %v; want none", got)
	}
}

func TestTerminate(t *testing.T) {
	errs := make(chan error, 10)
	p, err := subprocess.New(2, subprocess.OnError(func(err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	var futures []*execkit.Future[int]
	for range 6 { // 2 running, 2 prefetched, 2 queued
		futures = append(futures, hang.Go(ctx, p, struct{}{}))
	}
	if err := p.Submit(ctx, hang.Task(struct{}{})); err != nil {
		t.Fatal(err)
	}
	p.Terminate()
	for i, f := range futures {
		if _, err := f.Wait(ctx); !errors.Is(err, subprocess.ErrTerminated) {
			t.Errorf("task %d: got %v; want ErrTerminated", i, err)
		}
	}
	if err := <-errs; !errors.Is(err, subprocess.ErrTerminated) {
		t.Errorf("the task without a Future: handler got %v; want ErrTerminated", err)
	}
	if err := p.Submit(ctx, double.Task(1)); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Submit after Terminate: got %v; want ErrClosed", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown after Terminate: got %v; want nil", err)
	}
	p.Terminate() // idempotent
	if got := children(t); len(got) != 0 {
		t.Errorf("after Terminate: got children %v; want none", got)
	}
}

func TestPassthrough(t *testing.T) {
	tests := []struct {
		name string
		opts []subprocess.Option
		want string
	}{
		{"default discards", nil, ""},
		{"passthrough", []subprocess.Option{subprocess.Passthrough()}, "hello from a worker\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout := os.Stdout
			os.Stdout = w // what a worker started now inherits
			p, err := subprocess.New(1, tt.opts...)
			os.Stdout = stdout
			if err != nil {
				t.Fatal(err)
			}
			ctx := testContext(t)
			if _, err := subprocess.Apply(ctx, p, say, "hello from a worker"); err != nil {
				t.Fatal(err)
			}
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			w.Close()
			got, err := io.ReadAll(r)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestMapPoolEnd ends the pool while a call made with context.Background()
// (Map and MapUnordered above all) waits for a running task: it reports why the
// pool gave up (ErrTerminated, Shutdown's context), not a bare
// context.Canceled as if its caller had cancelled it.
func TestMapPoolEnd(t *testing.T) {
	calls := []struct {
		name string
		run  func(p *subprocess.Pool, arg blockArg) error
	}{
		{"Apply", func(p *subprocess.Pool, arg blockArg) error {
			_, err := subprocess.Apply(context.Background(), p, block, arg)
			return err
		}},
		{"Future", func(p *subprocess.Pool, arg blockArg) error {
			_, err := block.Go(context.Background(), p, arg).Wait(context.Background())
			return err
		}},
		{"Map", func(p *subprocess.Pool, arg blockArg) error {
			_, err := subprocess.Map(context.Background(), p, block, []blockArg{arg, arg})
			return err
		}},
		{"MapUnordered", func(p *subprocess.Pool, arg blockArg) error {
			var errs []error
			for _, err := range subprocess.MapUnordered(context.Background(), p, block, slices.Values([]blockArg{arg, arg})) {
				errs = append(errs, err)
			}
			if len(errs) != 1 {
				return fmt.Errorf("got %d outcomes %v; want one error", len(errs), errs)
			}
			return errs[0]
		}},
	}
	ends := []struct {
		name  string
		end   func(p *subprocess.Pool)
		check func(err error) bool
		want  string
	}{
		{"Terminate", func(p *subprocess.Pool) { p.Terminate() },
			func(err error) bool { return errors.Is(err, subprocess.ErrTerminated) }, "ErrTerminated"},
		{"Shutdown deadline", func(p *subprocess.Pool) {
			ended, cancel := context.WithCancel(context.Background())
			cancel()
			p.Shutdown(ended)
		}, func(err error) bool {
			return err != context.Canceled && strings.Contains(fmt.Sprint(err), "Shutdown's context ended")
		}, "an error naming Shutdown's context"},
	}
	for _, c := range calls {
		for _, e := range ends {
			t.Run(c.name+"/"+e.name, func(t *testing.T) {
				p := newPool(t, 1, subprocess.CancelGrace(50*time.Millisecond))
				fifo, wait := started(t)
				done := make(chan error, 1)
				go func() { done <- c.run(p, blockArg{Fifo: fifo}) }()
				wait()
				e.end(p)
				if err := <-done; !e.check(err) {
					t.Errorf("got %v; want %s", err, e.want)
				}
			})
		}
	}
}

// TestApplyKeepsWarmWorker: one call at a time goes to the worker used
// last, the one least likely to have gone to sleep, rather than to any
// idle one (a round trip then waits for one wake-up less); when that
// worker is busy, a call goes to an idle one at once.
func TestApplyKeepsWarmWorker(t *testing.T) {
	p := newPool(t, 2)
	ctx := context.Background()
	first, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		pid, err := subprocess.Apply(ctx, p, getpid, struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		if pid != first {
			t.Fatalf("call %d ran in worker %d; want %d, the worker used last, which was idle", i, pid, first)
		}
	}
	// The warm worker busy: the next call does not wait behind it.
	busy := waitCtx.Go(ctx, p, 300*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // let the sleeper start
	t0 := time.Now()
	pid, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 200*time.Millisecond {
		t.Errorf("Apply took %v beside one busy worker; want it on the idle one at once", d)
	}
	busyPid, err := busy.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if busyPid != first || pid == first {
		t.Errorf("the long call ran in worker %d and the short one in %d; want the long one in the warm worker %d, the short one in the other", busyPid, pid, first)
	}
}
