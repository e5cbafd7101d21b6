package executortest

import (
	"context"
	"errors"
	"fmt"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/fireforget"
)

// checkNilArguments: the helpers that promise never to panic hold that
// promise for nil and zero values of every argument: a nil ctx is
// context.Background; a nil executor, function or Func is a documented
// error; nil items are no items; nil and zero Futures are done.
func checkNilArguments(h *harness) {
	noPanic := func(what string, fn func() error) error {
		h.t.Helper()
		return within(h.t, what, func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panicked: %v", r)
					h.t.Errorf("%s panicked: %v; want no panic", what, r)
				}
			}()
			return fn()
		})
	}
	var nilCtx context.Context
	var nilFunc *execkit.Func[job, int]
	var nilEx execkit.Executor

	expect := func(what string, err, want error) {
		h.t.Helper()
		if !errors.Is(err, want) {
			h.t.Errorf("%s = %v; want %v", what, err, want)
		}
	}
	expect("Func.Go(ctx, nil executor).Wait", noPanic("Func.Go(nil executor)", func() error {
		_, err := jobFunc.Go(h.bg, nilEx, h.job(1, record)).Wait(h.bg)
		return err
	}), execkit.ErrNilExecutor)
	expect("Func.Map(ctx, nil executor)", noPanic("Func.Map(nil executor)", func() error {
		_, err := jobFunc.Map(h.bg, nilEx, []job{h.job(2, record)})
		return err
	}), execkit.ErrNilExecutor)
	expect("(*Func)(nil).Go(...).Wait", noPanic("(*Func)(nil).Go", func() error {
		_, err := nilFunc.Go(h.bg, h.ex, h.job(3, record)).Wait(h.bg)
		return err
	}), execkit.ErrNotRegistered)
	expect("(*Func)(nil).Map", noPanic("(*Func)(nil).Map", func() error {
		_, err := nilFunc.Map(h.bg, h.ex, []job{h.job(4, record)})
		return err
	}), execkit.ErrNotRegistered)
	if got, err := wait(h, jobFunc.Go(nilCtx, h.ex, h.job(5, record))); err != nil || got != 5 {
		h.t.Errorf("Func.Go(nil ctx).Wait = %d, %v; want 5, nil (a nil ctx is context.Background)", got, err)
	}
	_ = noPanic("Func.Map(nil ctx, nil items)", func() error {
		got, err := jobFunc.Map(nilCtx, h.ex, nil)
		if err != nil || len(got) != 0 {
			h.t.Errorf("Func.Map(nil ctx, nil items) = %v, %v; want no results, nil", got, err)
		}
		return nil
	})
	_ = noPanic("Submit(nil ctx)", func() error {
		err := h.ex.Submit(nilCtx, jobFunc.Task(h.job(6, record)))
		if err != nil {
			h.t.Errorf("Submit(nil ctx, task) = %v; want nil (a nil ctx is context.Background)", err)
		}
		return nil
	})
	if !h.cfg.portable {
		fn := func(context.Context) (int, error) { return 7, nil }
		expect("Go(ctx, nil executor, fn).Wait", noPanic("Go(nil executor)", func() error {
			_, err := execkit.Go(h.bg, nilEx, fn).Wait(h.bg)
			return err
		}), execkit.ErrNilExecutor)
		expect("Map(ctx, nil executor)", noPanic("Map(nil executor)", func() error {
			_, err := execkit.Map(h.bg, nilEx, []int{1}, func(context.Context, int) (int, error) { return 0, nil })
			return err
		}), execkit.ErrNilExecutor)
		expect("Map(ctx, ex, items, nil fn)", noPanic("Map(nil fn)", func() error {
			_, err := execkit.Map[int, int](h.bg, h.ex, []int{1}, nil)
			return err
		}), execkit.ErrNilTask)
		if got, err := wait(h, execkit.Go(nilCtx, h.ex, fn)); err != nil || got != 7 {
			h.t.Errorf("Go(nil ctx).Wait = %d, %v; want 7, nil", got, err)
		}
	}
	// Futures: nil and zero ones are done, with ErrNilTask; AsCompleted
	// skips nil entries and yields a future listed twice once.
	var nilFuture *execkit.Future[int]
	expect("(*Future)(nil).Wait", noPanic("(*Future)(nil).Wait", func() error {
		nilFuture.Cancel()
		<-nilFuture.Done()
		_, err := nilFuture.Wait(nilCtx)
		return err
	}), execkit.ErrNilTask)
	expect("zero Future's Wait", noPanic("zero Future", func() error {
		var zero execkit.Future[int]
		zero.Cancel()
		<-zero.Done()
		_, err := zero.Wait(h.bg)
		return err
	}), execkit.ErrNilTask)
	f := h.goJob(8, record)
	_ = noPanic("AsCompleted with nil and repeated futures", func() error {
		n := 0
		for got := range execkit.AsCompleted([]*execkit.Future[int]{nil, f, f, nil}) {
			if got != f {
				h.t.Errorf("AsCompleted yielded %p; want only %p", got, f)
			}
			n++
		}
		if n != 1 {
			h.t.Errorf("AsCompleted([nil, f, f, nil]) yielded %d futures; want 1 (each distinct future once)", n)
		}
		for range execkit.AsCompleted[int](nil) {
			h.t.Error("AsCompleted(nil) yielded a future")
		}
		return nil
	})
	h.awaitLines(finishedFile, 3) // jobs 5, 6 and 8
	if err := noPanic("Shutdown(nil ctx)", func() error { return h.ex.Shutdown(nilCtx) }); err != nil {
		h.t.Errorf("Shutdown(nil ctx) = %v; want nil (a nil ctx is context.Background)", err)
	}
	if got := h.lines(startedFile); got[1]+got[2]+got[3]+got[4] != 0 {
		h.t.Errorf("tasks ran %v; want none of the refused calls 1-4 to run", got)
	}
	h.end(nil)
}

