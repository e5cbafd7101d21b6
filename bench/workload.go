package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/execkit/execkit"
)

// The workload functions. They are registered at package level, so the
// same function runs on every strategy: called directly by the in-process
// ones, by name in a worker process by the process-crossing ones. Each
// takes an int and returns an int, so that a call crossing a process
// boundary carries a real (small) payload both ways.
var (
	// Noop returns its argument.
	Noop = execkit.Register("bench.noop", func(_ context.Context, x int) (int, error) {
		return x, nil
	})

	// Spin burns CPU for iters iterations of a xorshift generator and
	// returns its state, so that the loop cannot be optimised away.
	Spin = execkit.Register("bench.spin", func(_ context.Context, iters int) (int, error) {
		return spin(iters), nil
	})

	// Sleep waits us microseconds, or until its context is cancelled.
	Sleep = execkit.Register("bench.sleep", func(ctx context.Context, us int) (int, error) {
		return us, wait(ctx, time.Duration(us)*time.Microsecond)
	})

	// FailOrSleep fails at once with [ErrInjected] when us is negative, and
	// otherwise waits like Sleep: the fail-fast workload.
	FailOrSleep = execkit.Register("bench.failorsleep", func(ctx context.Context, us int) (int, error) {
		if us < 0 {
			return 0, ErrInjected
		}
		return us, wait(ctx, time.Duration(us)*time.Microsecond)
	})

	// Hold waits until the batch that submitted it has submitted its last
	// task (or its context is cancelled) and returns x: the pending-work
	// workload, in which every task of a batch is alive at once.
	Hold = execkit.Register("bench.hold", func(ctx context.Context, x int) (int, error) {
		select {
		case <-held.Load().(chan struct{}):
			return x, nil
		case <-ctx.Done():
			return x, ctx.Err()
		}
	})
)

// held is the release of the Hold tasks of the batch being produced: a
// channel that produce makes before the first submit and closes after the
// last one returned (atomic.Value of chan struct{}).
var held atomic.Value

func init() { held.Store(closedChan()) }

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// ErrInjected is the error the fail-fast workload's failing task returns.
var ErrInjected = errors.New("bench: injected failure")

