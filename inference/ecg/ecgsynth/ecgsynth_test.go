package ecgsynth_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

func TestGenerateDeterministicAndTruthful(t *testing.T) {
	cfg := ecgsynth.Config{RateHz: 250, Seed: 7, NoiseMV: 0.02, Leads: []string{"II", "V2"},
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 10, RateBPM: 60}, {Kind: ecgsynth.VT, Seconds: 5, RateBPM: 180}}}
	a, ta := ecgsynth.Generate(cfg)
	b, tb := ecgsynth.Generate(cfg)
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("same seed, different signal:\n%s", d)
	}
	if d := cmp.Diff(ta, tb); d != "" {
		t.Fatalf("same seed, different truth:\n%s", d)
	}
	if len(a) != 2 || len(a[0]) != 15*250 {
		t.Fatalf("shape %d × %d, want 2 × 3750", len(a), len(a[0]))
	}
	count := map[string]int{}
	for _, bt := range ta.Beats {
		count[bt.Label]++
		// The R peak of a normal beat in lead II is its largest sample
		// nearby (R amplitude 1 mV).
		if bt.Label == "N" && a[0][bt.Sample] < 0.8 {
			t.Errorf("beat at %d: lead II = %.2f mV, want an R peak ≥ 0.8", bt.Sample, a[0][bt.Sample])
		}
	}
	if d := cmp.Diff(map[string]int{"N": 10, "V": 15}, count); d != "" {
		t.Errorf("beat labels (-want +got):\n%s", d)
	}
	if len(ta.Episodes) != 2 || ta.Episodes[1].Start != 2500 {
		t.Errorf("episodes %+v", ta.Episodes)
	}
}

// TestAVBlockAndSpread checks the AV block kinds' beat timing and the AF
// RR spread.
func TestAVBlockAndSpread(t *testing.T) {
	const fs = 500
	rrs := func(k ecgsynth.Segment) []float64 {
		_, tr := ecgsynth.Generate(ecgsynth.Config{RateHz: fs, Seed: 1, Segments: []ecgsynth.Segment{k}})
		var out []float64
		for i := 1; i < len(tr.Beats); i++ {
			out = append(out, float64(tr.Beats[i].Sample-tr.Beats[i-1].Sample)/fs)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		seg    ecgsynth.Segment
		lo, hi float64 // every RR within [lo, hi] s
	}{
		{"complete block escape 40/min", ecgsynth.Segment{Kind: ecgsynth.AVBlock3, Seconds: 30, RateBPM: 40, AtrialRateBPM: 90}, 1.49, 1.51},
		{"2:1 block at atria 90/min", ecgsynth.Segment{Kind: ecgsynth.AVBlock2to1, Seconds: 30, AtrialRateBPM: 90}, 1.33, 1.34},
		{"AF spread 0.1", ecgsynth.Segment{Kind: ecgsynth.AF, Seconds: 30, RateBPM: 120, Spread: 0.1}, 0.45, 0.55},
	} {
		r := rrs(tc.seg)
		if len(r) < 10 {
			t.Fatalf("%s: %d intervals", tc.name, len(r))
		}
		for _, v := range r {
			if v < tc.lo || v > tc.hi {
				t.Errorf("%s: RR %.3f s outside [%g, %g]", tc.name, v, tc.lo, tc.hi)
			}
		}
	}
}
