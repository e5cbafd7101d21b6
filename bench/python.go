package bench

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// pythonStrategies are the Python originals, run by bench/python/bench.py.
func pythonStrategies() []*Strategy {
	threads := []Kind{KindBatch, KindFailFast, KindMemory}
	procs := []Kind{KindBatch, KindRoundTrip, KindMap}
	return []*Strategy{{
		Name: "py-thread", Family: FamilyPython, Lang: LangPython,
		Doc:   "threading.Thread per task, joined",
		Kinds: threads, FullOnly: []string{"sleep1e5", "sleep1e6"}, MaxTasks: 2_000,
	}, {
		Name: "py-decorator", Family: FamilyPython, Lang: LangPython, Baseline: "py-thread",
		Doc:   "a @background decorator that starts a thread per call",
		Kinds: []Kind{KindBatch, KindFailFast}, MaxTasks: 2_000,
	}, {
		Name: "py-threadpool", Family: FamilyPython, Lang: LangPython, Baseline: "py-thread",
		Doc:   "concurrent.futures.ThreadPoolExecutor(max_workers=workers)",
		Kinds: threads, FullOnly: []string{"sleep1e6"},
	}, {
		Name: "py-mp-pool", Family: FamilyPython, Lang: LangPython, Processes: true,
		Doc:   "multiprocessing.Pool(GOMAXPROCS): apply_async per task, apply for round trips, map",
		Kinds: procs, Only: []string{"noop", "cpu100us", "roundtrip", "map"},
	}, {
		Name: "py-processpool", Family: FamilyPython, Lang: LangPython, Baseline: "py-mp-pool", Processes: true,
		Doc:   "concurrent.futures.ProcessPoolExecutor(GOMAXPROCS): submit, submit().result(), map",
		Kinds: procs, Only: []string{"noop", "cpu100us", "roundtrip", "map"}, MaxTasks: 2_000,
	}}
}

//go:embed python/*.py
var pythonFiles embed.FS

// PyCase is one cell of the plan sent to bench.py.
type PyCase struct {
	Workload  string  `json:"workload"`
	Strategy  string  `json:"strategy"`
	Kind      Kind    `json:"kind"`
	N         int     `json:"n"`
	Workers   int     `json:"workers"`
	Producers int     `json:"producers"`
	Func      string  `json:"func"`
	Param     int     `json:"param"`
	FailAt    int     `json:"fail_at"`
	MinTime   float64 `json:"min_time"` // seconds
}

// PyInfo is the first line bench.py prints.
type PyInfo struct {
	Version        string  `json:"python"`
	Implementation string  `json:"implementation"`
	Executable     string  `json:"executable"`
	StartMethod    string  `json:"start_method"`
	SpinItersPerUs float64 `json:"spin_iters_per_us"`
}

