package ecg

import (
	"fmt"
	"os"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

func TestZZQT(t *testing.T) {
	if os.Getenv("ZZQT") == "" {
		t.Skip()
	}
	for _, qt := range []float64{0, 560} {
		for _, ront := range []float64{400, 720} {
			leads, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 11, NoiseMV: 0.02, WanderMV: 0.1, Leads: []string{"II", "V5"},
				Segments: []ecgsynth.Segment{{Kind: ecgsynth.PVCs, Seconds: 40, RateBPM: 70, EctopicEvery: 6, QTms: qt, RonTms: ront}}})
			rec := Record{ID: "x", RateHz: 250, Leads: []Lead{{"II", leads[0]}, {"V5", leads[1]}}, AgeYears: -1}
			rep, _ := Analyze(t.Context(), rec)
			m := rep.Measurements
			fmt.Println(qt, ront, m.QTms, m.QTcBazettMs, m.RRms, len(rep.Alerts))
			for _, a := range rep.Alerts {
				fmt.Println("  ", a.Details)
			}
		}
	}
}
