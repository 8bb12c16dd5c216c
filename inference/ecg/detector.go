package ecg

import (
	"math"
	"sync"

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
	// cleanLoHz is the corner of the baseline high-pass of both the clean
	// and the measurement signal. The clean signal (detection) uses a
	// second-order section; the measurement signal a first-order one,
	// because after the IEC 60601-2-25 3 mV × 100 ms impulse the causal
	// second-order section undershoots 0.13 mV, over the 0.1 mV that
	// standard allows a diagnostic ECG, and first order leaves 0.09 mV
	// (TestMeasurementSignalIECImpulseResponse). Detection keeps the
	// second-order section so that its beats do not change.
	cleanLoHz      = 0.05
	bandLoHz       = 5.0
	bandHiHz       = 15.0
	mwiSeconds     = 0.150
	holdSeconds    = 0.160
	refractory     = 0.200
	tWaveWindow    = 0.360
	ringSeconds    = WarmUp + 0.5 // candidates held over the warm-up stay locatable
	maxHistory     = 2.0          // bound on DetectorConfig.history
	maxAhead       = 5.0          // bound on DetectorConfig.ahead
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

	hp    dsp.Biquad // 0.05 Hz baseline high-pass
	notch dsp.Biquad // mains notch
	lp    dsp.Biquad // 40 Hz low-pass
	// The measurement signal's sections: a first-order 0.05 Hz
	// high-pass (b2 = a2 = 0), then the notch and low-pass above with
	// their own states.
	mhp, mnotch, mlp dsp.Biquad
	bpHP             dsp.Biquad // 5 Hz high-pass of the QRS band
	bpLP             dsp.Biquad // 15 Hz low-pass of the QRS band
	settled          bool
	// Coefficients of the six sections, copied out of them so that the
	// filter loops read them as memory operands through one pointer and
	// keep only the states in registers (much faster in Go than holding
	// all 25 coefficients in locals, which spills).
	coef [6]section

	// Five-point derivative (dsp.Derivative) and moving-window
	// integration (dsp.MovingSum), kept inline so that the feature loop
	// holds its state in registers; same arithmetic as those types.
	derScale       float32
	dx1, dx2       float32
	dx3, dx4       float32
	mwiWin         []float32
	mwiI, mwiSteps int
	mwiSum, mwiInv float64

	raw, xb *dsp.Ring  // raw input and clean (diagnostic-band) signal
	xm      *dsp.Ring  // measurement signal (see NewDetector)
	pool    *[]float32 // backing of raw, xb and xm when taken from ringPool
	viewCap int        // capacity of the owner's views of xb and xm (see Stream.syncViews)

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
	// history lengthens the clean-signal history the owner reads through
	// views (seconds beyond ringSeconds; see viewCap).
	history float64
	// ahead lengthens the rings (seconds) so that the detector can run
	// that far ahead of the owner's views (Analyze runs the detectors
	// on other goroutines, ahead of fusion).
	ahead float64
	// pooled takes the ring buffers from ringPool; the owner gives them
	// back with release.
	pooled bool
}

// ringPool recycles the ring buffers of Analyze's detectors: seconds of
// signal per lead, which would otherwise be most of what an analysis
// allocates and what the garbage collector has to chase.
var ringPool sync.Pool // of *[]float32

// release gives a pooled detector's ring buffers back; the detector must
// not be used afterwards.
func (d *Detector) release() {
	if d.pool != nil {
		ringPool.Put(d.pool)
		d.pool, d.raw, d.xb, d.xm = nil, nil, nil, nil
	}
}

