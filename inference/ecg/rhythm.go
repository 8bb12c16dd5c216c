package ecg

import (
	"fmt"
	"math"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg/dsp"
)

// Rhythm is a rhythm class. The sinus classes mean a regular rhythm with
// narrow, template-matching QRS complexes, classed by rate; P waves are
// measured on the averaged beat (Measurements.PRms) but not required.
type Rhythm string

// Rhythm classes.
const (
	RhythmSinus       Rhythm = "sinus"
	RhythmSinusBrady  Rhythm = "sinus_bradycardia" // < 60/min
	RhythmSinusTachy  Rhythm = "sinus_tachycardia" // > 100/min
	RhythmAF          Rhythm = "atrial_fibrillation"
	RhythmVT          Rhythm = "ventricular_tachycardia" // ≥ 3 V beats > 100/min
	RhythmVF          Rhythm = "ventricular_fibrillation"
	RhythmAsystole    Rhythm = "asystole"
	RhythmBigeminy    Rhythm = "bigeminy"
	RhythmTrigeminy   Rhythm = "trigeminy"
	RhythmUnreadable  Rhythm = "unreadable" // every lead off or clipped
	rhythmNone        Rhythm = ""
	rhythmConfirmBeat        = 4
)

// Rhythm thresholds. AF: the median absolute successive RR difference over
// the last 12 intervals exceeds 10 % of the median RR and the RMSSD
// exceeds 10 % of the mean (RR-irregularity detectors such as Tateno &
// Glass 2001 and Dash et al. 2009 use the same statistics).
const (
	afWindow     = 12
	afMinRR      = 8
	afMedianDiff = 0.10
	afRMSSD      = 0.10
	afExitFactor = 0.6
	// With P waves absent from nearly every beat of the window (at most
	// one in afNoPShare), the median successive difference needs only
	// exceed afMedianDiffNoP: AF detectors that combine P-wave absence
	// with RR irregularity (Couceiro et al., EMBC 2008; Ladavich &
	// Ghoraani, Biomed Signal Process Control 2015) need less RR evidence
	// when the atrial evidence agrees, which keeps AF at fast ventricular
	// rates, where successive RR differences shrink, from reading as
	// sinus tachycardia.
	afMedianDiffNoP = 0.05
	afNoPShare      = 6
	// At fast ventricular rates AF's successive differences shrink while
	// its RMSSD stays high: a window whose normalised RMSSD exceeds
	// afFastRMSSD, whose median successive difference exceeds
	// afFastMedianDiff and whose turning points are as many as a random
	// sequence's (within 2 SD of 2(n−2)/3: the turning-point test of
	// randomness used by Dash et al., Ann Biomed Eng 2009;37:1701–1709)
	// is irregularly irregular too. Sinus rhythm with trends has too few
	// turning points; alternating ectopy has too many.
	afFastRMSSD      = 0.15
	afFastMedianDiff = 0.05
	afBackdate       = afWindow / 2 // beats
	vtMinRun         = 3
	vfWindowS        = 2.0
	vfShare          = 0.55
	vfMinZC          = 5.0 // zero crossings per second
	vfMaxZC          = 24.0
	vfMinAmpMV       = 0.15
)

// Alert is a critical value raised by a rule, with its evidence. Start
// and End are sample indices of the stretch that met the rule.
type Alert struct {
	clinic.Alert
	Start  int64              `json:"start"`
	End    int64              `json:"end"`
	Leads  []string           `json:"leads,omitempty"`
	Values map[string]float64 `json:"values,omitempty"`
	Source string             `json:"source"`
}

type rhythmState struct {
	cur       Rhythm
	curStart  int64
	cand      Rhythm
	candStart int64
	candN     int
	irregular bool

	vRun      int
	vRunStart int64

	hrLowSince, hrHighSince int64
	vfWins                  int
	vfQuiet                 int // windows in a row that did not meet the VF test
	vfStart                 int64
	lastVFCheck             int64
	gapBad                  bool
	gapAlerted              bool
	unreadable              bool
	rr                      [afWindow]float32
	sorted                  [afWindow]float32
	av                      avState
}

func newRhythmState() rhythmState {
	return rhythmState{hrLowSince: -1, hrHighSince: -1, vfStart: -1}
}

type alertState struct {
	active map[string]bool
	// longQTc counts consecutive measurements with the QTc at or above
	// the long_qtc_ront limit.
	longQTc int
}

func newAlertState(*Rules) alertState { return alertState{active: map[string]bool{}} }

