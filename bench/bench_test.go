package bench

import (
	"context"
	"flag"
	"runtime"
	"testing"
)

var benchFull = flag.Bool("full", false, "run the full matrix's batch sizes and cells (go test -bench . -args -full)")

// BenchmarkMatrix runs every Go strategy on every workload it supports, as
// sub-benchmarks named workload=X/strategy=Y (benchstat-ready). One op is
// one batch of the workload's tasks; ns/task, cpu-ns/task (the process's
// CPU time), tasks/s, allocs/task, B/task and peak-goroutines are reported. Memory workloads run one batch
// per op in a child process and report peak-RSS-MiB. The Python rows are
// in the compare command only (cd bench && go run ./cmd/compare).
func BenchmarkMatrix(b *testing.B) {
	for _, w := range Workloads() {
		b.Run("workload="+w.Name, func(b *testing.B) {
			for _, s := range Strategies() {
				if s.Lang != LangGo || !s.Runs(w, *benchFull) {
					continue
				}
				b.Run("strategy="+s.Name, func(b *testing.B) { benchCell(b, s, w) })
			}
		})
	}
}

func benchCell(b *testing.B, s *Strategy, w *Workload) {
	n := s.BatchSize(w, *benchFull)
	ctx := context.Background()
	b.ReportAllocs()
	if w.Kind == KindMemory {
		var rss, gs int64
		for b.Loop() {
			smp, err := measureInChild(ctx, s, w, n)
			if err != nil {
				b.Fatal(err)
			}
			rss, gs = max(rss, smp.PeakRSS), max(gs, smp.PeakGoroutines)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(gs), "peak-goroutines")
		return
	}
	r, err := s.New(w)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if err := checkRun(w, r.Run(ctx, n)); err != nil { // warm-up: a full batch, as in Measure
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := startPeakSampler()
	cpu0 := processCPU()
	for b.Loop() {
		if err := checkRun(w, r.Run(ctx, n)); err != nil {
			b.Fatal(err)
		}
	}
	cpu := processCPU() - cpu0
	gs := peak.stop()
	runtime.ReadMemStats(&after)
	tasks := float64(b.N * n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/tasks, "ns/task")
	b.ReportMetric(tasks/b.Elapsed().Seconds(), "tasks/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/tasks, "cpu-ns/task")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/tasks, "allocs/task")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/tasks, "B/task")
	b.ReportMetric(float64(gs), "peak-goroutines")
}
