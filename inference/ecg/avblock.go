package ecg

import (
	"fmt"
	"math"
)

// Third-degree AV block: the atria and ventricles beat independently
// (AHA/ACCF/HRS 2009 recommendations for the standardization and
// interpretation of the ECG; 2018 ACC/AHA/HRS bradycardia guideline): P
// waves march through at their own, faster rate, the PR interval varies
// from beat to beat, and a regular escape rhythm drives the ventricles.
// The search runs only while the ventricular rate is below the rule's
// limit, so it costs nothing at normal rates.
//
// P waves are found in the stretch between the end of one beat's T wave
// and the next QRS, on lead II when it is of good quality (else the first
// good lead), as peaks of a second difference at the P-wave scale
// (x[k] − (x[k−w] + x[k+w])/2, w = 50 ms), which is flat on slopes such
// as a T wave's tail or baseline wander.
const (
	avPHalfS    = 0.05  // half width of the P-wave second difference
	avPMinGapS  = 0.20  // two P waves are at least this far apart
	avPreQRSS   = 0.08  // the search ends this long before R
	avTMarginS  = 0.06  // and starts this long after the T end
	avPPTol     = 0.15  // PP intervals within 15 % of a multiple of the median
	avPPShare   = 0.75  // share of PP intervals that must fit
	avPolShare  = 0.8   // share of P waves with the dominant polarity
	avMaxRR     = 2.2   // s: a longer RR is not searched (ring buffer)
	avPRing     = 32    // P waves kept
	avPRRing    = 16    // PR intervals kept
	avDefaultQT = 0.42  // s, R to T end when QT is not measured
	avPAmpCV    = 0.35  // P amplitudes vary by less than this (noise does not)
	avMinPRSpan = 0.020 // s: PR intervals must be measurable to this span
	// PR intervals within avPRCluster of their median may be at most
	// avPRClusterShare of them.
	avPRCluster      = 0.04
	avPRClusterShare = 0.5
)

// avBlockRuleID is the ID of the third-degree AV block rule in the
// default rule set; its alerts also become a report finding.
const avBlockRuleID = "ecg.av_block_3"

// avState is the P-wave bookkeeping of the AV-block search.
type avState struct {
	pAt    [avPRing]int64
	pAmp   [avPRing]float32
	pN, pI int
	pr     [avPRRing]float32 // s, R minus the last P wave before it; <0 none
	prN    int
	prI    int
	beats  int // beats searched in a row
	buf    []float32
	z      []float32
}

func (a *avState) reset() { a.pN, a.pI, a.prN, a.prI, a.beats = 0, 0, 0, 0, 0 }

func (a *avState) pushP(at int64, amp float32) {
	a.pAt[a.pI], a.pAmp[a.pI] = at, amp
	a.pI = (a.pI + 1) % avPRing
	a.pN = min(a.pN+1, avPRing)
}

// p returns the k-th most recent P wave (k = 0 newest).
func (a *avState) p(k int) (int64, float32) {
	j := (a.pI - 1 - k + 2*avPRing) % avPRing
	return a.pAt[j], a.pAmp[j]
}

