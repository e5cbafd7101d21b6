package bench

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress shows how far a run is: one line per cell measured, rewritten
// in place when the output is a terminal.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	n     int
	start time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) note(s string) {
	if p.w == nil {
		return
	}
	p.clear()
	fmt.Fprintln(p.w, s)
}

func (p *progress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) step(round, rounds int, c Case, smp Sample, err error) {
	p.n++
	if p.w == nil {
		return
	}
	elapsed := time.Since(p.start)
	eta := "?"
	if p.n > 0 && p.n < p.total {
		eta = fmtClock(elapsed * time.Duration(p.total-p.n) / time.Duration(p.n))
	} else if p.n >= p.total {
		eta = "0:00"
	}
	what := FormatNs(smp.NsPerTask()) + "/task"
	switch {
	case err != nil:
		what = "ERROR " + firstLine(err.Error())
	case c.Workload.Kind == KindMemory:
		what += ", peak RSS " + FormatBytes(smp.PeakRSS)
	}
	p.clear()
	fmt.Fprintf(p.w, "[%3d/%d] %s (eta %s) round %d/%d  %-9s %-20s %s", p.n, p.total, fmtClock(elapsed), eta, round+1, rounds, c.Workload.Name, c.Strategy.Name, what)
	if !p.tty || err != nil {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	p.clear()
	fmt.Fprintf(p.w, "measured %d cells in %s\n", p.n, fmtClock(time.Since(p.start)))
}

func fmtClock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func firstLine(s string) string {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
