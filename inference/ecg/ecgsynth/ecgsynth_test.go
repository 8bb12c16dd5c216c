package ecgsynth_test

import (
	"math"
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

func TestWanderAndNarrowPVCs(t *testing.T) {
	seg := []ecgsynth.Segment{{Kind: ecgsynth.Bigeminy, Seconds: 20, RateBPM: 60}}
	base, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 3, Segments: seg})
	wandering, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 3, Segments: seg,
		Wander: []ecgsynth.Wander{{MV: 0.4, Hz: 0.25}, {MV: 0.8, Hz: 0.05}}})
	// The difference is the wander alone: within its total amplitude and
	// reaching most of it over 20 s.
	lo, hi := float32(0), float32(0)
	for k := range base[0] {
		d := wandering[0][k] - base[0][k]
		lo, hi = min(lo, d), max(hi, d)
	}
	if hi > 1.2+1e-4 || lo < -1.2-1e-4 || hi-lo < 1 {
		t.Errorf("wander range [%.3f, %.3f] mV, want within ±1.2 and spanning ≥ 1", lo, hi)
	}
	// Narrow PVCs: the ventricular QRS (above half its peak) is shorter
	// with PVCScale 0.6.
	width := func(scale float64) int {
		x, tr := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 3, Segments: []ecgsynth.Segment{{Kind: ecgsynth.Bigeminy, Seconds: 20, RateBPM: 60, PVCScale: scale}}})
		for _, b := range tr.Beats {
			if b.Label != "V" {
				continue
			}
			peak := x[0][b.Sample]
			n := 0
			for k := b.Sample - 50; k < b.Sample+50; k++ {
				if x[0][k] > peak/2 {
					n++
				}
			}
			return n
		}
		t.Fatal("no ventricular beat")
		return 0
	}
	if w1, w6 := width(1), width(0.6); w6 >= w1 || w6 < w1/2 {
		t.Errorf("PVC half-height width %d samples at scale 0.6, %d at 1", w6, w1)
	}
}

// TestMorphologyAndArtefact checks the generator's P-wave scale, Q
// waves, bundle-branch block and artefact bursts against a noise-free
// reference of the same record.
func TestMorphologyAndArtefact(t *testing.T) {
	const fs = 500
	leads := []string{"II", "V1", "V6"}
	seg := func(p float64) []ecgsynth.Segment {
		return []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 10, RateBPM: 60, PScale: p}}
	}
	base, tr := ecgsynth.Generate(ecgsynth.Config{RateHz: fs, Seed: 1, Leads: leads, Segments: seg(0)})
	r := tr.Beats[3].Sample
	at := func(x []float32, ms float64) float32 { return x[r+int64(ms*fs/1000)] }
	// P waves (170 ms before R) at a quarter of their height.
	low, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: fs, Seed: 1, Leads: leads, Segments: seg(0.25)})
	if p, q := at(base[0], -170), at(low[0], -170); math.Abs(float64(q)-0.25*float64(p)) > 0.005 || p < 0.1 {
		t.Errorf("P wave in II %.3f mV, with PScale 0.25 %.3f", p, q)
	}
	// A 40 ms Q wave 0.3 mV deep in II: negative from QRS onset for
	// about 40 ms, deepest about 0.3 mV; V1 untouched.
	qw, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: fs, Seed: 1, Leads: leads, Segments: seg(0),
		QWaves: map[string]ecgsynth.QWave{"II": {DepthMV: 0.3, Ms: 40, RmV: 0.8}}})
	neg, depth := 0, float32(0)
	for ms := -60.0; ms < 0; ms += 2 {
		if v := at(qw[0], ms); v < -0.02 {
			neg += 2
			depth = min(depth, v)
		}
	}
	if neg < 30 || neg > 46 || depth > -0.27 || depth < -0.33 {
		t.Errorf("Q wave in II: %d ms below −0.02 mV, %.3f mV deep; want about 40 ms and 0.3 mV", neg, depth)
	}
	if d := at(qw[1], -20) - at(base[1], -20); d != 0 {
		t.Errorf("V1 changed by %.3f mV by a Q wave in II", d)
	}
	// RBBB: an R′ in V1 and a wide S in V6 after the normal QRS.
	rb, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: fs, Seed: 1, Leads: leads, Segments: seg(0), Conduction: "RBBB"})
	if v1, v6 := at(rb[1], 70)-at(base[1], 70), at(rb[2], 50)-at(base[2], 50); v1 < 0.8 || v6 > -0.5 {
		t.Errorf("RBBB: V1 +%.3f mV at R+70 ms, V6 %.3f at R+50 ms", v1, v6)
	}
	// Bursts: motion artefact on V1 only, within its time.
	bu, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: fs, Seed: 1, Leads: leads, Segments: seg(0),
		Bursts: []ecgsynth.Burst{{Kind: ecgsynth.Motion, Lead: 1, Start: 2, Seconds: 3, MV: 1}}})
	for l := range leads {
		var in, out float64
		for k := range base[l] {
			d := math.Abs(float64(bu[l][k] - base[l][k]))
			if k >= 2*fs && k < 5*fs {
				in = max(in, d)
			} else {
				out = max(out, d)
			}
		}
		if out != 0 || (l == 1) != (in > 0.2) || in > 1.0001 {
			t.Errorf("lead %s: artefact up to %.3f mV inside the burst, %.3f outside", leads[l], in, out)
		}
	}
}
