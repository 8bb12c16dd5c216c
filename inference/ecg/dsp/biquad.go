package dsp

import (
	"fmt"
	"math"
)

// Biquad is a second-order IIR section
//
//	H(z) = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²)
//
// run in transposed direct form II with float64 state, so that cut-offs far
// below the sampling rate (0.5 Hz at 1000 Hz) stay accurate. The zero value
// is the identity filter with b0 = 0, i.e. it outputs zeros; build one with
// NewLowpass, NewHighpass, NewNotch or NewBiquad.
type Biquad struct {
	b0, b1, b2, a1, a2 float64
	z1, z2             float64
}

// NewBiquad returns the section with the given coefficients (a0 = 1).
func NewBiquad(b0, b1, b2, a1, a2 float64) Biquad {
	return Biquad{b0: b0, b1: b1, b2: b2, a1: a1, a2: a2}
}

// checkCutoff panics unless 0 < fc < fs/2.
func checkCutoff(op string, fs, fc float64) {
	if !(fs > 0) || !(fc > 0) || !(fc < fs/2) {
		panic(fmt.Sprintf("dsp: %s: cut-off %g Hz outside (0, %g) for sampling rate %g Hz", op, fc, fs/2, fs))
	}
}

// NewLowpass returns a second-order Butterworth low-pass section with its
// −3 dB point at fc Hz for sampling rate fs Hz, designed by the bilinear
// transform with frequency pre-warping (ω0 = 2π fc/fs, α = sin ω0 / (2Q),
// Q = 1/√2):
//
//	b0 = b2 = (1 − cos ω0)/2 / a0, b1 = (1 − cos ω0) / a0,
//	a1 = −2 cos ω0 / a0, a2 = (1 − α) / a0, a0 = 1 + α.
//
// The DC gain is exactly 1. It panics unless 0 < fc < fs/2.
func NewLowpass(fs, fc float64) Biquad {
	checkCutoff("NewLowpass", fs, fc)
	w := 2 * math.Pi * fc / fs
	c, s := math.Cos(w), math.Sin(w)
	alpha := s / (2 * math.Sqrt2 / 2)
	a0 := 1 + alpha
	return Biquad{
		b0: (1 - c) / 2 / a0, b1: (1 - c) / a0, b2: (1 - c) / 2 / a0,
		a1: -2 * c / a0, a2: (1 - alpha) / a0,
	}
}

// NewHighpass returns a second-order Butterworth high-pass section with its
// −3 dB point at fc Hz (same design as NewLowpass with
// b0 = b2 = (1 + cos ω0)/2 / a0, b1 = −(1 + cos ω0) / a0). Its gain at DC
// is exactly 0 and at fs/2 exactly 1. It panics unless 0 < fc < fs/2.
func NewHighpass(fs, fc float64) Biquad {
	checkCutoff("NewHighpass", fs, fc)
	w := 2 * math.Pi * fc / fs
	c, s := math.Cos(w), math.Sin(w)
	alpha := s / (2 * math.Sqrt2 / 2)
	a0 := 1 + alpha
	return Biquad{
		b0: (1 + c) / 2 / a0, b1: -(1 + c) / a0, b2: (1 + c) / 2 / a0,
		a1: -2 * c / a0, a2: (1 - alpha) / a0,
	}
}

// NewHighpass1 returns a first-order high-pass with its −3 dB point at fc
// Hz, designed by the bilinear transform with pre-warping (K = tan(π fc/fs)):
//
//	b0 = 1/(1+K), b1 = −1/(1+K), b2 = 0, a1 = (K−1)/(K+1), a2 = 0,
//
// run as a Biquad so that it drops into the same loops. Its step response
// is a single decaying exponential with no undershoot of its own, which
// is why diagnostic ECG baselines use it: after the IEC 60601-2-25
// 3 mV × 100 ms impulse a 0.05 Hz first-order section leaves ≈ 0.09 mV
// of displacement against ≈ 0.13 mV for NewHighpass at the same corner.
// Its gain at DC is exactly 0 and at fs/2 exactly 1. It panics unless
// 0 < fc < fs/2.
func NewHighpass1(fs, fc float64) Biquad {
	checkCutoff("NewHighpass1", fs, fc)
	k := math.Tan(math.Pi * fc / fs)
	g := 1 / (1 + k)
	return Biquad{b0: g, b1: -g, a1: (k - 1) * g}
}

