package subprocess_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// A running call's CANCEL reaches its worker while calls whose frames are
// larger than the pipe holds wait behind it: the pool sends a busy worker
// no more ahead of its running call than half its pipe holds, so the
// write of the calls behind never waits for the running one to end, and
// the CANCEL is never queued behind it. (With the calls written at once,
// the feeder waited in its write until the running call ended, and the
// CANCEL with it: the call was killed at the end of its grace, a minute
// here, instead of being cancelled.)
func TestCancelReachesWorkerBehindLargeCalls(t *testing.T) {
	p := newPool(t, 1, subprocess.CancelGrace(time.Minute))
	ctx := context.Background()
	fifo, wait := started(t)
	running := block.Go(ctx, p, blockArg{Fifo: fifo})
	wait()
	const n, size = 15, 40 << 10 // 600 KiB behind it (a pool runs at most 1+Prefetch tasks a worker at once); a pipe holds 64 KiB
	behind := make([]*execkit.Future[int], n)
	for i := range behind {
		behind[i] = length.Go(ctx, p, make([]byte, size))
	}
	p.AwaitPlaced(t, 1+n) // queued or sent: the feeder writes them, or tried to, before the CANCEL
	running.Cancel()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := running.Wait(wctx); !errors.Is(err, context.Canceled) || wctx.Err() != nil {
		t.Fatalf("the cancelled call: Wait = %v; want context.Canceled, from its function, well within its grace", err)
	}
	for i, f := range behind {
		if v, err := f.Wait(wctx); v != size || err != nil {
			t.Errorf("call %d behind it: %d, %v; want %d, nil", i, v, err, size)
		}
	}
}

// Calls whose frames exceed what a busy worker may be sent ahead (half
// its pipe) still run, mixed with small ones that are prefetched, while
// workers are recycled (MaxTasksPerChild), calls are stolen by workers
// that fall idle, and a Map's chunks go too: a large call waits only for
// an idle worker, never for ever.
func TestLargeCallsAreSentWhileWorkersStayBusy(t *testing.T) {
	for _, opts := range [][]subprocess.Option{
		{subprocess.MaxTasksPerChild(3)},
		{subprocess.Prefetch(0)},
		{},
	} {
		p := newPool(t, 2, opts...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var fs []*execkit.Future[int]
		var want []int
		for i := range 60 {
			size := 10
			switch i % 4 {
			case 1:
				size = 40 << 10 // more than a busy worker is sent ahead
			case 2:
				size = 20 << 10 // two of these are more
			}
			fs = append(fs, length.Go(ctx, p, make([]byte, size)))
			want = append(want, size)
		}
		items := make([][]byte, 40)
		for i := range items {
			items[i] = make([]byte, 3<<10)
		}
		got, err := subprocess.Map(ctx, p, length, items)
		if err != nil || len(got) != len(items) {
			t.Fatalf("Map: %d results, %v; want %d, nil", len(got), err, len(items))
		}
		for i, f := range fs {
			if v, err := f.Wait(ctx); v != want[i] || err != nil {
				t.Fatalf("call %d: %d, %v; want %d, nil", i, v, err, want[i])
			}
		}
		cancel()
	}
}
