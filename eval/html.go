package eval

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// Chart bounds: larger inputs are drawn in part, and the page says so.
const (
	maxHeatLabels = 40
	maxBars       = 300
	maxLabelRunes = 14
)

// RenderHTML writes r as a self-contained HTML page: no scripts, fonts or
// images from elsewhere, charts as inline SVG (confusion-matrix heat map,
// per-record bar chart, latency histogram). Every string from the report
// is escaped by html/template.
func RenderHTML(w io.Writer, r *Report) error {
	v := buildView(r)
	if err := pageTmpl.Execute(w, v); err != nil {
		return fmt.Errorf("eval.RenderHTML(%s): %w", r.Suite, err)
	}
	return nil
}

type kv struct{ Name, Value string }

type svgText struct {
	X, Y      float64
	Text      string
	Anchor    string
	Transform string
	Fill      string
}

type svgRect struct {
	X, Y, W, H float64
	Fill       string
	Title      string
}

type chart struct {
	W, H    float64
	Rects   []svgRect
	Texts   []svgText
	Caption string
}

type tableView struct {
	Title   string
	Columns []string
	Rows    [][]string
}

type view struct {
	R         *Report
	Started   string
	Duration  string
	Metrics   []kv
	Config    []kv
	Heat      *chart
	Bars      *chart
	Hist      *chart
	Latency   []kv
	PerClass  *tableView
	PerRecord *tableView
}

func buildView(r *Report) view {
	v := view{R: r, Duration: r.Duration.Round(time.Millisecond).String()}
	if !r.StartedAt.IsZero() {
		v.Started = r.StartedAt.UTC().Format(time.RFC3339)
	}
	for _, k := range sortedKeys(r.Metrics) {
		v.Metrics = append(v.Metrics, kv{k, formatNum(r.Metrics[k])})
	}
	for _, k := range sortedKeys(r.Config) {
		v.Config = append(v.Config, kv{k, r.Config[k]})
	}
	if r.Confusion != nil && len(r.Confusion.Labels) > 0 {
		v.Heat = heatMap(r)
	}
	if r.PerRecord != nil && len(r.PerRecord.Rows) > 0 {
		v.Bars = barChart(r.PerRecord)
		v.PerRecord = tableOf(r.PerRecord, "Per record")
	}
	if r.PerClass != nil && len(r.PerClass.Rows) > 0 {
		v.PerClass = tableOf(r.PerClass, "Per class")
	}
	if l := r.Latency; l != nil && l.N > 0 {
		v.Hist = histogram(r)
		v.Latency = []kv{
			{"n", strconv.Itoa(l.N)}, {"min", formatMS(l.MinMS)}, {"mean", formatMS(l.MeanMS)},
			{"p50", formatMS(l.P50MS)}, {"p90", formatMS(l.P90MS)}, {"p95", formatMS(l.P95MS)},
			{"p99", formatMS(l.P99MS)}, {"max", formatMS(l.MaxMS)},
		}
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// formatNum prints integers without decimals and other values with four.
func formatNum(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 4, 64)
}

func formatMS(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) + " ms" }

func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxLabelRunes {
		return s
	}
	return string(r[:maxLabelRunes-1]) + "…"
}

func tableOf(t *Table, fallback string) *tableView {
	tv := &tableView{Title: t.Title, Columns: t.Columns}
	if tv.Title == "" {
		tv.Title = fallback
	}
	for _, row := range t.Rows {
		cells := []string{row.Key}
		for _, x := range row.Values {
			cells = append(cells, formatNum(x))
		}
		tv.Rows = append(tv.Rows, cells)
	}
	return tv
}

// blend returns the colour a fraction f (0–1) of the way from white to
// the report's dark blue (#1f4e8c).
func blend(f float64) string {
	f = math.Max(0, math.Min(1, f))
	c := func(to float64) int { return int(math.Round(255 + (to-255)*f)) }
	return fmt.Sprintf("#%02x%02x%02x", c(0x1f), c(0x4e), c(0x8c))
}

