package execkit_test

import (
	"context"
	"encoding/gob"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

type (
	withChan struct {
		N int
		C chan int
	}
	withFunc struct {
		N int
		F func()
	}
	withHidden struct {
		N      int
		hidden string
	}
	hiddenInner  struct{ Y int }
	withEmbedded struct {
		hiddenInner
		Z int
	}
	deepChan struct {
		Items []*struct{ M map[string][2]withChan }
	}
	withBlank struct {
		N int
		_ [8]byte
		z struct{}
	}
	selfEncoding struct{ hidden int }
	recursive    struct {
		V    int
		Next *recursive
	}
	holder struct{ V any }
)

func (s selfEncoding) GobEncode() ([]byte, error) { return []byte{byte(s.hidden)}, nil }
func (s *selfEncoding) GobDecode(b []byte) error  { s.hidden = int(b[0]); return nil }

func init() {
	gob.Register(withChan{})
	gob.Register(point{})
	gob.Register(holder{})
}

// holderFunc's argument and result hold interfaces: GobCodec checks their
// values as they encode.
var holderFunc = execkit.Register("test.holder", func(_ context.Context, h holder) (holder, error) {
	if p, ok := h.V.(point); ok && p.X < 0 {
		return holder{withChan{N: 1, C: make(chan int)}}, nil
	}
	return h, nil
})

type rawCodec struct{}

func (rawCodec) Marshal(any) ([]byte, error) { return nil, nil }
func (rawCodec) Unmarshal([]byte, any) error { return nil }

// Register refuses, at once, a type whose values gob would change silently.
func TestRegisterRefusesWhatGobDrops(t *testing.T) {
	register := func(name string, f func(string)) (msg string) {
		defer func() {
			r := recover()
			msg, _ = r.(string)
		}()
		f(name)
		return ""
	}
	tests := []struct {
		name string
		reg  func(name string)
		want string // in the panic; "" for none
	}{
		{"chan field", func(n string) { execkit.Register(n, func(context.Context, withChan) (int, error) { return 0, nil }) }, "execkit_test.withChan.C is a chan int"},
		{"func field in the result", func(n string) {
			execkit.Register(n, func(context.Context, int) (withFunc, error) { return withFunc{}, nil })
		}, "withFunc.F is a func()"},
		{"unexported field", func(n string) { execkit.Register(n, func(context.Context, withHidden) (int, error) { return 0, nil }) }, "withHidden.hidden is unexported"},
		{"embedded unexported", func(n string) {
			execkit.Register(n, func(context.Context, withEmbedded) (int, error) { return 0, nil })
		}, "withEmbedded.hiddenInner is unexported"},
		{"deep", func(n string) { execkit.Register(n, func(context.Context, *deepChan) (int, error) { return 0, nil }) }, "deepChan.Items[i].M[key][i].C is a chan int"},
		{"slice of chans", func(n string) { execkit.Register(n, func(context.Context, []chan int) (int, error) { return 0, nil }) }, "[]chan int[i] is a chan int"},
		{"blank and zero-size fields", func(n string) { execkit.Register(n, func(context.Context, withBlank) (int, error) { return 0, nil }) }, ""},
		{"GobEncode", func(n string) {
			execkit.Register(n, func(context.Context, selfEncoding) (time.Time, error) { return time.Time{}, nil })
		}, ""},
		{"recursive", func(n string) { execkit.Register(n, func(context.Context, recursive) (int, error) { return 0, nil }) }, ""},
		{"a codec of its own", func(n string) {
			execkit.Register(n, func(context.Context, withChan) (int, error) { return 0, nil }, execkit.WithCodec(rawCodec{}))
		}, ""},
	}
	for i, tt := range tests {
		name := "test.carry." + string(rune('a'+i))
		msg := register(name, tt.reg)
		switch {
		case tt.want == "" && strings.Contains(msg, "cannot carry"):
			t.Errorf("%s: Register panicked: %s; want no refusal", tt.name, msg)
		case tt.want != "" && !(strings.HasPrefix(msg, "execkit: Register(\""+name+"\"): GobCodec cannot carry") && strings.Contains(msg, tt.want)):
			t.Errorf("%s: Register panicked with %q; want a refusal naming %q", tt.name, msg, tt.want)
		}
	}
}

// A value held by an interface is checked as it encodes, in both
// directions and in batches: the call fails with ErrPayload, nothing is
// sent, nothing arrives changed.
func TestGobCodecRefusesInterfaceValues(t *testing.T) {
	ctx := context.Background()
	bad := holder{withChan{N: 1, C: make(chan int)}}
	nested := holder{holder{bad}}
	for _, in := range []holder{bad, nested} {
		sent := false
		err := holderFunc.Task(in).(execkit.Portable).RunVia(ctx, func(ctx context.Context, name string, payload []byte) ([]byte, error) {
			sent = true
			return execkit.Invoke(ctx, name, payload)
		})
		if !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), "withChan.C is a chan int") {
			t.Errorf("RunVia(%v) = %v; want ErrPayload naming the chan field", in, err)
		}
		if sent {
			t.Errorf("RunVia(%v) sent the argument", in)
		}
		if _, err := holderFunc.EncodeBatch([]holder{{point{1, 2}}, in}); !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), "is a chan int") {
			t.Errorf("EncodeBatch = %v; want ErrPayload naming the chan field", err)
		}
	}
	// The result direction: the worker refuses to send it.
	err := holderFunc.Task(holder{point{-1, 0}}).(execkit.Portable).RunVia(ctx, local)
	if !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), "result of") {
		t.Errorf("RunVia of a result holding a chan = %v; want ErrPayload for the result", err)
	}
	// A value that travels whole still does.
	got, err := holderFunc.Go(ctx, viaInvoke{}, holder{point{1, 2}}).Wait(ctx)
	if err != nil || got.V != (point{1, 2}) {
		t.Errorf("round trip of holder{point{1, 2}} = %v, %v; want it back", got, err)
	}
	// GobCodec itself, used directly.
	var c execkit.GobCodec
	if _, err := c.Marshal(withChan{N: 1}); err == nil || !strings.Contains(err.Error(), "execkit: GobCodec cannot carry execkit_test.withChan") {
		t.Errorf("Marshal(withChan) = %v; want a refusal", err)
	}
	if _, err := c.Marshal(withHidden{N: 1, hidden: "dropped"}); err == nil || !strings.Contains(err.Error(), "withHidden.hidden is unexported") {
		t.Errorf("Marshal(withHidden) = %v; want a refusal", err)
	}
	var wb withBlank
	if b, err := c.Marshal(withBlank{N: 1, z: struct{}{}}); err != nil || c.Unmarshal(b, &wb) != nil || wb.N != 1 {
		t.Errorf("round trip of withBlank{N: 1} = %+v, %v; want N 1 (blank and zero-size fields carry nothing)", wb, err)
	}
	var wc withChan
	if err := c.Unmarshal([]byte{1}, &wc); err == nil || !strings.Contains(err.Error(), "cannot carry") {
		t.Errorf("Unmarshal into a withChan = %v; want a refusal", err)
	}
}

// viaInvoke runs portable tasks through their encoded form in this process.
type viaInvoke struct{}

func (viaInvoke) Submit(ctx context.Context, t execkit.Task) error {
	return t.(execkit.Portable).RunVia(ctx, local)
}
func (viaInvoke) Shutdown(context.Context) error { return nil }
