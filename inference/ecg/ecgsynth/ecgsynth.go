// Package ecgsynth generates seeded synthetic ECGs with known beat times,
// labels and rhythm episodes, for the ECG core's unit tests: sinus rhythm,
// atrial fibrillation, ventricular tachycardia and fibrillation, pauses,
// ectopic beats, complete and 2:1 AV block, long QT with R-on-T ectopy, ST
// shifts, Q waves of infarction, bundle-branch block, low P waves, noise,
// artefact bursts (muscle, electrode motion, spikes), baseline wander,
// mains hum and lead-off.
//
// Each beat is a sum of Gaussian waves (P, Q, R, S, T), the
// construction of McSharry et al. (IEEE TBME 50(3):289–294, 2003) reduced
// to fixed wave times; wave sizes are scaled per lead so that a 12-lead
// record looks roughly physiological. It is a test fixture, not a model of
// any patient.
package ecgsynth

import (
	"math"
	"math/rand/v2"
)

// Kind is the rhythm of a segment.
type Kind string

// Segment kinds.
const (
	Sinus     Kind = "sinus"
	AF        Kind = "atrial_fibrillation"
	VT        Kind = "ventricular_tachycardia"
	VF        Kind = "ventricular_fibrillation"
	Asystole  Kind = "asystole"
	Bigeminy  Kind = "bigeminy"  // sinus beat, PVC, sinus beat, …
	PVCs      Kind = "sinus_pvc" // sinus with a PVC every EctopicEvery beats
	PACs      Kind = "sinus_pac" // sinus with a premature atrial beat every EctopicEvery beats
	Trigeminy Kind = "trigeminy"
	// AVBlock3 is complete (third-degree) AV block: P waves at
	// AtrialRateBPM and a regular escape rhythm of narrow QRS complexes
	// at RateBPM, independent of each other.
	AVBlock3 Kind = "av_block_3"
	// AVBlock2to1 is second-degree AV block with 2:1 conduction: P waves
	// at AtrialRateBPM, every second one conducted after a fixed PR of
	// 170 ms (RateBPM is ignored).
	AVBlock2to1 Kind = "av_block_2to1"
	// AVBlockVariable is second-degree AV block with variable 2:1 and
	// 3:1 conduction (chosen at random, equally often): P waves at
	// AtrialRateBPM, the conducted ones after a fixed PR of 170 ms, so
	// that the RR intervals take two values, two and three P–P cycles,
	// in an irregular order (group beating; RateBPM is ignored).
	AVBlockVariable Kind = "av_block_variable"
)

// Segment is a stretch of one rhythm.
type Segment struct {
	Kind    Kind
	Seconds float64
	// RateBPM is the mean rate (ignored for VF and asystole).
	RateBPM float64
	// EctopicEvery sets the PVC/PAC spacing for PVCs and PACs (default 5).
	EctopicEvery int
	// Spread is the AF RR spread: each RR is the mean times a uniform
	// factor in [1−Spread, 1+Spread] (default 0.4).
	Spread float64
	// AtrialRateBPM is the P-wave rate of the AV block kinds (default 80).
	AtrialRateBPM float64
	// QTms, when > 0, sets the QT interval of normal beats (R peak to T
	// end, about T peak + 110 ms) instead of the rate-scaled default.
	QTms float64
	// RonTms, when > 0, puts a PVC RonTms after a normal beat every
	// EctopicEvery beats of a PVCs segment (R-on-T coupling) instead of
	// the default 0.65 RR.
	RonTms float64
	// PVCScale, when > 0, scales the durations of the ventricular beats
	// of PVCs, Bigeminy and Trigeminy segments (0.6 gives a narrow ectopic
	// QRS of about 110 ms, as from a fascicular or septal focus).
	PVCScale float64
	// PScale, when > 0, scales the P waves of the segment (sinus beats
	// and the P waves of the AV block kinds), 0.25 giving low P waves
	// of about 0.04 mV in lead II.
	PScale float64
}

// LeadOff replaces a stretch of a lead with a flat line (Rail false: the
// value at its start) or an amplifier rail (Rail true: +RailMV).
type LeadOff struct {
	Lead           int
	Start, Seconds float64
	Rail           bool
}

// RailMV is the value of a clipped (saturated) lead.
const RailMV = 5.0

