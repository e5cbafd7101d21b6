package subprocess_test

import (
	"context"
	"testing"
	"time"

	"github.com/execkit/execkit/subprocess"
)

// TestFarDeadlineCrossesBoundary: a deadline past what Unix nanoseconds
// hold (after 2262) wrapped into the past in the CALL frame
// (deadlineOf: dl.UnixNano()), so Apply, Go and Map failed at once with
// context.DeadlineExceeded while in-process executors ran the call.
func TestFarDeadlineCrossesBoundary(t *testing.T) {
	p := newPool(t, 1)
	ctx, cancel := context.WithDeadline(context.Background(), time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC))
	defer cancel()
	if v, err := subprocess.Apply(ctx, p, deadlineLeft, 0); err != nil || v < 100*365*24*3600*1000 {
		t.Errorf("Apply with a deadline in 2500: the worker saw %dms left, %v; want over 100 years", v, err)
	}
	if vs, err := subprocess.Map(ctx, p, deadlineLeft, []int{0}); err != nil || len(vs) != 1 || vs[0] < 100*365*24*3600*1000 {
		t.Errorf("Map with a deadline in 2500: the worker saw %v ms left, %v; want over 100 years", vs, err)
	}
}
