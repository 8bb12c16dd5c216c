package ecg

import (
	"fmt"
	"testing"
	"os"

	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

func TestZZAF150(t *testing.T) {
	if os.Getenv("ZZAF") == "" {
		t.Skip()
	}
	sinus := ecgsynth.Segment{Kind: ecgsynth.Sinus, Seconds: 20, RateBPM: 75}
	leads, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 11, NoiseMV: 0.02, WanderMV: 0.1, Leads: []string{"II", "V1"},
		Segments: []ecgsynth.Segment{sinus, {Kind: ecgsynth.AF, Seconds: 40, RateBPM: 150, Spread: 0.2}, sinus}})
	s, _ := New(Config{RateHz: 250, Leads: []string{"II", "V1"}})
	for off := 0; off < len(leads[0]); off += 250 {
		s.Process(nil, [][]float32{leads[0][off : off+250], leads[1][off : off+250]})
		var labs []string
		var pw []int8
		for k := 0; k < min(8, s.hist.n); k++ {
			_, l, _ := s.hist.at(k)
			labs = append(labs, string(l))
			pw = append(pw, s.hist.pwave[(s.hist.i-1-k+2*historyBeats)%historyBeats])
		}
		fmt.Println(off/250, s.rh.cur, labs, pw, s.meas.PRms, s.meas.QTms)
	}
}
