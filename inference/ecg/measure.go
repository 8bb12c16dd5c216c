package ecg

import (
	"math"
	"slices"
)

// Measurements are the intervals and ST levels measured on the averaged
// normal beat (the median-beat practice of computerised ECG analysis).
// Intervals are in milliseconds; 0 means not measurable.
type Measurements struct {
	HRbpm float64 `json:"hr_bpm"`
	RRms  float64 `json:"rr_ms"`
	PRms  float64 `json:"pr_ms,omitempty"`
	QRSms float64 `json:"qrs_ms"`
	QTms  float64 `json:"qt_ms,omitempty"`
	// QTcBazettMs = QT/√RR and QTcFridericiaMs = QT/∛RR, RR in seconds
	// (Bazett 1920; Fridericia 1920).
	QTcBazettMs     float64  `json:"qtc_bazett_ms,omitempty"`
	QTcFridericiaMs float64  `json:"qtc_fridericia_ms,omitempty"`
	ST              []LeadST `json:"st,omitempty"`
	// Q lists the leads whose QRS begins with a Q wave, or is a QS
	// complex (qwave.go); nil when Q waves are not assessed (a wide QRS
	// that is not right bundle-branch block, see qWaves).
	Q []LeadQ `json:"q,omitempty"`
	// Beats is the number of normal beats averaged.
	Beats int `json:"beats"`
	// JAfterRms is the J point (global QRS offset) after the template's
	// fiducial (the peak of the spatial velocity, near R), ms.
	JAfterRms float64 `json:"j_after_r_ms"`

	// qrsWidth12 is the QRS width by the per-beat rule (qrsBounds), which
	// beat labelling compares beats against.
	qrsWidth12 float64
	// rV1V2 are the R waves of V1 and V2 (the posterior Q-wave
	// equivalent, qwave.go).
	rV1V2 [2]rWave
}

// LeadST is the ST level of one lead against the PR baseline (the mean of
// the 20 ms before QRS onset), in mV (1 mm = 0.1 mV at standard gain),
// measured on the average of beats from which each beat's own baseline
// (through the PR segments of it and its neighbours) was removed.
type LeadST struct {
	Lead string `json:"lead"`
	// JmV is the level at the J point (the STEMI criterion point, 4th
	// UDMI); STmV is the level at J+60 ms, or J+80 ms when HR < 100
	// (AtMs says which).
	JmV  float64 `json:"j_mv"`
	STmV float64 `json:"st_mv"`
	AtMs int     `json:"at_ms"`
	// RmV and SmV are the largest positive and negative deflections of
	// the lead's QRS (onset to J) against the same baseline.
	RmV float64 `json:"r_mv"`
	SmV float64 `json:"s_mv"`
	// Discordant is set when the QRS is 120 ms or wider (bundle-branch
	// block or another conduction delay) and predominantly negative in
	// this lead (|SmV| > RmV). The delayed depolarisation then shifts the
	// ST segment away from the main QRS deflection by itself (secondary
	// ST–T change), so an ST elevation here is discordant: the STEMI rule
	// counts it only when it is large for the QRS (see stemi).
	Discordant bool `json:"discordant,omitempty"`
}