// checkThreads: a fireforget.Thread composes with the executor (it reports
// its own outcome, so the executor passes nothing to onError for it), and
// so does a registered Func's task; a Thread of a closure runs where
// closures run and gets ErrNotPortable elsewhere.
func checkThreads(h *harness) {
	ok := fireforget.NewThread("ok", jobFunc.Task(h.job(1, record)))
	if err := ok.Start(h.bg, h.ex); err != nil {
		h.t.Fatalf("Thread of a Func task: Start = %v; want nil", err)
	}
	if err := within(h.t, "Thread.Join", func() error { return ok.Join(h.bg) }); err != nil {
		h.t.Errorf("Thread of a Func task: Join = %v; want nil", err)
	}
	if !h.cfg.failFast {
		bad := fireforget.NewThread("bad", jobFunc.Task(h.job(2, fail)))
		if err := bad.Start(h.bg, h.ex); err != nil {
			h.t.Fatalf("Thread of a failing Func task: Start = %v; want nil", err)
		}
		if err := within(h.t, "Thread.Join", func() error { return bad.Join(h.bg) }); !mentions("job 2 failed")(err) {
			h.t.Errorf("Thread of a failing Func task: Join = %v; want the task's error", err)
		}
	}
	ran := make(chan struct{}, 1)
	closure := fireforget.NewThread("closure", execkit.TaskFunc(func(context.Context) error { ran <- struct{}{}; return nil }))
	err := closure.Start(h.bg, h.ex)
	joined := within(h.t, "Thread.Join", func() error { return closure.Join(h.bg) })
	switch {
	case h.cfg.portable:
		if !errors.Is(err, execkit.ErrNotPortable) || !errors.Is(joined, execkit.ErrNotPortable) {
			h.t.Errorf("Thread of a closure: Start = %v, Join = %v; want ErrNotPortable from both", err, joined)
		}
	case err != nil || joined != nil:
		h.t.Errorf("Thread of a closure: Start = %v, Join = %v; want nil, nil", err, joined)
	default:
		<-ran
	}
	if err := h.submit(h.bg, jobFunc.Task(h.job(3, record))); err != nil {
		h.t.Errorf("Submit(Func task) = %v; want nil", err)
	}
	h.end(nil)
	if got := h.lines(finishedFile); got[1] != 1 || got[3] != 1 {
		h.t.Errorf("tasks finished %v; want tasks 1 and 3 once each", got)
	}
	if errs := h.errs.all(); len(errs) > 0 {
		h.t.Errorf("onError received %v; want nothing (a Thread reports its own outcome)", errs)
	}
}
