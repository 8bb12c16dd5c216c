package ecg

import (
	"fmt"
	"os"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

func TestZZAV(t *testing.T) {
	if os.Getenv("ZZAV") == "" {
		t.Skip()
	}
	tw := []string{"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"}
	for _, seg := range []ecgsynth.Segment{{Kind: ecgsynth.AVBlock3, Seconds: 40, RateBPM: 45, AtrialRateBPM: 85}, {Kind: ecgsynth.AVBlock3, Seconds: 40, RateBPM: 35, AtrialRateBPM: 70},
		{Kind: ecgsynth.AVBlock2to1, Seconds: 40, AtrialRateBPM: 96}, {Kind: ecgsynth.Sinus, Seconds: 40, RateBPM: 45}} {
		for _, fs := range []float64{250, 500} {
			leads, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: fs, Seed: 3, NoiseMV: 0.03, WanderMV: 0.1, Leads: tw,
				Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 10, RateBPM: 75}, seg}})
			rec := Record{ID: "x", RateHz: fs, AgeYears: -1}
			for i, x := range leads {
				rec.Leads = append(rec.Leads, Lead{tw[i], x})
			}
			rep, _ := Analyze(t.Context(), rec)
			fmt.Println(seg.Kind, seg.RateBPM, fs, len(rep.Beats))
			for _, a := range rep.Alerts {
				fmt.Println("  ", a.RuleID, a.Details, float64(a.Start)/fs)
			}
		}
	}
}
