package bench

import (
	"context"
	"testing"
	"time"
)

func TestParseCPUTimes(t *testing.T) {
	got, err := parseCPUTimes("cpu  100 5 50 800 20 3 2 10 7 0\n")
	if err != nil {
		t.Fatal(err)
	}
	// Eight fields counted (guest and guest_nice are in user and nice).
	if want := (cpuTimes{total: 990, idle: 820}); got != want {
		t.Errorf("parseCPUTimes = %+v; want %+v", got, want)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5", "cpu 1 2", "cpu 1 2 x 4 5", "intr 1 2 3 4 5"} {
		if _, err := parseCPUTimes(bad); err == nil {
			t.Errorf("parseCPUTimes(%q): want an error", bad)
		}
	}
	prev := cpuTimes{total: 1000, idle: 800}
	if b := (cpuTimes{total: 1100, idle: 890}).busySince(prev); b < 0.0999 || b > 0.1001 {
		t.Errorf("busySince = %v; want 0.1", b)
	}
	if b := prev.busySince(prev); b != 0 {
		t.Errorf("busySince with no time passed = %v; want 0", b)
	}
}

// TestSettleBounded: settle returns within its bound, and at once when its
// ctx has ended.
func TestSettleBounded(t *testing.T) {
	t0 := time.Now()
	settle(context.Background())
	if d := time.Since(t0); d > settleMax+time.Second {
		t.Errorf("settle took %v; want at most about %v", d, settleMax)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t0 = time.Now()
	settle(ctx)
	if d := time.Since(t0); d > settleWindow {
		t.Errorf("settle with an ended ctx took %v", d)
	}
}
