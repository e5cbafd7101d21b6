package fireforget_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/fireforget"
	"github.com/execkit/execkit/internal/testlog"
)

// TestOnErrorPanics: a panicking error handler is logged with its stack,
// and the Executor goes on and shuts down; the panic crashed the process
// (it left the task's goroutine from a deferred call), with Limit too, and
// in a follow-up run by its caller.
func TestOnErrorPanics(t *testing.T) {
	log := testlog.Capture(t)
	for _, opts := range [][]fireforget.Option{nil, {fireforget.Limit(1)}} {
		e, err := fireforget.New(append(opts, fireforget.OnError(func(err error) { panic("handler: " + err.Error()) }))...)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for range 3 {
			if err := e.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return errors.New("fail") })); err != nil {
				t.Fatal(err)
			}
		}
		if v, err := execkit.Go(ctx, e, func(context.Context) (int, error) { return 7, nil }).Wait(ctx); v != 7 || err != nil {
			t.Errorf("after the handler panicked: Wait = %d, %v; want 7, nil", v, err)
		}
		if err := e.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown = %v; want nil", err)
		}
		if st := e.Stats(); st.Failed != 3 || st.Succeeded != 1 {
			t.Errorf("Stats = %+v; want Failed 3, Succeeded 1", st)
		}
	}
	if got := strings.Count(log.String(), "fireforget: OnError handler panicked"); got != 6 {
		t.Errorf("log has %d reports of the handler's panics; want 6:\n%s", got, log.String())
	}
	if !strings.Contains(log.String(), "TestOnErrorPanics") {
		t.Errorf("the log does not show the handler's stack:\n%s", log.String())
	}
}
