package ecg

import (
	"fmt"
	"math"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// Q waves of prior (or evolving) myocardial infarction, after the Fourth
// Universal Definition of Myocardial Infarction (Thygesen et al.,
// Circulation 2018;138:e618–e651), "ECG changes associated with prior
// myocardial infarction (in the absence of LVH and LBBB)":
//
//   - any Q wave in V2–V3 longer than 0.02 s, or a QS complex in V2–V3;
//   - a Q wave of 0.03 s or more and 0.1 mV or more deep, or a QS
//     complex, in I, II, aVL, aVF or V4–V6;
//   - in either case in two leads of one contiguous group (I, aVL;
//     V1–V6; II, III, aVF);
//   - or an R wave of 0.04 s or more in V1–V2 with R/S ≥ 1 and a
//     concordant positive T wave, without a conduction defect (the
//     mirror image of posterior Q waves).
//
// They are measured on the averaged beat. The criteria exclude LBBB,
// which has QS complexes in V1–V3 by itself: with a QRS of 120 ms or more
// Q waves are assessed only when V1 shows the right bundle-branch block
// pattern (predominantly positive), where the Q-wave criteria still hold.
// Left ventricular hypertrophy is not recognised by the engine and does
// not suppress the finding. The finding is a pre-read for the doctor,
// not a critical value: Q waves say an infarction happened, not when.
const (
	// qWaveMV is the smallest deflection counted as a wave (the engine's
	// threshold, well above the residual noise of an averaged beat). A Q
	// wave is timed from where the lead falls through −qWaveMV to where
	// it comes back to the baseline; a QRS that never rises qWaveMV above
	// the baseline is a QS complex.
	qWaveMV = 0.02
	// qsMinMV is how deep a QS complex must be (an almost isoelectric
	// lead is not a QS complex).
	qsMinMV = 0.1
	// Q-wave limits of the 4th UDMI.
	qV2V3Ms   = 20.0
	qOtherMs  = 30.0
	qOtherMV  = 0.1
	rV1V2Ms   = 40.0
	tPosMinMV = 0.05 // a T wave counted as positive
)

// LeadQ is the Q wave (initial negative deflection of the QRS) of one
// lead of the averaged beat.
type LeadQ struct {
	Lead string `json:"lead"`
	// Ms is the Q wave's duration, from where it falls through −0.02 mV
	// to its return to the PR baseline (to the J point for a QS
	// complex); MV its depth (positive).
	Ms float64 `json:"ms"`
	MV float64 `json:"mv"`
	QS bool    `json:"qs,omitempty"`
}

// rWave is the largest positive deflection of a lead's QRS: its
// duration (ms, from the rise through qWaveMV to the return to the
// baseline) and the polarity of the lead's T wave.
type rWave struct {
	ms   float64
	tPos bool
}

// qWaves measures the Q waves of every usable standard lead of the
// template between QRS onset on and offset off (template indices), with
// the leads' PR baselines base; qrsMs is the QRS duration. tLo and tHi
// bound the T-wave search. It returns no Q waves when the QRS is wide
// without the right bundle-branch block pattern in V1 (see above), and
// the R waves of V1 and V2 for the posterior criterion.
func (s *Stream) qWaves(qrsMs float64, on, off, tLo, tHi int, base []float64, mask uint32) (out []LeadQ, rs [2]rWave) {
	t := &s.tmpl
	fs := s.fs
	if qrsMs >= qrsWideMS {
		v1 := -1
		for l := range s.nlead {
			if s.canon[l] == "V1" && mask&(1<<uint(l)) != 0 {
				v1 = l
			}
		}
		if v1 < 0 {
			return nil, rs
		}
		var rAmp, sAmp float64
		for k := on; k <= off; k++ {
			v := float64(t.data[v1][k]) - base[v1]
			rAmp, sAmp = max(rAmp, v), min(sAmp, v)
		}
		if rAmp < -sAmp {
			return nil, rs
		}
	}
	out = []LeadQ{}
	for l := range s.nlead {
		c := s.canon[l]
		if mask&(1<<uint(l)) == 0 || c == "" || c == "aVR" {
			continue
		}
		x := func(k int) float64 { return float64(t.data[l][k]) - base[l] }
		if c == "V1" || c == "V2" {
			i := 0
			if c == "V2" {
				i = 1
			}
			rs[i] = measureR(x, on, off, max(tLo, off+1), min(tHi, t.length-1), fs)
		}
		q, ok := measureQ(x, on, off, fs)
		if !ok {
			continue
		}
		q.Lead = s.cfg.Leads[l]
		out = append(out, q)
	}
	return out, rs
}

// measureQ measures the Q wave of one lead (x gives its samples against
// the baseline) between QRS onset on and offset off, and reports whether
// the QRS starts with one.
func measureQ(x func(int) float64, on, off int, fs float64) (LeadQ, bool) {
	var q LeadQ
	start := -1.0
	k := on
	for ; k <= off; k++ {
		v := x(k)
		if v >= qWaveMV {
			return q, false // an initial R wave
		}
		if v <= -qWaveMV {
			start = cross(x, k-1, k, -qWaveMV)
			break
		}
	}
	if start < 0 {
		return q, false
	}
	depth, end := 0.0, float64(off)
	for ; k <= off; k++ {
		v := x(k)
		if v >= 0 {
			end = cross(x, k-1, k, 0)
			break
		}
		depth = max(depth, -v)
	}
	rAmp := 0.0
	for j := on; j <= off; j++ {
		rAmp = max(rAmp, x(j))
	}
	q.Ms = math.Round((end - start) * 1000 / fs)
	q.MV = round3(depth)
	q.QS = rAmp < qWaveMV && depth >= qsMinMV
	return q, true
}

// measureR measures the largest positive deflection of one lead's QRS
// and the polarity of its T wave (the largest deviation in [tLo, tHi]).
func measureR(x func(int) float64, on, off, tLo, tHi int, fs float64) rWave {
	var r rWave
	pk, amp := -1, qWaveMV
	for k := on; k <= off; k++ {
		if v := x(k); v >= amp {
			pk, amp = k, v
		}
	}
	if pk >= 0 {
		a, b := pk, pk
		for a > on && x(a-1) >= qWaveMV {
			a--
		}
		for b < off && x(b+1) >= 0 {
			b++
		}
		from := float64(a)
		if a > on {
			from = cross(x, a-1, a, qWaveMV)
		}
		to := float64(b)
		if b < off {
			to = cross(x, b, b+1, 0)
		}
		r.ms = math.Round((to - from) * 1000 / fs)
	}
	tAmp := 0.0
	for k := tLo; k <= tHi; k++ {
		if v := x(k); math.Abs(v) > math.Abs(tAmp) {
			tAmp = v
		}
	}
	r.tPos = tAmp >= tPosMinMV
	return r
}

// cross returns where, between samples a and b = a+1, x passes level
// (linear interpolation), as a fractional sample index.
func cross(x func(int) float64, a, b int, level float64) float64 {
	va, vb := x(a), x(b)
	if va == vb {
		return float64(b)
	}
	f := (level - va) / (vb - va)
	return float64(a) + min(1, max(0, f))
}

// qGroups are the contiguous lead groups of the 4th UDMI.
var qGroups = [][]string{{"I", "aVL"}, {"V1", "V2", "V3", "V4", "V5", "V6"}, {"II", "III", "aVF"}}

// pathologicalQ reports whether a Q wave in canonical lead c meets the
// 4th UDMI limits for that lead (lead III, aVR and V1 are not among the
// leads the criterion names).
func pathologicalQ(c string, q LeadQ) bool {
	switch c {
	case "V2", "V3":
		return q.Ms > qV2V3Ms || q.QS
	case "I", "II", "aVL", "aVF", "V4", "V5", "V6":
		return (q.Ms >= qOtherMs && q.MV >= qOtherMV) || q.QS
	}
	return false
}

// qWaveFinding returns the q_wave_infarction finding of measurements m
// (the whole record, samples [0, n)), or false.
func (s *Stream) qWaveFinding(m Measurements, n int64) (Finding, bool) {
	good := s.goodMask()
	byLead := map[string]LeadQ{}
	for _, q := range m.Q {
		if c := canonicalLead(q.Lead); good[q.Lead] && pathologicalQ(c, q) {
			byLead[c] = q
		}
	}
	var leads, parts []string
	longest := 0.0
	for _, g := range qGroups {
		var hit []string
		for _, c := range g {
			if _, ok := byLead[c]; ok {
				hit = append(hit, c)
			}
		}
		if len(hit) < 2 {
			continue
		}
		for _, c := range hit {
			q := byLead[c]
			leads = append(leads, q.Lead)
			longest = max(longest, q.Ms)
			if q.QS {
				parts = append(parts, fmt.Sprintf("%s QS %.0f ms %.2f mV", c, q.Ms, q.MV))
			} else {
				parts = append(parts, fmt.Sprintf("%s Q %.0f ms %.2f mV", c, q.Ms, q.MV))
			}
		}
	}
	// The posterior equivalent: R ≥ 40 ms with R/S ≥ 1 and an upright T
	// in both V1 and V2, with a narrow QRS.
	if m.QRSms > 0 && m.QRSms < qrsWideMS {
		var rLeads, rParts []string
		for i, name := range []string{"V1", "V2"} {
			r := m.rV1V2[i]
			for _, st := range m.ST {
				if canonicalLead(st.Lead) == name && good[st.Lead] && r.ms >= rV1V2Ms && st.RmV >= -st.SmV && r.tPos {
					rLeads = append(rLeads, st.Lead)
					rParts = append(rParts, fmt.Sprintf("%s R %.0f ms, R/S ≥ 1, T upright", name, r.ms))
				}
			}
		}
		if len(rLeads) == 2 {
			leads, parts = append(leads, rLeads...), append(parts, rParts...)
			longest = max(longest, m.rV1V2[0].ms, m.rV1V2[1].ms)
		}
	}
	if len(parts) == 0 {
		return Finding{}, false
	}
	return Finding{Code: "q_wave_infarction",
		Title:    "Q waves of prior or evolving myocardial infarction (4th UDMI Q-wave criteria): " + strings.Join(parts, "; "),
		TitleZH:  "病理性 Q 波或其后壁等位改变(陈旧或演变期心肌梗死,第四版心肌梗死通用定义):" + strings.Join(parts, ";"),
		Severity: clinic.SeverityMajor, Start: 0, End: n, Leads: leads, Value: longest, Unit: "ms"}, true
}
