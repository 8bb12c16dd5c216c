package dsp

import (
	"fmt"
	"math"
)

// MovingSum is moving-window integration over the last n samples,
//
//	y[k] = (1/n) Σ_{i=0}^{n−1} x[k−i],
//
// the step Pan & Tompkins (IEEE TBME 32(3), 1985) use to merge the slope
// energy of one QRS complex into a single hump. The running sum is kept in
// float64 and recomputed from the window every n samples so rounding error
// cannot accumulate.
type MovingSum struct {
	win   []float32
	i     int
	sum   float64
	inv   float64 // 1/n: a multiply per sample instead of a divide
	steps int
}

// NewMovingSum returns an integrator over n samples. It panics if n < 1.
func NewMovingSum(n int) MovingSum {
	if n < 1 {
		panic(fmt.Sprintf("dsp: NewMovingSum: window %d < 1", n))
	}
	return MovingSum{win: make([]float32, n), inv: 1 / float64(n)}
}

// Len returns the window length in samples.
func (m *MovingSum) Len() int { return len(m.win) }

// Step adds x and returns the mean of the last n samples (missing samples
// at the start count as 0).
func (m *MovingSum) Step(x float32) float32 {
	m.sum += float64(x) - float64(m.win[m.i])
	m.win[m.i] = x
	m.i++
	if m.i == len(m.win) {
		m.i = 0
		m.steps++
		if m.steps&7 == 0 {
			var s float64
			for _, v := range m.win {
				s += float64(v)
			}
			m.sum = s
		}
	}
	return float32(m.sum * m.inv)
}

// Process integrates src into dst (dst-first, see the package doc).
func (m *MovingSum) Process(dst, src []float32) []float32 {
	dst = useDst("MovingSum.Process", dst, len(src))
	for i, v := range src {
		dst[i] = m.Step(v)
	}
	return dst
}

// Reset clears the window.
func (m *MovingSum) Reset() {
	clear(m.win)
	m.i, m.sum, m.steps = 0, 0, 0
}

// Derivative is the five-point slope estimate of Pan & Tompkins (1985),
//
//	y[k] = fs/8 · (x[k] + 2x[k−1] − 2x[k−3] − x[k−4]),
//
// in input units per second. Its group delay is two samples and its gain
// is exact for a ramp: a ramp of slope s per second gives y = s.
type Derivative struct {
	x1, x2, x3, x4 float32
	scale          float32
}

// NewDerivative returns the derivative for sampling rate fs Hz. It panics
// if fs ≤ 0.
func NewDerivative(fs float64) Derivative {
	if !(fs > 0) {
		panic(fmt.Sprintf("dsp: NewDerivative: sampling rate %g ≤ 0", fs))
	}
	return Derivative{scale: float32(fs / 8)}
}

// Step returns the slope at the newest sample x.
func (d *Derivative) Step(x float32) float32 {
	y := d.scale * (x + 2*d.x1 - 2*d.x3 - d.x4)
	d.x4, d.x3, d.x2, d.x1 = d.x3, d.x2, d.x1, x
	return y
}

// Reset clears the history.
func (d *Derivative) Reset() { d.x1, d.x2, d.x3, d.x4 = 0, 0, 0, 0 }

// Baseline removes baseline wander (respiration, electrode motion) with a
// causal second-order Butterworth high-pass at CutoffHz. The AHA
// recommendation for diagnostic ECGs is a low cut-off of 0.05 Hz for linear
// filters that must not distort the ST segment (Kligfield et al.,
// Circulation 2007;115:1306); 0.5 Hz is the usual monitoring-mode choice
// and is what QRS detection uses. A causal high-pass shifts the signal
// after every QRS by about √2·2π·CutoffHz times the QRS's net area: at
// 0.5 Hz that moves ST levels by tenths of a millivolt, so ST is never
// measured on a 0.5 Hz signal; at 0.05 Hz the 3 mV × 100 ms impulse of the
// IEC 60601-2-25 low-frequency test leaves 0.13 mV (a first-order 0.05 Hz
// filter, or this one at 0.035 Hz, 0.09 mV).
type Baseline struct {
	hp      Biquad
	settled bool
}