// NewNotch returns a second-order notch centred on f0 Hz with quality
// factor q (bandwidth ≈ f0/q Hz) for sampling rate fs Hz: zeros on the unit
// circle at ±ω0, poles at the same angle with radius set by
// α = sin ω0 / (2q):
//
//	b0 = b2 = 1/a0, b1 = −2 cos ω0 / a0, a1 = −2 cos ω0 / a0,
//	a2 = (1 − α)/a0, a0 = 1 + α.
//
// The gain at f0 is exactly 0 and at DC exactly 1. It panics unless
// 0 < f0 < fs/2 and q > 0.
func NewNotch(fs, f0, q float64) Biquad {
	checkCutoff("NewNotch", fs, f0)
	if !(q > 0) {
		panic(fmt.Sprintf("dsp: NewNotch: quality factor %g is not positive", q))
	}
	w := 2 * math.Pi * f0 / fs
	c, s := math.Cos(w), math.Sin(w)
	alpha := s / (2 * q)
	a0 := 1 + alpha
	return Biquad{
		b0: 1 / a0, b1: -2 * c / a0, b2: 1 / a0,
		a1: -2 * c / a0, a2: (1 - alpha) / a0,
	}
}

// Step filters one sample and returns the output:
//
//	y = b0 x + z1;  z1' = b1 x − a1 y + z2;  z2' = b2 x − a2 y.
func (f *Biquad) Step(x float64) float64 {
	y := f.b0*x + f.z1
	f.z1 = f.b1*x - f.a1*y + f.z2
	f.z2 = f.b2*x - f.a2*y
	return y
}

// Process filters src into dst and returns dst. If dst is nil a new slice
// is allocated; otherwise it must have len(src) and may alias src. It
// panics if len(dst) != len(src).
func (f *Biquad) Process(dst, src []float32) []float32 {
	dst = useDst("Biquad.Process", dst, len(src))
	b0, b1, b2, a1, a2, z1, z2 := f.b0, f.b1, f.b2, f.a1, f.a2, f.z1, f.z2
	for i, v := range src {
		x := float64(v)
		y := b0*x + z1
		z1 = b1*x - a1*y + z2
		z2 = b2*x - a2*y
		dst[i] = float32(y)
	}
	f.z1, f.z2 = z1, z2
	return dst
}

// Coefs returns the coefficients b0, b1, b2, a1, a2 (a0 = 1), so that a
// caller can run several sections in one loop with everything in
// registers (see State and SetState).
func (f *Biquad) Coefs() (b0, b1, b2, a1, a2 float64) { return f.b0, f.b1, f.b2, f.a1, f.a2 }

// State returns the transposed direct form II state z1, z2.
func (f *Biquad) State() (z1, z2 float64) { return f.z1, f.z2 }

// SetState sets the state returned by State.
func (f *Biquad) SetState(z1, z2 float64) { f.z1, f.z2 = z1, z2 }

// Reset clears the state, as if only zeros had been filtered.
func (f *Biquad) Reset() { f.z1, f.z2 = 0, 0 }

// Settle sets the state to the steady state for a constant input x, so a
// signal that starts at an offset does not ring. For a high-pass or notch
// the output starts at the filter's DC gain times x.
func (f *Biquad) Settle(x float64) {
	// Steady state: y = g x with g = (b0+b1+b2)/(1+a1+a2);
	// z2 = b2 x − a2 y, z1 = b1 x − a1 y + z2.
	den := 1 + f.a1 + f.a2
	if den == 0 {
		f.Reset()
		return
	}
	y := (f.b0 + f.b1 + f.b2) / den * x
	f.z2 = f.b2*x - f.a2*y
	f.z1 = f.b1*x - f.a1*y + f.z2
}

// Gain returns |H(e^{jω})| at frequency hz for sampling rate fs: the
// analytic magnitude response, used as the oracle in tests.
func (f *Biquad) Gain(fs, hz float64) float64 {
	w := 2 * math.Pi * hz / fs
	// e^{-jw} and e^{-2jw}
	c1, s1 := math.Cos(w), -math.Sin(w)
	c2, s2 := math.Cos(2*w), -math.Sin(2*w)
	nr := f.b0 + f.b1*c1 + f.b2*c2
	ni := f.b1*s1 + f.b2*s2
	dr := 1 + f.a1*c1 + f.a2*c2
	di := f.a1*s1 + f.a2*s2
	return math.Hypot(nr, ni) / math.Hypot(dr, di)
}

// useDst returns dst sized to n, allocating when dst is nil.
func useDst(op string, dst []float32, n int) []float32 {
	if dst == nil {
		return make([]float32, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("dsp: %s: len(dst) = %d, want %d", op, len(dst), n))
	}
	return dst
}
