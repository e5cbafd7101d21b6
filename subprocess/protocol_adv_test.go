package subprocess_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// forge writes Frames to its worker's result pipe, as a worker with a bug
// would, then returns.
var forge = execkit.Register("test.adv.forge", func(_ context.Context, frames [][]byte) (int, error) {
	for _, f := range frames {
		if err := subprocess.WriteResultPipe(f); err != nil {
			return 0, err
		}
	}
	return len(frames), nil
})

// rawFrame is a frame of type typ for call id with payload.
func rawFrame(typ byte, id uint64, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(1+8+len(payload)))
	b = append(b, typ)
	b = binary.BigEndian.AppendUint64(b, id)
	return append(b, payload...)
}

const (
	frameRevoked = 7  // worker -> pool: call id given back
	frameKept    = 11 // worker -> pool: call id not given back
)

// TestForgedStealAnswers: a worker that answers REVOKE frames it was not
// sent. A KEPT for a call it was not asked for is ignored, however often;
// a REVOKED for one, or either with a payload, breaks the protocol: the
// worker is killed, its call fails with a *WorkerError wrapping
// ErrProtocol, and the pool goes on.
func TestForgedStealAnswers(t *testing.T) {
	unknown := uint64(1) << 62
	tests := []struct {
		name    string
		frames  [][]byte
		wantErr string // "" for none
	}{
		{"KEPT not asked, repeatedly", [][]byte{rawFrame(frameKept, unknown, nil), rawFrame(frameKept, unknown, nil), rawFrame(frameKept, 1, nil)}, ""},
		{"KEPT with a payload", [][]byte{rawFrame(frameKept, unknown, []byte{1})}, "unexpected frame type 11"},
		{"REVOKED not asked", [][]byte{rawFrame(frameRevoked, unknown, nil)}, "which was not asked back"},
		{"REVOKED with a payload", [][]byte{rawFrame(frameRevoked, unknown, []byte{1})}, "unexpected frame type 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, 2)
			ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
			defer cancel()
			v, err := forge.Go(ctx, p, tt.frames).Wait(ctx)
			if tt.wantErr == "" {
				if err != nil || v != len(tt.frames) {
					t.Errorf("got %d, %v; want %d, nil", v, err, len(tt.frames))
				}
			} else if !errors.As(err, new(*subprocess.WorkerError)) || !errors.Is(err, subprocess.ErrProtocol) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v; want a *WorkerError wrapping ErrProtocol: %s", err, tt.wantErr)
			}
			for i := range 4 {
				if v, err := double.Go(ctx, p, i).Wait(ctx); v != 2*i || err != nil {
					t.Errorf("after: got %d, %v; want %d, nil", v, err, 2*i)
				}
			}
		})
	}
}
