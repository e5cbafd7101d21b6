package subprocess_test

import (
	"strings"
	"testing"

	"github.com/execkit/execkit/internal/testlog"
	"github.com/execkit/execkit/subprocess"
)

// A panic in the pool's OnError is logged with its stack and the pool goes
// on: it ended the process, from the pool's goroutine.
func TestOnErrorPanics(t *testing.T) {
	log := testlog.Capture(t)
	p := newPool(t, 1, subprocess.OnError(func(err error) { panic("handler: " + err.Error()) }))
	ctx := testContext(t)
	for range 2 {
		if err := p.Submit(ctx, fail.Task("fail")); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := subprocess.Apply(ctx, p, double, 4); v != 8 || err != nil {
		t.Errorf("after the handler's panics: %d, %v; want 8", v, err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if s := log.String(); strings.Count(s, "subprocess: OnError handler panicked") != 2 || !strings.Contains(s, "TestOnErrorPanics") {
		t.Errorf("log: %s; want the handler's 2 panics, with their stack", s)
	}
}
