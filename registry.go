package execkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// A RegisterOption configures [Register].
type RegisterOption interface{ apply(*registerConfig) }

type registerConfig struct {
	codec     Codec
	sentinels []error
	policy    *policy // TimeLimit, Retry, RateLimit; nil without them
	policyErr string  // why one of them is invalid
}

type codecOption struct{ c Codec }

func (o codecOption) apply(c *registerConfig) { c.codec = o.c }

// UseCodec makes a registered function encode its argument and result with
// c instead of [GobCodec]. The codec's type is part of the registry hash
// that a worker process checks (driver.RegistryHash). Register panics when
// c is nil.
func UseCodec(c Codec) RegisterOption { return codecOption{c} }

// entry is what the registry keeps of a Func, independent of its types.
type entry interface {
	invoke(ctx context.Context, payload []byte) ([]byte, error)
	invokeBatch(ctx context.Context, payload, dst []byte) ([]byte, []error, error)
	signature() string
	sentinels() []error
}

var registry struct {
	sync.Mutex
	funcs  map[string]entry
	sealed bool
	hash   string
}

// Register registers fn under name and returns its handle. Call it at
// package level (in a var declaration or init), so that every process
// running the same binary registers the same functions in the same way.
// When the call crosses a process, its argument and result travel encoded
// with [GobCodec] unless [UseCodec] says otherwise: gob, except for unnamed
// integer types, bool, float64, string and []byte, which go in a compact
// form (an int as one varint) at a fraction of gob's cost. Gob carries
// values, not every detail of them: an empty slice arrives as nil, a nil
// map as an empty one, a pointer field to a zero number as nil, a
// time.Time without its Location's name; [GobCodec] lists what changes on
// the way, and what it refuses rather than change silently.
//
// [TimeLimit], [Retry] and [RateLimit] declare the function's policy, which
// every executor enforces as the package doc's table says.
//
// Register panics, with a message starting "execkit:", when name is empty,
// not valid UTF-8 or holds a control character (it travels in frames and job
// rows, and must arrive as it left),
// a policy option is invalid,
// fn is nil, an option is nil, the codec is nil, name is already registered, the registry
// was sealed (a process-crossing executor started and checked its
// workers' registry hash), or,
// with the default codec, In or Out holds something gob would drop
// silently (a chan or func field, an unexported field: see [GobCodec]):
// these are programmer errors, found on the first run. A value held by an
// interface field is checked when it is encoded instead: the call fails
// with an error wrapping [ErrPayload] and nothing is sent.
//
// In this process a call's error is the function's own value. When the
// call runs in another process, what comes back is an [*RemoteError]: the
// error's text and type name, and the sentinels it matched among those
// declared with the [Errors] option (and context.Canceled,
// context.DeadlineExceeded, ErrPayload, ErrNotRegistered), for which
// errors.Is holds as it did where the function ran; a panic comes back as
// a [*PanicError] with the value's text and the stack (a value that is an
// error as a *RemoteError, so errors.Is finds its declared sentinels
// through the panic too). Declare the
// sentinels callers test, and the function behaves alike on every
// executor.
func Register[In, Out any](name string, fn func(context.Context, In) (Out, error), opts ...RegisterOption) *Func[In, Out] {
	if name == "" {
		panic("execkit: Register with an empty name")
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		// The name travels in frames and in job rows (JSON, where invalid
		// UTF-8 becomes U+FFFD): it must arrive as it left.
		panic(fmt.Sprintf("execkit: Register(%q): a name must be valid UTF-8 without control characters", name))
	}
	if fn == nil {
		panic(fmt.Sprintf("execkit: Register(%q) with a nil function", name))
	}
	cfg := registerConfig{codec: GobCodec{}}
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("execkit: Register(%q) with a nil option (option %d)", name, i+1))
		}
		o.apply(&cfg)
	}
	if cfg.codec == nil {
		panic(fmt.Sprintf("execkit: Register(%q) UseCodec(nil)", name))
	}
	if isGob(cfg.codec) {
		for _, t := range []reflect.Type{reflect.TypeFor[In](), reflect.TypeFor[Out]()} {
			if p := verdictOf(t).problem; p != "" && t.Size() != 0 {
				panic(fmt.Sprintf("execkit: Register(%q): GobCodec cannot carry %s: %s; change the type, or give it a GobEncode method or a Codec of its own (UseCodec)", name, t, p))
			}
		}
	}
	if cfg.policyErr != "" {
		panic(fmt.Sprintf("execkit: Register(%q): %s", name, cfg.policyErr))
	}
	if p := cfg.policy; p != nil && p.limit != 0 {
		p.fallback = rate.NewLimiter(p.limit, 1)
	}
	for i, e := range cfg.sentinels {
		if e == nil {
			panic(fmt.Sprintf("execkit: Register(%q) with Errors whose value %d is nil", name, i))
		}
	}
	f := &Func[In, Out]{name: name, fn: fn, codec: cfg.codec, errs: append(builtinSentinels[:len(builtinSentinels):len(builtinSentinels)], cfg.sentinels...), pol: cfg.policy}
	registry.Lock()
	defer registry.Unlock()
	// A name taken is the mistake to report whenever it is made, sealed or
	// not: the same Register says the same thing in a test run with -count.
	if _, dup := registry.funcs[name]; dup {
		panic(fmt.Sprintf("execkit: Register(%q) twice", name))
	}
	if registry.sealed {
		panic(fmt.Sprintf("execkit: Register(%q) after the registry was sealed (a process-crossing executor started); register at package level", name))
	}
	if registry.funcs == nil {
		registry.funcs = make(map[string]entry)
	}
	registry.funcs[name] = f
	return f
}

// registryHash digests the registry and seals it: driver.RegistryHash
// documents it.
func registryHash() string {
	registry.Lock()
	defer registry.Unlock()
	if !registry.sealed {
		registry.sealed = true
		sigs := make(map[string]string, len(registry.funcs))
		for name, e := range registry.funcs {
			sigs[name] = e.signature()
		}
		registry.hash = digest(sigs)
	}
	return registry.hash
}

// digest hashes the names and signatures of a registry, each quoted: so
// that no name (which may hold any byte) can pass for a piece of another
// entry, and two different registries never give the same lines.
func digest(sigs map[string]string) string {
	lines := make([]string, 0, len(sigs))
	for name, sig := range sigs {
		lines = append(lines, strconv.Quote(name)+" "+strconv.Quote(sig))
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		fmt.Fprintf(h, "%s\n", l)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// invokeName runs the function registered under name with an encoded
// argument: driver.Invoke documents it. A nil ctx goes on to Func.Call,
// which takes it as context.Background.
func invokeName(ctx context.Context, name string, payload []byte) ([]byte, error) {
	registry.Lock()
	e, ok := registry.funcs[name]
	registry.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotRegistered, name)
	}
	return e.invoke(ctx, payload)
}

// invokeBatchName runs a batch of calls of the function registered under
// name: driver.InvokeBatch documents it.
func invokeBatchName(ctx context.Context, name string, payload, dst []byte) (results []byte, errs []error, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	registry.Lock()
	e, ok := registry.funcs[name]
	registry.Unlock()
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrNotRegistered, name)
	}
	return e.invokeBatch(ctx, payload, dst)
}
