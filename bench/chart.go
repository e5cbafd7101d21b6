package bench

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// familyColors gives each family its colour in the charts.
var familyColors = map[Family]color.RGBA{
	FamilyGoroutine: {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	FamilyPool:      {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	FamilyGroup:     {R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	FamilyProcess:   {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	FamilyPython:    {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

// WriteCharts draws one chart per workload of rep into dir, as each of the
// formats given by extension ("svg", "png"), and returns the files
// written. A chart is a lollipop plot on a log scale, fastest (or smallest)
// at the top, coloured by family.
func WriteCharts(dir string, rep *Report, formats ...string) ([]string, error) {
	var files []string
	for _, w := range rep.Workloads {
		p, ok := workloadChart(rep, w)
		if !ok {
			continue
		}
		for _, ext := range formats {
			name := filepath.Join(dir, "workload="+w.Name+"."+ext)
			rows := len(ByWorkload(rep.Results, w.Name))
			if err := p.Save(7*vg.Inch, vg.Length(1.3+0.32*float64(rows))*vg.Inch, name); err != nil {
				return files, fmt.Errorf("bench: chart %s: %w", name, err)
			}
			files = append(files, name)
		}
	}
	return files, nil
}

func workloadChart(rep *Report, w WorkloadInfo) (*plot.Plot, bool) {
	rs := ByWorkload(rep.Results, w.Name)
	rs = slices.DeleteFunc(rs, func(r Result) bool { _, ok := metric(&r); return !ok })
	if len(rs) == 0 {
		return nil, false
	}
	SortFastest(rs)
	slices.Reverse(rs) // NominalY puts the first name at the bottom
	mem := w.Kind == KindMemory

	// Memory is drawn in MiB, so that the ticks fall on round numbers.
	scale := 1.0
	if mem {
		scale = 1 << 20
	}
	val := func(r *Result) float64 { v, _ := metric(r); return v / scale }
	lo, hi := math.Inf(1), 0.0
	for i := range rs {
		v := val(&rs[i])
		lo, hi = min(lo, v), max(hi, v)
	}
	floor := math.Pow10(int(math.Floor(math.Log10(lo))))
	ceil := math.Pow10(int(math.Ceil(math.Log10(hi * 1.8)))) // room for the labels

	p := plot.New()
	p.Title.Text = "workload=" + w.Name + ": " + w.Doc
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max = floor, ceil
	if mem {
		p.X.Label.Text = "peak RSS (log scale; smaller is better)"
		p.X.Tick.Marker = unitTicks{format: func(v float64) string { return sig3(v) + " MiB" }}
	} else {
		p.X.Label.Text = "time per task (log scale; shorter is better)"
		p.X.Tick.Marker = unitTicks{format: FormatNs}
	}
	p.Add(plotter.NewGrid())

	names := make([]string, len(rs))
	byFamily := map[Family]plotter.XYs{}
	var labels plotter.XYLabels
	for i, r := range rs {
		v := val(&r)
		names[i] = r.Strategy
		stem, err := plotter.NewLine(plotter.XYs{{X: floor, Y: float64(i)}, {X: v, Y: float64(i)}})
		if err != nil {
			return nil, false
		}
		stem.Color = familyColors[r.Family]
		stem.Width = vg.Points(1.5)
		p.Add(stem)
		byFamily[r.Family] = append(byFamily[r.Family], plotter.XY{X: v, Y: float64(i)})
		labels.XYs = append(labels.XYs, plotter.XY{X: v, Y: float64(i)})
		if mem {
			labels.Labels = append(labels.Labels, FormatBytes(int64(v*scale)))
		} else {
			labels.Labels = append(labels.Labels, FormatNs(v))
		}
	}
	for _, f := range []Family{FamilyGoroutine, FamilyPool, FamilyGroup, FamilyProcess, FamilyPython} {
		pts, ok := byFamily[f]
		if !ok {
			continue
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, false
		}
		s.GlyphStyle.Color = familyColors[f]
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		s.GlyphStyle.Radius = vg.Points(4)
		p.Add(s)
		p.Legend.Add(string(f), s)
	}
	if l, err := plotter.NewLabels(labels); err == nil {
		l.Offset = vg.Point{X: vg.Points(7), Y: vg.Points(-3)}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(8)
		}
		p.Add(l)
	}
	p.NominalY(names...)
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p, true
}

// unitTicks marks the powers of ten of a log axis with unit labels.
type unitTicks struct{ format func(float64) string }

func (t unitTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for v := math.Pow10(int(math.Floor(math.Log10(lo)))); v <= hi*1.0001; v *= 10 {
		ticks = append(ticks, plot.Tick{Value: v, Label: trimZeros(t.format(v))})
		for k := 2.0; k < 10; k++ {
			if v*k <= hi {
				ticks = append(ticks, plot.Tick{Value: v * k})
			}
		}
	}
	return ticks
}

// trimZeros drops the zero decimals of a power of ten: "10.0 ns" -> "10 ns".
func trimZeros(s string) string {
	num, unit, _ := strings.Cut(s, " ")
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	if unit == "" {
		return num
	}
	return num + " " + unit
}
