package ecg_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/evaltest"
	ecgsuite "github.com/yizhu-health/yizhu/eval/suites/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

// writeRecord writes a one-lead format-16 record with beat and rhythm
// annotations (MIT format) under dir.
func writeRecord(t *testing.T, dir, name string, fs float64, x []float32, truth ecgsynth.Truth, comments string) {
	t.Helper()
	var dat bytes.Buffer
	var sum int16
	for _, v := range x {
		a := int16(math.Round(float64(v) * 200))
		sum += a
		binary.Write(&dat, binary.LittleEndian, a)
	}
	first := int16(math.Round(float64(x[0]) * 200))
	hea := fmt.Sprintf("%s 1 %g %d\n%s.dat 16 200/mV 16 0 %d %d 0 II\n%s", name, fs, len(x), name, first, sum, comments)
	type ann struct {
		s    int64
		code int
		aux  string
	}
	var anns []ann
	ep := 0
	for _, b := range truth.Beats {
		for ep < len(truth.Episodes) && truth.Episodes[ep].Start <= b.Sample {
			aux := "(N"
			if truth.Episodes[ep].Kind == ecgsynth.AF {
				aux = "(AFIB"
			}
			anns = append(anns, ann{truth.Episodes[ep].Start, 28, aux})
			ep++
		}
		code := map[string]int{"N": 1, "V": 5, "S": 8}[b.Label]
		anns = append(anns, ann{b.Sample, code, ""})
	}
	var atr bytes.Buffer
	w16 := func(v uint16) { binary.Write(&atr, binary.LittleEndian, v) }
	var prev int64
	for _, a := range anns {
		d := a.s - prev
		if d > 1023 {
			w16(59 << 10)
			w16(uint16(d >> 16))
			w16(uint16(d))
			d = 0
		}
		w16(uint16(a.code<<10) | uint16(d))
		prev = a.s
		if a.aux != "" {
			w16(uint16(63<<10) | uint16(len(a.aux)))
			atr.WriteString(a.aux)
			if len(a.aux)%2 == 1 {
				atr.WriteByte(0)
			}
		}
	}
	w16(0)
	for ext, b := range map[string][]byte{".hea": []byte(hea), ".dat": dat.Bytes(), ".atr": atr.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name+ext), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSuiteOnSyntheticFixture(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "ecg", "synth")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	leads, truth := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 7, NoiseMV: 0.02,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 40, RateBPM: 70}, {Kind: ecgsynth.AF, Seconds: 60, RateBPM: 100},
			{Kind: ecgsynth.Sinus, Seconds: 40, RateBPM: 70}}})
	writeRecord(t, dir, "af", 250, leads[0], truth, "# False alarm\n")
	// a CPSC 2021 style non-AF record (no rhythm annotations): scored as
	// having no AF episode
	sl, st := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 8, NoiseMV: 0.02,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 60, RateBPM: 80}}})
	st.Episodes = nil
	writeRecord(t, dir, "sinus", 250, sl[0], st, "# non atrial fibrillation\n")
	r := evaltest.Run(t, ecgsuite.New(ecgsuite.Config{}), root, eval.Deps{})
	m := r.Metrics
	if r.N != 2 || m["qrs.records"] != 2 || m["af.ref_episodes"] != 1 || m["false_alarm.records"] != 1 || m["af.non_af_records"] != 1 {
		t.Fatalf("N %d, metrics %v", r.N, m)
	}
	if m["af.non_af_records_with_af"] != 0 || m["af.false_episodes"] != 0 {
		t.Errorf("sinus record with a non-AF header: %v AF episodes reported", m["af.non_af_false_episodes"])
	}
	if m["qrs.gross_sensitivity"] < 0.99 || m["qrs.gross_positive_predictivity"] < 0.99 {
		t.Errorf("QRS Se %.4f +P %.4f on a clean synthetic record", m["qrs.gross_sensitivity"], m["qrs.gross_positive_predictivity"])
	}
	if m["af.episode_sensitivity"] != 1 || m["false_alarm.raised_count"] != 0 {
		t.Errorf("AF episode Se %v, false alarms raised %v", m["af.episode_sensitivity"], m["false_alarm.raised_count"])
	}
	if m["beat_latency.max_ms"] > 500 || m["beat_latency.max_ms"] <= 0 {
		t.Errorf("beat latency max %v ms", m["beat_latency.max_ms"])
	}
	if r.PerRecord == nil || len(r.PerRecord.Rows) != 2 || r.PerRecord.Rows[0].Key != "synth/af" {
		t.Errorf("per-record table %+v", r.PerRecord)
	}
}

func TestSuiteWithoutECGFolder(t *testing.T) {
	s := ecgsuite.New(ecgsuite.Config{})
	if _, err := s.Run(t.Context(), eval.Env{DataDir: t.TempDir()}); err == nil {
		t.Fatal("want an error for a data dir without ecg/")
	}
}
