package eval_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
)

// cliRegistry registers two fake suites with fixed metrics.
func cliRegistry(t *testing.T) *eval.Registry {
	t.Helper()
	reg := eval.NewRegistry(eval.Deps{})
	suites := []*fakeSuite{
		{name: "ecg", rep: eval.Report{Dataset: "mitdb", N: 2, Metrics: map[string]float64{"gross_sensitivity": 0.995, "gross_positive_predictivity": 0.98}}},
		{name: "triage", rep: eval.Report{Dataset: "dept", N: 4, Metrics: map[string]float64{"accuracy": 0.75}}},
	}
	for _, s := range suites {
		if err := reg.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunCommandGate(t *testing.T) {
	dir := t.TempDir()
	th := writeFile(t, dir, "th.yaml", "ecg:\n  min:\n    gross_sensitivity: 0.99\n    gross_positive_predictivity: 0.99\ntriage:\n  min:\n    accuracy: 0.7\n")
	var out strings.Builder
	opt := eval.RunOptions{Suites: "all", DataDir: t.TempDir(), OutDir: filepath.Join(dir, "report"), Gate: true, ThresholdsFile: th, GitCommit: "c0ffee", Clock: stepClock()}
	err := eval.RunCommand(t.Context(), cliRegistry(t), opt, &out)
	if err == nil || !strings.Contains(err.Error(), "eval gate failed: 1 problems") {
		t.Errorf("err = %v, want the gate to fail once", err)
	}
	want := strings.Join([]string{
		"== ecg · mitdb · n=2 · 1s",
		"   gross_positive_predictivity              0.9800",
		"   gross_sensitivity                        0.9950",
		"   report: " + filepath.Join(dir, "report", "ecg", "report.html"),
		"== triage · dept · n=4 · 1s",
		"   accuracy                                 0.7500",
		"   report: " + filepath.Join(dir, "report", "triage", "report.html"),
		"index: " + filepath.Join(dir, "report", "index.html"),
		"gate: FAILED, 1 problems:",
		"  ecg: gross_positive_predictivity = 0.9800 is below the minimum 0.9900",
		"",
	}, "\n")
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	// Only triage: the ecg thresholds are skipped and the gate passes.
	out.Reset()
	opt.Suites = "triage"
	if err := eval.RunCommand(t.Context(), cliRegistry(t), opt, &out); err != nil {
		t.Errorf("triage only: %v", err)
	}
	if !strings.HasSuffix(out.String(), "gate: passed (1 suites)\n") {
		t.Errorf("output = %q", out.String())
	}
}

func TestRunCommandErrors(t *testing.T) {
	dir := t.TempDir()
	badTh := writeFile(t, dir, "bad.yaml", "ecg:\n  minimum:\n    x: 1\n")
	missing := filepath.Join(dir, "no-data")
	tests := []struct {
		name string
		reg  *eval.Registry
		opt  eval.RunOptions
		code clinic.Code
		want string
	}{
		{"unknown suite", cliRegistry(t), eval.RunOptions{Suites: "scribe", DataDir: dir, OutDir: dir}, clinic.CodeNotFound, `unknown suite "scribe"; registered: ecg, triage`},
		{"missing data", cliRegistry(t), eval.RunOptions{DataDir: missing, OutDir: dir}, clinic.CodeNotFound, missing},
		{"bad thresholds", cliRegistry(t), eval.RunOptions{DataDir: dir, OutDir: dir, Gate: true, ThresholdsFile: badTh}, clinic.CodeInvalid, "field minimum not found"},
		{"absent thresholds", cliRegistry(t), eval.RunOptions{DataDir: dir, OutDir: dir, Gate: true, ThresholdsFile: filepath.Join(dir, "nope.yaml")}, clinic.CodeNotFound, "nope.yaml"},
		{"no suites", eval.NewRegistry(eval.Deps{}), eval.RunOptions{DataDir: dir, OutDir: dir}, clinic.CodeInvalid, "no suites are registered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := eval.RunCommand(t.Context(), tc.reg, tc.opt, &out)
			if clinic.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want code %s containing %q", err, tc.code, tc.want)
			}
			if tc.name == "bad thresholds" && out.Len() > 0 {
				t.Errorf("ran suites despite a bad thresholds file: %q", out.String())
			}
		})
	}
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	mk := func(out, suite string, acc float64) {
		d := filepath.Join(dir, out, suite)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := eval.WriteReport(d, &eval.Report{Suite: suite, Dataset: "d", N: 1, GitCommit: out, Metrics: map[string]float64{"accuracy": acc}}); err != nil {
			t.Fatal(err)
		}
	}
	mk("old", "triage", 0.5)
	mk("new", "triage", 0.75)
	mk("old", "ecg", 1)
	mk("new", "qc", 1)
	var out strings.Builder
	if err := eval.CompareCommand(&out, filepath.Join(dir, "old"), filepath.Join(dir, "new")); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"suite ecg: only in " + filepath.Join(dir, "old"),
		"suite qc: only in " + filepath.Join(dir, "new"),
		"suite triage: old (d) → new (d)",
		"metric       old     new    delta",
		"n              1       1        0",
		"accuracy  0.5000  0.7500  +0.2500",
		"",
	}, "\n")
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Two files work the same way.
	out.Reset()
	if err := eval.CompareCommand(&out, filepath.Join(dir, "old", "triage", "report.json"), filepath.Join(dir, "new", "triage", "report.json")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "+0.2500") {
		t.Errorf("file comparison = %q", out.String())
	}
	// Nothing in common.
	if err := eval.CompareCommand(&out, filepath.Join(dir, "old", "ecg"), filepath.Join(dir, "new", "qc")); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("no common suite: err = %v, want not_found", err)
	}
}
