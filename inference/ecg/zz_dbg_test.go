package ecg

import (
	"fmt"
	"os"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

func TestZZDbgAF(t *testing.T) {
	name := os.Getenv("ZZREC")
	if name == "" {
		t.Skip()
	}
	dir := "/work/shared/data/ecg/challenge12/cpsc2021"
	fsys := os.DirFS(dir)
	w, err := wfdb.ReadRecord(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := FromWFDB(w)
	rep, err := Analyze(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := fsys.Open(name + ".atr")
	anns, _ := wfdb.ReadAnnotations(f)
	for _, e := range wfdb.Rhythms(anns, int64(w.Len())) {
		fmt.Printf("REF %v %.1f-%.1f s\n", e.Rhythm, float64(e.Start)/w.FrequencyHz, float64(e.End)/w.FrequencyHz)
	}
	for _, e := range rep.Rhythms {
		fmt.Printf("DET %v %.1f-%.1f s\n", e.Type, float64(e.Start)/w.FrequencyHz, float64(e.End)/w.FrequencyHz)
	}
	if os.Getenv("ZZBEATS") != "" {
		for i, b := range rep.Beats {
			if i > 0 {
				fmt.Printf("%.2f %s rr=%d\n", float64(b.Sample)/w.FrequencyHz, b.Label, b.Sample-rep.Beats[i-1].Sample)
			}
		}
	}
}
