package metrics

import (
	"cmp"
	"slices"
)

// Episode is a rhythm episode (atrial fibrillation, ventricular
// tachycardia, …) as a half-open interval [Start, End) in samples or any
// other common time unit. An episode with End <= Start is empty and is
// ignored.
type Episode struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// EpisodeStats are overlap-based episode statistics in the manner of
// ANSI/AAMI EC57's rhythm (AF, VF) comparison: a reference episode counts
// as detected when some detected episode overlaps it by at least one unit;
// a detected episode counts as true when some reference episode overlaps
// it. Duration statistics use the total overlapping time.
type EpisodeStats struct {
	RefEpisodes     int   `json:"ref_episodes"`
	RefDetected     int   `json:"ref_detected"`
	DetEpisodes     int   `json:"det_episodes"`
	DetTrue         int   `json:"det_true"`
	RefDuration     int64 `json:"ref_duration"`
	DetDuration     int64 `json:"det_duration"`
	OverlapDuration int64 `json:"overlap_duration"`

	// Sensitivity is RefDetected/RefEpisodes.
	Sensitivity float64 `json:"episode_sensitivity"`
	// PositivePredictivity is DetTrue/DetEpisodes.
	PositivePredictivity float64 `json:"episode_positive_predictivity"`
	// DurationSensitivity is OverlapDuration/RefDuration.
	DurationSensitivity float64 `json:"duration_sensitivity"`
	// DurationPositivePredictivity is OverlapDuration/DetDuration.
	DurationPositivePredictivity float64 `json:"duration_positive_predictivity"`
}

// CompareEpisodes computes EpisodeStats of det against ref. Overlapping
// episodes within ref (or within det) are counted as separate episodes,
// but their durations are merged so no time is counted twice.
func CompareEpisodes(ref, det []Episode) EpisodeStats {
	r := nonEmpty(ref)
	d := nonEmpty(det)
	var s EpisodeStats
	s.RefEpisodes = len(r)
	s.DetEpisodes = len(d)
	for _, e := range r {
		if overlapsAny(e, d) {
			s.RefDetected++
		}
	}
	for _, e := range d {
		if overlapsAny(e, r) {
			s.DetTrue++
		}
	}
	mr, md := merge(r), merge(d)
	s.RefDuration = total(mr)
	s.DetDuration = total(md)
	s.OverlapDuration = intersection(mr, md)
	s.Sensitivity = ratio(float64(s.RefDetected), float64(s.RefEpisodes))
	s.PositivePredictivity = ratio(float64(s.DetTrue), float64(s.DetEpisodes))
	s.DurationSensitivity = ratio(float64(s.OverlapDuration), float64(s.RefDuration))
	s.DurationPositivePredictivity = ratio(float64(s.OverlapDuration), float64(s.DetDuration))
	return s
}

func nonEmpty(es []Episode) []Episode {
	out := make([]Episode, 0, len(es))
	for _, e := range es {
		if e.End > e.Start {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Episode) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
	})
	return out
}

// overlapsAny reports whether e shares at least one unit with an episode
// of sorted. A linear scan keeps this obviously correct; episode lists are
// short (tens per record).
func overlapsAny(e Episode, sorted []Episode) bool {
	for _, o := range sorted {
		if o.Start >= e.End {
			return false
		}
		if o.End > e.Start {
			return true
		}
	}
	return false
}

// merge joins overlapping or touching episodes of a sorted list.
func merge(sorted []Episode) []Episode {
	var out []Episode
	for _, e := range sorted {
		if n := len(out); n > 0 && e.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, e.End)
			continue
		}
		out = append(out, e)
	}
	return out
}

func total(es []Episode) int64 {
	var t int64
	for _, e := range es {
		t += e.End - e.Start
	}
	return t
}

// intersection returns the total length shared by two merged lists.
func intersection(a, b []Episode) int64 {
	var t int64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo := max(a[i].Start, b[j].Start)
		hi := min(a[i].End, b[j].End)
		if hi > lo {
			t += hi - lo
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
	}
	return t
}