// blockQuality is called when every lead finished a quality block.
func (s *Stream) blockQuality(at int64) {
	good := false
	for _, q := range s.lastQ {
		if q == QualityGood {
			good = true
		}
	}
	if !good {
		s.rh.gapBad = true
		s.rh.hrLowSince, s.rh.hrHighSince = -1, -1
		s.alerts.active["vt_sustained"] = false
		s.rh.vfWins = 0
	}
	_, usable := s.usableLeads()
	s.rh.unreadable = usable == 0
}

// onBeat updates the rhythm after a fused beat.
func (s *Stream) onBeat(dst []Event, b Beat, width float32) []Event {
	rh := &s.rh
	fs := s.fs
	var rr int64
	if s.hist.n >= 2 {
		prev, _, _ := s.hist.at(1)
		rr = b.Sample - prev
		if r := s.rules.rule("pause"); r != nil && !rh.gapBad && !rh.gapAlerted &&
			float64(rr) >= r.Params["min_pause_s"]*fs {
			dst = s.raise(dst, r, prev, b.Sample, s.goodLeadNames(), map[string]float64{"pause_s": round3(float64(rr) / fs)},
				fmt.Sprintf("RR interval %.2f s", float64(rr)/fs))
		}
	}
	if rr > 0 && !rh.gapBad {
		prev, _, _ := s.hist.at(1)
		dst = s.avBlock(dst, prev, b.Sample)
	}
	rh.gapBad, rh.gapAlerted = false, false
	if b.Label == LabelVentricular {
		if rh.vRun == 0 {
			rh.vRunStart = b.Sample
		}
		rh.vRun++
	} else {
		rh.vRun = 0
	}
	hr := s.recentHR(8)
	typ := s.classify(s.rhythmRate(hr))
	dst = s.setRhythm(dst, typ, b.Sample)

	// Sustained VT.
	if r := s.rules.rule("vt_sustained"); r != nil && rh.cur == RhythmVT {
		dur := float64(b.Sample-rh.curStart) / fs
		runHR := s.runRate()
		if dur >= r.Params["min_duration_s"] && runHR >= r.Params["min_rate_bpm"] && !s.alerts.active["vt_sustained"] {
			s.alerts.active["vt_sustained"] = true
			dst = s.raise(dst, r, rh.curStart, b.Sample, s.goodLeadNames(),
				map[string]float64{"duration_s": round3(dur), "rate_bpm": math.Round(runHR)},
				fmt.Sprintf("ventricular tachycardia %.0f/min for %.1f s", runHR, dur))
		}
	} else if rh.cur != RhythmVT {
		s.alerts.active["vt_sustained"] = false
	}
	// Sustained heart-rate limits.
	if hr > 0 {
		dst = s.hrLimit(dst, "hr_low", hr, hr < s.param("hr_low", "below_bpm"), &rh.hrLowSince, b.Sample)
		dst = s.hrLimit(dst, "hr_high", hr, hr > s.param("hr_high", "above_bpm"), &rh.hrHighSince, b.Sample)
	}
	// Long QTc with R-on-T: a ventricular beat that falls before the end
	// of the previous beat's T wave (coupling interval < QT).
	// One alert per stretch of long QTc: it re-arms when a measurement
	// finds the QTc below the limit again (onMeasure).
	// The QTc must have stayed long over min_measurements consecutive
	// measurements (each a fresh average of up to 8 beats), so that one
	// template disturbed by ectopy or noise cannot raise it.
	if r := s.rules.rule("long_qtc_ront"); r != nil && b.Label == LabelVentricular && s.measOK && rr > 0 &&
		float64(s.alerts.longQTc) >= r.Params["min_measurements"] &&
		s.meas.QTcBazettMs >= r.Params["min_qtc_ms"] && float64(rr)*1000/fs < s.meas.QTms && !s.alerts.active["long_qtc_ront"] {
		s.alerts.active["long_qtc_ront"] = true
		dst = s.raise(dst, r, b.Sample-rr, b.Sample, s.goodLeadNames(),
			map[string]float64{"qtc_ms": s.meas.QTcBazettMs, "qt_ms": s.meas.QTms, "coupling_ms": math.Round(float64(rr) * 1000 / fs)},
			fmt.Sprintf("QTc %.0f ms, ventricular beat %.0f ms after the previous R (QT %.0f ms)", s.meas.QTcBazettMs, float64(rr)*1000/fs, s.meas.QTms))
	}
	return dst
}

func (s *Stream) param(kind, name string) float64 {
	if r := s.rules.rule(kind); r != nil {
		return r.Params[name]
	}
	return math.NaN()
}

