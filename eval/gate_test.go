package eval_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
)

func TestParseThresholds(t *testing.T) {
	got, err := eval.ParseThresholds([]byte("ecg:\n  min:\n    gross_sensitivity: 0.99\n  max:\n    under_triage_rate: 0.05\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := eval.Thresholds{"ecg": {Min: map[string]float64{"gross_sensitivity": 0.99}, Max: map[string]float64{"under_triage_rate": 0.05}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	bad := map[string]string{
		"unknown key":   "ecg:\n  minimum:\n    x: 1\n",
		"duplicate key": "ecg:\n  min:\n    x: 1\n    x: 2\n",
		"not a number":  "ecg:\n  min:\n    x: high\n",
		"min above max": "ecg:\n  min:\n    x: 2\n  max:\n    x: 1\n",
		"nan":           "ecg:\n  min:\n    x: .nan\n",
		"two documents": "ecg: {}\n---\nqc: {}\n",
		"not a mapping": "- ecg\n",
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := eval.ParseThresholds([]byte(in)); clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Errorf("err = %v, want invalid", err)
			}
		})
	}
	empty, err := eval.ParseThresholds(nil)
	if err != nil || len(empty) != 0 {
		t.Errorf("empty file: %v, %v", empty, err)
	}
}

func TestDefaultThresholdsParse(t *testing.T) {
	th, err := eval.DefaultThresholds()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := th["datasets"]; !ok {
		t.Errorf("built-in thresholds lack the datasets suite: %v", th)
	}
}

func TestGate(t *testing.T) {
	th := eval.Thresholds{
		"ecg":    {Min: map[string]float64{"se": 0.99, "ppv": 0.99, "missing_metric": 1}},
		"triage": {Max: map[string]float64{"under_triage_rate": 0.05}, Min: map[string]float64{"accuracy": 0.5}},
		"qc":     {Min: map[string]float64{"f1": 0.9}},     // registered, not run: skipped
		"scrib":  {Min: map[string]float64{"rouge1": 0.3}}, // typo: not registered
	}
	reports := []*eval.Report{
		{Suite: "ecg", Metrics: map[string]float64{"se": 0.995, "ppv": 0.98}},
		{Suite: "triage", Metrics: map[string]float64{"under_triage_rate": 0.07, "accuracy": 0.5}},
	}
	got := th.Gate(reports, []string{"ecg", "qc", "scribe", "triage"})
	var lines []string
	for _, v := range got {
		lines = append(lines, v.String())
	}
	want := []string{
		`ecg: threshold names metric "missing_metric", which the report does not have (unknown metric)`,
		"ecg: ppv = 0.9800 is below the minimum 0.9900",
		`thresholds name suite "scrib", which is not registered`,
		"triage: under_triage_rate = 0.0700 is above the maximum 0.0500",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// accuracy 0.5 at the minimum 0.5 passes: bounds are inclusive.
	for _, l := range lines {
		if strings.Contains(l, "accuracy") {
			t.Errorf("inclusive bound reported: %s", l)
		}
	}
}

func FuzzParseThresholds(f *testing.F) {
	for _, s := range []string{"ecg:\n  min:\n    a: 1\n", "x: {min: {a: 1}, max: {a: 2}}", "a: [", "", "~", "a:\n  max:\n    b: -1e400\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		th, err := eval.ParseThresholds(in)
		if err != nil {
			if clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Fatalf("code %s, want invalid: %v", clinic.ErrorCode(err), err)
			}
			return
		}
		// Property: accepted bounds are numbers with min <= max.
		for s, b := range th {
			for m, lo := range b.Min {
				if lo != lo {
					t.Fatalf("%s.%s: NaN minimum accepted", s, m)
				}
				if hi, ok := b.Max[m]; ok && lo > hi {
					t.Fatalf("%s.%s: min %v > max %v accepted", s, m, lo, hi)
				}
			}
		}
	})
}
