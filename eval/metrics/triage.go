package metrics

import "fmt"

// TriageRates summarises predicted triage levels against gold levels on an
// ordinal scale where a lower number is more urgent (the national 4-level
// scale of clinic.Acuity: I = 1 most urgent … IV = 4).
//
// Under-triage (assigning a less urgent level than the gold one, pred >
// gold) is the unsafe error; over-triage (pred < gold) costs resources.
// Both rates are over all N cases, following the per-case definitions used
// by triage audits (e.g. Semigran et al., BMJ 2015, "safety" = at or above
// the correct urgency). A missing prediction (level <= 0) is counted as
// under-triage: giving no level is never safe.
type TriageRates struct {
	N            int     `json:"n"`
	Exact        int     `json:"exact"`
	Under        int     `json:"under"`
	Over         int     `json:"over"`
	Missing      int     `json:"missing"`
	Accuracy     float64 `json:"accuracy"`
	UnderTriage  float64 `json:"under_triage_rate"`
	OverTriage   float64 `json:"over_triage_rate"`
	MeanAbsError float64 `json:"mean_abs_level_error"`
}

// Triage compares pred with gold level by level. Every gold level must be
// >= 1; the lengths must match. MeanAbsError averages |pred-gold| over the
// cases that have a prediction.
func Triage(gold, pred []int) (TriageRates, error) {
	if len(gold) != len(pred) {
		return TriageRates{}, fmt.Errorf("metrics.Triage: %d gold levels but %d predictions", len(gold), len(pred))
	}
	var r TriageRates
	var absSum float64
	for i, g := range gold {
		if g < 1 {
			return TriageRates{}, fmt.Errorf("metrics.Triage: gold level %d at index %d, want >= 1", g, i)
		}
		p := pred[i]
		r.N++
		switch {
		case p < 1:
			r.Missing++
			r.Under++
			continue
		case p == g:
			r.Exact++
		case p > g:
			r.Under++
		default:
			r.Over++
		}
		d := p - g
		if d < 0 {
			d = -d
		}
		absSum += float64(d)
	}
	n := float64(r.N)
	r.Accuracy = ratio(float64(r.Exact), n)
	r.UnderTriage = ratio(float64(r.Under), n)
	r.OverTriage = ratio(float64(r.Over), n)
	r.MeanAbsError = ratio(absSum, float64(r.N-r.Missing))
	return r, nil
}
