package ecg_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

// TestDetectorChunkingInvariance: the detector filters in internal blocks
// and looks back into its rings, so how the caller chunks the signal must
// change neither the beats (sample, report time, amplitude, slope) nor the
// quality classes, including across lead-off, flat and clipped stretches;
// ProcessInt16 must give what Process gives on the converted samples.
func TestDetectorChunkingInvariance(t *testing.T) {
	type qual struct {
		q  ecg.Quality
		at int64
	}
	for _, fs := range []float64{128, 500, 1000} {
		t.Run(fmt.Sprintf("%gHz", fs), func(t *testing.T) {
			rec, _ := record(t, ecgsynth.Config{RateHz: fs, Seed: 11, NoiseMV: 0.05, WanderMV: 0.3,
				Segments: []ecgsynth.Segment{{Kind: ecgsynth.PVCs, Seconds: 15, RateBPM: 85}, {Kind: ecgsynth.AF, Seconds: 10, RateBPM: 130, Spread: 0.2},
					{Kind: ecgsynth.Asystole, Seconds: 4}, {Kind: ecgsynth.Sinus, Seconds: 10, RateBPM: 60}}})
			x := rec.Leads[0].Samples
			n := len(x)
			for k := n / 6; k < n/6+int(fs/3); k++ {
				x[k] = float32(math.Inf(1)) // lead-off burst
			}
			for k := n / 2; k < n/2+int(2*fs); k++ {
				x[k] = 0.4 // flat
			}
			for k := 3 * n / 4; k < 3*n/4+int(2*fs); k++ {
				x[k] = min(x[k], 0.25) // clipped
			}
			run := func(chunk int, int16s bool) ([]ecg.Beat, []qual) {
				d, err := ecg.NewDetector(ecg.DetectorConfig{RateHz: fs})
				if err != nil {
					t.Fatal(err)
				}
				var beats []ecg.Beat
				var qs []qual
				const gain, baseline = 200, 1024
				adc := make([]int16, 0, chunk)
				for off := 0; off < n; off += chunk {
					part := x[off:min(off+chunk, n)]
					if int16s {
						adc = adc[:0]
						for _, v := range part {
							a := float64(v)*gain + baseline
							if math.IsInf(a, 0) || math.IsNaN(a) {
								a = math.MaxInt16
							}
							adc = append(adc, int16(max(math.MinInt16, min(math.MaxInt16, math.Round(a)))))
						}
						beats = d.ProcessInt16(beats, adc, gain, baseline)
					} else {
						beats = d.Process(beats, part)
					}
					q, at := d.Quality()
					if len(qs) == 0 || qs[len(qs)-1] != (qual{q, at}) {
						qs = append(qs, qual{q, at})
					}
				}
				return beats, qs
			}
			wantBeats, wantQ := run(n, false)
			if len(wantBeats) < 30 {
				t.Fatalf("only %d beats", len(wantBeats))
			}
			_, q1 := run(1, false)
			var off bool
			for _, q := range q1 {
				off = off || q.q == ecg.QualityLeadOff
			}
			if !off {
				t.Fatalf("no lead-off block in %v", q1)
			}
			for _, chunk := range []int{1, 7, 63, 64, 65, 1000} {
				beats, qs := run(chunk, false)
				if d := cmp.Diff(wantBeats, beats); d != "" {
					t.Errorf("chunks of %d: beats differ (-whole +chunked):\n%s", chunk, d)
				}
				// Chunks see every quality block; one whole-record call sees
				// only the last.
				if got := qs[len(qs)-1]; got != wantQ[len(wantQ)-1] {
					t.Errorf("chunks of %d: final quality %v, want %v", chunk, got, wantQ[len(wantQ)-1])
				}
			}
			_, q64 := run(64, false)
			if d := cmp.Diff(q1, q64, cmp.AllowUnexported(qual{})); d != "" {
				t.Errorf("quality changes differ between chunks of 1 and 64 (-1 +64):\n%s", d)
			}
			// ProcessInt16 against Process on the same quantised samples.
			ib, iq := run(100, true)
			d, _ := ecg.NewDetector(ecg.DetectorConfig{RateHz: fs})
			var fb []ecg.Beat
			for off := 0; off < n; off += 100 {
				part := make([]float32, 0, 100)
				for _, v := range x[off:min(off+100, n)] {
					a := float64(v)*200 + 1024
					if math.IsInf(a, 0) || math.IsNaN(a) {
						a = math.MaxInt16
					}
					part = append(part, (float32(int16(max(math.MinInt16, min(math.MaxInt16, math.Round(a)))))-1024)*(1/float32(200)))
				}
				fb = d.Process(fb, part)
			}
			if d := cmp.Diff(fb, ib); d != "" {
				t.Errorf("ProcessInt16 differs from Process (-Process +ProcessInt16):\n%s", d)
			}
			if len(iq) == 0 {
				t.Error("no quality from ProcessInt16")
			}
		})
	}
}
