package subprocess

import (
	"context"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

var sizeIdentity = execkit.Register("subprocess.internal.identity", func(_ context.Context, x int) (int, error) { return x, nil })

// TestNewBatchesCountsTheDeadline: the size a chunk is split by is the
// size of the frame it goes in, the caller's deadline included. A chunk
// that fits a frame only without its deadline (up to 9 bytes more) is
// split in halves, rather than refused as too large by newCall.
func TestNewBatchesCountsTheDeadline(t *testing.T) {
	items := make([]int, 200)
	for i := range items {
		items[i] = 1000 + i
	}
	payload, err := driver.EncodeBatch(sizeIdentity, items)
	if err != nil {
		t.Fatal(err)
	}
	without := request{name: sizeIdentity.Name(), args: [][]byte{payload}}.frameSize()
	deadline := time.Now().Add(time.Hour).UnixNano()
	if with := (request{name: sizeIdentity.Name(), args: [][]byte{payload}, deadline: deadline}).frameSize(); with <= without {
		t.Fatalf("a deadline adds nothing to the frame (%d bytes, %d without)", with, without)
	}
	old := maxFrame
	maxFrame = without // fits, but not with the deadline
	defer func() { maxFrame = old }()

	var p Pool
	var got []int // each chunk's first item
	err = newBatches(&p, "Map", sizeIdentity, items, 0, deadline, nil, func(c *call, lo int) error {
		if n := c.req.frameSize(); n > maxFrame {
			t.Errorf("a chunk from item %d makes a frame of %d bytes, over the %d limit", lo, n, maxFrame)
		}
		got = append(got, lo)
		return nil
	})
	if err != nil || len(got) < 2 {
		t.Fatalf("newBatches = %v, chunks from %v; want no error and the items split", err, got)
	}
}