// Config describes a record.
type Config struct {
	RateHz float64
	// Leads names the leads; unknown names get lead II's shape. Default
	// {"II"}.
	Leads    []string
	Seed     uint64
	Segments []Segment
	// NoiseMV is the RMS of white noise; WanderMV the amplitude of a
	// 0.3 Hz baseline wander; MainsMV the amplitude of 50 Hz hum.
	NoiseMV, WanderMV, MainsMV float64
	// Wander adds further baseline wander components (respiration at
	// 0.15–0.4 Hz, slower electrode drift), each at a seeded random phase
	// per lead.
	Wander []Wander
	// STmV shifts the ST segment of normal beats per lead name (mV).
	STmV    map[string]float64
	LeadOff []LeadOff
	// QWaves gives normal beats a Q wave in the named leads.
	QWaves map[string]QWave
	// Conduction gives normal beats a bundle-branch block: "" none,
	// "RBBB" or "LBBB" (QRS of about 140 ms with secondary T waves).
	Conduction string
	// QRSScale scales the QRS of normal beats (before any Q wave or
	// bundle-branch block is added) per lead name; TScale their T waves.
	QRSScale, TScale map[string]float64
	// Bursts adds artefact.
	Bursts []Burst
}

// QWave is a Q wave of infarction: a negative wave DepthMV deep lasting
// about Ms from QRS onset, then an R wave of RmV (0: a QS complex).
type QWave struct {
	DepthMV, Ms, RmV float64
}

// BurstKind is a kind of artefact.
type BurstKind string

// Artefact kinds.
const (
	// Muscle is electromyographic noise: white noise of RMS MV.
	Muscle BurstKind = "muscle"
	// Motion is electrode-motion artefact: four sinusoids of 1–7 Hz at
	// seeded random frequencies and phases, MV in amplitude together,
	// the worst case for a fibrillation detector.
	Motion BurstKind = "motion"
	// Spikes are impulses of MV (random sign), one sample wide, RatePerS
	// a second on average.
	Spikes BurstKind = "spikes"
)

// Burst is artefact on one lead (Lead ≥ 0) or on every lead (Lead < 0)
// from Start for Seconds.
type Burst struct {
	Kind           BurstKind
	Lead           int
	Start, Seconds float64
	MV             float64
	RatePerS       float64 // Spikes only
}

// Wander is one sinusoidal baseline wander component.
type Wander struct {
	MV, Hz float64
}

// Beat is a true beat: its R-peak sample and AAMI label.
type Beat struct {
	Sample int64
	Label  string // "N", "S" or "V"
}

// Episode is a true rhythm stretch [Start, End) in samples.
type Episode struct {
	Start, End int64
	Kind       Kind
}

// Truth is what the generator put in.
type Truth struct {
	Beats    []Beat
	Episodes []Episode
}

// wave is one Gaussian: time offset from R (s), amplitude (mV), width (s).
type wave struct{ t, a, w float64 }

// leadShape scales the P, QRS and T waves of lead II for other leads.
var leadShape = map[string][3]float64{
	"I": {0.6, 0.6, 0.6}, "II": {1, 1, 1}, "III": {0.4, 0.5, 0.4}, "aVR": {-0.8, -0.8, -0.8},
	"aVL": {0.2, 0.3, 0.2}, "aVF": {0.7, 0.7, 0.7}, "V1": {0.5, -0.8, -0.2}, "V2": {0.6, -0.5, 0.8},
	"V3": {0.6, 0.6, 1.0}, "V4": {0.6, 1.3, 1.0}, "V5": {0.6, 1.2, 0.8}, "V6": {0.6, 0.9, 0.6},
}

func normalBeat(rr float64, p bool) []wave { return normalBeatQT(rr, p, 0) }

// normalBeatQT is normalBeat with the QT (s) set when qt > 0.
func normalBeatQT(rr float64, p bool, qt float64) []wave { return normalBeatPQT(rr, p, qt, 1) }

// normalBeatPQT is normalBeatQT with the P wave scaled by pScale.
func normalBeatPQT(rr float64, p bool, qt, pScale float64) []wave {
	if qt <= 0 {
		qt = 0.4 * math.Sqrt(rr) // Bazett-like QT scaling
	}
	w := []wave{{-0.03, -0.1, 0.01}, {0, 1.0, 0.012}, {0.03, -0.25, 0.012}, {qt - 0.11, 0.3, 0.045}}
	if p {
		w = append(w, wave{-0.17, 0.15 * pScale, 0.022})
	}
	return w
}

