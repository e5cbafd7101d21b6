package subprocess_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// initHang is an initializer that, once the file Flag exists (always, when
// Flag is empty), tells the test through the FIFO at Fifo (if any) that it
// runs, then never returns.
var initHang = execkit.Register("test.initHang", func(_ context.Context, a initHangArg) (struct{}, error) {
	if a.Flag != "" {
		if _, err := os.Stat(a.Flag); err != nil {
			return struct{}{}, nil
		}
	}
	if a.Fifo != "" {
		f, err := os.OpenFile(a.Fifo, os.O_WRONLY, 0)
		if err != nil {
			return struct{}{}, err
		}
		f.Write([]byte{1})
		f.Close()
	}
	select {}
})

type initHangArg struct{ Flag, Fifo string }

// TestStartTimeout: New with an initializer that never returns gives up
// after the StartTimeout, with an error that says so, and leaves no
// process or goroutine behind.
func TestStartTimeout(t *testing.T) {
	p, err := subprocess.New(2, subprocess.WithInitializer(initHang, initHangArg{}), subprocess.StartTimeout(2*time.Second)) // time for HELLO, under -race too
	if err == nil {
		p.Terminate()
		t.Fatal("New: got nil error; want a start timeout")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `StartTimeout): the initializer "test.initHang" had not returned`) {
		t.Errorf("New: got %v; want a DeadlineExceeded naming StartTimeout and the initializer", err)
	}
	if got := children(t); len(got) != 0 {
		t.Errorf("after New failed: got children %v; want none", got)
	}
	goleak.VerifyNone(t)
}

// TestStopWhileStarting stops the pool while a replacement worker is in
// its initializer, which never returns: Terminate and Shutdown kill it at
// once rather than wait for it (or for the StartTimeout).
func TestStopWhileStarting(t *testing.T) {
	stops := []struct {
		name string
		stop func(p *subprocess.Pool) error
	}{
		{"Terminate", func(p *subprocess.Pool) error { p.Terminate(); return nil }},
		{"Shutdown", func(p *subprocess.Pool) error { return p.Shutdown(context.Background()) }},
	}
	for _, tt := range stops {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			fifo, wait := started(t)
			flag := filepath.Join(t.TempDir(), "hang")
			p, err := subprocess.New(1, subprocess.WithInitializer(initHang, initHangArg{Flag: flag, Fifo: fifo}), subprocess.OnError(func(error) {}))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(flag, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			var we *subprocess.WorkerError
			if _, err := subprocess.Apply(ctx, p, die, "sigkill"); !errors.As(err, &we) {
				t.Fatalf("got %v; want a *WorkerError", err)
			}
			wait() // the replacement is in its initializer
			done := make(chan error, 1)
			go func() { done <- tt.stop(p) }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("got %v; want nil", err)
				}
			case <-time.After(20 * time.Second): // the default StartTimeout is a minute
				t.Fatal("still waiting for the starting worker")
			}
			if got := children(t); len(got) != 0 {
				t.Errorf("after %s: got children %v; want none", tt.name, got)
			}
		})
	}
}
