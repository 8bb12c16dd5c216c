package ecg

import (
	"math"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg/dsp"
)

// Supported sampling rates (issue 4: any rate from 125 to 1000 Hz).
const (
	MinRateHz = 125
	MaxRateHz = 1000
)

// MaxLatency bounds how long after its R peak a Detector reports a beat,
// warm-up excepted: the moving-window integration (150 ms), the band-pass
// group delay (under 30 ms) and the peak hold (160 ms).
const MaxLatency = 0.35 // seconds

// WarmUp is the learning period at the start of a stream. Beats in it are
// reported when it ends, so only they may come later than MaxLatency.
const WarmUp = 2.0 // seconds

// Detector parameters (seconds unless named otherwise). The structure
// follows Pan & Tompkins (IEEE TBME 32(3):230–236, 1985): 5–15 Hz
// band-pass, five-point derivative, squaring, 150 ms moving-window
// integration, adaptive signal and noise peak levels with a threshold a
// quarter of the way between them, a 200 ms refractory period and T-wave
// discrimination within 360 ms by slope. Search-back is replaced by a
// halved threshold once a beat is overdue, so that latency stays bounded.
const (
	bandLoHz       = 5.0
	bandHiHz       = 15.0
	mwiSeconds     = 0.150
	holdSeconds    = 0.160
	refractory     = 0.200
	tWaveWindow    = 0.360
	ringSeconds    = WarmUp + 0.5 // candidates held over the warm-up stay locatable
	maxRingExtra   = 2.0          // bound on DetectorConfig.ringExtra
	blockSeconds   = 1.0
	rrAverageBeats = 8
)

// Quality thresholds for one block of raw samples (mV). A lead is "off"
// when flat or clipped, "noisy" when high-frequency or very large
// excursions dominate. Flat: a live ECG lead moves more than 20 µV in a
// second even in asystole (amplifier noise); clipped: a fifth of the block
// sits exactly on the block's extreme value, which only an amplifier rail
// produces.
const (
	flatRangeMV     = 0.02
	clipShare       = 0.2
	noiseHFRmsMV    = 0.12
	noiseRangeMV    = 8.0
	stepArtifactMV  = 1.5
	peakLimitFactor = 4.0
)

// Quality is the signal-quality class of a lead over one block.
type Quality uint8

// Quality classes. The JSON names are what reports show.
const (
	QualityGood    Quality = iota // usable
	QualityNoisy                  // beats reported, no critical alerts
	QualityLeadOff                // flat, clipped or invalid: no beats
)

// String returns the report name of q.
func (q Quality) String() string {
	switch q {
	case QualityGood:
		return "good"
	case QualityNoisy:
		return "noisy"
	case QualityLeadOff:
		return "lead_off"
	}
	return "unknown"
}

// Beat is a detected QRS complex.
type Beat struct {
	// Sample is the R peak as a sample index from the start of the stream.
	Sample int64 `json:"sample"`
	// Reported is the sample index at which the beat was reported.
	Reported int64 `json:"-"`
	// AmplitudeMV is the R (or dominant QRS) deflection after baseline
	// removal, signed.
	AmplitudeMV float32 `json:"-"`
	// Slope is the largest band-passed slope in the complex (mV/s),
	// used for T-wave discrimination and fusion weights.
	Slope float32 `json:"-"`
	// Lead is the index of the lead that reported it (fusion: the
	// reference lead).
	Lead int `json:"-"`
	// Label is "N", "V", "S" or "Q", set after fusion.
	Label Label `json:"label"`
}

// Detector is a causal, streaming QRS detector for one lead. It is not
// safe for concurrent use; each lead of each stream has its own. Its state
// is bounded (see StateBytes) and Process allocates nothing once dst has
// capacity.
type Detector struct {
	fs   float64
	lead int

	hp      dsp.Biquad // 0.05 Hz baseline high-pass
	notch   dsp.Biquad // mains notch
	lp      dsp.Biquad // 40 Hz low-pass
	bp      dsp.Bandpass
	der     dsp.Derivative
	mwi     dsp.MovingSum
	settled bool

	raw, xb *dsp.Ring // raw input and clean (diagnostic-band) signal

	n       int64 // samples seen
	last    float32
	f1, f2  float32 // feature at n−1, n−2
	candOK  bool
	candVal float32
	candIdx int64

	spk, npk   float32
	lastBeat   int64 // feature index of the last accepted candidate
	lastR      int64
	lastSlope  float32
	rr         [rrAverageBeats]float32 // recent RR in samples
	rrN, rrI   int
	sinceDecay int64

	warm    bool
	warmMax float32
	pending [16]candidate
	npend   int

	// Quality of the current and last completed block.
	blockN                 int
	bmin, bmax             float32
	bminN, bmaxN           int
	hfSum                  float64
	invalid                int
	quality                Quality
	qualityStart           int64
	hold, mwiN, refN, tWin int64
	blockLen, warmN        int64
}