// avBlock searches the RR interval that ended with the beat at r (the
// previous beat at prev) for P waves and evaluates the rule.
func (s *Stream) avBlock(dst []Event, prev, r int64) []Event {
	rule := s.rules.rule("av_block_3")
	av := &s.rh.av
	fs := s.fs
	if rule == nil {
		return dst
	}
	rr := float64(r-prev) / fs
	if prev <= 0 || rr > avMaxRR || rr <= 0 || 60/rr >= rule.Params["max_ventricular_rate_bpm"] {
		av.reset()
		s.alerts.active["av_block_3"] = false
		return dst
	}
	lead := s.avLead()
	if s.lastQ[lead] != QualityGood {
		av.reset()
		return dst
	}
	qt := avDefaultQT
	if s.measOK && s.meas.QTms > 0 {
		// QTms runs from QRS onset; R is about 40 ms later
		qt = s.meas.QTms/1000 - 0.04
	}
	lo := prev + int64((qt+avTMarginS)*fs)
	hi := r - int64(avPreQRSS*fs)
	w := int(avPHalfS * fs)
	n := int(hi-lo) + 2*w
	if hi-lo < int64(2*w) {
		av.reset()
		return dst
	}
	if cap(av.buf) < n {
		av.buf = make([]float32, int(avMaxRR*fs)+2*w)
		av.z = make([]float32, int(avMaxRR*fs)+2*w)
	}
	if n > cap(av.buf) || !s.clean[lead].ring.Copy(av.buf[:n], lo-int64(w)) {
		av.reset()
		return dst
	}
	x := av.buf[:n]
	z := av.z[:n]
	for k := w; k < n-w; k++ {
		z[k] = x[k] - (x[k-w]+x[k+w])/2
	}
	minAmp := float32(rule.Params["min_p_mv"])
	gap := int(avPMinGapS * fs)
	// Local extrema of |z| above the amplitude floor, at least gap apart,
	// taken largest first.
	// Peaks below half the interval's largest, or half the recent P
	// waves' median amplitude, are noise.
	if ref := s.recentPAmp(); ref > 0 {
		minAmp = max(minAmp, ref/2)
	}
	// Sinus P waves are upright in lead II (the atria are still driven
	// by the sinus node in complete AV block): on II only positive peaks
	// count; on other leads either polarity.
	sign := float32(1)
	if s.canon[lead] != "II" {
		for k := w; k < n-w; k++ {
			z[k] = abs32(z[k])
		}
	}
	lastP := int64(-1)
	for {
		best, bv := -1, minAmp
		for k := w + 1; k < n-w-1; k++ {
			v := z[k] * sign
			if v >= bv && v >= z[k-1]*sign && v >= z[k+1]*sign {
				best, bv = k, v
			}
		}
		if best < 0 {
			break
		}
		av.pushP(lo-int64(w)+int64(best), z[best])
		minAmp = max(minAmp, bv/2)
		lastP = max(lastP, lo-int64(w)+int64(best))
		for k := max(w, best-gap); k < min(n-w, best+gap); k++ {
			z[k] = 0
		}
	}
	// keep the P ring in time order for this interval
	s.sortRecentP(lo)
	pr := float32(-1)
	if lastP >= 0 {
		pr = float32(float64(r-lastP) / fs)
	}
	av.pr[av.prI] = pr
	av.prI = (av.prI + 1) % avPRRing
	av.prN = min(av.prN+1, avPRRing)
	av.beats++
	return s.avDecide(dst, rule, r, rr)
}

// sortRecentP orders the P waves found at or after from by time.
func (s *Stream) sortRecentP(from int64) {
	av := &s.rh.av
	k := 0
	for k < av.pN {
		if at, _ := av.p(k); at < from {
			break
		}
		k++
	}
	for i := 0; i < k; i++ {
		for j := i + 1; j < k; j++ {
			ai, _ := av.p(i)
			aj, _ := av.p(j)
			if aj > ai {
				ii := (av.pI - 1 - i + 2*avPRing) % avPRing
				jj := (av.pI - 1 - j + 2*avPRing) % avPRing
				av.pAt[ii], av.pAt[jj] = av.pAt[jj], av.pAt[ii]
				av.pAmp[ii], av.pAmp[jj] = av.pAmp[jj], av.pAmp[ii]
			}
		}
	}
}

