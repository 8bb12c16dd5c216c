package ecg

import "github.com/yizhu-health/yizhu/inference/ecg/wfdb"

// Match is the beat-by-beat comparison of detected beats with reference
// annotations (ANSI/AAMI EC57 gross statistics).
type Match struct {
	TP, FN, FP int
}

// Sensitivity returns TP/(TP+FN), or 0 with no reference beats.
func (m Match) Sensitivity() float64 {
	if m.TP+m.FN == 0 {
		return 0
	}
	return float64(m.TP) / float64(m.TP+m.FN)
}

// PositivePredictivity returns TP/(TP+FP), or 0 with no detections.
func (m Match) PositivePredictivity() float64 {
	if m.TP+m.FP == 0 {
		return 0
	}
	return float64(m.TP) / float64(m.TP+m.FP)
}

// Add returns the sum of two matches (gross statistics over records).
func (m Match) Add(o Match) Match { return Match{m.TP + o.TP, m.FN + o.FN, m.FP + o.FP} }

// MatchBeats pairs reference and detected R-peak sample indices, both
// sorted ascending, one-to-one and greedily in time order: a detection
// within tol samples of a reference beat is a true positive (EC57 uses a
// 150 ms window). Detections before skipBefore or at or after skipAfter
// (when > 0) are ignored, as are reference beats there.
func MatchBeats(ref, det []int64, tol, skipBefore, skipAfter int64) Match {
	in := func(s int64) bool { return s >= skipBefore && (skipAfter <= 0 || s < skipAfter) }
	var m Match
	i, j := 0, 0
	for i < len(ref) || j < len(det) {
		switch {
		case i < len(ref) && !in(ref[i]):
			i++
		case j < len(det) && !in(det[j]):
			j++
		case i < len(ref) && j < len(det) && abs64(ref[i]-det[j]) <= tol:
			// Prefer the closer of det[j] and det[j+1] for ref[i].
			if j+1 < len(det) && in(det[j+1]) && abs64(ref[i]-det[j+1]) < abs64(ref[i]-det[j]) {
				m.FP++
				j++
				continue
			}
			m.TP++
			i++
			j++
		case j >= len(det) || (i < len(ref) && ref[i] < det[j]):
			m.FN++
			i++
		default:
			m.FP++
			j++
		}
	}
	return m
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// DetectionWindow is the beat-matching window of ANSI/AAMI EC57 (150 ms).
const DetectionWindow = 0.150 // seconds

// ReferenceBeats returns the samples of the beat annotations in anns
// (wfdb.IsBeat), leaving out rhythm, noise and other non-beat codes.
func ReferenceBeats(anns []wfdb.Annotation) []int64 {
	var out []int64
	for _, a := range anns {
		if wfdb.IsBeat(a.Code) {
			out = append(out, a.Sample)
		}
	}
	return out
}

// ScoreBeats matches the report's beats against reference annotations with
// the DetectionWindow.
func ScoreBeats(rep Report, anns []wfdb.Annotation) Match {
	det := make([]int64, len(rep.Beats))
	for i, b := range rep.Beats {
		det[i] = b.Sample
	}
	return MatchBeats(ReferenceBeats(anns), det, int64(DetectionWindow*rep.RateHz), 0, 0)
}

// MatchEpisodes counts the reference episodes of rhythm refType ("AFIB")
// that overlap a reported episode of typ (episode sensitivity), and the
// reported episodes of typ that overlap no reference episode (false
// episodes).
func MatchEpisodes(ref []wfdb.RhythmEpisode, refType string, got []Episode, typ Rhythm) (found, total, falseEpisodes int) {
	overlap := func(a0, a1, b0, b1 int64) bool { return a0 < b1 && b0 < a1 }
	for _, r := range ref {
		if r.Rhythm != refType {
			continue
		}
		total++
		for _, g := range got {
			if g.Type == typ && overlap(r.Start, r.End, g.Start, g.End) {
				found++
				break
			}
		}
	}
	for _, g := range got {
		if g.Type != typ {
			continue
		}
		hit := false
		for _, r := range ref {
			if r.Rhythm == refType && overlap(r.Start, r.End, g.Start, g.End) {
				hit = true
				break
			}
		}
		if !hit {
			falseEpisodes++
		}
	}
	return found, total, falseEpisodes
}
