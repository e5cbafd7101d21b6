package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// WriteMarkdown writes the report as markdown: the setting, the targets,
// then one table per workload, fastest first.
func WriteMarkdown(out io.Writer, rep *Report) error {
	var b strings.Builder
	m := rep.Env.Machine
	fmt.Fprintf(&b, "# execkit: every strategy side by side\n\n")
	fmt.Fprintf(&b, "%s matrix, measured %s in %s on %s (%d cores, GOMAXPROCS %d, %s RAM, %s/%s",
		title(rep.Matrix), rep.Started.Format("2006-01-02 15:04 MST"), fmtClock(secondsDur(rep.Seconds)),
		m.CPU, m.Cores, m.GOMAXPROCS, FormatBytes(m.MemoryBytes), m.OS, m.Arch)
	if m.Kernel != "" {
		fmt.Fprintf(&b, " %s", m.Kernel)
	}
	fmt.Fprintf(&b, ", host %s).\n", m.Hostname)
	fmt.Fprintf(&b, "Each Go cell is the median of %s (Python's of %s); within a round the strategies alternate (A B C, A B C, ...), so drift on a busy machine does not decide the ranking, and each round runs them in another order (no strategy always follows the same one); after a sample of a database-backed row the next one waits (at most 2s) for the machine to go quiet, so that it does not pay for the database server's writing out; each Python sample runs in an interpreter of its own, so that it does not pay for what the cases before it left in the heap. ", plural(rep.Rounds, "round"), plural(rep.PyRounds, "round"))
	fmt.Fprintf(&b, "Memory cells show the median of %s, each in a child process of its own. ", plural(rep.MemRounds, "run"))
	fmt.Fprintf(&b, "Time/task is wall time (what a caller waits for a batch, over its tasks); CPU/task is the CPU time of the measuring process (all its threads), steadier than wall time on a busy machine, and blank where the work runs in other processes; allocations are the measuring process's.\n\n")
	fmt.Fprintf(&b, "Reproduce: `make compare` at the repository root (it runs `cd bench && go run ./cmd/compare`); `-full` for the full matrix. ")
	fmt.Fprintf(&b, "Run as: `%s`.\n\n", rep.Command)

	fmt.Fprintf(&b, "Versions: %s", rep.Env.Go)
	if p := rep.Env.Python; p != nil {
		fmt.Fprintf(&b, " · Python %s (%s, multiprocessing start method %s)", p.Version, p.Implementation, p.StartMethod)
	} else if rep.Env.PythonSkipped != "" {
		fmt.Fprintf(&b, " · Python: %s", rep.Env.PythonSkipped)
	}
	var mods []string
	for _, s := range rep.Strategies {
		if s.Module != "" && s.Version != "" && !slices.Contains(mods, s.Module+" "+s.Version) {
			mods = append(mods, s.Module+" "+s.Version)
		}
	}
	for _, mod := range mods {
		fmt.Fprintf(&b, " · %s", mod)
	}
	fmt.Fprintf(&b, "\n\n")

	writeSummary(&b, rep)
	writeTargets(&b, rep)
	for _, w := range rep.Workloads {
		writeWorkload(&b, rep, w)
	}
	writeStrategies(&b, rep)
	notes := slices.Clone(rep.Notes)
	for _, r := range rep.Results {
		if r.Error != "" {
			notes = append(notes, fmt.Sprintf("workload=%s/strategy=%s: %s", r.Workload, r.Strategy, r.Error))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "## Notes\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", mdEscape(n))
		}
		fmt.Fprintln(&b)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// writeSummary gives one line per workload: the best Go strategy, the best
// execkit one, and the best Python one.
func writeSummary(b *strings.Builder, rep *Report) {
	fmt.Fprintf(b, "## Summary\n\n")
	fmt.Fprintf(b, "| workload | fastest in Go | best execkit | best Python |\n|---|---|---|---|\n")
	for _, w := range rep.Workloads {
		rs := ByWorkload(rep.Results, w.Name)
		SortFastest(rs)
		var goBest, ekBest, pyBest *Result
		for i := range rs {
			r := &rs[i]
			if _, ok := metric(r); !ok {
				continue
			}
			switch {
			case r.Lang == LangPython:
				if pyBest == nil {
					pyBest = r
				}
			default:
				if goBest == nil {
					goBest = r
				}
				if ekBest == nil && strings.HasPrefix(r.Strategy, "execkit-") {
					ekBest = r
				}
			}
		}
		if goBest == nil {
			continue
		}
		show := func(r *Result) string { return r.Strategy + " " + summaryFigure(r) }
		best := "fastest"
		if w.Kind == KindMemory {
			best = "smallest"
		}
		ek, py := "—", "—"
		if ekBest != nil {
			ek = show(ekBest)
			if ekBest != goBest {
				ek += " (" + relative(ratioOf(ekBest, goBest), w.Kind) + " the " + best + ")"
			}
		}
		if pyBest != nil {
			py = show(pyBest) + " (" + relative(ratioOf(pyBest, goBest), w.Kind) + " the " + best + " Go)"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", w.Name, show(goBest), ek, py)
	}
	fmt.Fprintf(b, "\nTimes are per task; memory workloads show the peak RSS.\n\n")
}

// relative words a ratio of times (or of memory): "2.00x slower than",
// "4.00x faster than".
func relative(r float64, k Kind) string {
	worse, better := "slower", "faster"
	if k == KindMemory {
		worse, better = "larger", "smaller"
	}
	if r >= 1 {
		return FormatRatio(r) + " " + worse + " than"
	}
	return FormatRatio(1/r) + " " + better + " than"
}

func summaryFigure(r *Result) string {
	if r.Kind == KindMemory {
		return optBytes(r.PeakRSSBytes)
	}
	return FormatNs(r.NsPerTask)
}

func ratioOf(a, b *Result) float64 {
	am, _ := metric(a)
	bm, _ := metric(b)
	return am / bm
}

func writeTargets(b *strings.Builder, rep *Report) {
	fmt.Fprintf(b, "## Targets\n\n")
	fmt.Fprintf(b, "| target | workload | measured | want | status | note |\n|---|---|---:|---|---|---|\n")
	for _, t := range rep.Targets {
		got, want := "—", FormatRatio(t.Want)
		if t.Ratio != nil {
			got = FormatRatio(*t.Ratio)
		}
		switch t.Metric {
		case "tasks/s":
			want = fmt.Sprintf("%.0f tasks/s", t.Want)
			if t.Ratio != nil {
				got = fmt.Sprintf("%.0f tasks/s", *t.Ratio)
			}
		case "ms":
			want = fmt.Sprintf("%.0f ms", t.Want)
			if t.Ratio != nil {
				got = fmt.Sprintf("%.1f ms", *t.Ratio)
			}
		}
		what := t.Strategy + " vs " + t.Against
		if t.Against == "" {
			what = t.Strategy
		}
		status := t.Status
		if status != NA {
			status = "**" + status + "**"
		}
		fmt.Fprintf(b, "| %s (%s) | %s | %s | %s %s | %s | %s |\n", t.Name, what, t.Workload, got, t.Op, want, status, mdEscape(t.Note))
	}
	fmt.Fprintf(b, "\nTime ratios are this/that (below 1 is faster), the median of the per-round ratios where both ran every round; speed-ups are Python's time over Go's; the memory ratio is peak RSS over peak RSS. The tables below show ratios of medians.\n\n")
}

func writeWorkload(b *strings.Builder, rep *Report, w WorkloadInfo) {
	rs := ByWorkload(rep.Results, w.Name)
	SortFastest(rs)
	fmt.Fprintf(b, "## workload=%s — %s\n\n", w.Name, w.Doc)
	fmt.Fprintf(b, "%d tasks per batch (Python %d, fewer where a row says so), %d workers in the pools", w.Tasks, w.PyTasks, w.Workers)
	if w.Producers > 0 {
		fmt.Fprintf(b, ", %d producers submitting at once", w.Producers)
	}
	if w.SpinIters > 0 {
		fmt.Fprintf(b, ", %d iterations of the CPU loop in Go", w.SpinIters)
	}
	fmt.Fprintf(b, ".\n\n")
	if w.Kind == KindMemory {
		fmt.Fprintf(b, "| strategy | family | tasks | peak RSS | peak goroutines / threads | wall time | vs baseline (RSS) | vs Python (RSS) |\n|---|---|---:|---:|---:|---:|---|---|\n")
		for _, r := range rs {
			fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", r.Strategy, r.Family, r.Tasks,
				optBytes(r.PeakRSSBytes), peakConc(r), wall(r), vsBaseline(r), vsPython(r, "smaller"))
		}
		fmt.Fprintln(b)
		return
	}
	fmt.Fprintf(b, "| strategy | family | tasks/batch | time/task | CPU/task | tasks/s | allocs/task | B/task | peak goroutines / threads | vs baseline | vs Python |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range rs {
		if r.Error != "" && len(r.Samples) == 0 {
			fmt.Fprintf(b, "| %s | %s | %d | failed (see the notes) | | | | | | | |\n", r.Strategy, r.Family, r.Tasks)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Strategy, r.Family, r.Tasks,
			FormatNs(r.NsPerTask), optNs(r.CPUNsPerTask), FormatRate(r.TasksPerSec), optFloat(r.AllocsPerTask, 1), optFloat(r.BytesPerTask, 0),
			peakConc(r), vsBaseline(r), vsPython(r, "faster"))
	}
	fmt.Fprintln(b)
}

func writeStrategies(b *strings.Builder, rep *Report) {
	fmt.Fprintf(b, "## Strategies\n\n| strategy | family | baseline | Python original | what it runs |\n|---|---|---|---|---|\n")
	for _, s := range rep.Strategies {
		doc := s.Doc
		if s.Version != "" {
			doc += " (" + s.Module + " " + s.Version + ")"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", s.Name, s.Family, dash(s.Baseline), dash(s.Python), mdEscape(doc))
	}
	fmt.Fprintln(b)
}

func secondsDur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func vsBaseline(r Result) string {
	if r.VsBaseline == nil {
		return ""
	}
	return FormatRatio(*r.VsBaseline) + " " + r.Baseline
}

// vsPython says how many times faster (smaller) the cell is than its
// Python original, or slower (larger) when Python wins.
func vsPython(r Result, better string) string {
	if r.VsPython == nil || *r.VsPython <= 0 {
		return ""
	}
	v, word := *r.VsPython, better
	if v < 1 {
		v, word = 1/v, map[string]string{"faster": "slower", "smaller": "larger"}[better]
	}
	return FormatRatio(v) + " " + word + " than " + r.Python
}

func peakConc(r Result) string {
	switch {
	case r.PeakGoroutines != nil:
		return fmt.Sprintf("%d", *r.PeakGoroutines)
	case r.PeakThreads != nil:
		return fmt.Sprintf("%d threads", *r.PeakThreads)
	}
	return ""
}

func wall(r Result) string {
	if r.NsPerTask == 0 {
		return "failed"
	}
	return FormatNs(r.NsPerTask*float64(r.Tasks)) + " (" + FormatNs(r.NsPerTask) + "/task)"
}

func optNs(v *float64) string {
	if v == nil {
		return ""
	}
	return FormatNs(*v)
}

func optFloat(v *float64, prec int) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func optBytes(v *int64) string {
	if v == nil {
		return ""
	}
	return FormatBytes(*v)
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// FormatNs formats a duration in nanoseconds with three significant
// digits and a unit: "245 ns", "12.3 µs", "1.20 ms", "3.40 s".
func FormatNs(ns float64) string {
	switch {
	case math.IsNaN(ns) || ns <= 0:
		return "—"
	case ns < 1e3:
		return sig3(ns) + " ns"
	case ns < 1e6:
		return sig3(ns/1e3) + " µs"
	case ns < 1e9:
		return sig3(ns/1e6) + " ms"
	}
	return sig3(ns/1e9) + " s"
}

// FormatRate formats tasks per second: "4.08M", "812k", "950".
func FormatRate(r float64) string {
	switch {
	case r <= 0 || math.IsNaN(r):
		return "—"
	case r < 1e3:
		return sig3(r)
	case r < 1e6:
		return sig3(r/1e3) + "k"
	}
	return sig3(r/1e6) + "M"
}

// FormatBytes formats a byte count in binary units: "512 B", "1.50 MiB".
func FormatBytes(n int64) string {
	f := float64(n)
	switch {
	case n <= 0:
		return "—"
	case f < 1<<10:
		return fmt.Sprintf("%d B", n)
	case f < 1<<20:
		return sig3(f/(1<<10)) + " KiB"
	case f < 1<<30:
		return sig3(f/(1<<20)) + " MiB"
	}
	return sig3(f/(1<<30)) + " GiB"
}

// FormatRatio formats a ratio: "1.04x", "38x", "0.25x".
func FormatRatio(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0fx", r)
	}
	if r >= 10 {
		return fmt.Sprintf("%.1fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// sig3 formats a positive number with three significant digits.
func sig3(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