// Bundle-branch block shapes per lead: the QRS factor of a late wave
// 50–70 ms after R (RBBB: the R′ of V1–V2 and the wide S of I, aVL, V5–V6) or of
// a broad R (LBBB, replacing the normal QRS: broad R in I, aVL, V5–V6, QS
// in V1–V3), and the T factor, opposite to the terminal QRS (secondary T
// wave).
var (
	rbbbLate = map[string]float64{"I": -0.5, "II": -0.1, "III": 0.15, "aVR": 0.3, "aVL": -0.25, "aVF": 0.05,
		"V1": 1.1, "V2": 0.7, "V3": 0.1, "V4": -0.7, "V5": -0.9, "V6": -0.8}
	rbbbT = map[string]float64{"V1": -0.4, "V2": -0.3}
	lbbbR = map[string]float64{"I": 0.8, "II": 0.5, "III": -0.3, "aVR": -0.6, "aVL": 0.7, "aVF": 0.1,
		"V1": -1.0, "V2": -1.4, "V3": -1.0, "V4": 0.4, "V5": 1.0, "V6": 1.0}
)

func ventricularBeat() []wave { return ventricularBeatScaled(1) }

// ventricularBeatScaled is a ventricular beat with its wave times and
// widths multiplied by k.
func ventricularBeatScaled(k float64) []wave {
	w := []wave{{0, 1.1, 0.035}, {0.07, -0.5, 0.03}, {0.3, -0.35, 0.07}}
	for i := range w {
		w[i].t *= k
		w[i].w *= k
	}
	return w
}

