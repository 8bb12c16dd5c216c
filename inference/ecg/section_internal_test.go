package ecg

import (
	"math/rand/v2"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg/dsp"
)

// TestSectionStepMatchesBiquad checks that the detector's inlined filter
// step gives, bit for bit, what dsp.Biquad gives for every section the
// detector builds, at each supported kind of sampling rate.
func TestSectionStepMatchesBiquad(t *testing.T) {
	for _, fs := range []float64{128, 250, 360, 500, 1000} {
		d, err := NewDetector(DetectorConfig{RateHz: fs})
		if err != nil {
			t.Fatalf("fs %v: %v", fs, err)
		}
		filters := []*dsp.Biquad{&d.hp, &d.notch, &d.lp, &d.bpHP, &d.bpLP, &d.mhp}
		for i, f := range filters {
			ref := *f
			ref.Reset()
			c := &d.coef[i]
			rng := rand.New(rand.NewPCG(uint64(fs), uint64(i)))
			var z1, z2 float64
			for n := range 5000 {
				x := rng.NormFloat64() * 2
				want := ref.Step(x)
				var y float64
				y, z1, z2 = c.step(x, z1, z2)
				if y != want {
					t.Fatalf("fs %v section %d sample %d: step %v, Biquad %v", fs, i, n, y, want)
				}
			}
			if w1, w2 := ref.State(); w1 != z1 || w2 != z2 {
				t.Fatalf("fs %v section %d: state (%v, %v), Biquad (%v, %v)", fs, i, z1, z2, w1, w2)
			}
		}
	}
}