type candidate struct {
	val float32
	idx int64
}

// DetectorConfig configures a Detector.
type DetectorConfig struct {
	// RateHz is the sampling rate, 125 to 1000 Hz.
	RateHz float64
	// Lead is copied into the beats the detector reports.
	Lead int
	// MainsHz is the powerline frequency to notch out: 50 (default) or 60.
	MainsHz float64
	// ringExtra lengthens the signal rings (seconds), so that Analyze can
	// run the detectors a block ahead of fusion.
	ringExtra float64
}

// NewDetector returns a detector for one lead. The clean signal it keeps
// (the diagnostic band: 0.05 Hz high-pass after Kligfield et al.,
// Circulation 2007;115:1306, a mains notch and a 40 Hz low-pass) is what
// Stream measures beats on. It returns an invalid *clinic.Error for a rate
// outside [MinRateHz, MaxRateHz] or mains other than 50 or 60 Hz.
func NewDetector(cfg DetectorConfig) (*Detector, error) {
	fs := cfg.RateHz
	if !(fs >= MinRateHz && fs <= MaxRateHz) {
		return nil, clinic.NewError(clinic.CodeInvalid, "sampling_rate",
			"sampling rate must be between 125 and 1000 Hz", "采样率须在 125–1000 Hz 之间")
	}
	mains := cfg.MainsHz
	if mains == 0 {
		mains = 50
	}
	if mains != 50 && mains != 60 {
		return nil, clinic.NewError(clinic.CodeInvalid, "mains_hz", "mains frequency must be 50 or 60 Hz", "工频须为 50 或 60 Hz")
	}
	ring := int(math.Ceil((ringSeconds + max(0, min(cfg.ringExtra, maxRingExtra))) * fs))
	d := &Detector{
		fs:       fs,
		lead:     cfg.Lead,
		hp:       dsp.NewHighpass(fs, 0.05),
		notch:    dsp.NewNotch(fs, mains, dsp.PowerlineQ),
		lp:       dsp.NewLowpass(fs, 40),
		bp:       dsp.NewBandpass(fs, bandLoHz, bandHiHz),
		der:      dsp.NewDerivative(fs),
		mwi:      dsp.NewMovingSum(int(math.Round(mwiSeconds * fs))),
		raw:      dsp.NewRing(ring),
		xb:       dsp.NewRing(ring),
		hold:     int64(math.Round(holdSeconds * fs)),
		mwiN:     int64(math.Round(mwiSeconds * fs)),
		refN:     int64(math.Round(refractory * fs)),
		tWin:     int64(math.Round(tWaveWindow * fs)),
		blockLen: int64(math.Round(blockSeconds * fs)),
		warmN:    int64(math.Round(WarmUp * fs)),
		lastBeat: -1 << 40,
		lastR:    -1 << 40,
	}
	d.resetBlock()
	return d, nil
}

// StateBytes returns the memory the detector holds, in bytes.
func (d *Detector) StateBytes() int {
	return int(sizeofDetector) + 4*(d.raw.Cap()+d.xb.Cap()+d.mwi.Len())
}

// Quality returns the class of the last completed block and the sample
// index where that block started.
func (d *Detector) Quality() (Quality, int64) { return d.quality, d.qualityStart }

// Samples returns the number of samples processed.
func (d *Detector) Samples() int64 { return d.n }

// Process filters src (one lead, in mV) and appends the beats whose
// decision fell in this chunk to dst, returning it. NaN and ±Inf samples
// count as lead-off and are held at the last finite value.
func (d *Detector) Process(dst []Beat, src []float32) []Beat {
	for _, x := range src {
		dst = d.step(dst, x)
	}
	return dst
}

// ProcessInt16 is Process for raw ADC samples: x_mV = (adc − baseline)/gain.
func (d *Detector) ProcessInt16(dst []Beat, src []int16, gain, baseline float32) []Beat {
	inv := 1 / gain
	for _, a := range src {
		dst = d.step(dst, (float32(a)-baseline)*inv)
	}
	return dst
}