// NewDetector returns a detector for one lead. It keeps two filtered
// copies of its input, both in the diagnostic band (0.05 Hz high-pass
// after Kligfield et al., Circulation 2007;115:1306, a mains notch and a
// 40 Hz low-pass) and differing only in the high-pass: the clean signal
// (second order), which detection and fusion read, and the measurement
// signal (first order, which meets the IEC 60601-2-25 / AAMI EC11
// low-frequency impulse limits; see cleanLoHz), which Stream builds its
// templates, ST levels, Q waves and intervals on. It returns an invalid
// *clinic.Error for a rate outside [MinRateHz, MaxRateHz] or mains other
// than 50 or 60 Hz.
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
	// The owner sees viewCap samples of history; the rings also hold the
	// block (detBlock) the detector filters ahead of the sample it
	// evaluates, and how far the detector may run ahead of the owner.
	viewCap := int(math.Ceil((ringSeconds + max(0, min(cfg.history, maxHistory))) * fs))
	ring := viewCap + detBlock + int(math.Ceil(max(0, min(cfg.ahead, maxAhead))*fs))
	d := &Detector{
		fs:       fs,
		lead:     cfg.Lead,
		viewCap:  viewCap,
		hp:       dsp.NewHighpass(fs, cleanLoHz),
		notch:    dsp.NewNotch(fs, mains, dsp.PowerlineQ),
		lp:       dsp.NewLowpass(fs, 40),
		mhp:      dsp.NewHighpass1(fs, cleanLoHz),
		bpHP:     dsp.NewHighpass(fs, bandLoHz),
		bpLP:     dsp.NewLowpass(fs, bandHiHz),
		derScale: float32(fs / 8),
		mwiWin:   make([]float32, int(math.Round(mwiSeconds*fs))),
		mwiInv:   1 / float64(int(math.Round(mwiSeconds*fs))),
		hold:     int64(math.Round(holdSeconds * fs)),
		mwiN:     int64(math.Round(mwiSeconds * fs)),
		refN:     int64(math.Round(refractory * fs)),
		tWin:     int64(math.Round(tWaveWindow * fs)),
		blockLen: int64(math.Round(blockSeconds * fs)),
		warmN:    int64(math.Round(WarmUp * fs)),
		lastBeat: -1 << 40,
		lastR:    -1 << 40,
	}
	if cfg.pooled {
		p, _ := ringPool.Get().(*[]float32)
		if p == nil || cap(*p) < 3*ring {
			b := make([]float32, 3*ring)
			p = &b
		}
		d.pool = p
		d.raw, d.xb = dsp.NewRingOn((*p)[:ring]), dsp.NewRingOn((*p)[ring:2*ring])
		d.xm = dsp.NewRingOn((*p)[2*ring : 3*ring])
	} else {
		d.raw, d.xb, d.xm = dsp.NewRing(ring), dsp.NewRing(ring), dsp.NewRing(ring)
	}
	d.mnotch, d.mlp = d.notch, d.lp
	for i, f := range []*dsp.Biquad{&d.hp, &d.notch, &d.lp, &d.bpHP, &d.bpLP, &d.mhp} {
		c := &d.coef[i]
		c.b0, c.b1, c.b2, c.a1, c.a2 = f.Coefs()
	}
	d.resetBlock()
	return d, nil
}

// section holds the coefficients of one biquad (see dsp.Biquad).
type section struct{ b0, b1, b2, a1, a2 float64 }

// step runs one sample x through the section in transposed direct form II
// with state (z1, z2) and returns the output and the new state. It is
// small enough to be inlined into the per-block loops, where the
// coefficients stay in registers.
func (c *section) step(x, z1, z2 float64) (y, n1, n2 float64) {
	y = c.b0*x + z1
	return y, c.b1*x - c.a1*y + z2, c.b2*x - c.a2*y
}

// Indices of the sections in Detector.coef.
const (
	secHP = iota
	secNotch
	secLP
	secBandHP
	secBandLP
	secMeasHP
)

// StateBytes returns the memory the detector holds, in bytes.
func (d *Detector) StateBytes() int {
	return int(sizeofDetector) + 4*(d.raw.Cap()+d.xb.Cap()+d.xm.Cap()+len(d.mwiWin))
}

// Quality returns the class of the last completed block and the sample
// index where that block started.
func (d *Detector) Quality() (Quality, int64) { return d.quality, d.qualityStart }

// Samples returns the number of samples processed.
func (d *Detector) Samples() int64 { return d.n }

// detBlock is the most samples the detector filters at a time. Each stage
// (front end, QRS feature, peak logic) runs over a block in its own tight
// loop with its state in registers and the block in stack buffers.
const detBlock = 64

