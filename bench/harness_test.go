package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/execkit/execkit"
)

const pyInfoLine = `{"type": "info", "python": "3.11.7", "implementation": "CPython", "executable": "/usr/bin/python3", "start_method": "fork", "spin_iters_per_us": 6.1}`

func TestParsePython(t *testing.T) {
	ok := `{"type": "result", "workload": "noop", "strategy": "py-threadpool", "detail": "submit", "tasks": 5000, "seconds": 0.05, "ns_per_task": 10000.0, "peak_threads": 3, "peak_rss_bytes": 2048, "cpu_seconds": 0.04, "error": null}`
	failed := `{"type": "result", "workload": "map", "strategy": "py-mp-pool", "error": "OSError: boom"}`
	tests := []struct {
		name     string
		in       string
		wantN    int
		wantErr  string // substring; "" for none
		checkRes func(t *testing.T, rs []PyResult)
	}{
		{name: "info and results", in: pyInfoLine + "\n" + ok + "\n\n" + failed + "\n", wantN: 2,
			checkRes: func(t *testing.T, rs []PyResult) {
				r := rs[0]
				if r.Tasks != 5000 || r.NsPerTask != 10000 || r.PeakThreads != 3 || r.PeakRSSBytes != 2048 || r.Error != nil {
					t.Errorf("got %+v; want the fields of the line", r)
				}
				if s := r.Sample(); s.NsPerTask() != 10000 || s.Tasks != 5000 || s.CPU != 40*time.Millisecond {
					t.Errorf("got sample %v ns/task of %d tasks, CPU %v; want 10000 of 5000, 40ms", s.NsPerTask(), s.Tasks, s.CPU)
				}
				if rs[1].Error == nil || *rs[1].Error != "OSError: boom" {
					t.Errorf("got error %v; want OSError: boom", rs[1].Error)
				}
			}},
		{name: "info only", in: pyInfoLine, wantN: 0},
		{name: "empty", in: "", wantErr: "no info line"},
		{name: "result before info", in: ok + "\n" + pyInfoLine, wantErr: "line 1: result before the info line"},
		{name: "not JSON", in: pyInfoLine + "\nTraceback (most recent call last):", wantErr: "line 2: not a JSON object"},
		{name: "unknown type", in: pyInfoLine + `{"type": "progress"}`, wantErr: "not a JSON object"},
		{name: "unknown type alone", in: pyInfoLine + "\n" + `{"type": "progress"}`, wantErr: `unknown type "progress"`},
		{name: "wrong field type", in: pyInfoLine + "\n" + `{"type": "result", "workload": "noop", "strategy": "x", "tasks": "many"}`, wantErr: "line 2: bad line"},
		{name: "no tasks", in: pyInfoLine + "\n" + `{"type": "result", "workload": "noop", "strategy": "x", "tasks": 0, "seconds": 1, "error": null}`, wantErr: "with 0 tasks"},
		{name: "no strategy", in: pyInfoLine + "\n" + `{"type": "result", "workload": "noop", "tasks": 1, "seconds": 1}`, wantErr: "without workload or strategy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen int
			info, rs, err := ParsePython(strings.NewReader(tt.in), func(PyResult) { seen++ })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v; want none", err)
			}
			if info.Version != "3.11.7" || info.StartMethod != "fork" {
				t.Errorf("got info %+v; want python 3.11.7, fork", info)
			}
			if len(rs) != tt.wantN || seen != tt.wantN {
				t.Fatalf("got %d results, %d callbacks; want %d", len(rs), seen, tt.wantN)
			}
			if tt.checkRes != nil {
				tt.checkRes(t, rs)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 1000}, 10}, // one slow round does not move it
		{[]float64{-1, 7}, 3},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v; want %v", in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("Median modified its input: got %v; want %v", tt.in, in)
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v; want NaN", got)
	}
}

func TestSchedule(t *testing.T) {
	wa, wb := &Workload{Name: "a"}, &Workload{Name: "b"}
	s1, s2, s3 := &Strategy{Name: "1"}, &Strategy{Name: "2"}, &Strategy{Name: "3"}
	cases := []Case{{wa, s1}, {wa, s2}, {wa, s3}, {wb, s1}, {wb, s2}}
	got := Schedule(cases, 4)
	names := func(cs []Case) string {
		var parts []string
		for _, c := range cs {
			parts = append(parts, c.Workload.Name+c.Strategy.Name)
		}
		return strings.Join(parts, " ")
	}
	want := []string{
		"a1 a2 a3 b1 b2",
		"a2 a3 a1 b2 b1",
		"a3 a1 a2 b1 b2",
		"a3 a2 a1 b2 b1",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rounds; want %d", len(got), len(want))
	}
	for r := range want {
		if g := names(got[r]); g != want[r] {
			t.Errorf("round %d: got %q; want %q", r, g, want[r])
		}
	}
	if got := Schedule(nil, 2); len(got) != 2 || len(got[0]) != 0 {
		t.Errorf("Schedule(nil, 2) = %v; want two empty rounds", got)
	}
}

