package ecg

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

// TestAnalyzeMatchesSerialStream checks Analyze's pipeline, which runs
// the detectors of later blocks on other goroutines while it fuses
// earlier ones: whatever the number of goroutines, the report must be
// exactly what one goroutine gets by feeding a Stream with Analyze's
// history the record in 1 s chunks.
func TestAnalyzeMatchesSerialStream(t *testing.T) {
	twelve := []string{"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"}
	clock := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		rate    float64
		leads   []string
		seconds float64
	}{
		{128, []string{"II", "V1"}, 14}, // sub-chunks do not divide a second
		{360, []string{"MLII", "V5"}, 12},
		{500, twelve, 11},
		{500, twelve, 2.4},               // a block and a bit
		{250, []string{"II", "V2"}, 4.5}, // a partial chunk
		{1000, []string{"II", "V2", "V5"}, 6},
	} {
		t.Run(fmt.Sprintf("%gHz_%dleads_%gs", tc.rate, len(tc.leads), tc.seconds), func(t *testing.T) {
			third := tc.seconds / 3
			leads, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: tc.rate, Seed: 7, NoiseMV: 0.04, WanderMV: 0.2, Leads: tc.leads,
				Segments: []ecgsynth.Segment{{Kind: ecgsynth.PVCs, Seconds: third, RateBPM: 75},
					{Kind: ecgsynth.AF, Seconds: third, RateBPM: 120, Spread: 0.2}, {Kind: ecgsynth.VT, Seconds: tc.seconds - 2*third, RateBPM: 170}}})
			rec := Record{ID: "r", RateHz: tc.rate, AgeYears: -1}
			for i, x := range leads {
				// A lead-off stretch so that quality changes too.
				if i == 0 {
					for k := len(x) / 2; k < len(x)/2+int(tc.rate/2) && k < len(x); k++ {
						x[k] = float32(math.NaN())
					}
				}
				rec.Leads = append(rec.Leads, Lead{Name: tc.leads[i], Samples: x})
			}
			cfg := Config{Clock: clock}
			s, err := newStream(recordConfig(rec, cfg), analyzeHistoryS, 0)
			if err != nil {
				t.Fatal(err)
			}
			var ev []Event
			chunk := make([][]float32, len(rec.Leads))
			for off, step := 0, int(tc.rate); off < rec.Len(); off += step {
				for i, l := range rec.Leads {
					chunk[i] = l.Samples[off:min(off+step, rec.Len())]
				}
				if ev, err = s.Process(ev, chunk); err != nil {
					t.Fatal(err)
				}
			}
			serial := s.report(rec, s.Finish(ev))
			if min := max(1, int(tc.seconds)-2); len(serial.Beats) < min || len(serial.Rhythms) == 0 {
				t.Fatalf("serial report has %d beats (want ≥ %d) and %d rhythms: the fixture tests nothing", len(serial.Beats), min, len(serial.Rhythms))
			}
			want, err := json.Marshal(serial)
			if err != nil {
				t.Fatal(err)
			}
			for _, procs := range []int{1, 2, 3, 6} {
				runtime.GOMAXPROCS(procs)
				rep, err := AnalyzeWith(t.Context(), rec, cfg)
				if err != nil {
					t.Fatal(err)
				}
				got, err := json.Marshal(rep)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Errorf("GOMAXPROCS %d: Analyze report differs from the serial stream's:\n got %s\nwant %s", procs, got, want)
				}
			}
		})
	}
}
