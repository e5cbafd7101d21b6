package fireforget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/execkit/execkit"
)

func newTestRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	r, err := NewRegistry(opts...)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: got %v; want nil", err)
		}
	})
	return r
}

func TestNewRegistryRejectsBadOptions(t *testing.T) {
	tests := []struct {
		opt  RegistryOption
		want string
	}{
		{KeepFinished(0), "KeepFinished(0)"},
		{TTL(0), "TTL(0s)"},
		{MaxOutput(1), "MaxOutput(1)"},
		{RefreshEvery(time.Millisecond), "RefreshEvery(1ms)"},
		{nil, "NewRegistry with a nil Option (option 1)"},
	}
	for _, tt := range tests {
		if _, err := NewRegistry(tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewRegistry: got %v; want an error containing %q", err, tt.want)
		}
	}
}

func TestJobStates(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		fn        JobFunc
		cancel    bool
		want      State
		wantErr   error
		wantStack bool
	}{
		{"succeeded", func(ctx context.Context, w io.Writer) error { fmt.Fprint(w, "hi"); return nil }, false, Succeeded, nil, false},
		{"failed", func(ctx context.Context, w io.Writer) error { fmt.Fprint(w, "hi"); return boom }, false, Failed, boom, false},
		{"panicked", func(ctx context.Context, w io.Writer) error { fmt.Fprint(w, "hi"); panic(boom) }, false, Failed, boom, true},
		{"cancelled", func(ctx context.Context, w io.Writer) error {
			fmt.Fprint(w, "hi")
			<-ctx.Done()
			return ctx.Err()
		}, true, Cancelled, context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRegistry(t)
			started, release := make(chan struct{}), make(chan struct{})
			j, err := r.Start(func(ctx context.Context, w io.Writer) error {
				close(started)
				<-release
				return tt.fn(ctx, w)
			})
			if err != nil {
				t.Fatal(err)
			}
			<-started
			if got := r.Info(j.ID()).State; got != Running {
				t.Errorf("State while running: got %v; want running", got)
			}
			close(release)
			if tt.cancel {
				if !r.Cancel(j.ID()) {
					t.Errorf("Cancel of a running job: got false; want true")
				}
			}
			<-j.Done()
			in := r.Info(j.ID())
			if in.State != tt.want {
				t.Errorf("State: got %v; want %v", in.State, tt.want)
			}
			if !errors.Is(in.Err, tt.wantErr) || (in.Err == nil) != (tt.wantErr == nil) {
				t.Errorf("Err: got %v; want %v", in.Err, tt.wantErr)
			}
			if in.Output != "hi" {
				t.Errorf("Output: got %q; want %q", in.Output, "hi")
			}
			if tt.wantStack != strings.Contains(in.Stack, "TestJobStates") {
				t.Errorf("Stack: got %q; want the panicking function's stack: %v", in.Stack, tt.wantStack)
			}
			if in.Created.IsZero() || in.Started.Before(in.Created) || in.Ended.Before(in.Started) {
				t.Errorf("times: created %v, started %v, ended %v; want in order", in.Created, in.Started, in.Ended)
			}
			if r.Cancel(j.ID()) {
				t.Errorf("Cancel of a finished job: got true; want false")
			}
		})
	}
}

func TestUnknownIsNotPending(t *testing.T) {
	r := newTestRegistry(t)
	j, err := r.create() // a pending job, as the HTTP handler makes
	if err != nil {
		t.Fatal(err)
	}
	r.started() // as the HTTP handler does once its HandlerFunc returned
	if got := r.Info(j.ID()).State; got != Pending {
		t.Errorf("State of a created job: got %v; want pending", got)
	}
	if got := r.Info(newID()).State; got != Unknown {
		t.Errorf("State of an id never issued: got %v; want unknown", got)
	}
	if _, ok := r.Lookup(newID()); ok {
		t.Errorf("Lookup of an id never issued: got ok; want not found")
	}
	// A pending job cancelled never runs.
	if !j.Cancel() {
		t.Errorf("Cancel of a pending job: got false; want true")
	}
	ran := false
	r.run(j, func(context.Context, io.Writer) error { ran = true; return nil })
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if in := r.Info(j.ID()); ran || in.State != Cancelled || !errors.Is(in.Err, context.Canceled) {
		t.Errorf("pending job cancelled: ran %v, state %v, err %v; want not run, cancelled, context.Canceled", ran, in.State, in.Err)
	}
}

func TestRegistryLimit(t *testing.T) {
	r := newTestRegistry(t, Limit(2))
	release := make(chan struct{})
	wait := func(ctx context.Context, w io.Writer) error { <-release; return nil }
	var jobs []*Job
	for range 2 {
		j, err := r.Start(wait)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	if _, err := r.Start(wait); !errors.Is(err, execkit.ErrFull) {
		t.Errorf("Start at the limit: got %v; want ErrFull", err)
	}
	close(release)
	<-jobs[0].Done()
	j, err := r.Start(wait)
	if err != nil {
		t.Errorf("Start after a job finished: got %v; want nil", err)
	} else {
		<-j.Done()
	}
}

// TestRegistryEviction runs in a synctest bubble: the Registry reads
// time.Now, and the bubble's clock moves only with time.Sleep.
func TestRegistryEviction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newTestRegistry(t, KeepFinished(3), TTL(time.Minute))
		noop := func(context.Context, io.Writer) error { return nil }
		var ids []ID
		for range 5 {
			j, err := r.Start(noop)
			if err != nil {
				t.Fatal(err)
			}
			<-j.Done()
			ids = append(ids, j.ID())
		}
		wantStates := func(want ...State) {
			t.Helper()
			for i, id := range ids {
				if got := r.Info(id).State; got != want[i] {
					t.Errorf("job %d: got %v; want %v", i, got, want[i])
				}
			}
		}
		// Only the last 3 finished jobs are kept.
		wantStates(Unknown, Unknown, Succeeded, Succeeded, Succeeded)
		if got := len(r.List()); got != 3 {
			t.Errorf("List: got %d jobs; want 3", got)
		}
		time.Sleep(59 * time.Second)
		wantStates(Unknown, Unknown, Succeeded, Succeeded, Succeeded)
		time.Sleep(time.Second)
		wantStates(Unknown, Unknown, Unknown, Unknown, Unknown)
		if got := len(r.List()); got != 0 {
			t.Errorf("List after the TTL: got %d jobs; want 0", got)
		}
	})
}

