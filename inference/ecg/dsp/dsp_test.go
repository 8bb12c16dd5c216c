package dsp_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yizhu-health/yizhu/inference/ecg/dsp"
)

// rates are the sampling rates the ECG core must support (issue 4).
var rates = []float64{128, 250, 360, 500, 1000}

func sine(fs, hz, amp float64, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*hz*float64(i)/fs))
	}
	return x
}

// steadyRMS returns the RMS of the second half of x, after transients.
func steadyRMS(x []float32) float64 { return dsp.RMS(x[len(x)/2:]) }

func TestPowerlineAttenuation(t *testing.T) {
	// A mains notch must take a 50 or 60 Hz sine down by at least 40 dB
	// (tolAtten) while passing 10 Hz (QRS band) within 1 % (tolPass).
	const (
		tolAtten = 0.01 // −40 dB
		tolPass  = 0.01
	)
	for _, fs := range rates {
		for _, mains := range []float64{50, 60} {
			t.Run(fmt.Sprintf("%gHz_at_%g", mains, fs), func(t *testing.T) {
				p := dsp.NewPowerline(fs, mains)
				in := sine(fs, mains, 1, int(fs*60))
				out := p.Process(nil, in)
				if got := steadyRMS(out) / steadyRMS(in); got > tolAtten {
					t.Errorf("mains gain = %.4g, want ≤ %g", got, tolAtten)
				}
				p.Reset()
				in = sine(fs, 10, 1, int(fs*10))
				out = p.Process(nil, in)
				if got := steadyRMS(out) / steadyRMS(in); math.Abs(got-1) > tolPass {
					t.Errorf("10 Hz gain = %.4g, want 1 ± %g", got, tolPass)
				}
				if g := p.Gain(fs, mains); g > 1e-9 {
					t.Errorf("analytic gain at mains = %g, want 0", g)
				}
			})
		}
	}
}

func TestButterworthCutoff(t *testing.T) {
	// At the cut-off a Butterworth section has gain 1/√2 (−3 dB); the
	// measured steady-state gain of a sine must match the analytic one.
	const tol = 0.01
	for _, fs := range rates {
		for _, tc := range []struct {
			name string
			f    dsp.Biquad
			fc   float64
		}{
			{"lowpass15", dsp.NewLowpass(fs, 15), 15},
			{"highpass0.5", dsp.NewHighpass(fs, 0.5), 0.5},
			{"highpass5", dsp.NewHighpass(fs, 5), 5},
			{"highpass1_0.5", dsp.NewHighpass1(fs, 0.5), 0.5},
		} {
			t.Run(fmt.Sprintf("%s_at_%g", tc.name, fs), func(t *testing.T) {
				if g := tc.f.Gain(fs, tc.fc); math.Abs(g-math.Sqrt2/2) > 1e-9 {
					t.Errorf("analytic gain at fc = %g, want %g", g, math.Sqrt2/2)
				}
				f := tc.f
				in := sine(fs, tc.fc, 1, int(fs*40/tc.fc))
				out := f.Process(nil, in)
				got := steadyRMS(out) / steadyRMS(in)
				if math.Abs(got-math.Sqrt2/2) > tol {
					t.Errorf("measured gain at fc = %.4f, want %.4f ± %g", got, math.Sqrt2/2, tol)
				}
			})
		}
	}
}

func TestImpulseAndStep(t *testing.T) {
	const tol = 1e-6
	fs := 360.0
	t.Run("lowpass impulse sums to DC gain 1", func(t *testing.T) {
		f := dsp.NewLowpass(fs, 15)
		var sum float64
		for i := range 4000 {
			x := 0.0
			if i == 0 {
				x = 1
			}
			sum += f.Step(x)
		}
		if math.Abs(sum-1) > tol {
			t.Errorf("Σh = %g, want 1", sum)
		}
	})
	t.Run("highpass step decays to zero", func(t *testing.T) {
		f := dsp.NewHighpass(fs, 0.5)
		var y float64
		first := f.Step(1)
		for range int(fs * 30) {
			y = f.Step(1)
		}
		if math.Abs(y) > 1e-4 {
			t.Errorf("step response after 30 s = %g, want ~0", y)
		}
		if first < 0.99 || first > 1 {
			t.Errorf("first step sample = %g, want b0 ≈ 1", first)
		}
	})
	t.Run("first-order highpass step decays without undershoot", func(t *testing.T) {
		// A single real pole: the step response falls monotonically
		// towards 0 and never crosses it (the second-order section does).
		f := dsp.NewHighpass1(fs, 0.5)
		prev := f.Step(1)
		if prev < 0.99 || prev > 1 {
			t.Errorf("first step sample = %g, want b0 ≈ 1", prev)
		}
		for i := range int(fs * 30) {
			y := f.Step(1)
			if y < 0 || y > prev {
				t.Fatalf("step response at %d = %g after %g, want monotone decay ≥ 0", i+1, y, prev)
			}
			prev = y
		}
		if prev > 1e-4 {
			t.Errorf("step response after 30 s = %g, want ~0", prev)
		}
	})
	t.Run("notch impulse sums to DC gain 1", func(t *testing.T) {
		f := dsp.NewNotch(fs, 50, 30)
		var sum float64
		for i := range 20000 {
			x := 0.0
			if i == 0 {
				x = 1
			}
			sum += f.Step(x)
		}
		if math.Abs(sum-1) > tol {
			t.Errorf("Σh = %g, want 1", sum)
		}
	})
}

