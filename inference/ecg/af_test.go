package ecg_test

import (
	"fmt"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

// TestGroupBeatingWithPWavesIsNotAF covers RR intervals that alternate
// irregularly between two values, as in the CPSC 2021 non-AF Holter
// records data_35_*: atria at 120/min with variable 2:1 and 3:1 AV
// conduction give RR intervals of 1.0 and 1.5 s in no fixed order, which
// the RR-irregularity statistics alone read as fibrillation. With the P
// waves visible and a constant PR interval the rhythm is organised, and
// the P-wave check of the AF test (afIrregular) must keep every stretch
// of it out of AF. The AF segment after it (irregular RR, no P waves,
// f waves) checks that the same stream still finds AF. (In data_35_* the
// P waves are too low to measure, about 0.03 mV in the averaged beat, so
// that check cannot act there; with PScale 0.25 this fixture is called
// AF too.)
func TestGroupBeatingWithPWavesIsNotAF(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			cfg := ecgsynth.Config{RateHz: 200, Leads: []string{"I", "II"}, Seed: seed, NoiseMV: 0.02, Segments: []ecgsynth.Segment{
				{Kind: ecgsynth.AVBlockVariable, Seconds: 90, AtrialRateBPM: 120},
				{Kind: ecgsynth.AF, Seconds: 60, RateBPM: 90},
			}}
			rec, truth := record(t, cfg)
			rep, err := ecg.Analyze(t.Context(), rec)
			if err != nil {
				t.Fatal(err)
			}
			gb, af := truth.Episodes[0], truth.Episodes[1]
			// The RR pattern must be the irregular one the rule is about:
			// both intervals present, in both orders.
			short, long := 0, 0
			for i := 2; i < len(truth.Beats) && truth.Beats[i].Sample < gb.End; i++ {
				rr := truth.Beats[i].Sample - truth.Beats[i-1].Sample
				prev := truth.Beats[i-1].Sample - truth.Beats[i-2].Sample
				if rr < 5*prev/4 && rr > 4*prev/5 {
					continue
				}
				if rr < prev {
					short++
				} else {
					long++
				}
			}
			if short < 10 || long < 10 {
				t.Fatalf("fixture: %d long→short and %d short→long changes, want ≥ 10 each", short, long)
			}
			if c := rhythmsCover(rep, ecg.RhythmAF, gb.Start, gb.End); c > 0 {
				t.Errorf("group beating with P waves: %.0f %% called AF, want none (rhythms %v)", 100*c, rep.Rhythms)
			}
			if c := rhythmsCover(rep, ecg.RhythmAF, af.Start, af.End); c < 0.7 {
				t.Errorf("AF segment: %.0f %% called AF, want ≥ 70 %% (rhythms %v)", 100*c, rep.Rhythms)
			}
		})
	}
}