func (d *Detector) step(dst []Beat, x float32) []Beat {
	bad := false
	if x != x || x > 1e6 || x < -1e6 {
		x, bad = d.last, true
	}
	d.last = x
	d.raw.Push(x)
	if !d.settled {
		d.hp.Settle(float64(x))
		d.settled = true
	}
	y1 := d.notch.Step(d.hp.Step(float64(x)))
	y2 := d.lp.Step(y1)
	d.quality1(x, bad, y1-y2) // above 40 Hz: muscle noise
	xb := float32(y2)
	d.xb.Push(xb)
	s := d.der.Step(d.bp.Step(xb))
	f := d.mwi.Step(s * s)
	n := d.n
	d.n++

	// f1 is a local maximum at n−1.
	if d.f1 > d.f2 && d.f1 >= f {
		if !d.candOK || d.f1 > d.candVal {
			d.candOK, d.candVal, d.candIdx = true, d.f1, n-1
		}
	}
	d.f2, d.f1 = d.f1, f
	if d.candOK && n-d.candIdx >= d.hold {
		d.candOK = false
		c := candidate{d.candVal, d.candIdx}
		if !d.warm {
			if d.npend < len(d.pending) {
				d.pending[d.npend] = c
				d.npend++
			} else if i := d.smallestPending(); c.val > d.pending[i].val {
				d.pending[i] = c
			}
			d.warmMax = max(d.warmMax, c.val)
		} else {
			dst = d.evaluate(dst, c, n)
		}
	}
	if !d.warm && d.n >= d.warmN {
		dst = d.endWarmUp(dst, n)
	}
	// With no beat for 2 s, let the signal level fall so that a detector
	// fooled by an artefact recovers (halving per second).
	if d.warm && n-d.lastBeat > 2*int64(d.fs) {
		d.sinceDecay++
		if d.sinceDecay >= int64(d.fs)/4 {
			d.sinceDecay = 0
			d.spk *= 0.84
		}
	}
	return dst
}

func (d *Detector) smallestPending() int {
	k := 0
	for i := 1; i < d.npend; i++ {
		if d.pending[i].val < d.pending[k].val {
			k = i
		}
	}
	return k
}

// endWarmUp sets the levels from the learning period and evaluates the
// candidates it held, in time order.
func (d *Detector) endWarmUp(dst []Beat, now int64) []Beat {
	d.warm = true
	var sum float32
	for i := range d.npend {
		sum += d.pending[i].val
	}
	d.spk = 0.5 * d.warmMax
	if d.npend > 0 {
		d.npk = 0.5 * sum / float32(d.npend) * 0.25
	}
	if d.npk > d.spk/4 {
		d.npk = d.spk / 4
	}
	// insertion sort by index
	for i := 1; i < d.npend; i++ {
		for j := i; j > 0 && d.pending[j].idx < d.pending[j-1].idx; j-- {
			d.pending[j], d.pending[j-1] = d.pending[j-1], d.pending[j]
		}
	}
	for i := range d.npend {
		dst = d.evaluate(dst, d.pending[i], now)
	}
	d.npend = 0
	return dst
}

func (d *Detector) rrMean() float32 {
	if d.rrN == 0 {
		return float32(d.fs) // 60 bpm prior
	}
	var s float32
	for i := range d.rrN {
		s += d.rr[i]
	}
	return s / float32(d.rrN)
}

// evaluate classifies candidate c as QRS or noise at time now.
func (d *Detector) evaluate(dst []Beat, c candidate, now int64) []Beat {
	thr := d.npk + 0.25*(d.spk-d.npk)
	since := c.idx - d.lastBeat
	if float32(since) > 1.0*d.rrMean() && since > d.refN {
		thr *= 0.5 // overdue: search-back threshold
	}
	if c.val <= thr || since <= d.refN {
		d.npk = 0.125*c.val + 0.875*d.npk
		return dst
	}
	// Locate the complex: its steepest slope and the R peak lie in the
	// integration window that ends at the feature peak, shifted by the
	// band-pass group delay.
	delay := int64(math.Round(0.02 * d.fs))
	hi := c.idx - delay/2
	lo := c.idx - d.mwiN - delay
	var maxSlope float32
	prev, okPrev := d.xb.Abs(lo - 1)
	for k := lo; k <= hi; k++ {
		v, ok := d.xb.Abs(k)
		if ok && okPrev {
			maxSlope = max(maxSlope, abs32(v-prev))
		}
		prev, okPrev = v, ok
	}
	maxSlope *= float32(d.fs)
	// T-wave window: 360 ms (Pan & Tompkins), widened to 45 % of the
	// mean RR up to 500 ms for slow rates, where T waves come later.
	tWin := max(d.tWin, min(int64(0.45*d.rrMean()), int64(0.5*d.fs)))
	if since <= tWin && maxSlope < 0.5*d.lastSlope {
		d.npk = 0.125*c.val + 0.875*d.npk
		return dst
	}
	r, amp, ok := d.locateR(lo, hi)
	if !ok || d.artefact(r) || r-d.lastR <= d.refN {
		return dst
	}
	v := min(c.val, peakLimitFactor*d.spk)
	if d.spk == 0 {
		v = c.val
	}
	d.spk = 0.125*v + 0.875*d.spk
	if d.lastR > 0 {
		rr := float32(r - d.lastR)
		if rr < 3*float32(d.fs) {
			d.rr[d.rrI] = rr
			d.rrI = (d.rrI + 1) % len(d.rr)
			d.rrN = min(d.rrN+1, len(d.rr))
		}
	}
	d.lastBeat, d.lastR, d.lastSlope = c.idx, r, maxSlope
	d.sinceDecay = 0
	return append(dst, Beat{Sample: r, Reported: now, AmplitudeMV: amp, Slope: maxSlope, Lead: d.lead})
}