func spin(iters int) int {
	x := uint64(88172645463325252)
	for range iters {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return int(x & 0xffff)
}

// wait blocks for d or until ctx ends, and returns ctx's error in the
// latter case.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Kind says how a workload drives a strategy.
type Kind string

const (
	// KindBatch submits N tasks (from Producers goroutines when set) and
	// waits for all of them.
	KindBatch Kind = "batch"
	// KindFailFast is a batch in which one early task fails; the strategy
	// should stop the rest and return that error.
	KindFailFast Kind = "failfast"
	// KindRoundTrip runs N tasks one after the other, one in flight: the
	// latency of a single call.
	KindRoundTrip Kind = "roundtrip"
	// KindMap maps the function over N items with the strategy's own map
	// (chunked where it chunks).
	KindMap Kind = "map"
	// KindMemory is a batch run in a child process of its own, measured
	// for peak RSS and peak goroutines (threads for Python).
	KindMemory Kind = "memory"
)

// A Workload is one column of the matrix: a registered function, the
// argument of each call, how many calls make a batch and how they are
// driven.
type Workload struct {
	Name string // the key in benchmark names and reports: workload=Name
	Doc  string // one line for the report
	Kind Kind

	// Quick and Full are the number of tasks in one batch of the quick
	// and of the full matrix.
	Quick, Full int

	// Py is the batch size of the Python strategies in the quick matrix
	// (five times that in the full one, at most Full): Python is slower,
	// and the matrix must finish in minutes.
	Py int

	// Workers is the size of the pools for this workload; 0 means
	// GOMAXPROCS. Goroutine-per-task strategies ignore it.
	Workers int

	// Producers is the number of goroutines submitting at once (burst);
	// 0 means one.
	Producers int

	// Func is the registered function every task calls, and PyFunc the
	// name of its counterpart in bench/python/workloads.py.
	Func   *execkit.Func[int, int]
	PyFunc string

	// argKind and param define each call's argument: see Arg.
	argKind argKind
	param   int // µs for the waits; target ns of CPU for spin
	failAt  int // index of the failing task (fail-fast)
	// hold makes every task of a batch wait until the batch's last task
	// was submitted (Func is Hold): only strategies that can hold that
	// many pending tasks without blocking the submitter run it (Holds).
	hold bool
}

type argKind uint8

const (
	argIndex argKind = iota // the task index (noop)
	argSpin                 // the calibrated iteration count for param ns
	argWait                 // param µs
)

// N returns the batch size in the quick or the full matrix.
func (w *Workload) N(full bool) int {
	if full {
		return w.Full
	}
	return w.Quick
}

// PyN returns the Python batch size in the quick or the full matrix.
func (w *Workload) PyN(full bool) int {
	if full {
		return min(w.Py*5, w.Full)
	}
	return w.Py
}

// PoolSize returns the number of workers a pool uses for this workload.
func (w *Workload) PoolSize() int {
	if w.Workers > 0 {
		return w.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Arg returns the argument of task i. It calibrates the CPU loop on first
// use (a few milliseconds).
func (w *Workload) Arg(i int) int {
	switch {
	case w.Kind == KindFailFast && i == w.failAt:
		return -1
	case w.argKind == argSpin:
		return SpinIters(time.Duration(w.param))
	case w.argKind == argWait:
		return w.param
	default:
		return i
	}
}

// Call runs task i in the calling goroutine, the way every in-process
// strategy does: through the registered function's Call, which recovers a
// panic.
func (w *Workload) Call(ctx context.Context, i int) error {
	_, err := w.Func.Call(ctx, w.Arg(i))
	return err
}

// Task returns task i as a portable execkit task.
func (w *Workload) Task(i int) execkit.Task { return w.Func.Task(w.Arg(i)) }

// PyParam is the parameter the Python side needs: the target CPU
// nanoseconds for spin, the wait in µs, else 0.
func (w *Workload) PyParam() int { return w.param }

// Workloads returns the matrix's workloads in report order.
func Workloads() []*Workload { return workloads }

// WorkloadNamed returns the workload called name, or nil.
func WorkloadNamed(name string) *Workload {
	for _, w := range workloads {
		if w.Name == name {
			return w
		}
	}
	return nil
}

var workloads = []*Workload{
	{Name: "noop", Py: 5_000, Doc: "no-op task: the executor's own cost per task",
		Kind: KindBatch, Quick: 20_000, Full: 100_000, Func: Noop, PyFunc: "noop", argKind: argIndex},
	{Name: "cpu1us", Py: 5_000, Doc: "about 1µs of CPU per task",
		Kind: KindBatch, Quick: 20_000, Full: 100_000, Func: Spin, PyFunc: "spin", argKind: argSpin, param: 1_000},
	{Name: "cpu100us", Py: 400, Doc: "about 100µs of CPU per task",
		Kind: KindBatch, Quick: 400, Full: 4_000, Func: Spin, PyFunc: "spin", argKind: argSpin, param: 100_000},
	{Name: "wait1ms", Py: 5_000, Doc: "1ms wait per task, 1000 workers: many in flight (I/O-like)",
		Kind: KindBatch, Quick: 10_000, Full: 50_000, Workers: 1000, Func: Sleep, PyFunc: "sleep", argKind: argWait, param: 1_000},
	{Name: "burst", Py: 5_000, Doc: "64 producers submit at once, 16 workers: a burst far above the pool size",
		Kind: KindBatch, Quick: 50_000, Full: 500_000, Workers: 16, Producers: 64, Func: Spin, PyFunc: "spin", argKind: argSpin, param: 1_000},
	{Name: "failfast", Py: 5_000, Doc: "task 10 fails at once, the others wait 1ms unless cancelled; 100 workers; the time is the batch's, spread over its tasks: the sooner the failure stops the rest, the lower",
		Kind: KindFailFast, Quick: 10_000, Full: 50_000, Workers: 100, Func: FailOrSleep, PyFunc: "failorsleep", argKind: argWait, param: 1_000, failAt: 10},
	{Name: "roundtrip", Py: 1_000, Doc: "no-op, one call at a time: the latency of a single call",
		Kind: KindRoundTrip, Quick: 2_000, Full: 20_000, Func: Noop, PyFunc: "noop", argKind: argIndex},
	{Name: "map", Py: 20_000, Doc: "no-op mapped over the items with the strategy's own (chunked) map",
		Kind: KindMap, Quick: 20_000, Full: 200_000, Func: Noop, PyFunc: "noop", argKind: argIndex},
	{Name: "pending1e6", Py: 1_000_000, Doc: "1e6 pending tasks, each alive until the last was submitted (goroutine per task holds 1e6 goroutines, a pool 1e6 queued tasks, its queue sized for them), 10000 workers, in a child process: peak memory of a backlog",
		Kind: KindMemory, Quick: 1_000_000, Full: 1_000_000, Workers: 10_000, Func: Hold, argKind: argIndex, hold: true},
	{Name: "sleep1e5", Py: 100_000, Doc: "1e5 tasks waiting 10ms, 10000 workers, in a child process: peak memory",
		Kind: KindMemory, Quick: 100_000, Full: 100_000, Workers: 10_000, Func: Sleep, PyFunc: "sleep", argKind: argWait, param: 10_000},
	{Name: "sleep1e6", Py: 1_000_000, Doc: "1e6 tasks waiting 10ms, 10000 workers, in a child process: peak memory of a steady flow (tasks end about as fast as new ones start, so goroutine per task holds tens of thousands at once, not 1e6; see pending1e6 for a backlog)",
		Kind: KindMemory, Quick: 1_000_000, Full: 1_000_000, Workers: 10_000, Func: Sleep, PyFunc: "sleep", argKind: argWait, param: 10_000},
}

// SpinIters returns the number of iterations of the CPU loop that take
// about d on this machine. The first call calibrates the loop.
func SpinIters(d time.Duration) int {
	calibrate.Do(func() {
		// Best of many short runs: on a busy machine some of them run
		// undisturbed.
		const iters = 500_000
		best := time.Duration(1<<63 - 1)
		for range 25 {
			start := time.Now()
			spinSink.Add(int64(spin(iters))) // keeps the loop from being optimised away
			if e := time.Since(start); e < best {
				best = e
			}
		}
		nsPerIter = float64(best.Nanoseconds()) / iters
	})
	n := int(float64(d.Nanoseconds()) / nsPerIter)
	return max(n, 1)
}

var (
	calibrate sync.Once
	nsPerIter float64
	spinSink  atomic.Int64
)

// VarintCodec is an execkit.Codec for int arguments and results: a
// zig-zag varint. The default GobCodec now sends a plain int as a varint
// too (and other types as gob, with a type description every value), so
// the varint twins below cost about the same as the default rows: they
// stay as a control that the process-crossing rows measure the pool, not
// the codec.
type VarintCodec struct{}

// Marshal encodes an int.
func (VarintCodec) Marshal(v any) ([]byte, error) {
	x, ok := v.(int)
	if !ok {
		return nil, fmt.Errorf("bench: VarintCodec: cannot encode %T", v)
	}
	return binary.AppendVarint(nil, int64(x)), nil
}

// AppendMarshal appends the encoding of the int p points to to b: the
// optional method of an execkit.Codec, which lets a batch (a chunk of
// subprocess.Map) carry its items without a slice, or a boxed value, each.
func (VarintCodec) AppendMarshal(b []byte, p any) ([]byte, error) {
	x, ok := p.(*int)
	if !ok {
		return nil, fmt.Errorf("bench: VarintCodec: cannot encode %T", p)
	}
	return binary.AppendVarint(b, int64(*x)), nil
}

// Unmarshal decodes into an *int.
func (VarintCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*int)
	if !ok {
		return fmt.Errorf("bench: VarintCodec: cannot decode into %T", v)
	}
	x, n := binary.Varint(data)
	if n <= 0 || n != len(data) || (n > 1 && data[n-1] == 0) {
		return fmt.Errorf("bench: VarintCodec: bad varint %x", data) // or not the shortest form
	}
	*p = int(x)
	return nil
}

// The varint twins: the same functions, registered under their own names
// with [VarintCodec].
var (
	NoopVarint = execkit.Register("bench.noop.varint", func(_ context.Context, x int) (int, error) {
		return x, nil
	}, execkit.UseCodec(VarintCodec{}))
	SpinVarint = execkit.Register("bench.spin.varint", func(_ context.Context, iters int) (int, error) {
		return spin(iters), nil
	}, execkit.UseCodec(VarintCodec{}))
)

// withVarint returns w calling the varint twin of its function.
func withVarint(w *Workload) *Workload {
	v := *w
	switch w.Func {
	case Noop:
		v.Func = NoopVarint
	case Spin:
		v.Func = SpinVarint
	}
	return &v
}
