package riverexec

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit/internal/testlog"
)

// A panic in the executor's OnError is logged with its stack and the
// executor goes on: it ended the process, from the task's goroutine.
func TestOnErrorPanics(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		log := testlog.Capture(t)
		ex := newExecutor(t, db, Queue("onerror-panics"), OnError(func(err error) { panic("handler: " + err.Error()) }))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for range 2 {
			if err := ex.Submit(ctx, failing.Task(tokenFor(t, "onerror"))); err != nil {
				t.Fatal(err)
			}
		}
		if err := ex.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if s := log.String(); strings.Count(s, "riverexec: OnError handler panicked") != 2 || !strings.Contains(s, "TestOnErrorPanics") {
			t.Errorf("log: %s; want the handler's 2 panics, with their stack", s)
		}
	})
}
