package subprocess

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

// codecGate, when set (in the tests' process only: workers never set it),
// holds the encoding of gated's negative arguments until it is closed: a
// task that is slow to prepare its call, whose runner holds the oldest
// ticket meanwhile.
var codecGate atomic.Pointer[chan struct{}]

type gateCodec struct{}

func (gateCodec) Marshal(v any) ([]byte, error) {
	x := v.(int)
	if g := codecGate.Load(); g != nil && x < 0 {
		<-*g
	}
	return binary.AppendVarint(nil, int64(x)), nil
}

func (gateCodec) Unmarshal(b []byte, v any) error {
	x, n := binary.Varint(b)
	if n <= 0 {
		return errors.New("gateCodec: bad varint")
	}
	*v.(*int) = int(x)
	return nil
}

var (
	gated      = execkit.Register("subprocess.internal.gated", func(_ context.Context, x int) (int, error) { return x, nil }, execkit.UseCodec(gateCodec{}))
	turnDouble = execkit.Register("subprocess.internal.double", func(_ context.Context, x int) (int, error) { return 2 * x, nil })
)

// holdTurn sets the codec gate and submits a task whose runner holds the
// oldest ticket until release is called.
func holdTurn(t *testing.T, p *Pool) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	codecGate.Store(&gate)
	f := gated.Go(context.Background(), p, -1)
	var once atomic.Bool
	release = func() {
		if once.CompareAndSwap(false, true) {
			close(gate)
			codecGate.Store(nil)
			f.Wait(context.Background())
		}
	}
	t.Cleanup(release)
	return release
}

// awaitTurnWaiters returns once n runners wait for their turn.
func awaitTurnWaiters(t *testing.T, p *Pool, n int) {
	t.Helper()
	p.awaitCount(t, "runners waiting for their turn", n, func() int {
		waiting := 0
		for _, h := range p.turns.items[p.turns.head:] {
			if h.r.ticket == h.ticket && h.r.waits {
				waiting++
			}
		}
		return waiting
	})
}

// TestTurnWaitEndsWithThePoolsCause: a task waiting for its turn when the
// pool gives up on it (Terminate; Shutdown's ctx ended) fails with why, as
// a task whose call waits in the queue or runs does (ErrTerminated; the
// error saying Shutdown's context ended), not with a bare
// context.Canceled.
func TestTurnWaitEndsWithThePoolsCause(t *testing.T) {
	tests := []struct {
		name string
		end  func(p *Pool)
		want func(err error) bool
	}{
		{"Terminate", func(p *Pool) { go p.Terminate() }, func(err error) bool { return errors.Is(err, ErrTerminated) }},
		{"Shutdown's ctx ended", func(p *Pool) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			p.Shutdown(ctx)
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "Shutdown's context ended") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(1)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Terminate()
			release := holdTurn(t, p)
			behind := turnDouble.Go(context.Background(), p, 1)
			awaitTurnWaiters(t, p, 1)
			tt.end(p)
			wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = behind.Wait(wctx)
			release()
			if !tt.want(err) {
				t.Errorf("the task waiting for its turn: got %v; want the pool's reason", err)
			}
		})
	}
}