func TestBaselineRemovesOffsetWithoutRinging(t *testing.T) {
	// A constant offset of 5 mV from the first sample must give ~0 output
	// at once (Settle), and a 0.1 Hz wander must be attenuated.
	fs := 500.0
	b := dsp.NewBaseline(fs, 0.5)
	for i := range 100 {
		if y := b.Step(5); math.Abs(float64(y)) > 1e-4 {
			t.Fatalf("sample %d: output %g, want 0 for a settled offset", i, y)
		}
	}
	b.Reset()
	in := sine(fs, 0.1, 1, int(fs*60))
	out := b.Process(nil, in)
	if g := steadyRMS(out) / steadyRMS(in); g > 0.05 {
		t.Errorf("0.1 Hz wander gain = %.3f, want ≤ 0.05", g)
	}
}

func TestLinearity(t *testing.T) {
	// Property: filtering a·x equals a times filtering x.
	const tol = 1e-5
	fs := 250.0
	x := sine(fs, 7, 1, 1000)
	for i := range x {
		x[i] += float32(0.3 * math.Sin(float64(i)*0.91))
	}
	bp := dsp.NewBandpass(fs, 5, 15)
	y1 := bp.Process(nil, x)
	bp.Reset()
	x3 := make([]float32, len(x))
	for i := range x {
		x3[i] = 3 * x[i]
	}
	y3 := bp.Process(nil, x3)
	for i := range y1 {
		if d := math.Abs(float64(y3[i] - 3*y1[i])); d > tol {
			t.Fatalf("sample %d: |f(3x) − 3f(x)| = %g > %g", i, d, tol)
		}
	}
}

func TestDerivativeRamp(t *testing.T) {
	fs := 500.0
	d := dsp.NewDerivative(fs)
	const slope = 2.0 // units per second
	var y float32
	for i := range 50 {
		y = d.Step(float32(slope * float64(i) / fs))
	}
	if math.Abs(float64(y)-slope) > 1e-4 {
		t.Errorf("derivative of ramp = %g, want %g", y, slope)
	}
}

func TestMovingSum(t *testing.T) {
	m := dsp.NewMovingSum(4)
	got := m.Process(nil, []float32{4, 0, 0, 0, 0, 8, 8, 8, 8, 8})
	want := []float32{1, 1, 1, 1, 0, 2, 4, 6, 8, 8}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("moving mean (-want +got):\n%s", d)
	}
}

func TestRing(t *testing.T) {
	r := dsp.NewRing(3)
	for i := range 5 {
		r.Push(float32(i))
	}
	if r.Len() != 3 || r.Total() != 5 {
		t.Fatalf("Len, Total = %d, %d, want 3, 5", r.Len(), r.Total())
	}
	got := []float32{r.Ago(0), r.Ago(1), r.Ago(2)}
	if d := cmp.Diff([]float32{4, 3, 2}, got); d != "" {
		t.Errorf("Ago (-want +got):\n%s", d)
	}
	if _, ok := r.Abs(1); ok {
		t.Error("Abs(1) held after overwrite")
	}
	if v, ok := r.Abs(3); !ok || v != 3 {
		t.Errorf("Abs(3) = %v, %v, want 3, true", v, ok)
	}
	dst := make([]float32, 3)
	if !r.Copy(dst, 2) {
		t.Fatal("Copy(2) failed")
	}
	if d := cmp.Diff([]float32{2, 3, 4}, dst); d != "" {
		t.Errorf("Copy (-want +got):\n%s", d)
	}
	if r.Copy(dst, 3) {
		t.Error("Copy past the newest sample succeeded")
	}
}