// Process filters src (one lead, in mV) and appends the beats whose
// decision fell in this chunk to dst, returning it. NaN and ±Inf samples
// count as lead-off and are held at the last finite value.
func (d *Detector) Process(dst []Beat, src []float32) []Beat {
	var raw, xb, feat [detBlock]float32
	for len(src) > 0 {
		// A block never crosses the end of a quality block.
		k := min(len(src), detBlock, int(d.blockLen)-d.blockN)
		dst = d.block(dst, src[:k], raw[:k], xb[:k], feat[:k])
		src = src[k:]
	}
	return dst
}

// ProcessInt16 is Process for raw ADC samples: x_mV = (adc − baseline)/gain.
func (d *Detector) ProcessInt16(dst []Beat, src []int16, gain, baseline float32) []Beat {
	inv := 1 / gain
	var buf [detBlock]float32
	for len(src) > 0 {
		k := min(len(src), detBlock)
		for i, a := range src[:k] {
			buf[i] = (float32(a) - baseline) * inv
		}
		dst = d.Process(dst, buf[:k])
		src = src[k:]
	}
	return dst
}

// block runs the detector over src (at most detBlock samples, within one
// quality block); raw, xb and feat are scratch of the same length.
func (d *Detector) block(dst []Beat, src, raw, xb, feat []float32) []Beat {
	if !d.settled {
		x := src[0]
		if x != x || x > 1e6 || x < -1e6 {
			x = d.last
		}
		d.hp.Settle(float64(x))
		d.mhp.Settle(float64(x))
		d.settled = true
	}
	d.frontEnd(src, raw, xb)
	d.raw.PushSlice(raw)
	d.xb.PushSlice(xb)
	// The measurement signal goes through feat as scratch: the feature
	// overwrites it below and reads only xb.
	d.measure(raw, feat)
	d.xm.PushSlice(feat)
	if int64(d.blockN) >= d.blockLen {
		d.closeQualityBlock(d.n + int64(len(src)))
	}
	d.feature(xb, feat)
	return d.peaks(dst, feat)
}

// frontEnd sanitises src into raw (non-finite or absurd samples held at
// the last good value and counted), filters it to the diagnostic band in
// xb (0.05 Hz high-pass, mains notch, 40 Hz low-pass; float64 state) and
// adds both to the quality block: raw extremes and how often they recur,
// and the energy the low-pass removes (above 40 Hz: muscle noise).
func (d *Detector) frontEnd(src, raw, xb []float32) {
	raw = raw[:len(src)]
	xb = xb[:len(src)]
	h, nt, lp := &d.coef[secHP], &d.coef[secNotch], &d.coef[secLP]
	hz1, hz2 := d.hp.State()
	nz1, nz2 := d.notch.State()
	lz1, lz2 := d.lp.State()
	last, invalid := d.last, d.invalid
	bmin, bmax, bminN, bmaxN := d.bmin, d.bmax, d.bminN, d.bmaxN
	hf := d.hfSum
	for i, x := range src {
		if x != x || x > 1e6 || x < -1e6 {
			x = last
			invalid++
		}
		last = x
		raw[i] = x
		v := float64(x)
		var y0, y1, y2 float64
		y0, hz1, hz2 = h.step(v, hz1, hz2)
		y1, nz1, nz2 = nt.step(y0, nz1, nz2)
		y2, lz1, lz2 = lp.step(y1, lz1, lz2)
		h := y1 - y2
		hf += h * h
		xb[i] = float32(y2)
		if x > bmax {
			bmax, bmaxN = x, 1
		} else if x == bmax {
			bmaxN++
		}
		if x < bmin {
			bmin, bminN = x, 1
		} else if x == bmin {
			bminN++
		}
	}
	d.hp.SetState(hz1, hz2)
	d.notch.SetState(nz1, nz2)
	d.lp.SetState(lz1, lz2)
	d.last, d.invalid = last, invalid
	d.bmin, d.bmax, d.bminN, d.bmaxN = bmin, bmax, bminN, bmaxN
	d.hfSum = hf
	d.blockN += len(src)
}