// TestRoundOrder holds the Williams design behind Schedule: each round is
// an order of all the cases, round r starts with case r mod n, and over n
// rounds (2n for an odd n) each case follows each other case equally
// often: once (twice), where the cyclic order it replaced had a case
// always follow the same one.
func TestRoundOrder(t *testing.T) {
	for n := 1; n <= 12; n++ {
		rounds, want := n, 1
		if n%2 == 1 {
			rounds, want = 2*n, 2
		}
		follows := make(map[[2]int]int)
		for r := range rounds {
			row := roundOrder(n, r)
			if got := slices.Sorted(slices.Values(row)); !slices.Equal(got, seq(n)) {
				t.Fatalf("n=%d round %d: %v is not an order of the %d cases", n, r, row, n)
			}
			if r < n && row[0] != r {
				t.Errorf("n=%d round %d starts with case %d; want %d", n, r, row[0], r)
			}
			for p := 1; p < n; p++ {
				follows[[2]int{row[p-1], row[p]}]++
			}
		}
		for a := range n {
			for b := range n {
				if a != b && follows[[2]int{a, b}] != want {
					t.Errorf("n=%d: case %d follows case %d %d times in %d rounds; want %d", n, b, a, follows[[2]int{a, b}], rounds, want)
				}
			}
		}
	}
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// result makes a synthetic Result.
func result(workload, strategy string, kind Kind, ns float64, rss int64, baseline, python string) Result {
	r := Result{Workload: workload, Strategy: strategy, Kind: kind, NsPerTask: ns, Samples: []float64{ns},
		Baseline: baseline, Python: python}
	if rss > 0 {
		r.PeakRSSBytes = &rss
	}
	return r
}

func TestFillRatios(t *testing.T) {
	rs := []Result{
		result("noop", "raw-go", KindBatch, 200, 0, "", "py-thread"),
		result("noop", "ants", KindBatch, 300, 0, "raw-go", "py-threadpool"),
		result("noop", "py-thread", KindBatch, 200_000, 0, "", ""),
		result("noop", "py-threadpool", KindBatch, 9_000, 0, "py-thread", ""),
		result("noop", "orphan", KindBatch, 100, 0, "missing", "py-missing"),
		result("noop", "slowgo", KindBatch, 400_000, 0, "", "py-thread"),
		result("sleep1e6", "raw-go", KindMemory, 10, 2_000, "", ""),
		result("sleep1e6", "ants", KindMemory, 20, 500, "raw-go", ""),
		result("cpu1us", "ants", KindBatch, 900, 0, "raw-go", ""), // baseline on another workload only
	}
	failed := result("noop", "broken", KindBatch, 0, 0, "raw-go", "py-thread")
	failed.Error, failed.Samples = "boom", nil
	rs = append(rs, failed)
	FillRatios(rs)
	tests := []struct {
		workload, strategy string
		vsBase, vsPy       float64 // NaN: want nil
	}{
		{"noop", "raw-go", math.NaN(), 1000},
		{"noop", "ants", 1.5, 30},
		{"noop", "py-threadpool", 0.045, math.NaN()},
		{"noop", "orphan", math.NaN(), math.NaN()},
		{"noop", "slowgo", math.NaN(), 0.5},
		{"sleep1e6", "ants", 0.25, math.NaN()},
		{"cpu1us", "ants", math.NaN(), math.NaN()},
		{"noop", "broken", math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		r := find(rs, tt.workload, tt.strategy)
		check := func(what string, got *float64, want float64) {
			t.Helper()
			switch {
			case math.IsNaN(want) && got != nil:
				t.Errorf("%s/%s %s: got %v; want none", tt.workload, tt.strategy, what, *got)
			case !math.IsNaN(want) && got == nil:
				t.Errorf("%s/%s %s: got none; want %v", tt.workload, tt.strategy, what, want)
			case !math.IsNaN(want) && math.Abs(*got-want) > 1e-9:
				t.Errorf("%s/%s %s: got %v; want %v", tt.workload, tt.strategy, what, *got, want)
			}
		}
		check("vs baseline", r.VsBaseline, tt.vsBase)
		check("vs Python", r.VsPython, tt.vsPy)
	}
}

func TestSortFastest(t *testing.T) {
	failed := result("w", "failed", KindBatch, 0, 0, "", "")
	failed.Error, failed.Samples = "boom", nil
	rs := []Result{failed, result("w", "slow", KindBatch, 300, 0, "", ""), result("w", "fast", KindBatch, 100, 0, "", "")}
	SortFastest(rs)
	var got []string
	for _, r := range rs {
		got = append(got, r.Strategy)
	}
	if want := []string{"fast", "slow", "failed"}; !slices.Equal(got, want) {
		t.Errorf("got %v; want %v", got, want)
	}
}

func TestTargets(t *testing.T) {
	rs := []Result{
		result("noop", "ants", KindBatch, 100, 0, "", ""),
		result("noop", StratPool, KindBatch, 105, 0, "ants", ""),
		result("noop", "pond", KindBatch, 80, 0, "", ""),
		result("noop", "conc", KindBatch, 200, 0, "", ""),
		result("cpu1us", "ants", KindBatch, 1000, 0, "", ""),
		result("cpu1us", StratPool, KindBatch, 1200, 0, "ants", ""),
		result("roundtrip", "raw-pipe", KindRoundTrip, 10_000, 0, "", ""),
		result("roundtrip", StratSubprocess, KindRoundTrip, 15_000, 0, "raw-pipe", ""),
		result("noop", StratSubprocess, KindBatch, 2_000, 0, "", ""),
		result("noop", "py-mp-pool", KindBatch, 30_000, 0, "", ""),
		result("pending1e6", "raw-go", KindMemory, 1, 4_000, "", ""),
		result("pending1e6", StratPool, KindMemory, 1, 1_000, "", ""),
	}
	got := map[string]Target{}
	for _, tg := range Targets(rs) {
		got[tg.Name+"@"+tg.Workload+"@"+tg.Strategy] = tg
	}
	tests := []struct {
		key     string
		status  string
		ratio   float64 // NaN: none
		against string
	}{
		{"adapter: pool vs ants used directly@noop@execkit-pool", Pass, 1.05, "ants"},
		{"adapter: pool vs ants used directly@cpu1us@execkit-pool", Miss, 1.2, "ants"},
		{"adapter: errgroup vs x/sync errgroup used directly@noop@execkit-errgroup", NA, math.NaN(), "xsync-errgroup"},
		{"pool vs the fastest peer pool (ants, conc, pond, workerpool)@noop@execkit-pool", Miss, 105.0 / 80, "pond"},
		{"pool vs the fastest peer pool (ants, conc, pond, workerpool)@cpu100us@execkit-pool", NA, math.NaN(), ""},
		{"subprocess round trip vs the raw pipe floor@roundtrip@execkit-subprocess", Pass, 1.5, "raw-pipe"},
		{"subprocess vs multiprocessing.Pool.apply_async (no-op, pipelined)@noop@execkit-subprocess", Miss, 15, "py-mp-pool"},
		{"subprocess Map vs multiprocessing.Pool.map@map@execkit-subprocess", NA, math.NaN(), "py-mp-pool"},
		{"subprocess round trip vs the raw pipe floor@roundtrip@execkit-subprocess-varint", NA, math.NaN(), "raw-pipe"},
		{"pool peak RSS vs goroutine per task, 1e6 pending tasks@pending1e6@execkit-pool", Pass, 0.25, "raw-go"},
	}
	for _, tt := range tests {
		tg, ok := got[tt.key]
		if !ok {
			t.Errorf("no target %q", tt.key)
			continue
		}
		if tg.Status != tt.status || tg.Against != tt.against {
			t.Errorf("%s: got %s against %q; want %s against %q (note %q)", tt.key, tg.Status, tg.Against, tt.status, tt.against, tg.Note)
		}
		switch {
		case math.IsNaN(tt.ratio) && tg.Ratio != nil:
			t.Errorf("%s: got ratio %v; want none", tt.key, *tg.Ratio)
		case !math.IsNaN(tt.ratio) && (tg.Ratio == nil || math.Abs(*tg.Ratio-tt.ratio) > 1e-9):
			t.Errorf("%s: got ratio %v; want %v", tt.key, tg.Ratio, tt.ratio)
		}
		if tg.Status == NA && tg.Note == "" {
			t.Errorf("%s: N/A without a note", tt.key)
		}
	}
	peer := got["pool vs the fastest peer pool (ants, conc, pond, workerpool)@noop@execkit-pool"]
	if want := "vs ants 1.05x, conc 0.53x, pond 1.31x"; peer.Note != want {
		t.Errorf("peer note: got %q; want %q", peer.Note, want)
	}
}

func TestCollector(t *testing.T) {
	w := &Workload{Name: "noop", Kind: KindBatch}
	mem := &Workload{Name: "sleep1e6", Kind: KindMemory}
	g := &Strategy{Name: "raw-go", Lang: LangGo, Python: "py-thread"}
	p := &Strategy{Name: "py-thread", Lang: LangPython}
	var c Collector
	for _, ns := range []time.Duration{300, 100, 200} { // ns per task over 1000 tasks
		c.Add(w, g, 1000, Sample{Tasks: 1000, Elapsed: ns * 1000, Allocs: 1000, Bytes: 32_000, PeakGoroutines: 7}, "doc", nil)
	}
	c.Add(w, p, 10, Sample{Tasks: 10, Elapsed: 10 * 20 * time.Microsecond, PeakThreads: 3}, "threads", nil)
	c.Add(w, p, 10, Sample{}, "", errors.New("flaky"))
	c.Add(mem, g, 5, Sample{Tasks: 5, Elapsed: 50, PeakRSS: 1 << 20, PeakGoroutines: 5}, "", nil)
	rs := c.Results()
	if len(rs) != 3 {
		t.Fatalf("got %d results; want 3", len(rs))
	}
	r := rs[0]
	if r.NsPerTask != 200 || !slices.Equal(r.Samples, []float64{300, 100, 200}) {
		t.Errorf("got median %v of %v; want 200 of [300 100 200]", r.NsPerTask, r.Samples)
	}
	if r.TasksPerSec != 5e6 || *r.AllocsPerTask != 1 || *r.BytesPerTask != 32 || *r.PeakGoroutines != 7 || r.PeakThreads != nil || r.PeakRSSBytes != nil {
		t.Errorf("got %v tasks/s, %v allocs, %v B, %v goroutines, threads %v, RSS %v; want 5e6, 1, 32, 7, none, none",
			r.TasksPerSec, *r.AllocsPerTask, *r.BytesPerTask, *r.PeakGoroutines, r.PeakThreads, r.PeakRSSBytes)
	}
	if r.VsPython == nil || *r.VsPython != 100 {
		t.Errorf("got vs Python %v; want 100", r.VsPython)
	}
	py := rs[1]
	if py.AllocsPerTask != nil || py.PeakGoroutines != nil || *py.PeakThreads != 3 || py.Detail != "threads" {
		t.Errorf("got Python allocs %v, goroutines %v, threads %v, detail %q; want none, none, 3, threads", py.AllocsPerTask, py.PeakGoroutines, *py.PeakThreads, py.Detail)
	}
	if !strings.Contains(py.Error, "flaky") || py.NsPerTask != 20_000 {
		t.Errorf("got error %q, %v ns; want flaky recorded and the good round's 20000 ns", py.Error, py.NsPerTask)
	}
	if m := rs[2]; m.PeakRSSBytes == nil || *m.PeakRSSBytes != 1<<20 || m.AllocsPerTask != nil {
		t.Errorf("got memory RSS %v, allocs %v; want 1 MiB, none", m.PeakRSSBytes, m.AllocsPerTask)
	}
}

// sampleReport is a small report with every kind of row.
func sampleReport() *Report {
	w, mem := WorkloadNamed("noop"), WorkloadNamed("sleep1e6")
	var c Collector
	c.Add(w, StrategyNamed("raw-go"), 100, Sample{Tasks: 100, Elapsed: 20 * time.Microsecond, Allocs: 100, Bytes: 4000, PeakGoroutines: 50, CPU: 30 * time.Microsecond}, "", nil)
	c.Add(w, StrategyNamed("ants"), 100, Sample{Tasks: 100, Elapsed: 40 * time.Microsecond, Allocs: 100, Bytes: 3200, PeakGoroutines: 4}, "", nil)
	c.Add(w, StrategyNamed("py-thread"), 10, Sample{Tasks: 10, Elapsed: 2 * time.Millisecond, PeakThreads: 2}, "threads", nil)
	c.Add(w, StrategyNamed("conc"), 100, Sample{}, "", errors.New("bench: conc: | broken"))
	c.Add(mem, StrategyNamed("raw-go"), 1000, Sample{Tasks: 1000, Elapsed: time.Second, PeakRSS: 3 << 30, PeakGoroutines: 1_000_000}, "", nil)
	c.Add(mem, StrategyNamed("ants"), 1000, Sample{Tasks: 1000, Elapsed: 2 * time.Second, PeakRSS: 40 << 20, PeakGoroutines: 10_000}, "", nil)
	rep := &Report{Schema: SchemaVersion, Matrix: "quick", Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Seconds: 90, Rounds: 9, PyRounds: 3, MemRounds: 1, Command: "cd bench && go run ./cmd/compare", Env: CurrentEnv(),
		Results: c.Results(), Notes: []string{"python3 not found"}}
	rep.Env.Python = &PyInfo{Version: "3.11.7", Implementation: "CPython", StartMethod: "fork"}
	rep.Targets = Targets(rep.Results)
	for _, wl := range []*Workload{w, mem} {
		rep.Workloads = append(rep.Workloads, WorkloadInfo{Name: wl.Name, Doc: wl.Doc, Kind: wl.Kind, Tasks: wl.Quick, PyTasks: wl.Py, Workers: wl.PoolSize()})
	}
	for _, name := range []string{"raw-go", "ants", "conc", "py-thread"} {
		s := StrategyNamed(name)
		rep.Strategies = append(rep.Strategies, StrategyInfo{Name: s.Name, Family: s.Family, Lang: s.Lang, Doc: s.Doc, Module: s.Module, Version: rep.Env.Modules[s.Module]})
	}
	return rep
}

// TestReportJSONSchema pins the layout of results.json: the keys and
// their JSON types. Change SchemaVersion when it has to change.
func TestReportJSONSchema(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	type field struct {
		key  string
		kind string // JSON type: string, number, bool, object, array, null; "number|null" allows both
	}
	checkObj := func(where string, obj map[string]any, fields []field) {
		t.Helper()
		for _, f := range fields {
			v, ok := obj[f.key]
			if !ok {
				t.Errorf("%s: no key %q", where, f.key)
				continue
			}
			if got := jsonKind(v); !slices.Contains(strings.Split(f.kind, "|"), got) {
				t.Errorf("%s.%s: got JSON %s; want %s", where, f.key, got, f.kind)
			}
		}
	}
	checkObj("report", doc, []field{
		{"schema", "number"}, {"matrix", "string"}, {"started", "string"}, {"seconds", "number"},
		{"rounds", "number"}, {"py_rounds", "number"}, {"mem_rounds", "number"}, {"command", "string"}, {"env", "object"},
		{"workloads", "array"}, {"strategies", "array"}, {"results", "array"}, {"targets", "array"}, {"notes", "array"},
	})
	if doc["schema"] != float64(1) {
		t.Errorf("schema: got %v; want 1", doc["schema"])
	}
	env := doc["env"].(map[string]any)
	checkObj("env", env, []field{{"machine", "object"}, {"go", "string"}, {"python", "object|null"}, {"modules", "object"}})
	checkObj("env.machine", env["machine"].(map[string]any), []field{
		{"hostname", "string"}, {"cpu", "string"}, {"cores", "number"}, {"gomaxprocs", "number"},
		{"memory_bytes", "number"}, {"os", "string"}, {"arch", "string"},
	})
	checkObj("env.python", env["python"].(map[string]any), []field{{"python", "string"}, {"implementation", "string"}, {"start_method", "string"}})
	for i, w := range doc["workloads"].([]any) {
		checkObj("workloads["+itoa(i)+"]", w.(map[string]any), []field{
			{"name", "string"}, {"doc", "string"}, {"kind", "string"}, {"tasks", "number"}, {"py_tasks", "number"},
			{"workers", "number"}, {"producers", "number"},
		})
	}
	for i, s := range doc["strategies"].([]any) {
		checkObj("strategies["+itoa(i)+"]", s.(map[string]any), []field{{"name", "string"}, {"family", "string"}, {"lang", "string"}, {"doc", "string"}})
	}
	results := doc["results"].([]any)
	if len(results) != 6 {
		t.Fatalf("got %d results; want 6", len(results))
	}
	for i, r := range results {
		checkObj("results["+itoa(i)+"]", r.(map[string]any), []field{
			{"workload", "string"}, {"strategy", "string"}, {"family", "string"}, {"lang", "string"}, {"kind", "string"},
			{"tasks", "number"}, {"samples_ns_per_task", "array"}, {"ns_per_task", "number"}, {"tasks_per_sec", "number"},
			{"allocs_per_task", "number|null"}, {"bytes_per_task", "number|null"}, {"cpu_ns_per_task", "number|null"}, {"peak_goroutines", "number|null"},
			{"peak_threads", "number|null"}, {"peak_rss_bytes", "number|null"}, {"vs_baseline", "number|null"}, {"vs_python", "number|null"},
		})
	}
	for i, tg := range doc["targets"].([]any) {
		obj := tg.(map[string]any)
		checkObj("targets["+itoa(i)+"]", obj, []field{
			{"name", "string"}, {"workload", "string"}, {"strategy", "string"}, {"against", "string"}, {"metric", "string"},
			{"ratio", "number|null"}, {"op", "string"}, {"want", "number"}, {"status", "string"},
		})
		if s := obj["status"]; s != Pass && s != Miss && s != NA {
			t.Errorf("targets[%d].status: got %v; want PASS, MISS or N/A", i, s)
		}
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"# execkit: every strategy side by side",
		"Quick matrix, measured 2025-01-02 03:04 UTC",
		"Reproduce: `make compare`",
		"Python 3.11.7 (CPython, multiprocessing start method fork)",
		"## Summary",
		"| noop | raw-go 200 ns | — | py-thread 200 µs (1000x slower than the fastest Go) |",
		"| sleep1e6 | ants 40.0 MiB | — | — |",
		"## Targets",
		"| pool peak RSS vs goroutine per task, 1e6 pending tasks (execkit-pool vs raw-go) | pending1e6 | — | <= 0.25x | N/A |",
		"## workload=noop",
		"| raw-go | goroutine | 100 | 200 ns | 300 ns | 5.00M | 1.0 | 40 | 50 |  | 1000x faster than py-thread |",
		"| ants | pool | 100 | 400 ns |  | 2.50M | 1.0 | 32 | 4 | 2.00x raw-go |  |",
		"| conc | pool | 100 | failed (see the notes) |",
		"## workload=sleep1e6",
		"| ants | pool | 1000 | 40.0 MiB | 10000 | 2.00 s (2.00 ms/task) | 0.01x raw-go |",
		"- workload=noop/strategy=conc: bench: conc: \\| broken",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Fastest first: raw-go's row comes before ants' and the failed conc last.
	if i, j, k := strings.Index(md, "| raw-go | goroutine | 100"), strings.Index(md, "| ants | pool | 100"), strings.Index(md, "| conc | pool | 100"); !(i < j && j < k) {
		t.Errorf("got rows at %d, %d, %d; want raw-go, ants, conc in that order", i, j, k)
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestWriteCharts(t *testing.T) {
	dir := t.TempDir()
	files, err := WriteCharts(dir, sampleReport(), "svg", "png")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"workload=noop.svg", "workload=noop.png", "workload=sleep1e6.svg", "workload=sleep1e6.png"}
	if len(files) != len(want) {
		t.Fatalf("got %v; want %v", files, want)
	}
	for i, f := range files {
		if filepath.Base(f) != want[i] {
			t.Errorf("file %d: got %s; want %s", i, filepath.Base(f), want[i])
		}
		st, err := os.Stat(f)
		if err != nil || st.Size() < 1000 {
			t.Errorf("%s: got %v bytes, err %v; want a chart", f, st.Size(), err)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{FormatNs(245.4), "245 ns"},
		{FormatNs(12_345), "12.3 µs"},
		{FormatNs(1_200_000), "1.20 ms"},
		{FormatNs(3.4e9), "3.40 s"},
		{FormatNs(0), "—"},
		{FormatRate(4_080_000), "4.08M"},
		{FormatRate(812_000), "812k"},
		{FormatRate(950), "950"},
		{FormatBytes(512), "512 B"},
		{FormatBytes(3 << 19), "1.50 MiB"},
		{FormatBytes(3 << 30), "3.00 GiB"},
		{FormatRatio(1.04), "1.04x"},
		{FormatRatio(38.26), "38.3x"},
		{FormatRatio(1234), "1234x"},
		{trimZeros("10.0 ns"), "10 ns"},
		{trimZeros("1.00 µs"), "1 µs"},
		{trimZeros("100 ms"), "100 ms"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}

// TestStrategiesRun runs every Go strategy on every workload it supports,
// with small batches: each adapter must finish its batch and return
// exactly the error the workload expects.
func TestStrategiesRun(t *testing.T) {
	for _, w := range Workloads() {
		if w.Kind == KindMemory {
			continue
		}
		for _, s := range Strategies() {
			if s.Lang != LangGo || !s.Runs(w, true) {
				continue
			}
			t.Run(w.Name+"/"+s.Name, func(t *testing.T) {
				r, err := s.New(w)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				n := 200
				if s.MaxTasks > 0 {
					n = min(n, s.MaxTasks/4) // a slow executor
				}
				for range 2 { // a runner serves several batches
					if err := checkRun(w, r.Run(context.Background(), n)); err != nil {
						t.Fatalf("got %v; want the workload's outcome", err)
					}
				}
				if err := r.Close(); err != nil {
					t.Errorf("Close: got %v; want nil", err)
				}
			})
		}
	}
}

func TestMeasure(t *testing.T) {
	w := &Workload{Name: "tiny", Kind: KindBatch, Func: Noop, Producers: 3}
	smp, err := Measure(context.Background(), StrategyNamed("raw-go"), w, 300, 0)
	if err != nil {
		t.Fatal(err)
	}
	if smp.Tasks != 300 || smp.Elapsed <= 0 || smp.PeakGoroutines < 0 || smp.CPU < 0 {
		t.Errorf("got %+v; want 300 tasks timed", smp)
	}
}

// TestMeasureInChild runs a memory case in a child process (this test
// binary, re-executed) with a small batch.
func TestMeasureInChild(t *testing.T) {
	w := WorkloadNamed("sleep1e5")
	smp, err := measureInChild(context.Background(), StrategyNamed("ants"), w, 200)
	if err != nil {
		t.Fatal(err)
	}
	if smp.Tasks != 200 || smp.PeakRSS < 1<<20 || smp.PeakGoroutines < 1 || smp.Elapsed < 10*time.Millisecond {
		t.Errorf("got %+v; want 200 tasks, a peak RSS, goroutines, at least 10ms", smp)
	}
}

// TestPythonScript runs bench.py on a tiny plan when python3 is on PATH.
func TestPythonScript(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found on PATH: the Python side is not tested")
	}
	py, err := FindPython("python3")
	if err != nil {
		t.Fatal(err)
	}
	defer py.Close()
	var plan []PyCase
	for _, c := range []struct{ w, s string }{
		{"noop", "py-threadpool"}, {"cpu1us", "py-thread"}, {"failfast", "py-decorator"},
		{"burst", "py-threadpool"}, {"roundtrip", "py-mp-pool"}, {"map", "py-mp-pool"}, {"noop", "py-processpool"},
	} {
		pc := pyCase(StrategyNamed(c.s), WorkloadNamed(c.w), false, 0)
		pc.N = 40
		if c.w == "failfast" {
			pc.Workers = 4
		}
		plan = append(plan, pc)
	}
	plan = append(plan, PyCase{Workload: "noop", Strategy: "py-unknown", Kind: KindBatch, N: 1, Func: "noop"})
	info, rs, err := py.Run(context.Background(), plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version == "" || info.SpinItersPerUs <= 0 {
		t.Errorf("got info %+v; want a version and a calibration", info)
	}
	for i, r := range rs[:len(rs)-1] {
		if r.Error != nil {
			t.Errorf("%s/%s: got error %s; want none", r.Workload, r.Strategy, *r.Error)
			continue
		}
		if r.Tasks != plan[i].N || r.NsPerTask <= 0 || r.Detail == "" {
			t.Errorf("%s/%s: got %+v; want %d tasks timed", r.Workload, r.Strategy, r, plan[i].N)
		}
	}
	if last := rs[len(rs)-1]; last.Error == nil || !strings.Contains(*last.Error, "unknown strategy") {
		t.Errorf("got %v; want an unknown strategy error", last.Error)
	}
}

func TestPairedRatio(t *testing.T) {
	mk := func(lang Lang, samples ...float64) *Result {
		return &Result{Lang: lang, Samples: samples, NsPerTask: Median(samples)}
	}
	tests := []struct {
		name string
		a, b *Result
		want float64
	}{
		// Round 2 was slow for both: the per-round ratios stay 1.1.
		{"paired rounds", mk(LangGo, 110, 330, 220), mk(LangGo, 100, 300, 200), 1.1},
		// Drift that hit a in one round and b in another: medians of ratios 1.0.
		{"drift", mk(LangGo, 100, 500, 100, 100), mk(LangGo, 100, 100, 500, 100), 1},
		{"different rounds", mk(LangGo, 110, 330, 220), mk(LangGo, 100, 200), 220.0 / 150},
		{"python vs go", mk(LangPython, 9000, 10000, 11000), mk(LangGo, 100, 200, 300), 50},
		{"too few rounds", mk(LangGo, 100, 300), mk(LangGo, 300, 100), 1},
	}
	for _, tt := range tests {
		if got := PairedRatio(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: got %v; want %v", tt.name, got, tt.want)
		}
	}
}

// TestTargetSpread: a target paired by rounds says how far apart its
// rounds were, so that a verdict near its threshold is read with its noise.
func TestTargetSpread(t *testing.T) {
	mk := func(strategy string, samples ...float64) Result {
		return Result{Workload: "noop", Strategy: strategy, Lang: LangGo, Kind: KindBatch, Samples: samples, NsPerTask: Median(samples)}
	}
	rs := []Result{
		mk("ants", 100, 200, 100),
		mk(StratPool, 80, 400, 120),
		mk("pond", 100, 100, 100),
		mk(StratFireforget, 100, 100),
		mk("raw-go", 100, 100, 100),
	}
	got := map[string]string{}
	for _, tg := range Targets(rs) {
		if tg.Workload == "noop" {
			got[tg.Name] = tg.Note
		}
	}
	for name, want := range map[string]string{
		"adapter: pool vs ants used directly":                          "rounds 0.80-2.00x",
		"pool vs the fastest peer pool (ants, conc, pond, workerpool)": "vs ants 1.20x, pond 1.20x; vs ants rounds 0.80-2.00x",
		"adapter: fireforget vs go + WaitGroup":                        "", // not paired: two rounds against three
	} {
		if got[name] != want {
			t.Errorf("%s: note %q; want %q", name, got[name], want)
		}
	}
}

func TestVsPythonWording(t *testing.T) {
	tests := []struct {
		v      float64
		better string
		want   string
	}{
		{38.26, "faster", "38.3x faster than py-mp-pool"},
		{0.5, "faster", "2.00x slower than py-mp-pool"},
		{0.25, "smaller", "4.00x larger than py-mp-pool"},
	}
	for _, tt := range tests {
		r := Result{Python: "py-mp-pool", VsPython: &tt.v}
		if got := vsPython(r, tt.better); got != tt.want {
			t.Errorf("vsPython(%v, %s) = %q; want %q", tt.v, tt.better, got, tt.want)
		}
	}
}

// TestExecRunnerRoundTrip runs the generic execkit adapter one task at a
// time, as the riverexec row will.
func TestExecRunnerRoundTrip(t *testing.T) {
	var errs []error
	r := &execRunner{w: WorkloadNamed("roundtrip"), ex: &execkit.Inline{OnError: func(err error) { errs = append(errs, err) }}}
	if err := r.Run(context.Background(), 50); err != nil {
		t.Fatalf("got %v; want nil", err)
	}
	if err := r.Close(); err != nil || len(errs) != 0 {
		t.Errorf("Close: got %v, task errors %v; want none", err, errs)
	}
	if err := r.Run(context.Background(), 1); !errors.Is(err, execkit.ErrClosed) {
		t.Errorf("Run after Close: got %v; want ErrClosed", err)
	}
}

// TestHoldingWorkload: no task of a holding batch ends before its last
// submit returned, and every one ends after; strategies that would block
// their submitter on a held batch do not run it.
func TestHoldingWorkload(t *testing.T) {
	w := WorkloadNamed("pending1e6")
	const n = 500
	var finished atomic.Int64
	var wg sync.WaitGroup
	_, err := produce(context.Background(), w, n, func(i int) error {
		if i == n-1 && finished.Load() != 0 {
			t.Errorf("%d tasks ended before the last submit", finished.Load())
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Call(context.Background(), i); err != nil {
				t.Error(err)
			}
			finished.Add(1)
		}()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := finished.Load(); got != n {
		t.Errorf("%d tasks ended; want %d", got, n)
	}
	for _, name := range []string{"ants", "conc", "xsync-errgroup", StratErrgroup} {
		if s := StrategyNamed(name); s != nil && s.Runs(w, true) {
			t.Errorf("%s runs %s: its submitter would block on the held tasks", name, w.Name)
		}
	}
	for _, name := range []string{"raw-go", StratPool, "pond"} {
		s := StrategyNamed(name)
		if !s.Runs(w, true) {
			t.Errorf("%s does not run %s", name, w.Name)
			continue
		}
		smp, err := measureInChild(context.Background(), s, w, 5_000)
		if err != nil {
			t.Fatal(err)
		}
		if name == "raw-go" && smp.PeakGoroutines < 4_000 {
			t.Errorf("raw-go peaked at %d goroutines; want about 5000 (all held)", smp.PeakGoroutines)
		}
	}
}
