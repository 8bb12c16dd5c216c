package api

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
)

// Waveform geometry: standard paper speed and gain at 4 px per mm.
const (
	svgPxPerS  = 100 // 25 mm/s
	svgPxPerMV = 40  // 10 mm/mV
	svgRowH    = 120 // 3 mV per lead row
	svgLeft    = 56
	svgTop     = 64
	svgRight   = 16
)

var labelColour = map[string]string{"N": "#555", "V": "#c00", "S": "#d97000", "Q": "#888"}

// esc escapes text for SVG (XML) content and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// drawWaveform writes an SVG of secs seconds of the record's leads from
// second from, with beats, findings and alerts marked. Every text that
// came from the upload (lead names, record name) is escaped.
func drawWaveform(w *bytes.Buffer, sig ecgSignal, rec ECGRecordResponse, from, secs float64) {
	fs := sig.RateHz
	total := float64(sig.N) / fs
	if from >= total {
		from = math.Max(0, total-secs)
	}
	secs = math.Min(secs, total-from)
	i0 := int(from * fs)
	i1 := min(sig.N, int((from+secs)*fs))
	nlead := len(sig.Leads)
	width := svgLeft + int(math.Ceil(secs*svgPxPerS)) + svgRight
	height := svgTop + nlead*svgRowH + 40
	x := func(sample int64) float64 { return svgLeft + (float64(sample)/fs-from)*svgPxPerS }
	inWin := func(a, b int64) bool { return b >= int64(i0) && a <= int64(i1) }

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, width, height, width, height)
	w.WriteString(`<defs><pattern id="g1" width="4" height="4" patternUnits="userSpaceOnUse"><path d="M4 0H0V4" fill="none" stroke="#f6caca" stroke-width="0.5"/></pattern>` +
		`<pattern id="g5" width="20" height="20" patternUnits="userSpaceOnUse"><rect width="20" height="20" fill="url(#g1)"/><path d="M20 0H0V20" fill="none" stroke="#ec9a9a" stroke-width="0.8"/></pattern></defs>`)
	fmt.Fprintf(w, `<rect width="%d" height="%d" fill="#fff"/>`, width, height)
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="url(#g5)"/>`, svgLeft, svgTop, width-svgLeft-svgRight, nlead*svgRowH)

	rep := rec.Report
	title := rec.Name
	if title == "" {
		title = rec.ID
	}
	summary := fmt.Sprintf("%s · %g Hz · %d leads · %.1f–%.1f s · 25 mm/s 10 mm/mV", title, fs, nlead, from, from+secs)
	if m := rep.Measurements; m != nil && m.HRbpm > 0 {
		summary += fmt.Sprintf(" · HR %.0f/min", m.HRbpm)
	}
	fmt.Fprintf(w, `<text x="8" y="18" font-size="14" font-weight="bold">%s</text>`, esc(summary))
	status := "预读草稿 Draft pre-read"
	if rep.Critical {
		status = "危急值 CRITICAL · " + status
	}
	fmt.Fprintf(w, `<text x="8" y="36" fill="%s">%s</text>`, map[bool]string{true: "#c00", false: "#333"}[rep.Critical], esc(status))

	// Rhythm episodes as a strip above the leads.
	for _, ep := range rep.Rhythms {
		if !inWin(ep.Start, ep.End) {
			continue
		}
		x0, x1 := math.Max(svgLeft, x(ep.Start)), math.Min(float64(width-svgRight), x(ep.End))
		fmt.Fprintf(w, `<g class="rhythm"><rect x="%.1f" y="42" width="%.1f" height="14" fill="#e8f0fe" stroke="#9ab"/><text x="%.1f" y="53" font-size="10">%s</text></g>`,
			x0, math.Max(1, x1-x0), x0+3, esc(string(ep.Type)))
	}

	leadRow := map[string]int{}
	for l, name := range sig.Leads {
		leadRow[name] = l
	}
	// Findings with a stretch, then alerts, as translucent bands.
	var notes []string
	for _, f := range rep.Findings {
		if f.Start == 0 && f.End >= int64(sig.N) || f.End <= f.Start {
			notes = append(notes, f.Title)
			continue
		}
		if !inWin(f.Start, f.End) {
			continue
		}
		band(w, "finding", x(f.Start), x(f.End), f.Leads, leadRow, nlead, width, "#fff3c4", f.Title+" "+f.TitleZH)
	}
	for _, a := range rec.Alerts {
		if !inWin(a.Start, a.End) {
			continue
		}
		band(w, "alert", x(a.Start), x(max(a.End, a.Start+1)), a.Leads, leadRow, nlead, width, "#ffb3b3", "⚠ "+a.Title)
	}

	// The leads.
	for l, name := range sig.Leads {
		base := svgTop + l*svgRowH + svgRowH/2
		fmt.Fprintf(w, `<text x="6" y="%d" font-weight="bold">%s</text>`, base+4, esc(name))
		w.WriteString(`<polyline class="lead" fill="none" stroke="#111" stroke-width="1" points="`)
		trace(w, sig, l, i0, i1, float64(base))
		w.WriteString(`"/>`)
	}

	// Beat marks with their labels.
	for _, b := range rep.Beats {
		if b.Sample < int64(i0) || b.Sample >= int64(i1) {
			continue
		}
		bx := x(b.Sample)
		lbl := string(b.Label)
		col, ok := labelColour[lbl]
		if !ok {
			col = "#888"
		}
		fmt.Fprintf(w, `<g class="beat"><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="0.6" stroke-dasharray="2 3" opacity="0.6"/><text x="%.1f" y="%d" fill="%s" font-size="10" text-anchor="middle">%s</text></g>`,
			bx, svgTop, bx, svgTop+nlead*svgRowH, col, bx, svgTop-2, col, esc(lbl))
	}
	slices.Sort(notes)
	notes = slices.Compact(notes)
	foot := "AI 预读，须经医师审核 · AI pre-read, to be confirmed by a physician"
	if len(notes) > 0 {
		foot = fmt.Sprintf("%d finding(s): ", len(notes))
		for i, n := range notes {
			if i > 0 {
				foot += "; "
			}
			foot += n
		}
	}
	fmt.Fprintf(w, `<text x="8" y="%d">%s</text>`, svgTop+nlead*svgRowH+24, esc(foot))
	w.WriteString(`</svg>`)
}

