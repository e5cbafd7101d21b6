package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The environment marker that makes this binary (the compare command or
// the test binary) serve as one of its own children.
const (
	envChild      = "EXECKIT_BENCH_CHILD"
	envChildCase  = "EXECKIT_BENCH_CASE"
	childPipeEcho = "pipe-echo"
	childMemory   = "memory"
)

// ChildMain serves as a child process of the harness when this process was
// started as one (the raw pipe's echo child, or one memory case), and then
// exits; otherwise it returns at once. Call it first in main and in
// TestMain, after subprocess.Main.
func ChildMain() {
	role := os.Getenv(envChild)
	if role == "" {
		return
	}
	var err error
	switch role {
	case childPipeEcho:
		err = servePipeEcho()
	case childMemory:
		err = runMemoryChild()
	default:
		err = fmt.Errorf("unknown child role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench child %s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// memoryCase is what a memory child is told, and childResult what it
// answers on stdout.
type memoryCase struct {
	Workload string `json:"workload"`
	Strategy string `json:"strategy"`
	N        int    `json:"n"`
}

type childResult struct {
	Seconds        float64 `json:"seconds"`
	PeakGoroutines int64   `json:"peak_goroutines"`
	PeakRSS        int64   `json:"peak_rss_bytes"` // VmHWM; 0 where /proc is missing
	Error          string  `json:"error,omitempty"`
}

func runMemoryChild() error {
	var c memoryCase
	if err := json.Unmarshal([]byte(os.Getenv(envChildCase)), &c); err != nil {
		return fmt.Errorf("bad %s: %w", envChildCase, err)
	}
	w, s := WorkloadNamed(c.Workload), StrategyNamed(c.Strategy)
	if w == nil || s == nil || s.New == nil {
		return fmt.Errorf("unknown case %s/%s", c.Workload, c.Strategy)
	}
	r, err := s.New(w)
	if err != nil {
		return err
	}
	peak := startPeakSampler()
	start := time.Now()
	err = checkRun(w, r.Run(context.Background(), c.N))
	elapsed := time.Since(start)
	res := childResult{Seconds: elapsed.Seconds(), PeakGoroutines: peak.stop(), PeakRSS: selfPeakRSS()}
	if err != nil {
		res.Error = err.Error()
	}
	if cerr := r.Close(); cerr != nil && res.Error == "" {
		res.Error = cerr.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// measureInChild runs one batch of n tasks of w on s in a child process of
// its own and returns its time, peak goroutines and peak RSS.
func measureInChild(ctx context.Context, s *Strategy, w *Workload, n int) (Sample, error) {
	exe, err := os.Executable()
	if err != nil {
		return Sample{}, err
	}
	spec, _ := json.Marshal(memoryCase{Workload: w.Name, Strategy: s.Name, N: n})
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), envChild+"="+childMemory, envChildCase+"="+string(spec))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return Sample{}, fmt.Errorf("bench: memory child %s/%s: %w: %s", w.Name, s.Name, err, tail(errOut.Bytes()))
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return Sample{}, fmt.Errorf("bench: memory child %s/%s: bad answer %q: %w", w.Name, s.Name, tail(out.Bytes()), err)
	}
	if res.Error != "" {
		return Sample{}, fmt.Errorf("bench: memory child %s/%s: %s", w.Name, s.Name, res.Error)
	}
	rss := res.PeakRSS
	if rss <= 0 {
		rss = maxRSS(cmd.ProcessState)
	}
	return Sample{
		Tasks:          n,
		Elapsed:        time.Duration(res.Seconds * 1e9),
		PeakGoroutines: res.PeakGoroutines,
		PeakRSS:        rss,
	}, nil
}

// selfPeakRSS returns this process's peak resident set in bytes, VmHWM of
// /proc/self/status, or 0 where there is none. Unlike rusage's maxrss it
// starts afresh at exec: Linux carries the parent's high-water mark into
// ru_maxrss of a child started by fork (or vfork) and exec, so every child
// of a big parent would seem as big.
func selfPeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// maxRSS returns a finished process's peak resident set in bytes from its
// rusage: the fallback where /proc is missing (it can include the
// parent's high-water mark; see selfPeakRSS).
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss // bytes there
	}
	return ru.Maxrss * 1024 // KiB on Linux
}

// tail returns the last few hundred bytes of b, for error messages.
func tail(b []byte) string {
	const n = 600
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