func TestRegistryList(t *testing.T) {
	r := newTestRegistry(t)
	release := make(chan struct{})
	var want []ID
	for i := range 3 {
		j, err := r.Start(func(ctx context.Context, w io.Writer) error {
			fmt.Fprint(w, "output")
			if i == 1 {
				<-release
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, j.ID())
	}
	list := r.List()
	if len(list) != 3 {
		t.Fatalf("List: got %d jobs; want 3", len(list))
	}
	for i, in := range list {
		if in.ID != want[i] {
			t.Errorf("List[%d]: got %v; want %v (creation order)", i, in.ID, want[i])
		}
		if in.Output != "" {
			t.Errorf("List[%d].Output: got %q; want it left out", i, in.Output)
		}
	}
	close(release)
}

func TestRegistryShutdown(t *testing.T) {
	r := newTestRegistry(t)
	started := make(chan struct{})
	j, err := r.Start(func(ctx context.Context, w io.Writer) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with an ended ctx: got %v; want context.Canceled", err)
	}
	<-j.Done()
	if got := r.Info(j.ID()).State; got != Cancelled {
		t.Errorf("job after Shutdown gave up: got %v; want cancelled", got)
	}
	if _, err := r.Start(func(context.Context, io.Writer) error { return nil }); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Start after Shutdown: got %v; want ErrClosed", err)
	}
	if _, err := r.Start(nil); err == nil {
		t.Errorf("Start(nil): got nil error; want one")
	}
}

// TestRegistryMemoryBounded runs numMemJobs short jobs (1e6; 1e5 under the
// race detector) through a Registry that keeps 1e4 finished jobs, each
// printing a line, and asserts that the live heap after GC grew by less than
// memBound: about 1.6 KB per kept job. Unbounded bookkeeping (web.py's
// threaddb) would hold every job: over 100 MB here.
func TestRegistryMemoryBounded(t *testing.T) {
	const keep = 10_000
	const memBound = 16 << 20
	before := liveHeap()
	r := newTestRegistry(t, KeepFinished(keep), Limit(1000))
	fn := func(ctx context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "a line of output from a short job\n")
		return err
	}
	var last *Job
	for i := 0; i < numMemJobs; {
		j, err := r.Start(fn)
		if errors.Is(err, execkit.ErrFull) {
			<-last.Done() // let the running jobs catch up
			continue
		}
		if err != nil {
			t.Fatalf("Start %d: %v", i, err)
		}
		last = j
		i++
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(r.List()); got != keep {
		t.Errorf("jobs kept: got %d; want %d", got, keep)
	}
	grown := int64(liveHeap()) - int64(before)
	t.Logf("%d jobs, %d kept: live heap grew by %d bytes (%d per kept job)", numMemJobs, keep, grown, grown/keep)
	if grown > memBound {
		t.Errorf("live heap grew by %d bytes; want under %d", grown, memBound)
	}
	runtime.KeepAlive(r)
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestRegistryDefaultLimit floods a Registry made without options, and the
// zero Registry, with jobs that do not end: beyond DefaultLimit unfinished
// jobs Start returns ErrFull and the handler answers 503, so requests cannot
// grow the jobs held (each a goroutine and up to MaxOutput bytes) without
// bound. A job may start jobs: at the limit it gets ErrFull, never a wait.
func TestRegistryDefaultLimit(t *testing.T) {
	made, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Registry{"NewRegistry": made, "zero": new(Registry)} {
		t.Run(name, func(t *testing.T) {
			release := make(chan struct{})
			wait := func(ctx context.Context, w io.Writer) error { <-release; return nil }
			var jobs []*Job
			for range DefaultLimit - 1 {
				j, err := r.Start(wait)
				if err != nil {
					t.Fatalf("Start %d: %v", len(jobs), err)
				}
				jobs = append(jobs, j)
			}
			nested := make(chan error, 1)
			j, err := r.Start(func(ctx context.Context, w io.Writer) error { // the last slot
				_, err := r.Start(wait)
				nested <- err
				<-release
				return nil
			})
			if err != nil {
				t.Fatalf("Start %d: %v", DefaultLimit, err)
			}
			jobs = append(jobs, j)
			if err := <-nested; !errors.Is(err, execkit.ErrFull) {
				t.Errorf("Start from a job at the limit: got %v; want ErrFull", err)
			}
			if _, err := r.Start(wait); !errors.Is(err, execkit.ErrFull) {
				t.Errorf("Start beyond DefaultLimit: got %v; want ErrFull", err)
			}
			h := r.Handler(func(io.Writer, *http.Request) (JobFunc, error) { return wait, nil })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("request beyond DefaultLimit: got %d; want 503", rec.Code)
			}
			if got := len(r.List()); got != DefaultLimit {
				t.Errorf("jobs held: got %d; want %d", got, DefaultLimit)
			}
			close(release)
			for _, j := range jobs {
				<-j.Done()
			}
			if err := r.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: got %v; want nil", err)
			}
		})
	}
}
