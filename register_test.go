package execkit_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/driver"
)

type point struct{ X, Y int }

var (
	addFunc = execkit.Register("test.add", func(_ context.Context, p point) (int, error) {
		if p.X < 0 {
			return 0, errors.New("negative")
		}
		if p.X == 13 {
			panic("unlucky")
		}
		return p.X + p.Y, nil
	})
	emptyFunc = execkit.Register("test.empty", func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil })
)

// local invokes registered functions in this process through their encoded
// form: what a worker process does, without the process.
func local(ctx context.Context, name string, payload []byte) ([]byte, error) {
	return driver.Invoke(ctx, name, payload)
}

func TestRegisterMisuse(t *testing.T) {
	tests := []struct {
		name string
		reg  func()
		want string
	}{
		{"empty name", func() { execkit.Register("", addFunc.Call) }, "execkit: Register with an empty name"},
		{"nil function", func() { execkit.Register[int, int]("test.nil", nil) }, `execkit: Register("test.nil") with a nil function`},
		{"twice", func() { execkit.Register("test.add", addFunc.Call) }, `execkit: Register("test.add") twice`},
		{"nil codec", func() { execkit.Register("test.nilcodec", addFunc.Call, execkit.UseCodec(nil)) }, `execkit: Register("test.nilcodec") UseCodec(nil)`},
		{"nil option", func() { execkit.Register("test.niloption", addFunc.Call, nil) }, `execkit: Register("test.niloption") with a nil option (option 1)`},
		// A name travels in frames and job rows (JSON turns invalid UTF-8
		// into U+FFFD): one that would not arrive as it left is refused.
		{"NUL in name", func() { execkit.Register("test.a\x00b", addFunc.Call) }, `execkit: Register("test.a\x00b"): a name must be valid UTF-8 without control characters`},
		{"newline in name", func() { execkit.Register("test.a\nb", addFunc.Call) }, `execkit: Register("test.a\nb"): a name must be valid UTF-8`},
		{"invalid UTF-8 name", func() { execkit.Register("test.\xff", addFunc.Call) }, `execkit: Register("test.\xff"): a name must be valid UTF-8`},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), tt.want) {
					t.Errorf("%s: recovered %v; want a panic saying %q", tt.name, r, tt.want)
				}
			}()
			tt.reg()
		}()
	}
}

func TestInvokeRoundTrip(t *testing.T) {
	ctx := context.Background()
	ex := &execkit.Inline{OnError: func(error) {}} // the Futures get the errors
	defer ex.Shutdown(ctx)
	tests := []struct {
		in      point
		want    int
		wantErr string
	}{
		{point{2, 3}, 5, ""},
		{point{-1, 0}, 0, "negative"},
		{point{13, 0}, 0, "execkit: task panicked: unlucky"},
	}
	for _, tt := range tests {
		// Through RunVia, as a process-crossing executor runs the task.
		f := addFunc.Go(ctx, viaExecutor{ex, local}, tt.in)
		got, err := f.Wait(ctx)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Go(%v) via Invoke = %d, %v; want %d, %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	var pe *execkit.PanicError
	if _, err := addFunc.Go(ctx, viaExecutor{ex, local}, point{13, 0}).Wait(ctx); !errors.As(err, &pe) {
		t.Errorf("a panic through Invoke = %T; want *PanicError", err)
	}
	if _, err := emptyFunc.Go(ctx, viaExecutor{ex, local}, struct{}{}).Wait(ctx); err != nil {
		t.Errorf("struct{} through Invoke = %v; want nil (zero-size values skip the codec)", err)
	}
}

// viaExecutor runs portable tasks through an Invoker, inline: a
// process-crossing executor without the process.
type viaExecutor struct {
	*execkit.Inline
	invoke driver.Invoker
}

func (v viaExecutor) Submit(ctx context.Context, t execkit.Task) error {
	p, ok := t.(driver.Portable)
	if !ok {
		return execkit.ErrNotPortable
	}
	return v.Inline.Submit(ctx, execkit.TaskFunc(func(ctx context.Context) error { return p.RunVia(ctx, v.invoke) }))
}

func TestInvokeErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := driver.Invoke(ctx, "test.nope", nil); !errors.Is(err, execkit.ErrNotRegistered) || !strings.Contains(err.Error(), "test.nope") {
		t.Errorf("Invoke(unregistered) = %v; want ErrNotRegistered naming the function", err)
	}
	if _, err := driver.Invoke(ctx, "test.add", []byte("not gob")); !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), `argument of "test.add"`) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Invoke(bad payload) = %v; want ErrPayload naming the argument, wrapping the codec's error", err)
	}
	// A result that does not decode reaches the Future as ErrPayload.
	garbage := func(context.Context, string, []byte) ([]byte, error) { return []byte{0xff, 0x00}, nil }
	ex := viaExecutor{&execkit.Inline{OnError: func(error) {}}, garbage}
	if _, err := addFunc.Go(ctx, ex, point{}).Wait(ctx); !errors.Is(err, execkit.ErrPayload) || !strings.Contains(err.Error(), `result of "test.add"`) {
		t.Errorf("Wait with an undecodable result = %v; want ErrPayload naming the result", err)
	}
	if err := ex.Submit(ctx, execkit.TaskFunc(func(context.Context) error { return nil })); !errors.Is(err, execkit.ErrNotPortable) {
		t.Errorf("Submit(closure) to a process-crossing executor = %v; want ErrNotPortable", err)
	}
}

