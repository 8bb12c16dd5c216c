package ecg

import (
	"fmt"
	"math"
	"slices"

	"github.com/yizhu-health/yizhu/clinic"
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
// as a T wave's tail or baseline wander, taken after a moving average
// over avPSmoothS. A P wave lasts 80–120 ms (AHA/ACCF/HRS 2009), so the
// average keeps it while it flattens spikes and muscle noise, which
// otherwise pass for small P waves; for the same reason a peak narrower
// than avPMinWidthS at half its height is not a P wave. A P wave must
// also stand out from the noise of the stretch: at least min_p_snr
// times the standard deviation of the second difference there
// (robustSD). Complete AV block is diagnosed only on P
// waves so demonstrated; where the rate is slow and they cannot be,
// the report says that P waves were not measurable instead.
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
	avPSmoothS       = 0.02 // moving average before the P search
	avPMinWidthS     = 0.03 // least width of a P wave at half its height
	avPSeenShare     = 0.6  // share of RR intervals with a P wave seen
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
	// searched and withP count, over the whole stream, the RR intervals
	// searched for P waves and those in which one was found (the "P
	// waves not measurable" note).
	searched, withP int
	// slowFrom and slowTo span the searched intervals without a P wave.
	slowFrom, slowTo int64
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
	smoothP(x, z, max(1, int(avPSmoothS*fs/2)))
	for k := w; k < n-w; k++ {
		z[k] = x[k] - (x[k-w]+x[k+w])/2
	}
	minAmp := max(float32(rule.Params["min_p_mv"]), float32(rule.Params["min_p_snr"])*robustSD(z[w:n-w], x[:n-2*w]))
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
		// A P wave lasts 80–120 ms: a peak narrower than avPMinWidthS at
		// half its height is a spike or muscle noise.
		a, b := best, best
		for a > w && z[a-1]*sign >= bv/2 {
			a--
		}
		for b < n-w-2 && z[b+1]*sign >= bv/2 {
			b++
		}
		if float64(b-a+1)/fs < avPMinWidthS {
			for k := a; k <= b; k++ {
				z[k] = 0
			}
			continue
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
	av.searched++
	if lastP >= 0 {
		pr = float32(float64(r-lastP) / fs)
		av.withP++
	} else {
		if av.slowTo == 0 {
			av.slowFrom = prev
		}
		av.slowTo = r
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
	if av.beats < need || av.pN < need/2 || !s.regularRR(need) || s.conducting(need) {
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
	// The atria beat on through every RR interval: a P wave must have
	// been seen in most of them, not in a few, which noise peaks fitted
	// to a cycle by its multiples could also give.
	seen := 0
	for k := 0; k < min(av.prN, need); k++ {
		if av.pr[(av.prI-1-k+2*avPRRing)%avPRRing] >= 0 {
			seen++
		}
	}
	if float64(seen) < avPSeenShare*float64(need) || npr < need/2 || prRange < rule.Params["min_pr_range_ms"] || float64(hi) < avMinPRSpan {
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

// smoothP replaces x by its moving average over 2h+1 samples (shorter at
// the ends), using tmp (len(x)) as scratch.
func smoothP(x, tmp []float32, h int) {
	n := len(x)
	var sum float64
	for k := 0; k < min(h, n); k++ {
		sum += float64(x[k])
	}
	for k := range n {
		if k+h < n {
			sum += float64(x[k+h])
		}
		if k-h-1 >= 0 {
			sum -= float64(x[k-h-1])
		}
		tmp[k] = float32(sum / float64(min(n-1, k+h)-max(0, k-h)+1))
	}
	copy(x, tmp)
}

// robustSD returns the noise level of z, the standard deviation that
// its median absolute value implies for Gaussian noise (1.4826 × the
// median), which P waves, a small part of the stretch, hardly move;
// scratch (len(z)) is overwritten.
func robustSD(z, scratch []float32) float32 {
	if len(z) == 0 {
		return 0
	}
	for i, v := range z {
		scratch[i] = abs32(v)
	}
	slices.Sort(scratch)
	return 1.4826 * scratch[len(z)/2]
}

// pWavesNotMeasurable is the share of searched RR intervals without a P
// wave above which the report notes that P waves were not measurable at
// slow rates.
const pWavesNotMeasurable = 0.5

// avFindings returns the "P waves not measurable" note when the rate was
// slow enough for the AV-block search over at least min_beats intervals
// and most of them showed no P wave that stood out from the noise: the
// rhythm may then be sinus with low P waves, junctional or complete AV
// block, and the reading doctor has to decide.
func (s *Stream) avFindings() []Finding {
	av := &s.rh.av
	r := s.rules.rule("av_block_3")
	if r == nil || float64(av.searched) < r.Params["min_beats"] ||
		float64(av.searched-av.withP) <= pWavesNotMeasurable*float64(av.searched) {
		return nil
	}
	return []Finding{{Code: "p_waves_not_measurable",
		Title:    "P waves not measurable at a slow ventricular rate: AV conduction cannot be assessed",
		TitleZH:  "心室率缓慢时 P 波无法辨认,房室传导无法评估",
		Severity: clinic.SeverityInfo, Start: av.slowFrom, End: av.slowTo, Leads: []string{s.cfg.Leads[s.avLead()]},
		Value: round3(float64(av.searched-av.withP) / float64(av.searched)), Unit: "share of slow RR intervals"}}
}

// avConductedShare is the share of recent beats whose P wave matches the
// averaged beat's (see conducting) at which the atria count as
// conducting.
const avConductedShare = 0.25

// conducting reports whether the atria are seen to conduct: the averaged
// beat has a P wave at a fixed PR interval (Measurements.PRms > 0), which
// averaging keeps only when P waves are time-locked to the QRS, and at
// least avConductedShare of the last k beats show that P wave in its
// place (beatHistory.pwave). In complete AV block the P waves fall at
// random before each QRS and average away; in sinus rhythm with low,
// noisy P waves averaging brings them out, however many noise peaks the
// P-wave search picks up between beats.
func (s *Stream) conducting(k int) bool {
	if !s.measOK || s.meas.PRms == 0 {
		return false
	}
	with := 0
	k = min(k, s.hist.n)
	for i := range k {
		if s.hist.pwave[(s.hist.i-1-i+2*historyBeats)%historyBeats] == 1 {
			with++
		}
	}
	return float64(with) >= avConductedShare*float64(k)
}
