package eval

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Delta is one metric in two reports. InOld/InNew say where it appears.
type Delta struct {
	Metric       string
	Old, New     float64
	InOld, InNew bool
}

// Change returns New-Old, or 0 when the metric is missing on either side.
func (d Delta) Change() float64 {
	if !d.InOld || !d.InNew {
		return 0
	}
	return d.New - d.Old
}

// Compare returns the union of the two reports' metrics, sorted by name,
// with N included as the pseudo-metric "n".
func Compare(old, new *Report) []Delta {
	names := make(map[string]bool)
	for k := range old.Metrics {
		names[k] = true
	}
	for k := range new.Metrics {
		names[k] = true
	}
	out := []Delta{{Metric: "n", Old: float64(old.N), New: float64(new.N), InOld: true, InNew: true}}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		o, inO := old.Metrics[k]
		n, inN := new.Metrics[k]
		out = append(out, Delta{Metric: k, Old: o, New: n, InOld: inO, InNew: inN})
	}
	return out
}

// WriteComparison prints the deltas of old → new as an aligned table.
func WriteComparison(w io.Writer, old, new *Report) error {
	if _, err := fmt.Fprintf(w, "suite %s: %s (%s) → %s (%s)\n", new.Suite, orUnknown(old.GitCommit), old.Dataset, orUnknown(new.GitCommit), new.Dataset); err != nil {
		return err
	}
	if old.Suite != new.Suite {
		if _, err := fmt.Fprintf(w, "warning: comparing suite %s with suite %s\n", old.Suite, new.Suite); err != nil {
			return err
		}
	}
	type line struct{ metric, old, new, change string }
	lines := []line{{"metric", "old", "new", "delta"}}
	for _, d := range Compare(old, new) {
		l := line{metric: d.Metric, old: "—", new: "—"}
		if d.InOld {
			l.old = formatNum(d.Old)
		}
		if d.InNew {
			l.new = formatNum(d.New)
		}
		switch {
		case !d.InOld:
			l.change = "added"
		case !d.InNew:
			l.change = "removed"
		default:
			l.change = signed(d.Change())
		}
		lines = append(lines, l)
	}
	var wm, wo, wn, wc int
	for _, l := range lines {
		wm = max(wm, utf8.RuneCountInString(l.metric))
		wo = max(wo, utf8.RuneCountInString(l.old))
		wn = max(wn, utf8.RuneCountInString(l.new))
		wc = max(wc, utf8.RuneCountInString(l.change))
	}
	for _, l := range lines {
		// Metric names left-aligned, numbers right-aligned.
		if _, err := fmt.Fprintf(w, "%s  %s  %s  %s\n", padRight(l.metric, wm), padLeft(l.old, wo), padLeft(l.new, wn), padLeft(l.change, wc)); err != nil {
			return err
		}
	}
	return nil
}

func padRight(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s)))
}

func padLeft(s string, n int) string {
	return strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s))) + s
}

func signed(x float64) string {
	if x == 0 || math.Abs(x) < 5e-13 {
		return "0"
	}
	s := formatNum(x)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
