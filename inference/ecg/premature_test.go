package ecg_test

import (
	"fmt"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

// TestPrematurityFollowsThePrevailingRate: a beat is supraventricular
// premature when it comes early against the rhythm around it. A pause, or
// a sinus rate that settles at a new value, changes no beat's origin, so
// the sinus beats after it must be read as normal once the new rate is
// established. (A reference RR that took the pause as a "normal" interval,
// or that only learned from beats it had itself called normal, called
// every later sinus beat premature for good.) Nor is the rhythm after a
// pause a bradycardia because the pause is among the last intervals. The
// premature atrial beats of the last case check that real ones are still
// found.
func TestPrematurityFollowsThePrevailingRate(t *testing.T) {
	tests := []struct {
		name  string
		segs  []ecgsynth.Segment
		wantS int // at least this many S labels among the checked PAC beats
	}{
		{"after a 4 s pause", []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 12, RateBPM: 75},
			{Kind: ecgsynth.Asystole, Seconds: 4}, {Kind: ecgsynth.Sinus, Seconds: 30, RateBPM: 75}}, 0},
		{"after the rate rises from 50 to 80/min", []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 30, RateBPM: 50},
			{Kind: ecgsynth.Sinus, Seconds: 40, RateBPM: 80}}, 0},
		{"premature atrial beats still found", []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 20, RateBPM: 70},
			{Kind: ecgsynth.PACs, Seconds: 40, RateBPM: 70, EctopicEvery: 4}}, 5},
	}
	for _, tc := range tests {
		for _, seed := range []uint64{1, 2} {
			t.Run(fmt.Sprintf("%s/seed%d", tc.name, seed), func(t *testing.T) {
				cfg := ecgsynth.Config{RateHz: 250, Leads: []string{"II", "V1"}, Seed: seed, NoiseMV: 0.01, Segments: tc.segs}
				rec, truth := record(t, cfg)
				rep, err := ecg.Analyze(t.Context(), rec)
				if err != nil {
					t.Fatal(err)
				}
				last := truth.Episodes[len(truth.Episodes)-1]
				// The sinus beats of the last segment, from 5 s in (the new
				// rate is established by then), must be normal; the PACs,
				// where there are some, premature.
				settled := last.Start + int64(5*cfg.RateHz)
				tol := int64(0.1 * cfg.RateHz)
				var sinusS, sinusN, pacS, pacs int
				for _, tb := range truth.Beats {
					if tb.Sample < settled {
						continue
					}
					b, ok := nearest(rep.Beats, tb.Sample, tol)
					if !ok {
						continue
					}
					if tb.Label == string(ecg.LabelSupraventricular) {
						pacs++
						if b.Label == ecg.LabelSupraventricular {
							pacS++
						}
						continue
					}
					sinusN++
					if b.Label == ecg.LabelSupraventricular {
						sinusS++
					}
				}
				if sinusN < 10 {
					t.Fatalf("fixture: %d sinus beats checked", sinusN)
				}
				if sinusS > 0 {
					t.Errorf("%d of %d sinus beats after the change read as supraventricular premature", sinusS, sinusN)
				}
				// Nor is the rhythm after the change named by the old rate
				// or the pause: every case ends at 70–80/min.
				if c := rhythmsCover(rep, ecg.RhythmSinusBrady, settled, last.End); c > 0 {
					t.Errorf("%.0f %% of the last segment named sinus bradycardia (rhythms %v)", 100*c, rep.Rhythms)
				}
				if pacS < tc.wantS {
					t.Errorf("%d of %d premature atrial beats found, want ≥ %d", pacS, pacs, tc.wantS)
				}
			})
		}
	}
}

// nearest returns the beat of bs closest to sample within tol.
func nearest(bs []ecg.Beat, sample, tol int64) (ecg.Beat, bool) {
	var best ecg.Beat
	bestD := tol + 1
	for _, b := range bs {
		d := b.Sample - sample
		if d < 0 {
			d = -d
		}
		if d < bestD {
			best, bestD = b, d
		}
	}
	return best, bestD <= tol
}
