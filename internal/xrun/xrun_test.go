package xrun

import (
	"context"
	"errors"
	"testing"

	"github.com/execkit/execkit"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCounters(t *testing.T) {
	var c Counters
	var reported []error
	onError := func(err error) { reported = append(reported, err) }
	for range 5 {
		c.Admit()
	}
	c.Reject()
	c.Unqueue()
	tasks := []execkit.Task{
		execkit.TaskFunc(func(context.Context) error { return nil }),
		execkit.TaskFunc(func(context.Context) error { return errors.New("bad") }),
		execkit.TaskFunc(func(context.Context) error { panic("boom") }),
	}
	for _, task := range tasks {
		_ = Exec(context.Background(), &c, task, onError)
	}
	want := execkit.Stats{Submitted: 5, Queued: 1, Running: 0, Succeeded: 1, Failed: 2, Panicked: 1, Rejected: 1}
	if got := c.Stats(); got != want {
		t.Errorf("Stats = %+v; want %+v", got, want)
	}
	if len(reported) != 2 {
		t.Errorf("onError got %v; want the error and the panic", reported)
	}
	c.Start()
	if got := c.Stats(); got.Running != 1 || got.Queued != 0 {
		t.Errorf("after Start: Running %d, Queued %d; want 1, 0", got.Running, got.Queued)
	}
}

func TestFinishDoesNotAllocateOnSuccess(t *testing.T) {
	var c Counters
	if n := testing.AllocsPerRun(100, func() { c.Start(); c.Finish(nil) }); n != 0 {
		t.Errorf("Start+Finish(nil): %v allocs; want 0", n)
	}
}