// PyResult is one result line of bench.py.
type PyResult struct {
	Workload     string  `json:"workload"`
	Strategy     string  `json:"strategy"`
	Detail       string  `json:"detail"`
	Tasks        int     `json:"tasks"`
	Seconds      float64 `json:"seconds"`
	NsPerTask    float64 `json:"ns_per_task"`
	PeakThreads  int64   `json:"peak_threads"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	CPUSeconds   float64 `json:"cpu_seconds"` // time.process_time of the timed section
	Error        *string `json:"error"`
}

// Sample converts a result line to a Sample.
func (r PyResult) Sample() Sample {
	return Sample{
		Tasks:       r.Tasks,
		Elapsed:     time.Duration(r.Seconds * 1e9),
		PeakThreads: r.PeakThreads,
		PeakRSS:     r.PeakRSSBytes,
		CPU:         time.Duration(r.CPUSeconds * 1e9),
	}
}

// ParsePython reads the JSON lines of bench.py: the info line first, then
// result lines, calling onResult (when not nil) for each result as it is
// read. Blank lines are skipped; anything else is an error naming the line.
func ParsePython(r io.Reader, onResult func(PyResult)) (PyInfo, []PyResult, error) {
	var (
		info    PyInfo
		gotInfo bool
		results []PyResult
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return info, results, fmt.Errorf("bench: python output line %d: not a JSON object: %q", line, truncate(b))
		}
		switch head.Type {
		case "info":
			if err := decodeLine(b, &info); err != nil {
				return info, results, fmt.Errorf("bench: python output line %d: %w", line, err)
			}
			gotInfo = true
		case "result":
			if !gotInfo {
				return info, results, fmt.Errorf("bench: python output line %d: result before the info line", line)
			}
			var res PyResult
			if err := decodeLine(b, &res); err != nil {
				return info, results, fmt.Errorf("bench: python output line %d: %w", line, err)
			}
			if res.Workload == "" || res.Strategy == "" {
				return info, results, fmt.Errorf("bench: python output line %d: result without workload or strategy", line)
			}
			if res.Error == nil && (res.Tasks <= 0 || res.Seconds <= 0) {
				return info, results, fmt.Errorf("bench: python output line %d: result of %s/%s with %d tasks in %gs", line, res.Workload, res.Strategy, res.Tasks, res.Seconds)
			}
			results = append(results, res)
			if onResult != nil {
				onResult(res)
			}
		default:
			return info, results, fmt.Errorf("bench: python output line %d: unknown type %q", line, head.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return info, results, fmt.Errorf("bench: python output: %w", err)
	}
	if !gotInfo {
		return info, results, errors.New("bench: python output: no info line")
	}
	return info, results, nil
}

// decodeLine decodes one line into v: unknown fields are allowed (the
// "type" key), fields of the wrong type are not.
func decodeLine(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("bad line: %w", err)
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

// Python runs bench.py with one interpreter.
type Python struct {
	cmd string
	dir string // the embedded scripts, written out
}

// FindPython returns a runner for the interpreter cmd ("python3"), or an
// error saying why Python's rows are skipped: cmd is not found, or it does
// not answer a version probe (cmd -c ..., at most ten seconds) as Python 3.
func FindPython(cmd string) (*Python, error) {
	path, err := exec.LookPath(cmd)
	if err != nil {
		return nil, fmt.Errorf("bench: %s not found on PATH: Python rows skipped", cmd)
	}
	if err := probePython(path); err != nil {
		return nil, fmt.Errorf("bench: %s %w: Python rows skipped", cmd, err)
	}
	dir, err := os.MkdirTemp("", "execkit-bench-py-")
	if err != nil {
		return nil, err
	}
	files, _ := pythonFiles.ReadDir("python")
	for _, f := range files {
		b, _ := pythonFiles.ReadFile("python/" + f.Name())
		if err := os.WriteFile(filepath.Join(dir, f.Name()), b, 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	return &Python{cmd: path, dir: dir}, nil
}

// probePython asks the interpreter at path for its version and returns
// nil when it is Python 3, else what is wrong, to follow its name.
func probePython(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
	if err != nil {
		return fmt.Errorf("does not run as Python (%s -c ...: %v)", path, err)
	}
	v := strings.TrimSpace(string(out))
	major, _, ok := strings.Cut(v, ".")
	switch {
	case !ok || major == "" || strings.Trim(major, "0123456789") != "":
		return fmt.Errorf("is not Python 3 (asked for its version, it printed %q)", tail(out))
	case major != "3":
		return fmt.Errorf("is Python %s, not Python 3", v)
	}
	return nil
}

// Close removes the scripts written out.
func (p *Python) Close() error { return os.RemoveAll(p.dir) }

// Run runs the cases in one interpreter and returns what it printed,
// calling onResult as each result arrives. A case that failed has its
// Error set; err is for the run as a whole.
func (p *Python) Run(ctx context.Context, cases []PyCase, onResult func(PyResult)) (PyInfo, []PyResult, error) {
	plan, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		return PyInfo{}, nil, err
	}
	cmd := exec.CommandContext(ctx, p.cmd, filepath.Join(p.dir, "bench.py"))
	cmd.Stdin = bytes.NewReader(plan)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.StdoutPipe()
	if err != nil {
		return PyInfo{}, nil, err
	}
	if err := cmd.Start(); err != nil {
		return PyInfo{}, nil, fmt.Errorf("bench: python: %w", err)
	}
	info, results, perr := ParsePython(out, onResult)
	if perr != nil {
		io.Copy(io.Discard, out) // let the interpreter finish writing
	}
	runErr := cmd.Wait()
	if runErr != nil {
		return info, results, fmt.Errorf("bench: python: %w: %s", runErr, tail(errOut.Bytes()))
	}
	if perr != nil {
		return info, results, perr
	}
	if len(results) != len(cases) {
		return info, results, fmt.Errorf("bench: python: got %d results; want %d", len(results), len(cases))
	}
	for i, r := range results {
		if r.Workload != cases[i].Workload || r.Strategy != cases[i].Strategy {
			return info, results, fmt.Errorf("bench: python: result %d is %s/%s; want %s/%s", i, r.Workload, r.Strategy, cases[i].Workload, cases[i].Strategy)
		}
	}
	return info, results, nil
}

// pyCase returns the plan entry of strategy s on workload w.
func pyCase(s *Strategy, w *Workload, full bool, minTime time.Duration) PyCase {
	n := w.PyN(full)
	if s.MaxTasks > 0 && w.Kind != KindMemory {
		n = min(n, s.MaxTasks)
	}
	workers := w.PoolSize()
	return PyCase{
		Workload: w.Name, Strategy: s.Name, Kind: w.Kind, N: n,
		Workers: workers, Producers: w.Producers, Func: w.PyFunc,
		Param: w.param, FailAt: w.failAt, MinTime: minTime.Seconds(),
	}
}
