// Command compare runs the execkit comparison matrix and reports it: every
// execution strategy (raw goroutines, execkit's executors, the peer
// libraries, a raw pipe floor, and Python's originals) on the same
// workloads, side by side.
//
// Run it from the bench module (the repository's `make compare` does):
//
//	cd bench && go run ./cmd/compare          # quick matrix, about 3 minutes
//	cd bench && go run ./cmd/compare -full    # everything, longer
//
// Progress goes to stderr, the markdown report to stdout, and results.json,
// report.md and one chart per workload (SVG and PNG) to the -out folder.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/execkit/execkit/bench"
	"github.com/execkit/execkit/subprocess"
)

func main() {
	subprocess.Main() // worker processes of the execkit-subprocess row
	bench.ChildMain()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: go run ./cmd/compare [flags]   (from the bench module; "make compare" at the root)

Runs every execution strategy on the same workloads, side by side, and
prints markdown tables on stdout; writes results.json, report.md and
charts to the output folder. The quick matrix (default) takes about three
minutes on 2 cores.

flags:
`

// run is main without the exit: it returns the exit code (2 for bad
// usage, 1 for a failed run).
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		full    = fs.Bool("full", false, "run the full matrix (bigger batches, more rounds, the slow Python rows)")
		out     = fs.String("out", "out", "`dir`ectory for results.json, report.md and the charts")
		rounds  = fs.Int("rounds", 0, "rounds per Go cell; the median is reported (default 7, or 15 with -full; Python runs a third as many)")
		filter  = fs.String("run", "", "only the cells whose name workload=X/strategy=Y matches this `regexp`")
		python  = fs.String("python", "python3", "the Python `interpreter`; empty skips Python's rows")
		minTime = fs.Duration("mintime", 0, "least timed `duration` of one Go sample (default 20ms, or 100ms with -full)")
		list    = fs.Bool("list", false, "list the cells the flags select, and exit")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package printed the error and the usage
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "compare: "+format+"\n\n", a...)
		fs.Usage()
		return 2
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if *rounds < 0 {
		return bad("-rounds %d: want a positive count", *rounds)
	}
	if *minTime < 0 {
		return bad("-mintime %v: want a positive duration", *minTime)
	}
	if *out == "" {
		return bad("-out is empty: want a directory")
	}

	cfg := bench.DefaultConfig(*full)
	cfg.Python = *python
	if *rounds > 0 {
		cfg.Rounds = *rounds
		cfg.PyRounds = max(1, *rounds/3)
		cfg.MemRounds = min(cfg.MemRounds, *rounds)
	}
	if *minTime > 0 {
		cfg.MinTime = *minTime
	}
	if *filter != "" {
		re, err := regexp.Compile(*filter)
		if err != nil {
			return bad("-run %q: %v", *filter, err)
		}
		cfg.Filter = re
	}
	cfg.Command = "cd bench && go run ./cmd/compare"
	if len(args) > 0 {
		cfg.Command += " " + strings.Join(args, " ")
	}
	cases := bench.Cases(cfg)
	if *list {
		for _, c := range cases {
			fmt.Fprintln(stdout, c.Key())
		}
		return 0
	}
	if len(cases) == 0 {
		return bad("-run %q selects no cell (try -list)", *filter)
	}
	// The run takes minutes: an -out it could not write would lose it.
	if err := writable(*out); err != nil {
		return bad("-out %q: %v", *out, err)
	}
	cfg.Progress = stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := bench.Compare(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	if len(rep.Results) == 0 { // every cell selected was skipped: keep the last report
		fmt.Fprintf(stderr, "compare: nothing measured, %s left as it was: %s\n", *out, strings.Join(rep.Notes, "; "))
		return 1
	}
	if err := write(*out, rep, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	return 0
}

// writable makes dir (and its parents) when missing and checks that a file
// can be created in it.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".compare-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// write prints the markdown and saves results.json, report.md and charts.
func write(dir string, rep *bench.Report, stdout, stderr io.Writer) error {
	if err := bench.WriteMarkdown(stdout, rep); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.md"))
	if err != nil {
		return err
	}
	if err := bench.WriteMarkdown(f, rep); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	start := time.Now()
	charts, err := bench.WriteCharts(dir, rep, "svg", "png")
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s, %s and %d charts to %s (charts in %s)\n", "results.json", "report.md", len(charts), dir, time.Since(start).Round(time.Millisecond))
	return nil
}
