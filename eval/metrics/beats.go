package metrics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// EC57Window is the beat-matching window of ANSI/AAMI EC57 (beat-by-beat
// comparison: a detection within 150 ms of a reference beat matches it).
const EC57Window = 150 * time.Millisecond

// BeatCounts are the outcome of matching detected QRS complexes against
// reference beat annotations: true positives (matched pairs), false
// negatives (unmatched reference beats) and false positives (unmatched
// detections).
type BeatCounts struct {
	TP int `json:"tp"`
	FN int `json:"fn"`
	FP int `json:"fp"`
}

// Sensitivity returns TP/(TP+FN), or 0 when there are no reference beats.
func (c BeatCounts) Sensitivity() float64 { return ratio(float64(c.TP), float64(c.TP+c.FN)) }

// PositivePredictivity returns TP/(TP+FP), or 0 when there are no
// detections.
func (c BeatCounts) PositivePredictivity() float64 {
	return ratio(float64(c.TP), float64(c.TP+c.FP))
}

// Add returns the element-wise sum of c and d.
func (c BeatCounts) Add(d BeatCounts) BeatCounts {
	return BeatCounts{TP: c.TP + d.TP, FN: c.FN + d.FN, FP: c.FP + d.FP}
}

// BeatPair is a matched pair: indices into the reference and detection
// slices given to MatchBeatPairs.
type BeatPair struct{ Ref, Det int }

// MatchBeats matches detections to reference beats one to one, as EC57's
// beat-by-beat comparison does (see MatchBeatPairs), and counts the
// outcome.
func MatchBeats(ref, det []int64, sampleRateHz float64, window time.Duration) (BeatCounts, error) {
	pairs, err := MatchBeatPairs(ref, det, sampleRateHz, window)
	if err != nil {
		return BeatCounts{}, fmt.Errorf("metrics.MatchBeats: %w", err)
	}
	tp := len(pairs)
	return BeatCounts{TP: tp, FN: len(ref) - tp, FP: len(det) - tp}, nil
}

// MatchBeatPairs matches detections to reference beats one to one, as
// EC57's beat-by-beat comparison does: each reference beat is matched to
// at most one detection and vice versa, and only pairs at most window
// apart (inclusive, the window rounded down to whole samples) are
// eligible. Among eligible pairs the closest are matched first (ties:
// earlier reference beat, then earlier detection), which is deterministic
// and never matches a detection that a closer beat claims.
//
// ref and det are sample indices at sampleRateHz; they need not be sorted
// and are not modified; the pairs index them. It returns an error for a
// non-positive sample rate or window.
func MatchBeatPairs(ref, det []int64, sampleRateHz float64, window time.Duration) ([]BeatPair, error) {
	if !(sampleRateHz > 0) || math.IsInf(sampleRateHz, 0) {
		return nil, fmt.Errorf("sample rate %v Hz, want > 0", sampleRateHz)
	}
	if window <= 0 {
		return nil, fmt.Errorf("window %v, want > 0", window)
	}
	// The window in samples, rounded down with a tolerance so that e.g.
	// 150 ms at 360 Hz gives exactly 54 samples.
	w := int64(math.Floor(window.Seconds()*sampleRateHz + 1e-9))
	order := func(x []int64) []int {
		idx := make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
		return idx
	}
	ri, di := order(ref), order(det)
	type cand struct {
		dist int64
		i, j int // positions in ri, di
	}
	var cands []cand
	lo := 0
	for i, rk := range ri {
		rv := ref[rk]
		for lo < len(di) && det[di[lo]] < rv-w {
			lo++
		}
		for j := lo; j < len(di) && det[di[j]] <= rv+w; j++ {
			d := det[di[j]] - rv
			if d < 0 {
				d = -d
			}
			cands = append(cands, cand{d, i, j})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.i, b.i), cmp.Compare(a.j, b.j))
	})
	usedR := make([]bool, len(ri))
	usedD := make([]bool, len(di))
	var out []BeatPair
	for _, c := range cands {
		if usedR[c.i] || usedD[c.j] {
			continue
		}
		usedR[c.i], usedD[c.j] = true, true
		out = append(out, BeatPair{Ref: ri[c.i], Det: di[c.j]})
	}
	return out, nil
}

// RecordBeats is one record's beat-matching outcome.
type RecordBeats struct {
	Record string     `json:"record"`
	Counts BeatCounts `json:"counts"`
}

// BeatSummary holds EC57's two aggregate statistics: the gross statistic
// (scores of the counts pooled over all records, which weights records by
// their number of beats) and the average statistic (the unweighted mean of
// the per-record scores).
type BeatSummary struct {
	Records      int        `json:"records"`
	Gross        BeatCounts `json:"gross"`
	GrossSe      float64    `json:"gross_sensitivity"`
	GrossPP      float64    `json:"gross_positive_predictivity"`
	AverageSe    float64    `json:"average_sensitivity"`
	AveragePP    float64    `json:"average_positive_predictivity"`
	PerRecordSe  []float64  `json:"-"`
	PerRecordPP  []float64  `json:"-"`
	PerRecordKey []string   `json:"-"`
}

// SummarizeBeats returns the gross and average statistics of recs, sorted
// by record name for the per-record slices.
func SummarizeBeats(recs []RecordBeats) BeatSummary {
	rs := slices.Clone(recs)
	slices.SortStableFunc(rs, func(a, b RecordBeats) int { return cmp.Compare(a.Record, b.Record) })
	var s BeatSummary
	s.Records = len(rs)
	for _, r := range rs {
		s.Gross = s.Gross.Add(r.Counts)
		se, pp := r.Counts.Sensitivity(), r.Counts.PositivePredictivity()
		s.AverageSe += se
		s.AveragePP += pp
		s.PerRecordKey = append(s.PerRecordKey, r.Record)
		s.PerRecordSe = append(s.PerRecordSe, se)
		s.PerRecordPP = append(s.PerRecordPP, pp)
	}
	s.GrossSe = s.Gross.Sensitivity()
	s.GrossPP = s.Gross.PositivePredictivity()
	s.AverageSe = ratio(s.AverageSe, float64(s.Records))
	s.AveragePP = ratio(s.AveragePP, float64(s.Records))
	return s
}
