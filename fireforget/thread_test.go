package fireforget

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/execkit/execkit"
)

func TestThreadLifecycle(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		run     func(context.Context) error
		want    error
		isPanic bool
	}{
		{"nil", func(context.Context) error { return nil }, nil, false},
		{"error", func(context.Context) error { return boom }, boom, false},
		{"panic", func(context.Context) error { panic(boom) }, boom, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, errs := newExec(t)
			release := make(chan struct{})
			th := NewThread("worker", execkit.TaskFunc(func(ctx context.Context) error {
				<-release
				return tt.run(ctx)
			}))
			if th.Alive() {
				t.Errorf("Alive before Start: got true; want false")
			}
			if err := th.Join(context.Background()); !errors.Is(err, ErrNotStarted) {
				t.Errorf("Join before Start: got %v; want ErrNotStarted", err)
			}
			if err := th.Start(context.Background(), e); err != nil {
				t.Fatalf("Start: got %v; want nil", err)
			}
			if !th.Alive() {
				t.Errorf("Alive while running: got false; want true")
			}
			if err := th.Err(); err != nil {
				t.Errorf("Err while running: got %v; want nil", err)
			}
			if err := th.Start(context.Background(), e); !errors.Is(err, ErrStarted) {
				t.Errorf("second Start: got %v; want ErrStarted", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := th.Join(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Join with an ended ctx: got %v; want context.Canceled", err)
			}
			close(release)
			err := th.Join(context.Background())
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("Join: got %v; want %v", err, tt.want)
			}
			var pe *execkit.PanicError
			if got := errors.As(err, &pe); got != tt.isPanic {
				t.Errorf("Join returned a *PanicError: got %v; want %v", got, tt.isPanic)
			}
			if tt.isPanic && !strings.Contains(string(pe.Stack), "TestThreadLifecycle") {
				t.Errorf("panic stack does not show the task:\n%s", pe.Stack)
			}
			if th.Alive() {
				t.Errorf("Alive after Join: got true; want false")
			}
			if got := th.Err(); got != err {
				t.Errorf("Err after Join: got %v; want %v", got, err)
			}
			if err := e.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-errs:
				t.Errorf("the executor's error handler got %v; want nothing (Join has it)", err)
			default:
			}
			s := e.Stats()
			if got := s.Succeeded + s.Failed + s.Panicked; got != 1 {
				t.Errorf("Stats counted %d outcomes; want 1", got)
			}
			if tt.isPanic && s.Panicked != 1 {
				t.Errorf("Stats.Panicked: got %d; want 1", s.Panicked)
			}
		})
	}
}

func TestThreadIDsAndNames(t *testing.T) {
	noop := execkit.TaskFunc(func(context.Context) error { return nil })
	a, b := NewThread("", noop), NewThread("named", noop)
	if b.ID() <= a.ID() {
		t.Errorf("IDs: got %d then %d; want increasing", a.ID(), b.ID())
	}
	if want := "thread-" + itoa(a.ID()); a.Name() != want {
		t.Errorf("default Name: got %q; want %q", a.Name(), want)
	}
	if b.Name() != "named" {
		t.Errorf("Name: got %q; want %q", b.Name(), "named")
	}
	if want := "named (" + itoa(b.ID()) + ")"; b.String() != want {
		t.Errorf("String: got %q; want %q", b.String(), want)
	}
}

func itoa(n uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func TestThreadStartFailures(t *testing.T) {
	closed, _ := newExec(t)
	if err := closed.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	open, _ := newExec(t)
	tests := []struct {
		name string
		task execkit.Task
		ex   execkit.Executor
		want error
	}{
		{"closed executor", execkit.TaskFunc(func(context.Context) error { return nil }), closed, execkit.ErrClosed},
		{"nil task", nil, open, execkit.ErrNilTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewThread("", tt.task)
			if err := th.Start(context.Background(), tt.ex); !errors.Is(err, tt.want) {
				t.Errorf("Start: got %v; want %v", err, tt.want)
			}
			if err := th.Join(context.Background()); !errors.Is(err, tt.want) {
				t.Errorf("Join: got %v; want %v", err, tt.want)
			}
			if err := th.Start(context.Background(), tt.ex); !errors.Is(err, ErrStarted) {
				t.Errorf("Start again: got %v; want ErrStarted", err)
			}
		})
	}
}

func TestThreadOnAnyExecutor(t *testing.T) {
	var in execkit.Inline
	var errs []error
	in.OnError = func(err error) { errs = append(errs, err) }
	boom := errors.New("boom")
	th := NewThread("", execkit.TaskFunc(func(context.Context) error { return boom }))
	if err := th.Start(context.Background(), &in); err != nil {
		t.Fatal(err)
	}
	if err := th.Join(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Join: got %v; want %v", err, boom)
	}
	if len(errs) != 0 {
		t.Errorf("Inline's error handler got %v; want nothing (Join has it)", errs)
	}
	if err := in.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

var threadHalf = execkit.Register("fireforget_test.half", func(_ context.Context, n int) (int, error) {
	if n%2 != 0 {
		return 0, errors.New("odd")
	}
	return n / 2, nil
})

// crossing stands for an executor that runs tasks in another process: it
// accepts only execkit.Portable tasks and runs them through an Invoker
// (here execkit.Invoke, in this process).
type crossing struct{ ran int }

func (c *crossing) Submit(ctx context.Context, t execkit.Task) error {
	p, ok := t.(execkit.Portable)
	if !ok {
		return execkit.ErrNotPortable
	}
	c.ran++
	_ = p.RunVia(ctx, execkit.Invoke)
	return nil
}

func (c *crossing) Shutdown(context.Context) error { return nil }

// A Thread forwards the portability of its task: a Func's task crosses,
// and the Thread gets its outcome; a closure does not.
func TestThreadOfPortableTask(t *testing.T) {
	ex := &crossing{}
	for _, tt := range []struct {
		n    int
		want string // Join's error text
	}{{4, "<nil>"}, {3, "odd"}} {
		th := NewThread("", threadHalf.Task(tt.n))
		if err := th.Start(context.Background(), ex); err != nil {
			t.Fatalf("Start(Thread of a Func task) = %v; want nil", err)
		}
		if err := th.Join(context.Background()); fmt.Sprint(err) != tt.want {
			t.Errorf("Join(Thread of half(%d)) = %v; want %q", tt.n, err, tt.want)
		}
	}
	if ex.ran != 2 {
		t.Errorf("the executor ran %d tasks through RunVia; want 2", ex.ran)
	}
	th := NewThread("", execkit.TaskFunc(func(context.Context) error { return nil }))
	if err := th.Start(context.Background(), ex); !errors.Is(err, execkit.ErrNotPortable) {
		t.Errorf("Start(Thread of a closure) = %v; want ErrNotPortable", err)
	}
	if err := th.Join(context.Background()); !errors.Is(err, execkit.ErrNotPortable) {
		t.Errorf("Join(Thread of a closure) = %v; want ErrNotPortable", err)
	}
}
