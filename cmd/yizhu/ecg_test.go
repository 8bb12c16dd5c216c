package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

// writeWFDB writes a format-16 WFDB record (gain 200 adu/mV, checksums
// set) of the given leads into dir and returns the header's path.
func writeWFDB(t *testing.T, dir, name string, fs float64, names []string, leads [][]float32) string {
	t.Helper()
	n := len(leads[0])
	var dat bytes.Buffer
	sums := make([]int16, len(leads))
	for i := range n {
		for l := range leads {
			v := int16(math.Round(float64(leads[l][i]) * 200))
			sums[l] += v
			if err := binary.Write(&dat, binary.LittleEndian, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var hea strings.Builder
	fmt.Fprintf(&hea, "%s %d %g %d\n", name, len(leads), fs, n)
	for l, ln := range names {
		first := int16(math.Round(float64(leads[l][0]) * 200))
		fmt.Fprintf(&hea, "%s.dat 16 200/mV 16 0 %d %d 0 %s\n", name, first, sums[l], ln)
	}
	hea.WriteString("# Age: 52\n# Sex: Male\n")
	if err := os.WriteFile(filepath.Join(dir, name+".dat"), dat.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".hea")
	if err := os.WriteFile(p, []byte(hea.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ecgJSON is the shape issue 4 asks of `yizhu ecg analyze --json`.
type ecgJSON struct {
	Beats []struct {
		Sample *int64  `json:"sample"`
		Label  *string `json:"label"`
	} `json:"beats"`
	Rhythms []struct {
		Start *int64  `json:"start"`
		End   *int64  `json:"end"`
		Type  *string `json:"type"`
	} `json:"rhythms"`
	Findings []json.RawMessage `json:"findings"`
	Critical *bool             `json:"critical"`
}

func TestECGAnalyzeJSON(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		fs       float64
		segs     []ecgsynth.Segment
		critical bool
		rhythm   string
	}{
		{name: "sinus360", fs: 360, segs: []ecgsynth.Segment{{Kind: ecgsynth.PVCs, Seconds: 30, RateBPM: 80}}, rhythm: "sinus"},
		{name: "vf128", fs: 128, segs: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 15, RateBPM: 70}, {Kind: ecgsynth.VF, Seconds: 15}},
			critical: true, rhythm: "ventricular_fibrillation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names := []string{"MLII", "V5"}
			leads, truth := ecgsynth.Generate(ecgsynth.Config{RateHz: tc.fs, Seed: 2, NoiseMV: 0.02, Leads: []string{"II", "V5"}, Segments: tc.segs})
			hea := writeWFDB(t, dir, tc.name, tc.fs, names, leads)
			var out, errb bytes.Buffer
			if err := cmdECG(t.Context(), []string{"analyze", hea, "--json"}, &out, &errb); err != nil {
				t.Fatalf("cmdECG: %v\n%s", err, errb.String())
			}
			if strings.Count(strings.TrimSpace(out.String()), "\n") != 0 {
				t.Errorf("--json output is not one line/object")
			}
			var got ecgJSON
			dec := json.NewDecoder(&out)
			if err := dec.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Critical == nil || *got.Critical != tc.critical || got.Findings == nil {
				t.Fatalf("critical %v (want %v), findings %v", got.Critical, tc.critical, got.Findings)
			}
			// Every true beat before the VF has a reported beat within
			// 150 ms at the record's own sampling rate, labelled N/V/S/Q.
			tol := int64(0.15 * tc.fs)
			var hits, want int
			for _, tb := range truth.Beats {
				want++
				for _, b := range got.Beats {
					if b.Sample == nil || b.Label == nil {
						t.Fatal("beat without sample or label")
					}
					if d := *b.Sample - tb.Sample; d >= -tol && d <= tol {
						hits++
						break
					}
				}
			}
			if want == 0 || float64(hits) < 0.98*float64(want) {
				t.Errorf("%d of %d true beats reported", hits, want)
			}
			for _, b := range got.Beats {
				if !strings.Contains("NVSQ", *b.Label) || len(*b.Label) != 1 {
					t.Errorf("label %q", *b.Label)
				}
			}
			found := false
			for _, r := range got.Rhythms {
				if r.Start == nil || r.End == nil || r.Type == nil || *r.End <= *r.Start || *r.End > int64(len(leads[0])) {
					t.Fatalf("bad rhythm episode %+v", r)
				}
				found = found || *r.Type == tc.rhythm
			}
			if !found {
				t.Errorf("no %s episode", tc.rhythm)
			}
			// The text form names the record and the critical state.
			out.Reset()
			if err := cmdECG(t.Context(), []string{"analyze", "--sex", "F", hea}, &out, &errb); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			if !strings.Contains(text, tc.name) || strings.Contains(text, "CRITICAL") != tc.critical {
				t.Errorf("text report:\n%s", text)
			}
		})
	}
}

func TestECGAnalyzeCSVAndErrors(t *testing.T) {
	dir := t.TempDir()
	leads, _ := ecgsynth.Generate(ecgsynth.Config{RateHz: 250, Seed: 5, NoiseMV: 0.02, Leads: []string{"II"},
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 12, RateBPM: 60}}})
	var csv strings.Builder
	csv.WriteString("II\n")
	for _, v := range leads[0] {
		fmt.Fprintf(&csv, "%.4f\n", v)
	}
	csvPath := filepath.Join(dir, "r.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := cmdECG(t.Context(), []string{"analyze", csvPath, "--fs", "250", "--json"}, &out, &errb); err != nil {
		t.Fatalf("csv: %v", err)
	}
	var got ecgJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got.Beats) < 10 {
		t.Fatalf("csv report: %v, %d beats", err, len(got.Beats))
	}
	bad := filepath.Join(dir, "bad.hea")
	if err := os.WriteFile(bad, []byte("bad 1 250 100\nbad.dat 16 200 16 0 0 0 0 II\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "analyze"},
		{"no record", []string{"analyze"}, "RECORD"},
		{"two records", []string{"analyze", csvPath, csvPath}, "RECORD"},
		{"csv without rate", []string{"analyze", csvPath}, "--fs"},
		{"unsupported type", []string{"analyze", filepath.Join(dir, "x.edf")}, "unsupported"},
		{"missing signal file", []string{"analyze", bad}, "bad"},
		{"bad sex", []string{"analyze", csvPath, "--fs", "250", "--sex", "X"}, "--sex"},
		{"bad mains", []string{"analyze", csvPath, "--fs", "250", "--mains", "55"}, "mains"},
		{"rate out of range", []string{"analyze", csvPath, "--fs", "2000"}, "125"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cmdECG(t.Context(), tc.args, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