// band draws a translucent stretch over the rows of leads (all rows when
// leads is empty) with a caption.
func band(w *bytes.Buffer, class string, x0, x1 float64, leads []string, leadRow map[string]int, nlead, width int, fill, caption string) {
	x0 = math.Max(svgLeft, x0)
	x1 = math.Min(float64(width-svgRight), x1)
	rows := make([]int, 0, nlead)
	for _, l := range leads {
		if r, ok := leadRow[l]; ok {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		for r := range nlead {
			rows = append(rows, r)
		}
	}
	fmt.Fprintf(w, `<g class="%s">`, class)
	for _, r := range rows {
		fmt.Fprintf(w, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" opacity="0.45"/>`, x0, svgTop+r*svgRowH, math.Max(2, x1-x0), svgRowH, fill)
	}
	fmt.Fprintf(w, `<text x="%.1f" y="%d" font-size="10" fill="#600">%s</text></g>`, x0+2, svgTop+rows[0]*svgRowH+12, esc(caption))
}

// trace writes the polyline points of lead l over samples [i0, i1): every
// sample when there are at most two per pixel, else the minimum and
// maximum of each pixel column, so QRS peaks survive.
func trace(w *bytes.Buffer, sig ecgSignal, l, i0, i1 int, base float64) {
	n := sig.N
	at := func(i int) (float64, bool) {
		v := int16(binary.LittleEndian.Uint16(sig.Data[2*(l*n+i):]))
		if v == math.MinInt16 {
			return 0, false
		}
		mv := math.Max(-1.45, math.Min(1.45, float64(v)/1000)) // clip to the row
		return base - mv*svgPxPerMV, true
	}
	perPx := sig.RateHz / svgPxPerS
	var b []byte
	pt := func(px, y float64) {
		b = strconv.AppendFloat(b, px, 'f', 1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, y, 'f', 1, 64)
		b = append(b, ' ')
	}
	if perPx <= 2 {
		for i := i0; i < i1; i++ {
			if y, ok := at(i); ok {
				pt(svgLeft+float64(i-i0)/perPx, y)
			}
		}
	} else {
		cols := int(math.Ceil(float64(i1-i0) / perPx))
		for c := range cols {
			lo, hi := i0+int(float64(c)*perPx), min(i1, i0+int(float64(c+1)*perPx))
			ymin, ymax, ok := math.Inf(1), math.Inf(-1), false
			for i := lo; i < hi; i++ {
				if y, good := at(i); good {
					ymin, ymax, ok = math.Min(ymin, y), math.Max(ymax, y), true
				}
			}
			if ok {
				pt(svgLeft+float64(c), ymax)
				pt(svgLeft+float64(c)+0.5, ymin)
			}
		}
	}
	w.Write(bytes.TrimSpace(b))
}