func TestRingPushSliceMatchesPush(t *testing.T) {
	// Property: pushing chunks of any size (including longer than the
	// ring) leaves the same samples, at the same places, as pushing one
	// sample at a time; Copy and Window then agree with Abs.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, capacity := range []int{1, 7, 64} {
		a, b := dsp.NewRing(capacity), dsp.NewRing(capacity)
		next := float32(0)
		for range 200 {
			chunk := make([]float32, rng.IntN(2*capacity+2))
			for i := range chunk {
				chunk[i] = next
				next++
			}
			for _, v := range chunk {
				a.Push(v)
			}
			b.PushSlice(chunk)
			if a.Len() != b.Len() || a.Total() != b.Total() {
				t.Fatalf("cap %d: Len, Total = %d, %d, want %d, %d", capacity, b.Len(), b.Total(), a.Len(), a.Total())
			}
			// A view of b as it is now (which relies on where PushSlice
			// put each sample) holds the same as a.
			var v dsp.Ring
			b.View(&v, b.Total(), capacity)
			for k := range a.Len() {
				if a.Ago(k) != b.Ago(k) || a.Ago(k) != v.Ago(k) {
					t.Fatalf("cap %d: Ago(%d) = %v (view %v), want %v", capacity, k, b.Ago(k), v.Ago(k), a.Ago(k))
				}
			}
		}
		// Copy of the whole held range and Window past both ends.
		from := b.Total() - int64(b.Len())
		got := make([]float32, b.Len())
		if !b.Copy(got, from) {
			t.Fatalf("cap %d: Copy of the held range failed", capacity)
		}
		win, at := b.Window(make([]float32, capacity+10), from-5, b.Total()+5)
		if at != from || len(win) != b.Len() {
			t.Fatalf("cap %d: Window = %d samples from %d, want %d from %d", capacity, len(win), at, b.Len(), from)
		}
		for i := range got {
			want, _ := b.Abs(from + int64(i))
			if got[i] != want || win[i] != want {
				t.Fatalf("cap %d: sample %d: Copy %v, Window %v, Abs %v", capacity, i, got[i], win[i], want)
			}
		}
		if w, _ := b.Window(make([]float32, 4), b.Total(), b.Total()+3); len(w) != 0 {
			t.Errorf("cap %d: Window past the newest sample = %v, want empty", capacity, w)
		}
	}
}

func TestRingView(t *testing.T) {
	// A view taken at end holds what a ring of the view's capacity held
	// after end pushes, however far the ring has moved on since (up to
	// its capacity minus the view's).
	const capacity, lim = 20, 8
	r := dsp.NewRing(capacity)
	var v dsp.Ring
	for i := range 60 {
		r.Push(float32(i * i))
		for ahead := range int64(capacity - lim + 1) {
			end := max(0, r.Total()-ahead)
			r.View(&v, end, lim)
			want := dsp.NewRing(lim)
			for k := range end {
				want.Push(float32(k * k))
			}
			if v.Len() != want.Len() || v.Total() != want.Total() || v.Cap() != lim {
				t.Fatalf("view at %d: Len, Total, Cap = %d, %d, %d, want %d, %d, %d", end, v.Len(), v.Total(), v.Cap(), want.Len(), want.Total(), lim)
			}
			for k := end - lim - 2; k < end+2; k++ {
				a, okA := v.Abs(k)
				b, okB := want.Abs(k)
				if a != b || okA != okB {
					t.Fatalf("view at %d: Abs(%d) = %v, %v, want %v, %v", end, k, a, okA, b, okB)
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Push to a view did not panic")
		}
	}()
	v.Push(1)
}

func TestBiquadCoefsAndState(t *testing.T) {
	// A loop run from Coefs and State, written back with SetState, is
	// the same filter as Step.
	f := dsp.NewLowpass(500, 40)
	g := f
	b0, b1, b2, a1, a2 := g.Coefs()
	x := sine(500, 30, 1, 300)
	for i, v := range x {
		want := f.Step(float64(v))
		z1, z2 := g.State()
		u := float64(v)
		y := b0*u + z1
		g.SetState(b1*u-a1*y+z2, b2*u-a2*y)
		if y != want {
			t.Fatalf("sample %d: %v, want %v", i, y, want)
		}
	}
}

func TestProgrammerErrorsPanic(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"cutoff at nyquist", func() { dsp.NewLowpass(250, 125) }},
		{"zero window", func() { dsp.NewMovingSum(0) }},
		{"bad dst", func() { f := dsp.NewLowpass(250, 10); f.Process(make([]float32, 2), make([]float32, 3)) }},
		{"zero ring", func() { dsp.NewRing(0) }},
		{"empty ring buffer", func() { dsp.NewRingOn(nil) }},
		{"view larger than the ring", func() { var v dsp.Ring; dsp.NewRing(4).View(&v, 0, 5) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				s, ok := r.(string)
				if !ok || len(s) < 5 || s[:5] != "dsp: " {
					t.Errorf("recover() = %v, want a \"dsp: \" panic", r)
				}
			}()
			tc.fn()
		})
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	fs := 500.0
	bp := dsp.NewBandpass(fs, 5, 15)
	pl := dsp.NewPowerline(fs, 50)
	bl := dsp.NewBaseline(fs, 0.5)
	ms := dsp.NewMovingSum(75)
	buf := sine(fs, 10, 1, 512)
	n := testing.AllocsPerRun(50, func() {
		bl.Process(buf, buf)
		pl.Process(buf, buf)
		bp.Process(buf, buf)
		ms.Process(buf, buf)
	})
	if n != 0 {
		t.Errorf("allocs per block = %v, want 0", n)
	}
}

func BenchmarkFrontEnd(b *testing.B) {
	fs := 500.0
	bl := dsp.NewBaseline(fs, 0.5)
	pl := dsp.NewPowerline(fs, 50)
	bp := dsp.NewBandpass(fs, 5, 15)
	buf := sine(fs, 10, 1, 4096)
	for b.Loop() {
		bl.Process(buf, buf)
		pl.Process(buf, buf)
		bp.Process(buf, buf)
	}
	b.ReportMetric(float64(b.N)*float64(len(buf))/b.Elapsed().Seconds(), "samples/s")
}
