package subprocess_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// A frame header announcing a RESULT of 100 bytes for call 1, without them.
var partialFrame = []byte{0, 0, 0, 100, 5, 0, 0, 0, 0, 0, 0, 0, 1}

// scribble writes a partial frame and garbage to the well-known protocol
// fds 3 to 5 and reads from them, as a careless task might, and returns
// what fds 3 to 5 are.
var scribble = execkit.Register("test.scribble", func(context.Context, struct{}) ([3]string, error) {
	var what [3]string
	for i, fd := range []int{3, 4, 5} {
		syscall.Write(fd, partialFrame)
		syscall.Write(fd, []byte("garbage"))
		syscall.Read(fd, make([]byte, 64))
		what[i], _ = os.Readlink("/proc/self/fd/" + string(rune('0'+fd)))
	}
	return what, nil
})

// stall writes part of a frame to the real result pipe; with Block, it
// then never returns.
var stall = execkit.Register("test.stall", func(_ context.Context, a stallArg) (int, error) {
	subprocess.WriteResultPipe(a.Bytes)
	if a.Block {
		select {}
	}
	return 0, nil
})

type stallArg struct {
	Bytes []byte
	Block bool
}

// TestTaskCannotReachProtocol: a task that writes garbage and partial
// frames to fds 3 to 5, and reads them, neither breaks nor hangs the
// pool: in a worker, those are /dev/null.
func TestTaskCannotReachProtocol(t *testing.T) {
	p := newPool(t, 1)
	ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
	defer cancel()
	before, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		what, err := subprocess.Apply(ctx, p, scribble, struct{}{})
		if err != nil {
			t.Fatalf("the scribbling task: got %v; want nil", err)
		}
		if what != [3]string{"/dev/null", "/dev/null", "/dev/null"} {
			t.Errorf("fds 3 to 5 of a task: got %q; want /dev/null", what)
		}
	}
	if got, err := subprocess.Map(ctx, p, double, []int{1, 2, 3}); err != nil || len(got) != 3 || got[2] != 6 {
		t.Errorf("Map after the scribbles: got %v, %v; want [2 4 6]", got, err)
	}
	if after, err := subprocess.Apply(ctx, p, getpid, struct{}{}); err != nil || after != before {
		t.Errorf("after the scribbles: got worker %d, %v; want the same worker %d", after, err, before)
	}
}

// TestStalledFrame: a worker whose frame stops coming part way (the header
// only, or less) is killed after the stall bound; the call it ran fails
// with a *WorkerError wrapping ErrProtocol, and the pool goes on.
func TestStalledFrame(t *testing.T) {
	defer subprocess.SetFrameStall(100 * time.Millisecond)()
	tests := []struct {
		name string
		arg  stallArg
	}{
		// The task's own RESULT is read as the frame's body, which never
		// completes: the call would never end.
		{"header then return", stallArg{Bytes: partialFrame}},
		{"half a header then block", stallArg{Bytes: partialFrame[:6], Block: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, 1)
			ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
			defer cancel()
			_, err := subprocess.Apply(ctx, p, stall, tt.arg)
			var we *subprocess.WorkerError
			if !errors.As(err, &we) || !errors.Is(err, subprocess.ErrProtocol) || !strings.Contains(err.Error(), "a frame stalled") {
				t.Fatalf("got %v; want a *WorkerError wrapping ErrProtocol: a frame stalled", err)
			}
			if got, err := subprocess.Apply(ctx, p, double, 21); err != nil || got != 42 {
				t.Errorf("after the stall: got %d, %v; want 42, nil", got, err)
			}
		})
	}
}

// TestStoppedWorker: a call whose argument is larger than a pipe's buffer,
// sent to an idle worker that stopped reading (SIGSTOP), still ends when
// its context does: the worker is killed after the cancel grace.
func TestStoppedWorker(t *testing.T) {
	p := newPool(t, 1, subprocess.CancelGrace(50*time.Millisecond))
	ctx := testContext(t)
	pid, err := subprocess.Apply(ctx, p, getpid, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT) // if the test failed
	// Long enough for the call to reach the worker first, even under -race
	// on a loaded machine: with 100 ms it sometimes ended while queued, the
	// stopped worker was never killed, and the next call waited for it.
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := subprocess.Apply(short, p, length, make([]byte, 1<<20))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v; want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end with its context")
	}
	if got, err := subprocess.Apply(ctx, p, getpid, struct{}{}); err != nil || got == pid {
		t.Errorf("after: got worker %d, %v; want a new worker", got, err)
	}
}