// locateR returns the index and value of the largest absolute deviation
// of the clean signal in [lo, hi] from its value at lo (a local
// baseline, since the clean signal keeps slow wander).
func (d *Detector) locateR(lo, hi int64) (int64, float32, bool) {
	best, bestAbs := int64(-1), float32(-1)
	var val float32
	ref, okRef := d.xb.Abs(lo)
	if !okRef {
		return -1, 0, false
	}
	for k := lo; k <= hi; k++ {
		v, ok := d.xb.Abs(k)
		if !ok {
			continue
		}
		v -= ref
		a := v
		if a < 0 {
			a = -a
		}
		if a > bestAbs {
			best, bestAbs, val = k, a, v
		}
	}
	return best, val, best >= 0
}

// artefact reports whether the raw signal around r is flat, clipped or a
// step (electrode pop, lead-off transition) rather than a QRS complex.
func (d *Detector) artefact(r int64) bool {
	w := int64(0.1 * d.fs)
	lo, hi := r-w, r+w
	var mn, mx float32 = math.MaxFloat32, -math.MaxFloat32
	cnt := 0
	for k := lo; k <= hi; k++ {
		v, ok := d.raw.Abs(k)
		if !ok {
			continue
		}
		cnt++
		mn, mx = min(mn, v), max(mx, v)
	}
	if cnt == 0 || mx-mn < flatRangeMV {
		return true
	}
	atRail := 0
	for k := lo; k <= hi; k++ {
		if v, ok := d.raw.Abs(k); ok && (v == mn || v == mx) {
			atRail++
		}
	}
	if float32(atRail) >= clipShare*float32(cnt) && cnt > 10 {
		return true
	}
	// Step: the level 100 ms before and after differ by more than a QRS
	// returns to (mean of 20 ms stretches).
	m := int64(0.02 * d.fs)
	pre, okPre := d.meanRaw(lo-m, lo)
	post, okPost := d.meanRaw(hi, hi+m)
	if okPre && okPost && math.Abs(float64(post-pre)) > stepArtifactMV {
		return true
	}
	return false
}

func (d *Detector) meanRaw(lo, hi int64) (float32, bool) {
	var s float32
	n := 0
	for k := lo; k <= hi; k++ {
		if v, ok := d.raw.Abs(k); ok {
			s += v
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return s / float32(n), true
}

func (d *Detector) resetBlock() {
	d.blockN = 0
	d.bmin, d.bmax = math.MaxFloat32, -math.MaxFloat32
	d.bminN, d.bmaxN = 0, 0
	d.hfSum = 0
	d.invalid = 0
}

// quality1 adds one raw sample and its content above 40 Hz to the current
// quality block.
func (d *Detector) quality1(x float32, bad bool, h float64) {
	if bad {
		d.invalid++
	}
	switch {
	case x > d.bmax:
		d.bmax, d.bmaxN = x, 1
	case x == d.bmax:
		d.bmaxN++
	}
	switch {
	case x < d.bmin:
		d.bmin, d.bminN = x, 1
	case x == d.bmin:
		d.bminN++
	}
	d.hfSum += h * h
	d.blockN++
	if int64(d.blockN) < d.blockLen {
		return
	}
	rng := d.bmax - d.bmin
	n := float32(d.blockN)
	hfRMS := math.Sqrt(d.hfSum / float64(d.blockN))
	q := QualityGood
	switch {
	case d.invalid > d.blockN/10, rng < flatRangeMV,
		float32(max(d.bmaxN, d.bminN)) >= clipShare*n:
		q = QualityLeadOff
	case hfRMS > noiseHFRmsMV, rng > noiseRangeMV:
		q = QualityNoisy
	}
	d.quality = q
	d.qualityStart = d.n + 1 - int64(d.blockN)
	d.resetBlock()
}
