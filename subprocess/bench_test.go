package subprocess_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execkit/execkit"
	"github.com/execkit/execkit/subprocess"
)

// echo is the helper process of the raw pipe baseline: it answers every
// 8-byte message on fd 3 with the same bytes on fd 4.
func echo() {
	in, out := os.NewFile(3, "in"), os.NewFile(4, "out")
	var buf [8]byte
	for {
		if _, err := io.ReadFull(in, buf[:]); err != nil {
			return
		}
		if _, err := out.Write(buf[:]); err != nil {
			return
		}
	}
}

// BenchmarkRoundTrip measures one call's round trip through a pool of one
// worker (Apply, which waits for each result), beside the floor it cannot
// beat: the same trip over two pipes to a helper process that echoes 8
// bytes, measured in the same run. arg=none calls a function of struct{}
// (nothing to encode); arg=int one of int, which the default codec sends
// as one varint each way.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("via=pipe", func(b *testing.B) {
		ping := startEcho(b)
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		for b.Loop() {
			ping()
		}
		b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	// Both, alternating batches of 50 trips, so that the ratio holds on a
	// machine whose load changes during the run; the medians of the batch
	// means resist bursts of load from elsewhere. An op is a batch of each.
	// With timer=pending, the echo helper and the worker each keep a timer
	// pending, as a program with a ticker or a library's background loop
	// does: there a timer armed per call woke the runtime's poller for each
	// call (a worker did so until protocol version 7).
	for _, pending := range []bool{false, true} {
		name := "via=both"
		if pending {
			name += "/timer=pending"
		}
		b.Run(name, func(b *testing.B) {
			if pending {
				b.Setenv(timerEnv, "1")
			}
			roundTrips(b)
		})
	}
	b.Run("via=pool/arg=none", func(b *testing.B) {
		p := newPool(b, 1)
		ctx := context.Background()
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		for b.Loop() {
			if _, err := subprocess.Apply(ctx, p, noop, struct{}{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	b.Run("via=pool/arg=int", func(b *testing.B) {
		p := newPool(b, 1)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := subprocess.Apply(ctx, p, double, 21); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// roundTrips alternates batches of round trips over the raw pipe and
// through a pool of one worker (see BenchmarkRoundTrip's via=both).
func roundTrips(b *testing.B) {
	ping := startEcho(b)
	p := newPool(b, 1)
	ctx := context.Background()
	const batch = 50
	var pipe, pool []time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			ping()
		}
		t1 := time.Now()
		for range batch {
			if _, err := subprocess.Apply(ctx, p, noop, struct{}{}); err != nil {
				b.Fatal(err)
			}
		}
		pipe = append(pipe, t1.Sub(t0)/batch)
		pool = append(pool, time.Since(t1)/batch)
	}
	slices.Sort(pipe)
	slices.Sort(pool)
	mp, mq := pipe[len(pipe)/2], pool[len(pool)/2]
	b.ReportMetric(float64(mp.Nanoseconds()), "pipe-ns/trip")
	b.ReportMetric(float64(mq.Nanoseconds()), "pool-ns/trip")
	b.ReportMetric(float64(mq)/float64(mp), "pool/pipe")
}

// timerEnv makes a process of these tests keep a timer pending (see
// BenchmarkRoundTrip's timer=pending).
const timerEnv = "SUBPROCESS_TEST_TIMER"

func init() {
	if os.Getenv(timerEnv) != "" {
		time.AfterFunc(24*time.Hour, func() {})
	}
}

// BenchmarkThroughput measures pipelined no-op tasks on 2 workers: futures
// (the counterpart of apply_async) with up to 256 outstanding, so the
// workers never wait for the next task. ns/op is the cost per task.
// prefetch=0 is the same with subprocess.Prefetch(0): what a worker that
// is sent a call only when idle costs (Prefetch's doc quotes it).
func BenchmarkThroughput(b *testing.B) {
	b.Run("workers=2/arg=none", func(b *testing.B) {
		pipelined(b, noop, func(int) struct{} { return struct{}{} })
	})
	b.Run("workers=2/arg=int", func(b *testing.B) {
		pipelined(b, double, func(i int) int { return i })
	})
	b.Run("workers=2/arg=int/prefetch=0", func(b *testing.B) {
		pipelined(b, double, func(i int) int { return i }, subprocess.Prefetch(0))
	})
}

func pipelined[In, Out any](b *testing.B, f *execkit.Func[In, Out], arg func(int) In, opts ...subprocess.Option) {
	p := newPool(b, 2, opts...)
	ctx := context.Background()
	const window = 256
	var ring [window]*execkit.Future[Out]
	i := 0
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		if old := ring[i%window]; old != nil {
			if _, err := old.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
		ring[i%window] = f.Go(ctx, p, arg(i))
		i++
	}
	for _, f := range ring {
		if f != nil {
			f.Wait(ctx)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the CPU time this process and its (live) children have
// used: a cost that, unlike elapsed time, does not grow when other
// programs load the machine.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	for _, pid := range children(b) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command (in parentheses): utime and stime
		// are the 12th and 13th, in clock ticks (100 per second).
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}

// BenchmarkMap measures Map over 200,000 small items on 2 workers, in the
// default chunks (ceil(200000/8) items each) and in chunks of 1,000, with
// the default gob codec (which batches []int as varints); codec=varint is
// a custom codec, which a batch calls once per item. ns/op is per Map
// call; cpu-ns/op counts the workers' CPU time too.
func BenchmarkMap(b *testing.B) {
	items := make([]int, 200_000)
	for i := range items {
		items[i] = i
	}
	for _, bm := range []struct {
		name  string
		f     *execkit.Func[int, int]
		chunk int
	}{
		{"items=200000/codec=gob/chunk=default", double, 0},
		{"items=200000/codec=gob/chunk=1000", double, 1000},
		{"items=200000/codec=varint/chunk=default", doubleVarint, 0},
	} {
		var opts []subprocess.MapOption
		if bm.chunk > 0 {
			opts = append(opts, subprocess.ChunkSize(bm.chunk))
		}
		b.Run(bm.name, func(b *testing.B) {
			p := newPool(b, 2)
			ctx := context.Background()
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				out, err := subprocess.Map(ctx, p, bm.f, items, opts...)
				if err != nil || len(out) != len(items) {
					b.Fatal(len(out), err)
				}
			}
			b.ReportMetric(float64(len(items))*float64(b.N)/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// doubleVarint is double with a codec that costs next to nothing.
var doubleVarint = execkit.Register("test.doubleVarint", func(_ context.Context, x int) (int, error) {
	return 2 * x, nil
}, execkit.UseCodec(varintCodec{}))

type varintCodec struct{}

func (varintCodec) Marshal(v any) ([]byte, error) {
	return binary.AppendVarint(nil, int64(v.(int))), nil
}

func (varintCodec) AppendMarshal(b []byte, p any) ([]byte, error) {
	return binary.AppendVarint(b, int64(*p.(*int))), nil
}

func (varintCodec) Unmarshal(b []byte, v any) error {
	x, n := binary.Varint(b)
	if n <= 0 {
		return errors.New("varintCodec: bad varint")
	}
	*v.(*int) = int(x)
	return nil
}

// BenchmarkNew measures starting a pool (processes, handshakes) and shutting
// it down, and reports the resident memory of one idle worker.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			var rss float64
			b.ReportAllocs()
			for b.Loop() {
				p, err := subprocess.New(n)
				if err != nil {
					b.Fatal(err)
				}
				if rss == 0 {
					rss = workerRSS(b)
				}
				if err := p.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(rss, "worker-RSS-KiB")
		})
	}
}

// workerRSS returns the resident set of one child process, in KiB.
func workerRSS(b *testing.B) float64 {
	pids := children(b)
	if len(pids) == 0 {
		b.Fatal("no worker process")
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pids[0]))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kib, _ := strconv.ParseFloat(f[1], 64)
			return kib
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// startEcho starts the echo helper and returns a function that does one
// round trip with it.
func startEcho(b *testing.B) (ping func()) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), modeEnv+"=echo")
	cmd.ExtraFiles = []*os.File{reqR, resW}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	reqR.Close()
	resW.Close()
	b.Cleanup(func() {
		reqW.Close()
		cmd.Wait()
		resR.Close()
	})
	var msg [8]byte
	return func() {
		if _, err := reqW.Write(msg[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(resR, msg[:]); err != nil {
			b.Fatal(err)
		}
	}
}