func (s *Stream) hrLimit(dst []Event, kind string, hr float64, beyond bool, since *int64, now int64) []Event {
	r := s.rules.rule(kind)
	if r == nil {
		return dst
	}
	if !beyond {
		*since = -1
		s.alerts.active[kind] = false
		return dst
	}
	if *since < 0 {
		*since = now
	}
	dur := float64(now-*since) / s.fs
	if dur >= r.Params["min_duration_s"] && !s.alerts.active[kind] {
		s.alerts.active[kind] = true
		dst = s.raise(dst, r, *since, now, s.goodLeadNames(), map[string]float64{"hr_bpm": math.Round(hr), "duration_s": round3(dur)},
			fmt.Sprintf("heart rate %.0f/min for %.1f s", hr, dur))
	}
	return dst
}

// recentHR returns the rate (per minute) from the last k RR intervals, or 0.
func (s *Stream) recentHR(k int) float64 {
	if s.hist.n < 2 {
		return 0
	}
	k = min(k, s.hist.n-1)
	a, _, _ := s.hist.at(0)
	b, _, _ := s.hist.at(k)
	if a <= b {
		return 0
	}
	return 60 * s.fs * float64(k) / float64(a-b)
}

// rhythmRate is the rate the rhythm is named by: that of the prevailing
// RR (see prevailingRR), so that one pause, reported as its own episode
// and alert, does not name the sinus beats after it a bradycardia; hr (the
// mean rate of the last beats, which the rate alerts read, pauses
// included) when there are too few intervals.
func (s *Stream) rhythmRate(hr float64) float64 {
	if hr == 0 {
		return 0
	}
	if rr := s.prevailingRR(); rr > 0 {
		return 60 * s.fs / float64(rr)
	}
	return hr
}

// runRate returns the rate of the current ventricular run or rhythm.
func (s *Stream) runRate() float64 { return s.recentHR(8) }

// classify returns the rhythm class after the newest beat.
func (s *Stream) classify(hr float64) Rhythm {
	rh := &s.rh
	if rh.vfWins >= 2 {
		return RhythmVF
	}
	if rh.vRun >= vtMinRun && s.recentHR(vtMinRun-1) > 100 {
		return RhythmVT
	}
	rh.irregular = s.afIrregular()
	if rh.irregular {
		return RhythmAF
	}
	if s.hist.n >= 6 {
		var l [6]Label
		for i := range l {
			_, l[i], _ = s.hist.at(i)
		}
		ect := func(x Label) bool { return x == LabelVentricular }
		if ect(l[0]) != ect(l[1]) && ect(l[1]) != ect(l[2]) && ect(l[2]) != ect(l[3]) && ect(l[3]) != ect(l[4]) && ect(l[4]) != ect(l[5]) {
			return RhythmBigeminy
		}
		for off := range 3 {
			if ect(l[off]) && ect(l[off+3]) && !ect(l[(off+1)%6]) && !ect(l[(off+2)%6]) && !ect(l[(off+4)%6]) && !ect(l[(off+5)%6]) {
				return RhythmTrigeminy
			}
		}
	}
	// Rate classes with 3/min hysteresis so that a rate hovering at a
	// limit does not flap.
	lo, hi := 60.0, 100.0
	switch rh.cur {
	case RhythmSinusBrady:
		lo = 63
	case RhythmSinusTachy:
		hi = 97
	}
	switch {
	case hr == 0:
		return rhythmNone
	case hr < lo:
		return RhythmSinusBrady
	case hr > hi:
		return RhythmSinusTachy
	}
	return RhythmSinus
}

