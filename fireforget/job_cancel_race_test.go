package fireforget

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestJobCancelRacesStart races a job's start (jobTask.Run, as the
// Registry's executor calls it) against two Cancels, and holds Cancel to
// Registry.Cancel's doc: a pending job ends Cancelled at once and never
// runs; a running one has its context cancelled. So once either Cancel has
// returned, a job function that started has a cancelled ctx, and once the
// job is final (Done closed) its function is not running and never starts.
//
// Before Cancel finished a pending job under the lock that Run takes to
// start it, the job could start between Cancel's check and its end: it
// then ran on, with a ctx nobody cancelled, after the job was Cancelled.
// And before a job cancelled its ctx before it could be seen final, a
// Cancel that found it final returned while the ctx of a job that had just
// returned was live.
func TestJobCancelRacesStart(t *testing.T) {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Shutdown(context.Background())
	budget := 2 * time.Second
	if testing.Short() {
		budget = 300 * time.Millisecond
	}
	for _, quick := range []bool{false, true} {
		deadline := time.Now().Add(budget / 2)
		for round := 0; time.Now().Before(deadline) || round < 1000; round++ {
			seed := rand.Uint64()
			if msg := jobCancelRound(reg, seed, quick); msg != "" {
				t.Fatalf("quick=%v, round %d (seed %d): %s", quick, round, seed, msg)
			}
		}
	}
}

func jobCancelRound(reg *Registry, seed uint64, quick bool) string {
	j, err := reg.create()
	if err != nil {
		return "create: " + err.Error()
	}
	reg.started() // this round runs the job's task itself, as the executor would
	var (
		mu      sync.Mutex
		ctxs    []context.Context
		running int
		final   bool
		late    int                   // started once the job was final
		release = make(chan struct{}) // ends a function whose ctx nobody cancels
	)
	fn := func(ctx context.Context, _ io.Writer) error {
		mu.Lock()
		if final {
			late++
		}
		ctxs = append(ctxs, ctx)
		running++
		mu.Unlock()
		if !quick {
			select {
			case <-ctx.Done():
			case <-release:
			}
		}
		mu.Lock()
		running--
		mu.Unlock()
		return ctx.Err()
	}
	jitter := func(r *rand.Rand) {
		for range r.IntN(4) * r.IntN(4) {
			runtime.Gosched()
		}
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // the executor's goroutine
		defer wg.Done()
		jitter(rand.New(rand.NewPCG(seed, 1)))
		_ = (&jobTask{j: j, fn: fn}).Run(context.Background())
	}()
	var live [2]int
	for i := range live {
		go func() {
			defer wg.Done()
			jitter(rand.New(rand.NewPCG(seed, uint64(2+i))))
			j.Cancel()
			mu.Lock()
			for _, ctx := range ctxs {
				if ctx.Err() == nil {
					live[i]++
				}
			}
			mu.Unlock()
		}()
	}
	<-j.Done()
	mu.Lock()
	final = true
	stillRunning := running
	mu.Unlock()
	close(release)
	wg.Wait()
	switch {
	case live[0] > 0 || live[1] > 0:
		return "Cancel returned while the job's function had a live ctx"
	case stillRunning > 0:
		return "the job was final while its function still ran"
	case late > 0:
		return "the job's function started after the job was final"
	}
	return ""
}
