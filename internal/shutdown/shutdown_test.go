package shutdown

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWait(t *testing.T) {
	closed := make(chan struct{})
	close(closed)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name       string
		ctx        context.Context
		done       chan struct{}
		want       error
		wantGiveUp bool
	}{
		{"done", context.Background(), closed, nil, false},
		{"done and ctx ended: done wins", ended, closed, nil, false},
		{"ctx ended", ended, make(chan struct{}), context.Canceled, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 { // both ready: a plain select would pick at random
				gaveUp := false
				if err := Wait(tc.ctx, tc.done, func() { gaveUp = true }); err != tc.want {
					t.Fatalf("Wait = %v; want %v", err, tc.want)
				}
				if gaveUp != tc.wantGiveUp {
					t.Fatalf("giveUp called: %v; want %v", gaveUp, tc.wantGiveUp)
				}
			}
		})
	}
	if err := Wait(ended, make(chan struct{}), nil); err != context.Canceled {
		t.Fatalf("Wait with a nil giveUp = %v; want context.Canceled", err)
	}
}

func TestWaitBlocksUntilDone(t *testing.T) {
	done := make(chan struct{})
	res := make(chan error)
	go func() { res <- Wait(context.Background(), done, func() { t.Error("giveUp called") }) }()
	select {
	case err := <-res:
		t.Fatalf("Wait returned %v before done was closed", err)
	default:
	}
	close(done)
	if err := <-res; err != nil {
		t.Fatalf("Wait = %v; want nil", err)
	}
}