// afIrregular applies the RR-irregularity test to the last afWindow RR
// intervals, unless most of those beats have a P wave like the
// template's. The test passes on a median successive difference and an
// RMSSD above their limits (the first lower when P waves are absent from
// nearly every beat), or, for fast AF, on a high RMSSD with a random
// turning-point count. Intervals next to ventricular beats are left out, and so is
// every premature–compensatory pair (a short interval followed by a long
// one, the signature of an ectopic beat in sinus rhythm), so that
// frequent ectopy does not read as fibrillation.
func (s *Stream) afIrregular() bool {
	rh := &s.rh
	k, withP, knownP := 0, 0, 0
	for i := 0; i+1 < s.hist.n && k < afWindow; i++ {
		a, la, _ := s.hist.at(i)
		b, lb, _ := s.hist.at(i + 1)
		if p := s.hist.pwave[(s.hist.i-1-i+2*historyBeats)%historyBeats]; p >= 0 {
			knownP++
			withP += int(p)
		}
		if la == LabelVentricular || lb == LabelVentricular {
			continue
		}
		rh.rr[k] = float32(a - b)
		k++
	}
	// Atrial fibrillation has no P waves: a window where most beats show
	// the template's P wave is sinus rhythm with irregular conduction or
	// ectopy, not AF.
	if k < afMinRR || (knownP >= afMinRR/2 && 2*withP > knownP) {
		return false
	}
	sorted := rh.sorted[:k]
	copy(sorted, rh.rr[:k])
	med := median(sorted)
	// rh.rr is newest first: rr[i] follows rr[i+1] in time.
	n := 0
	for i := 0; i < k; i++ {
		if i+1 < k && rh.rr[i] > 1.1*med && rh.rr[i+1] < 0.85*med {
			i++ // drop the compensatory and the premature interval
			continue
		}
		rh.rr[n] = rh.rr[i]
		n++
	}
	if n < afMinRR-afMinRR/4 {
		return false
	}
	rr := rh.rr[:n]
	var mean, ssd float64
	for i, v := range rr {
		mean += float64(v)
		if i > 0 {
			d := float64(v - rr[i-1])
			ssd += d * d
		}
	}
	mean /= float64(n)
	rmssd := math.Sqrt(ssd / float64(n-1))
	diffs := rh.sorted[:n-1]
	for i := 1; i < n; i++ {
		diffs[i-1] = abs32(rr[i] - rr[i-1])
	}
	medDiff := median(diffs)
	sorted = rh.sorted[:n]
	copy(sorted, rr)
	medRR := median(sorted)
	// Hysteresis: once in AF, the rhythm must become clearly regular to
	// leave it, so that an AF episode does not flicker at the threshold.
	diffLim, rmssdLim := afMedianDiff, afRMSSD
	if knownP >= afMinRR && afNoPShare*withP <= knownP {
		diffLim = afMedianDiffNoP
	}
	if rh.cur == RhythmAF {
		diffLim, rmssdLim = afExitFactor*diffLim, afExitFactor*afRMSSD
	}
	fastDiff, fastRMSSD := afFastMedianDiff, afFastRMSSD
	if rh.cur == RhythmAF {
		fastDiff, fastRMSSD = afExitFactor*fastDiff, afExitFactor*fastRMSSD
	}
	if float64(medDiff) > diffLim*float64(medRR) && rmssd > rmssdLim*mean {
		return true
	}
	return float64(medDiff) > fastDiff*float64(medRR) && rmssd > fastRMSSD*mean && randomTurns(rr)
}

// randomTurns reports whether the turning points of x (local maxima and
// minima) are within two standard deviations of their count in a random
// sequence: mean 2(n−2)/3, variance (16n−29)/90 (Kendall's turning-point
// test).
func randomTurns(x []float32) bool {
	n := len(x)
	if n < 3 {
		return false
	}
	tp := 0
	for i := 1; i+1 < n; i++ {
		if (x[i] > x[i-1] && x[i] > x[i+1]) || (x[i] < x[i-1] && x[i] < x[i+1]) {
			tp++
		}
	}
	mu := 2 * float64(n-2) / 3
	sd := math.Sqrt(float64(16*n-29) / 90)
	return math.Abs(float64(tp)-mu) <= 2*sd
}