// measure filters the sanitised input raw into the measurement signal
// xm: first-order 0.05 Hz high-pass, then the same mains notch and 40 Hz
// low-pass as the clean signal, with their own float64 states.
func (d *Detector) measure(raw, xm []float32) {
	xm = xm[:len(raw)]
	h, nt, lp := &d.coef[secMeasHP], &d.coef[secNotch], &d.coef[secLP]
	hz1, _ := d.mhp.State()
	nz1, nz2 := d.mnotch.State()
	lz1, lz2 := d.mlp.State()
	for i, x := range raw {
		v := float64(x)
		y0 := h.b0*v + hz1
		hz1 = h.b1*v - h.a1*y0
		var y1, y2 float64
		y1, nz1, nz2 = nt.step(y0, nz1, nz2)
		y2, lz1, lz2 = lp.step(y1, lz1, lz2)
		xm[i] = float32(y2)
	}
	d.mhp.SetState(hz1, 0)
	d.mnotch.SetState(nz1, nz2)
	d.mlp.SetState(lz1, lz2)
}

// feature computes the Pan–Tompkins feature of the clean signal xb into
// f: 5–15 Hz band-pass, five-point derivative, squaring and moving-window
// integration (a float64 running sum, recomputed from the window every
// eighth wrap so that rounding cannot accumulate).
func (d *Detector) feature(xb, f []float32) {
	f = f[:len(xb)]
	p, q := &d.coef[secBandHP], &d.coef[secBandLP]
	pz1, pz2 := d.bpHP.State()
	qz1, qz2 := d.bpLP.State()
	scale, x1, x2, x3, x4 := d.derScale, d.dx1, d.dx2, d.dx3, d.dx4
	win, wi, sum, inv := d.mwiWin, d.mwiI, d.mwiSum, d.mwiInv
	for i, v := range xb {
		u := float64(v)
		var y, w float64
		y, pz1, pz2 = p.step(u, pz1, pz2)
		w, qz1, qz2 = q.step(y, qz1, qz2)
		b := float32(w)
		s := scale * (b + 2*x1 - 2*x3 - x4)
		x4, x3, x2, x1 = x3, x2, x1, b
		sq := s * s
		if wi >= len(win) {
			wi = 0
		}
		sum += float64(sq) - float64(win[wi])
		win[wi] = sq
		wi++
		if wi == len(win) {
			d.mwiSteps++
			if d.mwiSteps&7 == 0 {
				var t float64
				for _, e := range win {
					t += float64(e)
				}
				sum = t
			}
		}
		f[i] = float32(sum * inv)
	}
	d.bpHP.SetState(pz1, pz2)
	d.bpLP.SetState(qz1, qz2)
	d.dx1, d.dx2, d.dx3, d.dx4 = x1, x2, x3, x4
	d.mwiI, d.mwiSum = wi, sum
}