// heatMap draws the confusion matrix with each cell shaded by its share of
// the gold row (so the diagonal shows per-class recall).
func heatMap(r *Report) *chart {
	c := r.Confusion
	n := min(len(c.Labels), maxHeatLabels)
	const cell, left, top = 40.0, 130.0, 110.0
	ch := &chart{W: left + cell*float64(n) + 20, H: top + cell*float64(n) + 40}
	if len(c.Labels) > n {
		ch.Caption = fmt.Sprintf("first %d of %d labels drawn", n, len(c.Labels))
	}
	for i := range n {
		rowTotal := 0
		for j := range c.Labels {
			if i < len(c.Counts) && j < len(c.Counts[i]) {
				rowTotal += c.Counts[i][j]
			}
		}
		y := top + cell*float64(i)
		ch.Texts = append(ch.Texts, svgText{X: left - 6, Y: y + cell/2 + 4, Text: shorten(c.Labels[i]), Anchor: "end"})
		for j := range n {
			count := 0
			if i < len(c.Counts) && j < len(c.Counts[i]) {
				count = c.Counts[i][j]
			}
			f := 0.0
			if rowTotal > 0 {
				f = float64(count) / float64(rowTotal)
			}
			x := left + cell*float64(j)
			ch.Rects = append(ch.Rects, svgRect{X: x, Y: y, W: cell - 1, H: cell - 1, Fill: blend(f),
				Title: fmt.Sprintf("gold %s → predicted %s: %d (%.1f%% of gold row)", c.Labels[i], c.Labels[j], count, 100*f)})
			fill := "#1b1b1b"
			if f > 0.5 {
				fill = "#ffffff"
			}
			ch.Texts = append(ch.Texts, svgText{X: x + cell/2, Y: y + cell/2 + 4, Text: strconv.Itoa(count), Anchor: "middle", Fill: fill})
		}
	}
	for j := range n {
		x := left + cell*float64(j) + cell/2
		ch.Texts = append(ch.Texts, svgText{X: x, Y: top - 8, Text: shorten(c.Labels[j]), Anchor: "start",
			Transform: fmt.Sprintf("rotate(-45 %s %s)", ff(x), ff(top-8))})
	}
	ch.Texts = append(ch.Texts,
		svgText{X: left, Y: 14, Text: "predicted →", Anchor: "start"},
		svgText{X: 4, Y: top - 8, Text: "gold ↓", Anchor: "start"})
	return ch
}

// barChart draws one horizontal bar per row for the table's chart column.
func barChart(t *Table) *chart {
	col := t.ChartColumn()
	rows := t.Rows
	ch := &chart{}
	if len(rows) > maxBars {
		ch.Caption = fmt.Sprintf("first %d of %d rows drawn", maxBars, len(rows))
		rows = rows[:maxBars]
	}
	top := 0.0
	for _, row := range rows {
		if col < len(row.Values) {
			top = math.Max(top, row.Values[col])
		}
	}
	if top <= 0 {
		top = 1
	}
	const left, width, bar = 230.0, 420.0, 18.0
	ch.W = left + width + 90
	ch.H = bar*float64(len(rows)) + 30
	colName := ""
	if col < len(t.Columns) {
		colName = t.Columns[col]
	}
	ch.Texts = append(ch.Texts, svgText{X: left, Y: 12, Text: colName, Anchor: "start"})
	for i, row := range rows {
		val := 0.0
		if col < len(row.Values) {
			val = row.Values[col]
		}
		y := 20 + bar*float64(i)
		w := math.Max(0, val/top*width)
		ch.Rects = append(ch.Rects, svgRect{X: left, Y: y, W: w, H: bar - 3, Fill: "#1f4e8c", Title: row.Key + ": " + formatNum(val)})
		ch.Texts = append(ch.Texts,
			svgText{X: left - 6, Y: y + bar - 7, Text: shortenPath(row.Key), Anchor: "end"},
			svgText{X: left + w + 4, Y: y + bar - 7, Text: formatNum(val), Anchor: "start"})
	}
	return ch
}

// shortenPath keeps the end of a long key (the file name matters most).
func shortenPath(s string) string {
	r := []rune(s)
	const keep = 34
	if len(r) <= keep {
		return s
	}
	return "…" + string(r[len(r)-keep+1:])
}