// measure delineates the templates: QRS onset and offset (J point) from
// the spatial velocity over usable leads (refined for notched QRS, see
// refineBounds), T end by the tangent method on
// the lead with the largest T wave, P onset on the lead with the largest
// P wave before the QRS, and the ST levels of every usable lead.
func (s *Stream) measure() Measurements {
	t := &s.tmpl
	fs := s.fs
	m := Measurements{Beats: t.count}
	if rr := s.meanNormalRR(); rr > 0 {
		m.RRms = float64(rr) * 1000 / fs
		m.HRbpm = 60000 / m.RRms
	}
	mask, _ := s.usableLeads()
	sv := t.sv[:t.length]
	clear(sv)
	for l := range s.nlead {
		if mask&(1<<uint(l)) == 0 {
			continue
		}
		d := t.data[l]
		for k := 1; k < t.length; k++ {
			sv[k] += float32(math.Abs(float64(d[k] - d[k-1])))
		}
	}
	// Search the QRS within R −150 ms … R +150 ms.
	half := int(0.15 * fs)
	lo := t.pre - half
	on, off, _ := qrsBounds(sv[lo:t.pre+half+1], half, fs)
	m.qrsWidth12 = math.Round(float64(off-on) * 1000 / fs)
	on, off = refineBounds(sv[lo:t.pre+half+1], on, off, fs)
	on += lo
	off += lo
	m.QRSms = float64(off-on) * 1000 / fs
	m.JAfterRms = math.Round(float64(off-t.pre) * 1000 / fs)
	baseW := t.prLen
	// The next beats' baselines are drawn through this PR window.
	t.prOff = max(on-baseW, 0) - t.pre
	base := make([]float64, s.nlead)
	for l := range s.nlead {
		d := t.data[l]
		var b float64
		for k := on - baseW; k < on; k++ {
			b += float64(d[max(k, 0)])
		}
		base[l] = b / float64(baseW)
	}
	// ST levels.
	at := 80
	if m.HRbpm >= 100 {
		at = 60
	}
	stIdx := off + int(float64(at)*fs/1000)
	for l := range s.nlead {
		if mask&(1<<uint(l)) == 0 || stIdx >= t.length {
			continue
		}
		d := t.data[l]
		var rAmp, sAmp float64
		for k := on; k <= off; k++ {
			v := float64(d[k]) - base[l]
			rAmp, sAmp = max(rAmp, v), min(sAmp, v)
		}
		m.ST = append(m.ST, LeadST{
			Lead:       s.cfg.Leads[l],
			JmV:        round3(float64(d[off]) - base[l]),
			STmV:       round3(float64(d[stIdx]) - base[l]),
			AtMs:       at,
			RmV:        round3(rAmp),
			SmV:        round3(sAmp),
			Discordant: m.QRSms >= qrsWideMS && -sAmp > rAmp,
		})
	}
	// T wave (at least 0.1 mV, else QT is not measured): the peak is the largest deviation from baseline from J+80 ms
	// to R + min(450 ms, 55 % of RR); the end is searched up to 65 % of RR.
	tEndLimit := t.length - 1
	tPeakLimit := t.pre + int(0.45*fs)
	if m.RRms > 0 {
		tEndLimit = min(tEndLimit, t.pre+int(0.65*m.RRms*fs/1000))
		tPeakLimit = min(tPeakLimit, t.pre+int(0.55*m.RRms*fs/1000))
	}
	tLo := off + int(0.08*fs)
	bestL, tPeak, tAmp := -1, 0, 0.0
	for l := range s.nlead {
		if mask&(1<<uint(l)) == 0 {
			continue
		}
		d := t.data[l]
		for k := tLo; k <= tPeakLimit && k < t.length; k++ {
			if a := math.Abs(float64(d[k]) - base[l]); a > tAmp {
				bestL, tPeak, tAmp = l, k, a
			}
		}
	}
	m.Q, m.rV1V2 = s.qWaves(m.QRSms, on, off, tLo, tPeakLimit, base, mask)
	if bestL >= 0 && tAmp >= 0.1 {
		d := t.data[bestL]
		// steepest point of the descending limb within 150 ms
		steep, slope := -1, 0.0
		for k := tPeak + 1; k <= min(tEndLimit, tPeak+int(0.15*fs)); k++ {
			sl := float64(d[k] - d[k-1])
			if math.Abs(sl) > math.Abs(slope) && (sl > 0) != (float64(d[tPeak])-base[bestL] > 0) {
				steep, slope = k, sl
			}
		}
		if steep > 0 && slope != 0 {
			// A tangent that meets the baseline beyond the search limit
			// has found no T end (a flat or notched T, a U wave or the
			// next beat): QT is then not measured rather than overstated.
			end := float64(steep) + (base[bestL]-float64(d[steep]))/slope
			if end > float64(tPeak) && end <= float64(tEndLimit) {
				m.QTms = (end - float64(on)) * 1000 / fs
			}
		}
	}
	if m.QTms > 0 && m.RRms > 0 {
		rr := m.RRms / 1000
		m.QTcBazettMs = math.Round(m.QTms / math.Sqrt(rr))
		m.QTcFridericiaMs = math.Round(m.QTms / math.Cbrt(rr))
		m.QTms = math.Round(m.QTms)
	}
	// P wave: the largest deviation from baseline 300 ms to 60 ms before
	// QRS onset, but not earlier than 40 % of the RR interval before R
	// (earlier lies the previous beat's T wave), at least 0.05 mV; its
	// onset is where it falls below 35 % of its amplitude.
	pLo, pHi := max(0, on-int(0.3*fs)), on-int(0.06*fs)
	if m.RRms > 0 {
		pLo = max(pLo, t.pre-int(0.4*m.RRms*fs/1000))
	}
	bestL, pPeak, pAmp := -1, 0, 0.0
	for l := range s.nlead {
		if mask&(1<<uint(l)) == 0 || pHi <= pLo {
			continue
		}
		d := t.data[l]
		for k := pLo; k <= pHi; k++ {
			if a := math.Abs(float64(d[k]) - base[l]); a > pAmp {
				bestL, pPeak, pAmp = l, k, a
			}
		}
	}
	if bestL >= 0 && pAmp >= 0.05 && pPeak > pLo {
		d := t.data[bestL]
		k := pPeak
		for k > pLo && math.Abs(float64(d[k])-base[bestL]) > 0.35*pAmp {
			k--
		}
		if k > pLo {
			m.PRms = math.Round(float64(on-k) * 1000 / fs)
		}
	}
	m.QRSms = math.Round(m.QRSms)
	m.RRms = math.Round(m.RRms)
	m.HRbpm = math.Round(m.HRbpm)
	return m
}

