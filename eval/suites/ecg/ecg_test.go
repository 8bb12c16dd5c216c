package ecg_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
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

// TestSuiteSTSpecificityRecords: only records whose header diagnoses name
// neither ST elevation, MI nor ischaemia count in st.no_ste_*.
func TestSuiteSTSpecificityRecords(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "ecg", "dx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, dx := range []string{"426783006", "164931005,426783006", "STE", "RBBB", ""} {
		x, truth := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: uint64(20 + i), NoiseMV: 0.02,
			Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 12, RateBPM: 75}}})
		comment := ""
		if dx != "" {
			comment = "# Dx: " + dx + "\n"
		}
		writeRecord(t, dir, fmt.Sprintf("r%d", i), 250, x[0], truth, comment)
	}
	m := evaltest.Run(t, ecgsuite.New(ecgsuite.Config{}), root, eval.Deps{}).Metrics
	if m["st.no_ste_records"] != 2 || m["st.no_ste_flagged"] != 0 {
		t.Errorf("st.no_ste_records %v (want 2: NSR and RBBB), st.no_ste_flagged %v (want 0)", m["st.no_ste_records"], m["st.no_ste_flagged"])
	}
}

func TestSuiteWithoutECGFolder(t *testing.T) {
	s := ecgsuite.New(ecgsuite.Config{})
	if _, err := s.Run(t.Context(), eval.Env{DataDir: t.TempDir()}); err == nil {
		t.Fatal("want an error for a data dir without ecg/")
	}
}

// writeLeads writes a multi-lead format-16 record without annotations.
func writeLeads(t *testing.T, dir, name string, fs float64, leads [][]float32, names []string, comments string) {
	t.Helper()
	var dat bytes.Buffer
	sums := make([]int16, len(leads))
	for k := range leads[0] {
		for l := range leads {
			a := int16(math.Round(float64(leads[l][k]) * 200))
			sums[l] += a
			binary.Write(&dat, binary.LittleEndian, a)
		}
	}
	hea := fmt.Sprintf("%s %d %g %d\n", name, len(leads), fs, len(leads[0]))
	for l := range leads {
		hea += fmt.Sprintf("%s.dat 16 200/mV 16 0 %d %d 0 %s\n", name, int16(math.Round(float64(leads[l][0])*200)), sums[l], names[l])
	}
	hea += comments
	for ext, b := range map[string][]byte{".hea": []byte(hea), ".dat": dat.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name+ext), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSuiteInfarctionRecords: an MI record (PTB-style header) with
// inferior Q waves and no ST elevation counts in mi.flagged_rate through
// its q_wave_infarction finding, not in st.mi_flagged_rate; a 12-lead
// record whose diagnoses name no MI counts in q_wave.no_mi_*; critical
// values are counted by rule.
func TestSuiteInfarctionRecords(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "ecg", "mi")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	twelve := []string{"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"}
	seg := []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 12, RateBPM: 75}}
	mi, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: 500, Seed: 3, NoiseMV: 0.02, Leads: twelve, Segments: seg,
		QWaves: map[string]ecgsynth.QWave{"II": {DepthMV: 0.3, Ms: 40, RmV: 0.5}, "III": {DepthMV: 0.4, Ms: 40, RmV: 0.3}, "aVF": {DepthMV: 0.35, Ms: 40, RmV: 0.4}}})
	writeLeads(t, dir, "mi", 500, mi, twelve, "# Reason for admission: Myocardial infarction\n")
	norm, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: 500, Seed: 4, NoiseMV: 0.02, Leads: twelve, Segments: seg})
	writeLeads(t, dir, "nsr", 500, norm, twelve, "# Dx: 426783006\n")
	r := evaltest.Run(t, ecgsuite.New(ecgsuite.Config{}), root, eval.Deps{})
	m := r.Metrics
	if m["mi.records"] != 1 || m["mi.flagged_rate"] != 1 || m["q_wave.mi_flagged_rate"] != 1 || m["st.mi_flagged_rate"] != 0 {
		t.Errorf("MI record: mi.records %v, mi.flagged_rate %v, q_wave.mi_flagged_rate %v, st.mi_flagged_rate %v (want 1, 1, 1, 0)",
			m["mi.records"], m["mi.flagged_rate"], m["q_wave.mi_flagged_rate"], m["st.mi_flagged_rate"])
	}
	if m["q_wave.no_mi_records"] != 1 || m["q_wave.no_mi_flagged"] != 0 {
		t.Errorf("q_wave.no_mi_records %v (want 1), q_wave.no_mi_flagged %v (want 0)", m["q_wave.no_mi_records"], m["q_wave.no_mi_flagged"])
	}
	if v, ok := m["critical.total"]; !ok || v != 0 {
		t.Errorf("critical.total %v (present %v), want 0", v, ok)
	}
	found := false
	for _, n := range r.Notes {
		if strings.Contains(n, "MI record mi/mi: Q waves") && strings.Contains(n, "II Q") && strings.Contains(n, "aVF Q") {
			found = true
		}
	}
	if !found {
		t.Errorf("no note with the Q-wave evidence of the MI record: %q", r.Notes)
	}
}