// histogram draws the latency histogram as vertical bars.
func histogram(r *Report) *chart {
	l := r.Latency
	const left, bottom, plotW, plotH = 50.0, 30.0, 600.0, 180.0
	ch := &chart{W: left + plotW + 20, H: plotH + bottom + 20}
	top := 0
	for _, c := range l.Counts {
		top = max(top, c)
	}
	if top == 0 || len(l.Counts) == 0 {
		return ch
	}
	bw := plotW / float64(len(l.Counts))
	for i, c := range l.Counts {
		h := float64(c) / float64(top) * plotH
		x := left + bw*float64(i)
		lo, hi := 0.0, 0.0
		if i+1 < len(l.EdgesMS) {
			lo, hi = l.EdgesMS[i], l.EdgesMS[i+1]
		}
		ch.Rects = append(ch.Rects, svgRect{X: x, Y: 10 + plotH - h, W: math.Max(bw-2, 1), H: h, Fill: "#2e7d5b",
			Title: fmt.Sprintf("%s – %s: %d", formatMS(lo), formatMS(hi), c)})
	}
	base := 10 + plotH + 16
	ch.Texts = append(ch.Texts,
		svgText{X: left, Y: base, Text: formatMS(l.MinMS), Anchor: "start"},
		svgText{X: left + plotW, Y: base, Text: formatMS(l.MaxMS), Anchor: "end"},
		svgText{X: left - 6, Y: 18, Text: strconv.Itoa(top), Anchor: "end"},
		svgText{X: left - 6, Y: 10 + plotH, Text: "0", Anchor: "end"})
	return ch
}

// ff formats an SVG coordinate.
func ff(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{"ff": ff}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Yizhu eval · {{.R.Suite}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1b;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555;font-size:.9rem}table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f3f5f8}.cards{display:flex;flex-wrap:wrap;gap:.6rem}
.card{border:1px solid #dde3ea;border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.card b{display:block;font-size:1.2rem}.card span{color:#555;font-size:.8rem}
svg text{font-size:11px;fill:#1b1b1b}.caption{color:#555;font-size:.85rem}
ul.notes li{margin:.2rem 0}
</style>
</head>
<body>
<h1>{{.R.Suite}} <span class="meta">· {{.R.Dataset}}</span></h1>
<p class="meta">n = {{.R.N}} · commit {{.R.GitCommit}}{{if .Started}} · started {{.Started}}{{end}} · took {{.Duration}}</p>
{{- if .R.Notes}}
<h2>What was measured</h2>
<ul class="notes">{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
<h2>Metrics</h2>
<div class="cards">{{range .Metrics}}<div class="card"><b>{{.Value}}</b><span>{{.Name}}</span></div>{{else}}<p>No metrics.</p>{{end}}</div>
{{- with .Heat}}
<h2>Confusion matrix</h2>
<p class="caption">Rows are gold labels, columns predictions; shading is the share of the gold row.{{if .Caption}} {{.Caption}}.{{end}}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{{ff .W}}" height="{{ff .H}}" viewBox="0 0 {{ff .W}} {{ff .H}}" role="img" aria-label="confusion matrix">
{{range .Rects}}<rect x="{{ff .X}}" y="{{ff .Y}}" width="{{ff .W}}" height="{{ff .H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Texts}}<text x="{{ff .X}}" y="{{ff .Y}}" text-anchor="{{.Anchor}}"{{if .Transform}} transform="{{.Transform}}"{{end}}{{if .Fill}} style="fill:{{.Fill}}"{{end}}>{{.Text}}</text>
{{end}}</svg>
{{- end}}
{{- with .PerClass}}
<h2>{{.Title}}</h2>
<table><tr><th>class</th>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{- end}}
{{- with .Bars}}
<h2>Per record</h2>
{{if .Caption}}<p class="caption">{{.Caption}}.</p>{{end}}
<svg xmlns="http://www.w3.org/2000/svg" width="{{ff .W}}" height="{{ff .H}}" viewBox="0 0 {{ff .W}} {{ff .H}}" role="img" aria-label="per-record bar chart">
{{range .Rects}}<rect x="{{ff .X}}" y="{{ff .Y}}" width="{{ff .W}}" height="{{ff .H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Texts}}<text x="{{ff .X}}" y="{{ff .Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{end}}</svg>
{{- end}}
{{- with .PerRecord}}
<table><tr><th>record</th>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{- end}}
{{- with .Hist}}
<h2>Latency{{with $.R.LatencyLabel}} · {{.}}{{end}}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="{{ff .W}}" height="{{ff .H}}" viewBox="0 0 {{ff .W}} {{ff .H}}" role="img" aria-label="latency histogram">
{{range .Rects}}<rect x="{{ff .X}}" y="{{ff .Y}}" width="{{ff .W}}" height="{{ff .H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Texts}}<text x="{{ff .X}}" y="{{ff .Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{end}}</svg>
<table><tr>{{range $.Latency}}<th>{{.Name}}</th>{{end}}</tr><tr>{{range $.Latency}}<td>{{.Value}}</td>{{end}}</tr></table>
{{- end}}
{{- if .Config}}
<h2>Configuration</h2>
<table>{{range .Config}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>
{{- end}}
</body>
</html>
`))