// Generate returns the leads (mV) and the truth for cfg. The same Config
// always yields the same record.
func Generate(cfg Config) ([][]float32, Truth) {
	if len(cfg.Leads) == 0 {
		cfg.Leads = []string{"II"}
	}
	fs := cfg.RateHz
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	var total float64
	for _, s := range cfg.Segments {
		total += s.Seconds
	}
	n := int(total * fs)
	out := make([][]float32, len(cfg.Leads))
	acc := make([][]float64, len(cfg.Leads))
	for i := range out {
		out[i] = make([]float32, n)
		acc[i] = make([]float64, n)
	}
	var truth Truth
	// addWaves adds waves around time at to every lead, scaled by the
	// lead's P (part 0), QRS (1) or T (2) factor, without a beat.
	addWaves := func(at float64, waves []wave, part int) {
		for li, name := range cfg.Leads {
			sh, ok := leadShape[name]
			if !ok {
				sh = leadShape["II"]
			}
			for k := max(0, int((at-0.2)*fs)); k < min(n, int((at+0.2)*fs)); k++ {
				t := float64(k)/fs - at
				for _, wv := range waves {
					d := (t - wv.t) / wv.w
					acc[li][k] += sh[part] * wv.a * math.Exp(-0.5*d*d)
				}
			}
		}
	}
	add := func(r float64, waves []wave, qrsScaleOnly bool, st float64, label string) {
		rs := int64(math.Round(r * fs))
		if rs < 0 || rs >= int64(n) {
			return
		}
		truth.Beats = append(truth.Beats, Beat{Sample: rs, Label: label})
		for li, name := range cfg.Leads {
			sh, ok := leadShape[name]
			if !ok {
				sh = leadShape["II"]
			}
			stl := cfg.STmV[name] * st
			lo := max(0, int((r-0.4)*fs))
			tail := 0.6
			for _, wv := range waves {
				tail = max(tail, wv.t+4*wv.w)
			}
			hi := min(n, int((r+tail)*fs))
			lw := waves
			if label == "N" && !qrsScaleOnly {
				lw = leadWaves(cfg, name, waves, &sh)
			}
			for k := lo; k < hi; k++ {
				t := float64(k)/fs - r
				var v float64
				for _, wv := range lw {
					scale := sh[1]
					if !qrsScaleOnly {
						switch {
						case wv.t < -0.1:
							scale = sh[0]
						case wv.t > 0.1:
							scale = sh[2]
						}
					}
					d := (t - wv.t) / wv.w
					v += scale * wv.a * math.Exp(-0.5*d*d)
				}
				if stl != 0 && t > 0.03 && t < 0.36 {
					// plateau from J (R+40 ms) into the T wave, 10 ms edges
					up := 1 / (1 + math.Exp(-(t-0.045)/0.003))
					down := 1 / (1 + math.Exp((t-0.32)/0.015))
					v += stl * up * down
				}
				acc[li][k] += v
			}
		}
	}
	t := 0.0
	for _, seg := range cfg.Segments {
		start, end := t, t+seg.Seconds
		truth.Episodes = append(truth.Episodes, Episode{Start: int64(start * fs), End: int64(end * fs), Kind: seg.Kind})
		rate := seg.RateBPM
		if rate <= 0 {
			rate = 70
		}
		rr := 60 / rate
		spread := seg.Spread
		if spread <= 0 {
			spread = 0.4
		}
		qt := seg.QTms / 1000
		every := seg.EctopicEvery
		if every <= 0 {
			every = 5
		}
		pScale := seg.PScale
		if pScale <= 0 {
			pScale = 1
		}
		switch seg.Kind {
		case VF:
			phase := 0.0
			for k := int(start * fs); k < int(end*fs) && k < n; k++ {
				f := 5 + 0.8*math.Sin(2*math.Pi*0.2*float64(k)/fs)
				phase += 2 * math.Pi * f / fs
				amp := 0.4 + 0.2*math.Sin(2*math.Pi*0.5*float64(k)/fs)
				for li := range acc {
					acc[li][k] += amp * math.Sin(phase)
				}
			}
		case Asystole:
		case AVBlock3, AVBlock2to1, AVBlockVariable:
			atrial := seg.AtrialRateBPM
			if atrial <= 0 {
				atrial = 80
			}
			pp := 60 / atrial
			pWave := []wave{{0, 0.15 * pScale, 0.022}}
			i, next := 0, 0 // next: index of the next conducted P wave
			for tp := start + 0.1; tp < end; tp += pp {
				if rs := int64(math.Round(tp * fs)); rs >= 0 && rs < int64(n) {
					addWaves(tp, pWave, 0)
				}
				switch {
				case seg.Kind == AVBlock2to1 && i%2 == 0:
					add(tp+0.17, normalBeatQT(2*pp, false, qt), false, 1, "N")
				case seg.Kind == AVBlockVariable && i == next:
					ratio := 2 + rng.IntN(2)
					add(tp+0.17, normalBeatQT(float64(ratio)*pp, false, qt), false, 1, "N")
					next += ratio
				}
				i++
			}
			if seg.Kind == AVBlock3 {
				// the escape rhythm starts at a phase unrelated to the P waves
				for r := start + 0.37*rr; r < end; r += rr {
					add(r, normalBeatQT(rr, false, qt), false, 1, "N")
				}
			}
		default:
			r := start + rr*0.5
			i := 0
			for r < end {
				beatRR := rr
				switch seg.Kind {
				case Sinus:
					add(r, normalBeatPQT(rr, true, qt, pScale), false, 1, "N")
				case AF:
					add(r, normalBeatQT(rr, false, qt), false, 1, "N")
					beatRR = rr * (1 - spread + 2*spread*rng.Float64())
				case VT:
					add(r, ventricularBeat(), true, 0, "V")
				case Bigeminy, Trigeminy, PVCs, PACs:
					k := every
					if seg.Kind == Bigeminy {
						k = 2
					} else if seg.Kind == Trigeminy {
						k = 3
					}
					switch {
					case i%k == k-1 && (seg.Kind == PACs):
						add(r, normalBeat(rr, true), false, 1, "S")
					case i%k == k-1:
						scale := seg.PVCScale
						if scale <= 0 {
							scale = 1
						}
						add(r, ventricularBeatScaled(scale), true, 0, "V")
					default:
						add(r, normalBeatPQT(rr, true, qt, pScale), false, 1, "N")
					}
					// the next beat: premature before an ectopic, compensatory after
					switch {
					case i%k == k-2 && seg.RonTms > 0 && seg.Kind == PVCs:
						beatRR = seg.RonTms / 1000
					case i%k == k-2:
						beatRR = rr * 0.65
					case i%k == k-1:
						beatRR = rr * 1.35
					}
				}
				r += beatRR
				i++
			}
		}
		if seg.Kind == AF {
			// fibrillatory f waves, 6–7 Hz, 0.05 mV
			for k := int(start * fs); k < int(end*fs) && k < n; k++ {
				for li := range acc {
					acc[li][k] += 0.05 * math.Sin(2*math.Pi*6.5*float64(k)/fs+float64(li))
				}
			}
		}
		t = end
	}
	phases := make([]float64, len(cfg.Wander))
	for li := range acc {
		ph := rng.Float64() * 2 * math.Pi
		for i := range phases {
			phases[i] = rng.Float64() * 2 * math.Pi
		}
		for k := range acc[li] {
			x := float64(k) / fs
			v := acc[li][k] + cfg.WanderMV*math.Sin(2*math.Pi*0.3*x+ph) + cfg.MainsMV*math.Sin(2*math.Pi*50*x)
			for i, w := range cfg.Wander {
				v += w.MV * math.Sin(2*math.Pi*w.Hz*x+phases[i])
			}
			if cfg.NoiseMV > 0 {
				v += cfg.NoiseMV * rng.NormFloat64()
			}
			out[li][k] = float32(v)
		}
	}
	for _, b := range cfg.Bursts {
		a, e := max(0, int(b.Start*fs)), min(n, int((b.Start+b.Seconds)*fs))
		for li := range out {
			if b.Lead >= 0 && li != b.Lead {
				continue
			}
			var f, ph [4]float64
			for i := range f {
				f[i], ph[i] = 1+6*rng.Float64(), 2*math.Pi*rng.Float64()
			}
			for k := a; k < e; k++ {
				var v float64
				switch b.Kind {
				case Muscle:
					v = b.MV * rng.NormFloat64()
				case Motion:
					x := float64(k) / fs
					for i := range f {
						v += b.MV / 4 * math.Sin(2*math.Pi*f[i]*x+ph[i])
					}
				case Spikes:
					if rng.Float64() < b.RatePerS/fs {
						v = b.MV
						if rng.IntN(2) == 0 {
							v = -v
						}
					}
				}
				out[li][k] += float32(v)
			}
		}
	}
	for _, lo := range cfg.LeadOff {
		if lo.Lead < 0 || lo.Lead >= len(out) {
			continue
		}
		a, b := int(lo.Start*fs), min(n, int((lo.Start+lo.Seconds)*fs))
		if a < 0 || a >= b {
			continue
		}
		v := out[lo.Lead][a]
		if lo.Rail {
			v = RailMV
		}
		for k := a; k < b; k++ {
			out[lo.Lead][k] = v
		}
	}
	return out, truth
}