func TestRegistryHashSeals(t *testing.T) {
	if os.Getenv("EXECKIT_SEAL_CHILD") == "1" {
		driver.RegistryHash()
		execkit.Register("test.late", addFunc.Call) // must panic
		return
	}
	h1, h2 := driver.RegistryHash(), driver.RegistryHash()
	if h1 != h2 || len(h1) != 32 {
		t.Errorf("RegistryHash = %q then %q; want one stable 32-digit hash", h1, h2)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRegistryHashSeals$")
	cmd.Env = append(os.Environ(), "EXECKIT_SEAL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `execkit: Register("test.late") after the registry was sealed`) {
		t.Errorf("Register after RegistryHash: err %v, output:\n%s\nwant a panic naming the function", err, out)
	}
}

// TestUnregisteredFunc: a nil and a zero Func (not made by Register) are no
// function: every call fails with ErrNotRegistered, in this process and
// through an invoker, and nothing panics. A zero Func's calls failed with a
// *PanicError (a nil function called) instead, and its Task's encoding
// dereferenced a nil codec.
func TestUnregisteredFunc(t *testing.T) {
	ctx := context.Background()
	var zero execkit.Func[point, int]
	for _, tc := range []struct {
		name string
		f    *execkit.Func[point, int]
	}{{"nil", nil}, {"zero", &zero}} {
		t.Run(tc.name, func(t *testing.T) {
			in := &execkit.Inline{OnError: func(error) {}}
			via := viaExecutor{&execkit.Inline{OnError: func(error) {}}, local}
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, execkit.ErrNotRegistered) {
					t.Errorf("%s = %v; want ErrNotRegistered", what, err)
				}
			}
			_, err := tc.f.Call(ctx, point{})
			check("Call", err)
			_, err = tc.f.Go(ctx, in, point{}).Wait(ctx)
			check("Go(...).Wait", err)
			_, err = tc.f.Go(ctx, via, point{}).Wait(ctx)
			check("Go(...).Wait through an invoker", err)
			_, err = tc.f.Map(ctx, in, []point{{}})
			check("Map", err)
			check("Task(...).Run", tc.f.Task(point{}).Run(ctx))
			check("Task(...).RunVia", tc.f.Task(point{}).(driver.Portable).RunVia(ctx, local))
			_, err = driver.EncodeBatch(tc.f, []point{{}})
			check("driver.EncodeBatch", err)
			_, err = driver.DecodeBatch(tc.f, []byte{1})
			check("driver.DecodeBatch", err)
		})
	}
}