// avDecide applies the third-degree AV block criteria to the P waves and
// beats of the last min_beats RR intervals.
func (s *Stream) avDecide(dst []Event, rule *Rule, r int64, rr float64) []Event {
	av := &s.rh.av
	fs := s.fs
	need := int(rule.Params["min_beats"])
	if av.beats < need || av.pN < need/2 || !s.regularRR(need) {
		return dst
	}
	// P waves of the searched span, oldest last.
	var pp [avPRing]float32
	np := 0
	var pos, neg int
	var sum, sum2 float64
	m := 0
	for k := 0; k < av.pN; k++ {
		at, amp := av.p(k)
		if float64(r-at)/fs > float64(need)*rr*1.2 {
			break
		}
		m++
		if amp > 0 {
			pos++
		} else {
			neg++
		}
		a := math.Abs(float64(amp))
		sum += a
		sum2 += a * a
		if k+1 < av.pN {
			prevAt, _ := av.p(k + 1)
			pp[np] = float32(float64(at-prevAt) / fs)
			np++
		}
	}
	if m < need/2 || np < need/2 || float64(max(pos, neg)) < avPolShare*float64(m) {
		return dst
	}
	mean := sum / float64(m)
	if cv := math.Sqrt(max(0, sum2/float64(m)-mean*mean)) / mean; cv > avPAmpCV {
		return dst
	}
	// Atrial cycle: most PP intervals must be a whole multiple of it (P
	// waves hidden in a QRS or T wave leave double intervals).
	ppMed, fit := atrialCycle(pp[:np])
	if ppMed <= 0 {
		return dst
	}
	atrial, ventricular := 60/ppMed, s.recentHR(need)
	if float64(fit) < avPPShare*float64(np) || ventricular <= 0 || atrial < rule.Params["min_atrial_ventricular_ratio"]*ventricular {
		return dst
	}
	// PR intervals: the P wave before each QRS (when one was seen within
	// an atrial cycle of it) must wander: spread over min_pr_range_ms and
	// not clustered round one value, as conducted beats would be (a 2:1
	// block's PR is fixed even when P detection jitters).
	lo, hi := float32(math.MaxFloat32), float32(-1)
	var prs [avPRRing]float32
	npr := 0
	for k := 0; k < min(av.prN, need); k++ {
		v := av.pr[(av.prI-1-k+2*avPRRing)%avPRRing]
		if v < 0 || float64(v) > 1.1*ppMed {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
		prs[npr] = v
		npr++
	}
	prRange := float64(hi-lo) * 1000
	if npr < need/2 || prRange < rule.Params["min_pr_range_ms"] || float64(hi) < avMinPRSpan {
		return dst
	}
	var tmp [avPRRing]float32
	copy(tmp[:npr], prs[:npr])
	med := median(tmp[:npr])
	near := 0
	for _, v := range prs[:npr] {
		if abs32(v-med) <= avPRCluster {
			near++
		}
	}
	if float64(near) > avPRClusterShare*float64(npr) {
		return dst
	}
	if s.alerts.active["av_block_3"] {
		return dst
	}
	s.alerts.active["av_block_3"] = true
	start, _, _ := s.hist.at(min(need, s.hist.n-1))
	return s.raise(dst, rule, start, r, []string{s.cfg.Leads[s.avLead()]},
		map[string]float64{"atrial_rate_bpm": math.Round(atrial), "ventricular_rate_bpm": math.Round(ventricular), "pr_range_ms": math.Round(prRange)},
		fmt.Sprintf("P waves at %.0f/min independent of a regular ventricular rhythm at %.0f/min (PR varies over %.0f ms)", atrial, ventricular, prRange))
}

// atrialCycle returns the atrial cycle (s) that the most PP intervals
// are a multiple (1 to 3) of, within avPPTol, and how many fit. Each
// interval divided by 1, 2 or 3 is a candidate; among those with the
// most fits the longest wins (a half cycle fits every interval
// twice over), and the result is the median of the
// fitted intervals divided by their multiples.
func atrialCycle(pp []float32) (float64, int) {
	var fitted [avPRing]float32
	fits := func(c float64, out []float32) int {
		n := 0
		for _, v := range pp {
			k := math.Round(float64(v) / c)
			if k >= 1 && k <= 3 && math.Abs(float64(v)-k*c) <= avPPTol*c {
				if out != nil {
					out[n] = float32(float64(v) / k)
				}
				n++
			}
		}
		return n
	}
	best, bestN := 0.0, 0
	for _, v := range pp {
		for k := 1.0; k <= 3; k++ {
			c := float64(v) / k
			if c < 0.25 { // faster than 240/min is not a sinus P rate
				continue
			}
			if n := fits(c, nil); n > bestN || (n == bestN && c > best) {
				best, bestN = c, n
			}
		}
	}
	if bestN == 0 {
		return 0, 0
	}
	n := fits(best, fitted[:])
	return float64(median(fitted[:n])), n
}

// recentPAmp returns the median |amplitude| of the last P waves found,
// or 0.
func (s *Stream) recentPAmp() float32 {
	av := &s.rh.av
	var a [8]float32
	k := min(av.pN, len(a))
	if k < 3 {
		return 0
	}
	for i := range k {
		_, v := av.p(i)
		a[i] = abs32(v)
	}
	return median(a[:k])
}

// avLead is the lead the P waves are searched on.
func (s *Stream) avLead() int {
	lead := 0
	for l, q := range s.lastQ {
		if q == QualityGood {
			if s.canon[l] == "II" {
				return l
			}
			if s.lastQ[lead] != QualityGood {
				lead = l
			}
		}
	}
	return lead
}