// TestSuiteBeatClasses: the beat-class metrics pool only the annotated
// records under ReferencePrefix, count every reference beat of a matched
// pair in one AAMI class, and give per-record figures that add up to the
// gross ones.
func TestSuiteBeatClasses(t *testing.T) {
	root := t.TempDir()
	ref := filepath.Join(root, "ecg", "physionet", "syn")
	other := filepath.Join(root, "ecg", "other")
	for _, d := range []string{ref, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	x, truth := ecgsynth.Generate(ecgsynth.Config{RateHz: 360, Seed: 11, NoiseMV: 0.02,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 20, RateBPM: 70},
			{Kind: ecgsynth.PVCs, Seconds: 40, RateBPM: 70, EctopicEvery: 6},
			{Kind: ecgsynth.PACs, Seconds: 40, RateBPM: 70, EctopicEvery: 6}}})
	writeRecord(t, ref, "ect", 360, x[0], truth, "")
	y, ytruth := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 12, NoiseMV: 0.02,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.PVCs, Seconds: 30, RateBPM: 75}}})
	writeRecord(t, other, "pvc", 250, y[0], ytruth, "")
	want := map[string]int{}
	for _, b := range truth.Beats {
		want[b.Label]++
	}
	if want["V"] == 0 || want["S"] == 0 {
		t.Fatalf("fixture without ectopic beats: %v", want)
	}

	m := evaltest.Run(t, ecgsuite.New(ecgsuite.Config{}), root, eval.Deps{}).Metrics
	const key = ".physionet/syn/ect"
	t.Logf("pairs %v N %v/%v S ref %v tp %v fp %v V ref %v tp %v fp %v", m["beat_class.pairs"], m["beat_class.n.tp"], m["beat_class.n.ref"], m["beat_class.sveb.ref"], m["beat_class.sveb.tp"], m["beat_class.sveb.fp"], m["beat_class.veb.ref"], m["beat_class.veb.tp"], m["beat_class.veb.fp"])
	if m["beat_class.records"] != 1 {
		t.Fatalf("beat_class.records %v, want 1 (only the record under physionet/)", m["beat_class.records"])
	}
	for k := range m {
		if strings.HasPrefix(k, "beat_class.") && strings.Contains(k, "other/") {
			t.Errorf("record outside physionet/ scored: %s", k)
		}
	}
	for _, k := range []string{"pairs", "n.ref", "n.tp", "sveb.ref", "sveb.tp", "sveb.fn", "sveb.fp", "veb.ref", "veb.tp", "veb.fn", "veb.fp", "f.ref", "q.ref"} {
		g, okG := m["beat_class."+k]
		r, okR := m["beat_class."+k+key]
		if !okG || !okR || g != r {
			t.Errorf("beat_class.%s: gross %v (present %v), per record %v (present %v)", k, g, okG, r, okR)
		}
	}
	// Every matched pair is in one class; the reference counts can be at
	// most the annotated beats of the class (a missed beat forms no pair).
	if p := m["beat_class.pairs"]; p != m["beat_class.n.ref"]+m["beat_class.sveb.ref"]+m["beat_class.veb.ref"]+m["beat_class.f.ref"] || p < 0.99*float64(len(truth.Beats)) {
		t.Errorf("pairs %v: N %v S %v V %v F %v, %d annotated beats", p, m["beat_class.n.ref"], m["beat_class.sveb.ref"], m["beat_class.veb.ref"], m["beat_class.f.ref"], len(truth.Beats))
	}
	for cls, name := range map[string]string{"N": "n", "S": "sveb", "V": "veb"} {
		if got := m["beat_class."+name+".ref"]; got > float64(want[cls]) || got < float64(want[cls])-2 {
			t.Errorf("beat_class.%s.ref %v, %d %s beats annotated", name, got, want[cls], cls)
		}
	}
	for _, c := range []string{"sveb", "veb"} {
		if m["beat_class."+c+".tp"]+m["beat_class."+c+".fn"] != m["beat_class."+c+".ref"] {
			t.Errorf("%s: tp %v + fn %v != ref %v", c, m["beat_class."+c+".tp"], m["beat_class."+c+".fn"], m["beat_class."+c+".ref"])
		}
		if se, ok := m["beat_class."+c+".sensitivity"]; !ok || se != m["beat_class."+c+".tp"]/m["beat_class."+c+".ref"] {
			t.Errorf("beat_class.%s.sensitivity %v (present %v)", c, se, ok)
		}
	}
	if m["beat_class.f.ref"] != 0 || m["beat_class.q.ref"] != 0 {
		t.Errorf("no F or Q beats annotated, got f.ref %v q.ref %v", m["beat_class.f.ref"], m["beat_class.q.ref"])
	}
}