// peaks runs the decision logic over the feature f of the samples
// d.n … d.n+len(f)−1: local maxima become candidates, a candidate is
// decided once no larger one follows within the hold time, and candidates
// of the warm-up are kept until it ends.
func (d *Detector) peaks(dst []Beat, f []float32) []Beat {
	// The per-sample state lives in locals; evaluate and endWarmUp use
	// none of it.
	f1, f2 := d.f1, d.f2
	candOK, candVal, candIdx := d.candOK, d.candVal, d.candIdx
	hold := d.hold
	decayAfter, decayEvery := 2*int64(d.fs), int64(d.fs)/4
	n := d.n
	for _, v := range f {
		// f1 is a local maximum at n−1.
		if f1 > f2 && f1 >= v && (!candOK || f1 > candVal) {
			candOK, candVal, candIdx = true, f1, n-1
		}
		f2, f1 = f1, v
		if candOK && n-candIdx >= hold {
			candOK = false
			c := candidate{candVal, candIdx}
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
		n++
		if !d.warm {
			if n < d.warmN {
				continue
			}
			dst = d.endWarmUp(dst, n-1)
		}
		// With no beat for 2 s, let the signal level fall so that a
		// detector fooled by an artefact recovers (halving per second).
		if n-1-d.lastBeat > decayAfter {
			d.sinceDecay++
			if d.sinceDecay >= decayEvery {
				d.sinceDecay = 0
				d.spk *= 0.84
			}
		}
	}
	d.n = n
	d.f1, d.f2 = f1, f2
	d.candOK, d.candVal, d.candIdx = candOK, candVal, candIdx
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
	// Largest step between consecutive held samples in [lo−1, hi].
	var maxSlope float32
	var buf [winMax]float32
	if seg, _ := d.xb.Window(buf[:], lo-1, hi); len(seg) > 1 {
		prev := seg[0]
		for _, v := range seg[1:] {
			maxSlope = max(maxSlope, abs32(v-prev))
			prev = v
		}
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

// winMax bounds the look-back windows the detector copies out of its
// rings (at most 0.25 s, at the highest rate).
const winMax = MaxRateHz / 4

// locateR returns the index and value of the largest absolute deviation
// of the clean signal in [lo, hi] from its value at lo (a local
// baseline, since the clean signal keeps slow wander).
func (d *Detector) locateR(lo, hi int64) (int64, float32, bool) {
	var buf [winMax]float32
	seg, from := d.xb.Window(buf[:], lo, hi)
	if len(seg) == 0 || from != lo {
		return -1, 0, false
	}
	ref := seg[0]
	best, bestAbs := -1, float32(-1)
	var val float32
	for i, v := range seg {
		v -= ref
		a := v
		if a < 0 {
			a = -a
		}
		if a > bestAbs {
			best, bestAbs, val = i, a, v
		}
	}
	return from + int64(best), val, true
}

// artefact reports whether the raw signal around r is flat, clipped or a
// step (electrode pop, lead-off transition) rather than a QRS complex.
func (d *Detector) artefact(r int64) bool {
	w := int64(0.1 * d.fs)
	m := int64(0.02 * d.fs)
	lo, hi := r-w, r+w
	var buf [winMax]float32
	// One copy covers the window and the 20 ms stretches either side.
	seg, from := d.raw.Window(buf[:], lo-m, hi+m)
	part := func(a, b int64) []float32 { // held samples in [a, b]
		a, b = max(a, from), min(b, from+int64(len(seg))-1)
		if b < a {
			return nil
		}
		return seg[a-from : b-from+1]
	}
	win := part(lo, hi)
	if len(win) == 0 {
		return true
	}
	var mn, mx float32 = math.MaxFloat32, -math.MaxFloat32
	for _, v := range win {
		mn, mx = min(mn, v), max(mx, v)
	}
	if mx-mn < flatRangeMV {
		return true
	}
	atRail := 0
	for _, v := range win {
		if v == mn || v == mx {
			atRail++
		}
	}
	if float32(atRail) >= clipShare*float32(len(win)) && len(win) > 10 {
		return true
	}
	// Step: the level 100 ms before and after differ by more than a QRS
	// returns to (mean of 20 ms stretches).
	pre, okPre := mean32(part(lo-m, lo))
	post, okPost := mean32(part(hi, hi+m))
	if okPre && okPost && math.Abs(float64(post-pre)) > stepArtifactMV {
		return true
	}
	return false
}

// mean32 returns the mean of x, summed in float32 in order, and whether x
// is not empty.
func mean32(x []float32) (float32, bool) {
	var s float32
	for _, v := range x {
		s += v
	}
	if len(x) == 0 {
		return 0, false
	}
	return s / float32(len(x)), true
}

func (d *Detector) resetBlock() {
	d.blockN = 0
	d.bmin, d.bmax = math.MaxFloat32, -math.MaxFloat32
	d.bminN, d.bmaxN = 0, 0
	d.hfSum = 0
	d.invalid = 0
}

// closeQualityBlock classifies the quality block that ends before sample
// end and starts the next.
func (d *Detector) closeQualityBlock(end int64) {
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
	d.qualityStart = end - int64(d.blockN)
	d.resetBlock()
}