// Template delineation. The per-beat rule (12 % of the spatial velocity's
// range) stops early in a notched or fragmented QRS (bundle-branch block,
// the r′ of RBBB), whose last deflection is slower than the first; on the
// averaged beat, where noise is low, each bound is carried on while the
// velocity still falls and stays above 5 % of its range, for at most
// refineMaxS. On the 1000 Hz PTB record s0010_re (RBBB) this lengthens
// the QRS from 131 to 141 ms; a manual reading of its plain average gives
// 139 ms.
const (
	refineFrac = 0.05
	refineMaxS = 0.02
)

// refineBounds extends the QRS bounds on and off (indices into sv, the
// spatial velocity of the template) outwards, as described above.
func refineBounds(sv []float32, on, off int, fs float64) (int, int) {
	w := max(2, int(math.Round(0.012*fs)))
	sm := func(k int) float32 { return meanAround(sv, k, w) }
	peak, floor := float32(0), float32(math.MaxFloat32)
	for k := 1; k < len(sv); k++ {
		v := sm(k)
		peak, floor = max(peak, v), min(floor, v)
	}
	thr := floor + refineFrac*(peak-floor)
	limit := max(1, int(refineMaxS*fs))
	for k := 0; k < limit && off+1 < len(sv) && sm(off) > thr && sm(off+1) < sm(off); k++ {
		off++
	}
	for k := 0; k < limit && on-1 >= 1 && sm(on) > thr && sm(on-1) < sm(on); k++ {
		on--
	}
	return on, off
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Measurements returns the stream's latest measurements of the averaged
// beat, and false until at least three normal beats have been averaged.
// Streams re-measure every eight beats and when Finish is called.
func (s *Stream) Measurements() (Measurements, bool) {
	m := s.meas
	m.ST = slices.Clone(m.ST)
	return m, s.measOK
}