// NewBaseline returns a baseline remover with the given −3 dB cut-off for
// sampling rate fs. It panics unless 0 < cutoff < fs/2.
func NewBaseline(fs, cutoff float64) Baseline {
	return Baseline{hp: NewHighpass(fs, cutoff)}
}

// Step returns x with the wander removed. The first sample primes the
// state so that a DC offset at start-up does not ring.
func (b *Baseline) Step(x float32) float32 {
	if !b.settled {
		b.hp.Settle(float64(x))
		b.settled = true
	}
	return float32(b.hp.Step(float64(x)))
}

// Process filters src into dst (dst-first, see the package doc).
func (b *Baseline) Process(dst, src []float32) []float32 {
	dst = useDst("Baseline.Process", dst, len(src))
	for i, v := range src {
		dst[i] = b.Step(v)
	}
	return dst
}

// Reset clears the state.
func (b *Baseline) Reset() { b.hp.Reset(); b.settled = false }

// Powerline suppresses mains interference at MainsHz (50 Hz in China and
// Europe, 60 Hz in the Americas) and its second harmonic when that lies
// below the Nyquist frequency, with notches of quality factor 30
// (bandwidth about 1.7 Hz at 50 Hz).
type Powerline struct {
	n      [2]Biquad
	stages int
}

// PowerlineQ is the quality factor of the mains notches.
const PowerlineQ = 30

// NewPowerline returns the canceller for mains frequency mainsHz (50 or 60)
// and sampling rate fs. It panics unless mainsHz < fs/2.
func NewPowerline(fs, mainsHz float64) Powerline {
	p := Powerline{stages: 1}
	p.n[0] = NewNotch(fs, mainsHz, PowerlineQ)
	if 2*mainsHz < fs/2 {
		p.n[1] = NewNotch(fs, 2*mainsHz, PowerlineQ)
		p.stages = 2
	}
	return p
}

// Step filters one sample.
func (p *Powerline) Step(x float32) float32 {
	y := p.n[0].Step(float64(x))
	if p.stages == 2 {
		y = p.n[1].Step(y)
	}
	return float32(y)
}

// Process filters src into dst (dst-first, see the package doc).
func (p *Powerline) Process(dst, src []float32) []float32 {
	dst = useDst("Powerline.Process", dst, len(src))
	for i, v := range src {
		dst[i] = p.Step(v)
	}
	return dst
}

// Gain returns the magnitude response at hz for sampling rate fs.
func (p *Powerline) Gain(fs, hz float64) float64 {
	g := p.n[0].Gain(fs, hz)
	if p.stages == 2 {
		g *= p.n[1].Gain(fs, hz)
	}
	return g
}

// Reset clears the state.
func (p *Powerline) Reset() { p.n[0].Reset(); p.n[1].Reset() }

// Bandpass is a high-pass followed by a low-pass section, both
// second-order Butterworth. The QRS detector uses 5–15 Hz, the band where
// the QRS complex carries most of its energy relative to P and T waves and
// muscle noise (Pan & Tompkins 1985).
type Bandpass struct {
	hp, lp Biquad
}

// NewBandpass returns the band-pass [lo, hi] Hz for sampling rate fs. It
// panics unless 0 < lo < hi < fs/2.
func NewBandpass(fs, lo, hi float64) Bandpass {
	if !(lo < hi) {
		panic(fmt.Sprintf("dsp: NewBandpass: low edge %g ≥ high edge %g", lo, hi))
	}
	return Bandpass{hp: NewHighpass(fs, lo), lp: NewLowpass(fs, hi)}
}

// Step filters one sample.
func (b *Bandpass) Step(x float32) float32 {
	return float32(b.lp.Step(b.hp.Step(float64(x))))
}

// Process filters src into dst (dst-first, see the package doc).
func (b *Bandpass) Process(dst, src []float32) []float32 {
	dst = useDst("Bandpass.Process", dst, len(src))
	for i, v := range src {
		dst[i] = b.Step(v)
	}
	return dst
}

// Gain returns the magnitude response at hz for sampling rate fs.
func (b *Bandpass) Gain(fs, hz float64) float64 {
	return b.hp.Gain(fs, hz) * b.lp.Gain(fs, hz)
}

// Reset clears the state.
func (b *Bandpass) Reset() { b.hp.Reset(); b.lp.Reset() }

// RMS returns the root mean square of x, or 0 for an empty slice.
func RMS(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}
