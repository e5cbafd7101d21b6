package fireforget_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/fireforget"
)

func ExampleNew() {
	ctx := context.Background()
	ex, err := fireforget.New(fireforget.Limit(8), fireforget.OnError(func(err error) {
		fmt.Println("task failed:", err)
	}))
	if err != nil {
		panic(err)
	}
	_ = ex.Submit(ctx, execkit.TaskFunc(func(ctx context.Context) error {
		return errors.New("disk full")
	}))
	// Shutdown waits for every task, so the handler has run by now.
	if err := ex.Shutdown(ctx); err != nil {
		panic(err)
	}
	fmt.Println(ex.Stats().Failed, "failed")
	// Output:
	// task failed: disk full
	// 1 failed
}

// Download is a Task: the counterpart of a threading.Thread subclass.
type Download struct{ URL string }

func (d *Download) Run(ctx context.Context) error {
	return fmt.Errorf("fetch %s: connection refused", d.URL)
}

func ExampleThread() {
	ctx := context.Background()
	ex, _ := fireforget.New()
	defer ex.Shutdown(ctx)

	th := fireforget.NewThread("download", &Download{URL: "http://example.invalid/"})
	if err := th.Start(ctx, ex); err != nil {
		panic(err)
	}
	fmt.Println(th.Name(), "started")
	// Join returns the task's error (Python's join would not).
	fmt.Println(th.Join(ctx))
	fmt.Println(th.Start(ctx, ex))
	// Output:
	// download started
	// fetch http://example.invalid/: connection refused
	// fireforget: thread already started
}

func ExampleBackground() {
	ctx := context.Background()
	ex, _ := fireforget.New()
	defer ex.Shutdown(ctx)

	task := fireforget.Background(ex, func(ctx context.Context, msg string) error {
		if msg == "" {
			panic("empty message")
		}
		return nil
	})
	ok, bad := task(ctx, "task1"), task(ctx, "")
	fmt.Println(ok.Join(ctx))
	var pe *execkit.PanicError
	fmt.Println(errors.As(bad.Join(ctx), &pe), pe.Value)
	// Output:
	// <nil>
	// true empty message
}

func ExampleRegistry() {
	reg, _ := fireforget.NewRegistry(fireforget.KeepFinished(100))
	defer reg.Shutdown(context.Background())

	job, err := reg.Start(func(ctx context.Context, out io.Writer) error {
		fmt.Fprintln(out, "working")
		return nil
	})
	if err != nil {
		panic(err)
	}
	<-job.Done()
	info := reg.Info(job.ID())
	fmt.Printf("%s %q\n", info.State, info.Output)

	unknown, _ := fireforget.ParseID("0123456789abcdef0123456789abcdef")
	fmt.Println(reg.Info(unknown).State)
	// Output:
	// succeeded "working\n"
	// unknown
}

func ExampleRegistry_Handler() {
	reg, _ := fireforget.NewRegistry()
	defer reg.Shutdown(context.Background())
	done := make(chan struct{})
	h := reg.Handler(func(out io.Writer, r *http.Request) (fireforget.JobFunc, error) {
		fmt.Fprintln(out, "Started")
		return func(ctx context.Context, out io.Writer) error {
			defer close(done)
			fmt.Fprintln(out, "<b>not bold</b>")
			return nil
		}, nil
	})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/report?month=5", nil))
	loc := rec.Header().Get("Location")
	fmt.Println(rec.Code, regexp.MustCompile(`[0-9a-f]{32}`).ReplaceAllString(loc, "<id>"))

	<-done
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/report"+loc, nil)) // loc is relative: ?<query>

	page := rec.Body.String()
	fmt.Println(rec.Code, page[strings.Index(page, "<pre"):strings.Index(page, "</pre>")+6])
	// Output:
	// 303 ?month=5&_t=<id>
	// 200 <pre id="output">Started
	// &lt;b&gt;not bold&lt;/b&gt;
	// </pre>
}
