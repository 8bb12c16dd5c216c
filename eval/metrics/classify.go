package metrics

import (
	"fmt"
	"slices"
)

// ratio returns num/den, or 0 when den is 0.
func ratio(num, den float64) float64 {
	if den == 0 {
		return 0
	}
	return num / den
}

// f1 returns the harmonic mean 2pr/(p+r) of precision p and recall r, or 0
// when both are 0.
func f1(p, r float64) float64 { return ratio(2*p*r, p+r) }

// Accuracy returns the fraction of positions where pred equals gold. It
// returns an error when the lengths differ and 0 for empty input.
func Accuracy(gold, pred []string) (float64, error) {
	if len(gold) != len(pred) {
		return 0, fmt.Errorf("metrics.Accuracy: %d gold labels but %d predictions", len(gold), len(pred))
	}
	var ok int
	for i := range gold {
		if gold[i] == pred[i] {
			ok++
		}
	}
	return ratio(float64(ok), float64(len(gold))), nil
}

// TopKAccuracy returns the fraction of items whose gold label is among the
// first k entries of the corresponding ranked prediction list. A ranked
// list shorter than k is used whole. It returns an error when the lengths
// differ or k < 1, and 0 for empty input.
func TopKAccuracy(gold []string, ranked [][]string, k int) (float64, error) {
	if len(gold) != len(ranked) {
		return 0, fmt.Errorf("metrics.TopKAccuracy: %d gold labels but %d ranked lists", len(gold), len(ranked))
	}
	if k < 1 {
		return 0, fmt.Errorf("metrics.TopKAccuracy: k = %d, want k >= 1", k)
	}
	var ok int
	for i, g := range gold {
		top := ranked[i]
		if len(top) > k {
			top = top[:k]
		}
		if slices.Contains(top, g) {
			ok++
		}
	}
	return ratio(float64(ok), float64(len(gold))), nil
}

// Confusion is a confusion matrix over string labels. Counts[i][j] is the
// number of items whose gold label is Labels[i] and whose predicted label
// is Labels[j]. Labels is the sorted union of gold and predicted labels.
type Confusion struct {
	Labels []string `json:"labels"`
	Counts [][]int  `json:"counts"`
}

// NewConfusion builds the confusion matrix of gold against pred. It
// returns an error when the lengths differ.
func NewConfusion(gold, pred []string) (*Confusion, error) {
	if len(gold) != len(pred) {
		return nil, fmt.Errorf("metrics.NewConfusion: %d gold labels but %d predictions", len(gold), len(pred))
	}
	seen := make(map[string]bool)
	for i := range gold {
		seen[gold[i]] = true
		seen[pred[i]] = true
	}
	labels := make([]string, 0, len(seen))
	for l := range seen {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		index[l] = i
	}
	c := &Confusion{Labels: labels, Counts: make([][]int, len(labels))}
	for i := range c.Counts {
		c.Counts[i] = make([]int, len(labels))
	}
	for i := range gold {
		c.Counts[index[gold[i]]][index[pred[i]]]++
	}
	return c, nil
}

// Total returns the number of items counted.
func (c *Confusion) Total() int {
	var n int
	for _, row := range c.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// ClassStats holds one label's counts and scores. Support is the number of
// items whose gold label is Label.
type ClassStats struct {
	Label     string  `json:"label"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Support   int     `json:"support"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// PerClass returns one ClassStats per label, in label order. Precision is
// TP/(TP+FP), recall TP/(TP+FN), F1 their harmonic mean; each is 0 when
// its denominator is 0.
func (c *Confusion) PerClass() []ClassStats {
	out := make([]ClassStats, len(c.Labels))
	for i, l := range c.Labels {
		s := ClassStats{Label: l, TP: c.Counts[i][i]}
		for j := range c.Labels {
			if j == i {
				continue
			}
			s.FN += c.Counts[i][j]
			s.FP += c.Counts[j][i]
		}
		s.Support = s.TP + s.FN
		s.Precision = ratio(float64(s.TP), float64(s.TP+s.FP))
		s.Recall = ratio(float64(s.TP), float64(s.TP+s.FN))
		s.F1 = f1(s.Precision, s.Recall)
		out[i] = s
	}
	return out
}

// Averages holds macro and micro averaged scores.
type Averages struct {
	Accuracy       float64 `json:"accuracy"`
	MacroPrecision float64 `json:"macro_precision"`
	MacroRecall    float64 `json:"macro_recall"`
	MacroF1        float64 `json:"macro_f1"`
	MicroPrecision float64 `json:"micro_precision"`
	MicroRecall    float64 `json:"micro_recall"`
	MicroF1        float64 `json:"micro_f1"`
}

// Averages returns the macro averages (unweighted means over every label
// in Labels, including labels that were only predicted) and the micro
// averages (scores of the pooled TP/FP/FN counts). For single-label
// classification micro precision, recall and F1 all equal accuracy. Macro
// F1 is the mean of the per-class F1 values, not the F1 of the macro
// precision and recall.
func (c *Confusion) Averages() Averages {
	per := c.PerClass()
	var a Averages
	var tp, fp, fn int
	for _, s := range per {
		a.MacroPrecision += s.Precision
		a.MacroRecall += s.Recall
		a.MacroF1 += s.F1
		tp += s.TP
		fp += s.FP
		fn += s.FN
	}
	n := float64(len(per))
	a.MacroPrecision = ratio(a.MacroPrecision, n)
	a.MacroRecall = ratio(a.MacroRecall, n)
	a.MacroF1 = ratio(a.MacroF1, n)
	a.MicroPrecision = ratio(float64(tp), float64(tp+fp))
	a.MicroRecall = ratio(float64(tp), float64(tp+fn))
	a.MicroF1 = f1(a.MicroPrecision, a.MicroRecall)
	a.Accuracy = ratio(float64(tp), float64(c.Total()))
	return a
}
