package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"time"
)

// Config says what Compare runs.
type Config struct {
	Full      bool          // the full matrix instead of the quick one
	Rounds    int           // rounds of the in-process Go cells (the median is reported)
	PyRounds  int           // rounds of the Python cells, spread among the Go rounds
	MemRounds int           // rounds of the memory cells (each a child process)
	MinTime   time.Duration // least timed duration of one Go sample
	PyMinTime time.Duration // least timed duration of one Python sample
	Filter    *regexp.Regexp
	Python    string    // the interpreter; "" skips Python's rows
	Progress  io.Writer // progress lines; nil for none
	Command   string    // how the run was started, for the report
}

// DefaultConfig returns the settings of the quick or the full matrix.
func DefaultConfig(full bool) Config {
	if full {
		return Config{Full: true, Rounds: 15, PyRounds: 5, MemRounds: 3, MinTime: 100 * time.Millisecond, PyMinTime: 200 * time.Millisecond, Python: "python3"}
	}
	return Config{Rounds: 7, PyRounds: 3, MemRounds: 1, MinTime: 20 * time.Millisecond, Python: "python3"}
}

// Cases returns the cells of the matrix cfg selects, by workload then
// strategy, in report order.
func Cases(cfg Config) []Case {
	var out []Case
	for _, w := range Workloads() {
		for _, s := range Strategies() {
			c := Case{Workload: w, Strategy: s}
			if s.Runs(w, cfg.Full) && (cfg.Filter == nil || cfg.Filter.MatchString(c.Key())) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Compare runs the matrix and returns the report. Errors of single cells
// are in the report; err is for the run as a whole (ctx ended).
func Compare(ctx context.Context, cfg Config) (*Report, error) {
	started := time.Now()
	cfg.PyRounds = max(min(cfg.PyRounds, cfg.Rounds), 1)
	rep := &Report{
		Schema: SchemaVersion, Matrix: "quick", Started: started.UTC(), Rounds: cfg.Rounds, PyRounds: cfg.PyRounds, MemRounds: cfg.MemRounds,
		Command: cfg.Command, Env: CurrentEnv(), Notes: []string{},
	}
	if cfg.Full {
		rep.Matrix = "full"
	}
	cases := Cases(cfg)
	var goCases, pyCases, goMem, pyMem []Case
	for _, c := range cases {
		mem := c.Workload.Kind == KindMemory
		switch {
		case c.Strategy.Lang == LangGo && mem:
			goMem = append(goMem, c)
		case c.Strategy.Lang == LangGo, c.Strategy.New != nil: // a Python row with a Go runner (Celery)
			goCases = append(goCases, c)
		case mem:
			pyMem = append(pyMem, c)
		default:
			pyCases = append(pyCases, c)
		}
	}

	var py *Python
	if len(pyCases)+len(pyMem) > 0 {
		var err error
		if cfg.Python == "" {
			err = errors.New("bench: Python rows skipped (no interpreter given)")
		} else {
			py, err = FindPython(cfg.Python)
		}
		if err != nil {
			rep.Env.PythonSkipped = err.Error()
			rep.Notes = append(rep.Notes, err.Error())
			if cfg.Progress != nil {
				fmt.Fprintln(cfg.Progress, err)
			}
			pyCases, pyMem = nil, nil
		} else {
			defer py.Close()
		}
	}
	rep.Notes = append(rep.Notes, missingNotes()...)

	prog := newProgress(cfg.Progress, cfg.Rounds*len(goCases)+cfg.PyRounds*len(pyCases)+cfg.MemRounds*(len(goMem)+len(pyMem)))
	prog.note(fmt.Sprintf("calibrating: about 1µs of CPU is %d loop iterations here", SpinIters(time.Microsecond)))
	var col Collector
	pyInfo := func(info PyInfo) {
		if rep.Env.Python == nil && info.Version != "" {
			rep.Env.Python = &info
		}
	}

	pyRound := 0
	pySched := Schedule(pyCases, cfg.PyRounds)
	for r, round := range Schedule(goCases, cfg.Rounds) {
		for _, c := range round {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n := c.Strategy.BatchSize(c.Workload, cfg.Full)
			smp, err := Measure(ctx, c.Strategy, c.Workload, n, cfg.MinTime)
			col.Add(c.Workload, c.Strategy, n, smp, c.Strategy.Doc, err)
			prog.step(r, cfg.Rounds, c, smp, err)
			if c.Strategy.Residue {
				settle(ctx)
			}
		}
		// Python's rounds are spread evenly among Go's.
		if len(pyCases) > 0 && pyRound < cfg.PyRounds && r >= pyRound*cfg.Rounds/cfg.PyRounds {
			pr := pyRound
			pyRound++
			// One interpreter per case, as for the memory rows: cases
			// run one after the other in one interpreter measured up to
			// twice as slow as alone (Pool.map 1.34 to 1.79 µs a task
			// against 0.62 to 0.98 µs), paying for what the cases before
			// them left in its heap.
			for _, c := range pySched[pr] {
				pc := pyCase(c.Strategy, c.Workload, cfg.Full, cfg.PyMinTime)
				smp, detail, err := measurePy(ctx, py, pc, pyInfo)
				col.Add(c.Workload, c.Strategy, pc.N, smp, detail, err)
				prog.step(pr, cfg.PyRounds, c, smp, err)
			}
		}
	}

	for r := range cfg.MemRounds {
		for _, c := range slices.Concat(goMem, pyMem) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n := c.Workload.N(cfg.Full)
			var (
				smp    Sample
				err    error
				detail = c.Strategy.Doc
			)
			if c.Strategy.Lang == LangGo {
				smp, err = Measure(ctx, c.Strategy, c.Workload, n, 0)
			} else {
				pc := pyCase(c.Strategy, c.Workload, cfg.Full, 0)
				n = pc.N
				var d string
				if smp, d, err = measurePy(ctx, py, pc, pyInfo); d != "" {
					detail = d // how the case ran, also when it failed
				}
			}
			col.Add(c.Workload, c.Strategy, n, smp, detail, err)
			prog.step(r, cfg.MemRounds, c, smp, err)
		}
	}
	prog.done()

	rep.Results = col.Results()
	rep.Targets = Targets(rep.Results)
	for _, w := range Workloads() {
		if len(ByWorkload(rep.Results, w.Name)) == 0 {
			continue
		}
		info := WorkloadInfo{Name: w.Name, Doc: w.Doc, Kind: w.Kind, Tasks: w.N(cfg.Full), PyTasks: w.PyN(cfg.Full),
			Workers: w.PoolSize(), Producers: w.Producers}
		if w.argKind == argSpin {
			info.SpinIters = SpinIters(time.Duration(w.param))
		}
		rep.Workloads = append(rep.Workloads, info)
	}
	for _, s := range Strategies() {
		if !slices.ContainsFunc(rep.Results, func(r Result) bool { return r.Strategy == s.Name }) {
			continue
		}
		rep.Strategies = append(rep.Strategies, StrategyInfo{Name: s.Name, Family: s.Family, Lang: s.Lang, Doc: s.Doc,
			Baseline: s.Baseline, Python: s.Python, Module: s.Module, Version: rep.Env.Modules[s.Module]})
	}
	rep.Seconds = time.Since(started).Seconds()
	return rep, nil
}

func resErr(r PyResult) error {
	if r.Error != nil {
		return errors.New(*r.Error)
	}
	return nil
}

// missingNotes says which execkit strategies this build lacks.
func missingNotes() []string {
	var out []string
	for _, name := range []string{StratFireforget, StratPool, StratErrgroup, StratSubprocess} {
		if StrategyNamed(name) == nil {
			out = append(out, name+": not in this build (its package was not on main when the bench was last updated)")
		}
	}
	if why := celeryMissing(); why != "" {
		out = append(out, StratCelery+": "+why+": the Celery row is absent")
	}
	if pg := os.Getenv(EnvPGURL); pg == "" {
		out = append(out, StratRiverexec+": set "+EnvPGURL+" to a PostgreSQL URL to add its row (River + PostgreSQL; bash riverexec/testdata/pg.sh start makes a throwaway server); "+StratRiverexecSQLite+" runs without it")
	} else {
		host := "?"
		if u, err := url.Parse(pg); err == nil {
			host = u.Host // never the credentials
		}
		out = append(out, StratRiverexec+": ran against the PostgreSQL server at "+host+" ("+EnvPGURL+" was set)")
	}
	return out
}

// measurePy runs one Python case in an interpreter of its own, and
// returns its sample and how it ran (the detail bench.py reports).
func measurePy(ctx context.Context, py *Python, pc PyCase, pyInfo func(PyInfo)) (Sample, string, error) {
	info, res, err := py.Run(ctx, []PyCase{pc}, nil)
	pyInfo(info)
	if err != nil {
		return Sample{}, "", err
	}
	return res[0].Sample(), res[0].Detail, resErr(res[0])
}