// leadWaves returns the waves of a normal beat in lead name with the
// record's Q waves and bundle-branch block applied; it may change the
// lead's T factor in sh.
func leadWaves(cfg Config, name string, waves []wave, sh *[3]float64) []wave {
	q, hasQ := cfg.QWaves[name]
	scale, scaled := cfg.QRSScale[name]
	if ts, ok := cfg.TScale[name]; ok {
		sh[2] *= ts
	}
	if !hasQ && cfg.Conduction == "" && !scaled {
		return waves
	}
	out := make([]wave, 0, len(waves)+2)
	for _, w := range waves {
		isQRS := w.t >= -0.1 && w.t <= 0.1
		switch {
		case isQRS && cfg.Conduction == "LBBB":
			continue // replaced by the broad R below
		case isQRS && hasQ && w.t <= 0:
			continue // q and R replaced by the Q wave and its R
		case isQRS && scaled:
			w.a *= scale
		}
		out = append(out, w)
	}
	if hasQ {
		// The QRS starts about 50 ms before R; the Q spans Ms from there
		// (±2 SD of a Gaussian), the R rises as it ends (2.5 SD before
		// its peak). Amplitudes are divided by the lead's QRS factor,
		// which add multiplies back.
		k := sh[1]
		if k == 0 {
			k = 1
		}
		d := q.Ms / 1000
		out = append(out, wave{-0.05 + d/2, -q.DepthMV / k, d / 4})
		if q.RmV > 0 {
			out = append(out, wave{-0.05 + d + 0.03, q.RmV / k, 0.012})
		}
	}
	switch cfg.Conduction {
	case "RBBB":
		if a, ok := rbbbLate[name]; ok && sh[1] != 0 {
			// the R′ is sharp; the wide S is slurred and earlier, so
			// that the late waves of different leads do not all peak
			// at the same instant
			if a > 0 {
				out = append(out, wave{0.07, a / sh[1], 0.014})
			} else {
				out = append(out, wave{0.05, a / sh[1], 0.022})
			}
		}
		if tf, ok := rbbbT[name]; ok {
			sh[2] = tf
		}
	case "LBBB":
		if a, ok := lbbbR[name]; ok && sh[1] != 0 {
			out = append(out, wave{0.02, a / sh[1], 0.024})
			// secondary T wave, opposite to the QRS
			sh[2] = -0.6 * math.Copysign(1, a)
		}
	}
	return out
}