// median sorts x in place (insertion sort; x is short) and returns its
// median.
func median(x []float32) float32 {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
	if len(x) == 0 {
		return 0
	}
	if len(x)%2 == 1 {
		return x[len(x)/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}

// setRhythm debounces rhythm changes: ventricular rhythms and asystole
// switch at once, others after rhythmConfirmBeat beats in a row.
func (s *Stream) setRhythm(dst []Event, typ Rhythm, at int64) []Event {
	rh := &s.rh
	if typ == rhythmNone || typ == rh.cur {
		rh.cand, rh.candN = rhythmNone, 0
		return dst
	}
	if typ != rh.cand {
		rh.cand, rh.candStart, rh.candN = typ, at, 0
		switch {
		case typ == RhythmVT:
			rh.candStart = rh.vRunStart
		case typ == RhythmAF && s.hist.n > afBackdate:
			// The irregularity statistic describes the last afWindow
			// intervals: the episode began about half a window back
			// (never before the current rhythm began).
			at, _, _ := s.hist.at(afBackdate)
			rh.candStart = max(at, rh.curStart+1)
		case rh.cur == rhythmNone && s.hist.n > 0:
			// the first rhythm of a stream starts at its first beat
			rh.candStart, _, _ = s.hist.at(s.hist.n - 1)
		}
	}
	rh.candN++
	immediate := typ == RhythmVT || typ == RhythmVF || typ == RhythmAsystole || typ == RhythmUnreadable
	if !immediate && rh.candN < rhythmConfirmBeat && rh.cur != rhythmNone && rh.cur != RhythmAsystole && rh.cur != RhythmUnreadable {
		return dst
	}
	rh.cur, rh.curStart = typ, rh.candStart
	rh.cand, rh.candN = rhythmNone, 0
	return append(dst, Event{Kind: EventRhythm, Rhythm: RhythmChange{Sample: rh.curStart, Type: typ}})
}

// rhythmTick runs once per sub-chunk: asystole and pauses without a
// closing beat, ventricular fibrillation, unreadable signal.
func (s *Stream) rhythmTick(dst []Event) []Event {
	rh := &s.rh
	fs := s.fs
	now := s.n - int64((MaxLatency+fuseWindow)*fs)
	if rh.unreadable {
		if rh.cur != RhythmUnreadable {
			rh.cur, rh.curStart = RhythmUnreadable, s.n
			dst = append(dst, Event{Kind: EventRhythm, Rhythm: RhythmChange{Sample: max(0, s.n-int64(blockSeconds*fs)), Type: RhythmUnreadable}})
		}
		return dst
	}
	last := max(s.lastFused, int64(WarmUp*fs))
	if r := s.rules.rule("pause"); r != nil && now > last && float64(now-last) >= r.Params["min_pause_s"]*fs && !rh.gapBad {
		if !rh.gapAlerted {
			rh.gapAlerted = true
			dst = s.raise(dst, r, last, now, s.goodLeadNames(), map[string]float64{"pause_s": round3(float64(now-last) / fs)},
				fmt.Sprintf("no QRS complex for %.1f s on good-quality leads", float64(now-last)/fs))
			if rh.cur != RhythmAsystole {
				rh.cur, rh.curStart = RhythmAsystole, last+1
				dst = append(dst, Event{Kind: EventRhythm, Rhythm: RhythmChange{Sample: last + 1, Type: RhythmAsystole}})
			}
		}
	}
	if s.n-rh.lastVFCheck >= int64(fs) {
		rh.lastVFCheck = s.n
		dst = s.vfCheck(dst)
	}
	return dst
}

// vfCheck looks at the last 2 s of every lead that is not off. On each,
// after drift suppression (vfWave), fibrillation waves leave little
// isoelectric line (most samples above a fifth of the peak) and cross
// zero 5–24 times a second (VF 150–500/min). Ventricular fibrillation
// is a rhythm of the whole heart, so it shows on every lead at once,
// whereas muscle and motion artefact usually disturbs one lead or some:
// more than half of the leads not off must show it (with one lead, that
// lead; with two, both), at least one of them of good quality, the
// lead-agreement principle of multi-channel
// false-alarm suppression (Li & Clifford, J Electrocardiol
// 2012;45:596–603; Clifford et al., Physiol Meas 2016;37:E5–E23, the
// PhysioNet/CinC 2015 challenge on false ICU arrhythmia alarms). A
// regular narrow-QRS rhythm below 200/min or any regular rhythm below
// 240/min is organised, not fibrillation (monomorphic VT is organised;
// flutter waves at 250/min and more count as ventricular flutter).
//
// A noisy lead votes by its waveform like any other: muscle and motion
// artefact are common during an arrest, and two noisy limb electrodes
// make all six limb leads noisy, so counting noisy leads as votes
// against would let artefact hide a true fibrillation.
func (s *Stream) vfCheck(dst []Event) []Event {
	rh := &s.rh
	fs := s.fs
	n := int(vfWindowS * fs)
	buf := s.vfBuf
	recent := s.lastFused > s.n-int64(fs)
	organised := recent && ((s.hist.n >= 5 && !s.rh.irregular && s.hist.width[(s.hist.i+historyBeats-1)%historyBeats] < 110 && s.recentHR(4) < 200) ||
		(s.regularRR(6) && s.recentHR(6) < 240))
	// Fibrillation has no discrete QRS complexes (AHA/ACCF/HRS 2009
	// recommendations for the standardization and interpretation of the
	// ECG): two or more beats in the window whose QRS matches the
	// template as closely as a beat must to join it are organised
	// activity, whatever disturbs the leads between them.
	matched := 0
	for k := 0; k < s.hist.n; k++ {
		j := (s.hist.i - 1 - k + 2*historyBeats) % historyBeats
		if s.hist.sample[j] < s.n-int64(n) {
			break
		}
		if c := s.hist.corr[j]; c == c && c >= templateCorr {
			matched++
		}
	}
	// The waveform test runs only when the beats leave fibrillation
	// possible, and stops once a majority of the leads can no longer
	// show it (it is the costliest step of the stream at normal rates
	// otherwise).
	usable, goodHits, hits := 0, 0, 0
	var zc float64
	var leads []string
	if !organised && matched < 2 {
		for _, q := range s.lastQ {
			if q != QualityLeadOff {
				usable++
			}
		}
		misses := 0
		for l, q := range s.lastQ {
			if q == QualityLeadOff {
				continue
			}
			if 2*(usable-misses) <= usable {
				break // a majority is out of reach
			}
			if n > len(buf) || !s.clean[l].ring.Copy(buf[:n], s.n-int64(n)) {
				misses++
				continue
			}
			if st := vfWave(buf[:n], fs); st.fibrillatory() {
				hits++
				if q == QualityGood {
					goodHits++
				}
				zc = max(zc, st.zcRate)
				leads = append(leads, s.cfg.Leads[l])
			} else {
				misses++
			}
		}
	}
	if goodHits == 0 || 2*hits <= usable {
		// One window that looks organised inside an episode (a run of
		// fibrillation waves regular enough to pass for beats) does not
		// end it: two in a row do, as two windows start it.
		rh.vfQuiet++
		if rh.vfWins >= 2 && rh.vfQuiet < 2 {
			return dst
		}
		rh.vfWins = 0
		s.alerts.active["vf"] = false
		return dst
	}
	rh.vfQuiet = 0
	rh.vfWins++
	if rh.vfWins == 1 {
		rh.vfStart = s.n - int64(n)
	}
	if rh.vfWins >= 2 && rh.cur != RhythmVF {
		rh.cur, rh.curStart = RhythmVF, rh.vfStart
		dst = append(dst, Event{Kind: EventRhythm, Rhythm: RhythmChange{Sample: rh.vfStart, Type: RhythmVF}})
	}
	if r := s.rules.rule("vf"); r != nil && !s.alerts.active["vf"] && float64(s.n-rh.vfStart) >= r.Params["min_duration_s"]*fs {
		s.alerts.active["vf"] = true
		dst = s.raise(dst, r, rh.vfStart, s.n, leads,
			map[string]float64{"duration_s": round3(float64(s.n-rh.vfStart) / fs), "wave_rate_per_min": math.Round(zc * 30),
				"leads_fibrillating": float64(hits), "leads_not_off": float64(usable)},
			fmt.Sprintf("fibrillatory waves at about %.0f/min for %.1f s on %d of %d leads", zc*30, float64(s.n-rh.vfStart)/fs, hits, usable))
	}
	return dst
}

// vfStats are the fibrillation statistics of one lead's window.
type vfStats struct {
	peak   float32 // largest deviation from the mean, mV
	share  float64 // share of samples beyond a fifth of peak
	zcRate float64 // zero crossings per second
}

// fibrillatory reports whether the statistics are those of
// fibrillation or flutter waves.
func (v vfStats) fibrillatory() bool {
	return v.peak >= vfMinAmpMV && v.share >= vfShare && v.zcRate >= vfMinZC && v.zcRate <= vfMaxZC
}

// vfDriftHz is the drift-suppression high-pass of the VF statistics:
// the pre-processing of the VF detectors compared by Amann et al.
// (BioMed Eng OnLine 2005;4:60) removes what lies below 1 Hz, so that
// baseline wander under small QRS complexes (the clean signal keeps
// everything above 0.05 Hz) is not taken for waves that never return to
// an isoelectric line.
const vfDriftHz = 1.0

// vfRateHz is the rate the VF statistics are computed at: fibrillation
// waves lie below 10 Hz and the clean signal below 40 Hz, so every k-th
// sample with fs/k at least vfRateHz keeps what the statistics count,
// at a fraction of the cost.
const vfRateHz = 125.0

// vfWave computes the fibrillation statistics of x (modified in place):
// drift suppression, then the share of samples away from the mean and
// the zero-crossing rate, on every k-th sample (see vfRateHz).
func vfWave(x []float32, fs float64) vfStats {
	k := max(1, int(fs/vfRateHz))
	n := 0
	for i := 0; i < len(x); i += k {
		x[n] = x[i]
		n++
	}
	x = x[:n]
	if n < 2 {
		return vfStats{}
	}
	rate := fs / float64(k)
	// Start the high-pass from rest: shift the window to begin at 0 so
	// that the filter sees no step.
	x0 := x[0]
	hp := dsp.NewHighpass(rate, vfDriftHz)
	var mean float32
	for i, v := range x {
		x[i] = float32(hp.Step(float64(v - x0)))
		mean += x[i]
	}
	mean /= float32(n)
	var peak float32
	for _, v := range x {
		peak = max(peak, abs32(v-mean))
	}
	above, zc := 0, 0
	prev := x[0] - mean
	for _, v := range x {
		d := v - mean
		if abs32(d) > 0.2*peak {
			above++
		}
		if (d > 0) != (prev > 0) && abs32(d-prev) > 0.02*peak {
			zc++
		}
		prev = d
	}
	return vfStats{peak: peak, share: float64(above) / float64(n), zcRate: float64(zc) / (float64(n) / rate)}
}

// regularRR reports whether the last k RR intervals are within 15 % of
// each other.
func (s *Stream) regularRR(k int) bool {
	if s.hist.n < k+1 {
		return false
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	for i := range k {
		a, _, _ := s.hist.at(i)
		b, _, _ := s.hist.at(i + 1)
		lo, hi = min(lo, a-b), max(hi, a-b)
	}
	return lo > 0 && float64(hi) < 1.15*float64(lo)
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// onMeasure evaluates the rules that read the averaged beat: STEMI, and
// re-arms the R-on-T alert once the QTc is back below its limit.
func (s *Stream) onMeasure(dst []Event) []Event {
	if r := s.rules.rule("long_qtc_ront"); r != nil {
		if s.meas.QTcBazettMs < r.Params["min_qtc_ms"] {
			s.alerts.active["long_qtc_ront"] = false
			s.alerts.longQTc = 0
		} else {
			s.alerts.longQTc++
		}
	}
	r := s.rules.rule("st_elevation")
	if r == nil {
		return dst
	}
	leads, vals := stemi(s.meas.ST, r, s.cfg.Sex, s.cfg.AgeYears, s.goodMask())
	if len(leads) == 0 {
		s.alerts.active["st_elevation"] = false
		return dst
	}
	if s.alerts.active["st_elevation"] {
		return dst
	}
	s.alerts.active["st_elevation"] = true
	var parts []string
	for _, l := range leads {
		parts = append(parts, fmt.Sprintf("%s %+.2f mV", l, vals["st_j_mv_"+l]))
	}
	start := max(0, s.n-int64(10*s.fs))
	// "J point" rather than "elevation": with a wide QRS a concordant
	// V1–V3 depression qualifies too (signed values say which).
	return s.raise(dst, r, start, s.n, leads, vals, "ST deviation at the J point meeting the STEMI criteria: "+strings.Join(parts, ", "))
}

// contiguous lists the pairs of anatomically contiguous leads (4th UDMI:
// inferior II, III, aVF; lateral I, aVL, V5, V6, any two of them;
// anterior V1–V6 in sequence). aVR is not part of the STEMI criterion,
// and neither are leads outside the standard twelve (the Frank leads
// vx, vy, vz of PTB records, for one).
var contiguous = [][2]string{
	{"II", "III"}, {"II", "aVF"}, {"III", "aVF"}, {"I", "aVL"},
	{"V1", "V2"}, {"V2", "V3"}, {"V3", "V4"}, {"V4", "V5"}, {"V5", "V6"},
	{"I", "V5"}, {"I", "V6"}, {"aVL", "V5"}, {"aVL", "V6"},
}

// stemiThresholdMV returns the J-point elevation cut-off (mV) for a lead.
func stemiThresholdMV(lead string, r *Rule, sex clinic.Sex, age int) float64 {
	mm := r.Params["default_mm"]
	if lead == "V2" || lead == "V3" {
		switch {
		case sex == clinic.SexMale && age >= 40:
			mm = r.Params["v2v3_male_40_plus_mm"]
		case sex == clinic.SexMale && age >= 0:
			mm = r.Params["v2v3_male_under_40_mm"]
		case sex == clinic.SexFemale:
			mm = r.Params["v2v3_female_mm"]
		default:
			mm = r.Params["v2v3_unknown_mm"]
		}
	}
	return mm * 0.1
}

// stemi returns the leads (canonical names) that meet the ST-elevation
// criterion in at least min_contiguous_leads contiguous leads, with their
// values.
//
// With a QRS of 120 ms or more (bundle-branch block, conduction delay)
// the ST segment is displaced by the conduction delay itself, away from
// the main QRS deflection, and the 4th UDMI's ST criteria do not apply as
// they stand. A lead then counts as the modified Sgarbossa rule (Smith et
// al., Ann Emerg Med 2012;60:766–776, after Sgarbossa et al., N Engl J Med
// 1996;334:481–487) lets it: concordant ST elevation (in a lead whose QRS
// is predominantly positive) at the usual cut-off, the first Sgarbossa
// criterion; discordant elevation (LeadST.Discordant) only when it is
// also at least discordant_st_s_ratio of the depth of the lead's S wave.
// Secondary ST elevation discordant to a deep S wave, as in the lateral
// leads of right bundle-branch block, is not a STEMI pattern (the report
// notes it, see stSecondaryFinding). ST depression of at least
// wide_qrs_v1v3_depression_mm in V1, V2 or V3 where the wide QRS is
// predominantly negative (so the depression is concordant, not the
// expected secondary change) is a STEMI pattern on its own, the second
// Sgarbossa criterion; in right bundle-branch block V1–V3 are
// predominantly positive and their secondary ST depression does not count.
func stemi(st []LeadST, r *Rule, sex clinic.Sex, age int, good map[string]bool) ([]string, map[string]float64) {
	return stemiLeads(st, r, sex, age, good, false)
}

// stemiLeads is stemi; with anyDirection, discordant ST elevation counts
// like concordant (the plain 4th UDMI cut-offs).
func stemiLeads(st []LeadST, r *Rule, sex clinic.Sex, age int, good map[string]bool, anyDirection bool) ([]string, map[string]float64) {
	elevated := map[string]float64{}
	ratio := r.Params["discordant_st_s_ratio"]
	for _, x := range st {
		c := canonicalLead(x.Lead)
		if c == "" || c == "aVR" || !good[x.Lead] {
			continue
		}
		if x.JmV >= stemiThresholdMV(c, r, sex, age) && (anyDirection || !x.Discordant || x.JmV >= -ratio*x.SmV) {
			elevated[c] = x.JmV
		}
	}
	hit := map[string]bool{}
	if !anyDirection {
		for _, x := range st {
			switch c := canonicalLead(x.Lead); c {
			case "V1", "V2", "V3":
				if x.Discordant && good[x.Lead] && x.JmV <= -0.1*r.Params["wide_qrs_v1v3_depression_mm"] {
					hit[c], elevated[c] = true, x.JmV
				}
			}
		}
	}
	concordantDepression := len(hit) > 0
	for _, p := range contiguous {
		_, a := elevated[p[0]]
		_, b := elevated[p[1]]
		if a && b {
			hit[p[0]], hit[p[1]] = true, true
		}
	}
	if !concordantDepression && float64(len(hit)) < r.Params["min_contiguous_leads"] {
		return nil, nil
	}
	var leads []string
	vals := map[string]float64{}
	for _, name := range []string{"I", "II", "III", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"} {
		if hit[name] {
			leads = append(leads, name)
			vals["st_j_mv_"+name] = elevated[name]
			vals["threshold_mv_"+name] = round3(stemiThresholdMV(name, r, sex, age))
			for _, x := range st {
				if canonicalLead(x.Lead) == name && x.Discordant {
					vals["s_mv_"+name] = x.SmV
				}
			}
		}
	}
	return leads, vals
}

func (s *Stream) goodMask() map[string]bool {
	m := map[string]bool{}
	for l, q := range s.lastQ {
		if q == QualityGood {
			m[s.cfg.Leads[l]] = true
		}
	}
	return m
}

func (s *Stream) goodLeadNames() []string {
	var out []string
	for l, q := range s.lastQ {
		if q == QualityGood {
			out = append(out, s.cfg.Leads[l])
		}
	}
	return out
}

// raise emits an alert for rule r unless no lead is of good quality
// (noise and lead-off never raise critical values).
func (s *Stream) raise(dst []Event, r *Rule, start, end int64, leads []string, vals map[string]float64, details string) []Event {
	if len(s.goodLeadNames()) == 0 {
		return dst
	}
	fs := s.fs
	a := &Alert{
		Alert: clinic.Alert{
			ID:       fmt.Sprintf("%s:%s:%d", s.cfg.Subject, r.ID, start),
			RuleID:   r.ID,
			Kind:     "ecg_critical",
			Title:    r.Title + " / " + r.TitleZH,
			Subject:  s.cfg.Subject,
			Severity: clinic.SeverityCritical,
			Details:  details,
			RaisedAt: s.clock(),
		},
		Start: start, End: end, Leads: leads, Values: vals, Source: r.Source,
	}
	a.Evidence = append(a.Evidence, clinic.Source{Kind: clinic.SourceRule, ID: string(r.ID), Quote: r.Source})
	for _, l := range leads {
		a.Evidence = append(a.Evidence, clinic.Source{
			Kind:  clinic.SourceData,
			ID:    fmt.Sprintf("ecg:%s:lead=%s:t=%.3f-%.3fs", s.cfg.Subject, l, float64(start)/fs, float64(end)/fs),
			Quote: details,
		})
	}
	return append(dst, Event{Kind: EventAlert, Alert: a})
}

// closeRhythm ends the stream's rhythm bookkeeping at Finish.
func (s *Stream) closeRhythm(dst []Event) []Event {
	rh := &s.rh
	if rh.cand != rhythmNone && rh.candN >= 2 {
		rh.cur, rh.curStart = rh.cand, rh.candStart
		rh.cand, rh.candN = rhythmNone, 0
		dst = append(dst, Event{Kind: EventRhythm, Rhythm: RhythmChange{Sample: rh.curStart, Type: rh.cur}})
	}
	return dst
}
