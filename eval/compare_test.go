package eval_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/eval"
)

func TestCompare(t *testing.T) {
	old := &eval.Report{Suite: "ecg", Dataset: "mitdb", N: 10, GitCommit: "aaa", Metrics: map[string]float64{"se": 0.9, "ppv": 0.95, "gone": 1}}
	cur := &eval.Report{Suite: "ecg", Dataset: "mitdb", N: 12, GitCommit: "bbb", Metrics: map[string]float64{"se": 0.925, "ppv": 0.95, "added": 3}}
	got := eval.Compare(old, cur)
	want := []eval.Delta{
		{Metric: "n", Old: 10, New: 12, InOld: true, InNew: true},
		{Metric: "added", New: 3, InNew: true},
		{Metric: "gone", Old: 1, InOld: true},
		{Metric: "ppv", Old: 0.95, New: 0.95, InOld: true, InNew: true},
		{Metric: "se", Old: 0.9, New: 0.925, InOld: true, InNew: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// se: 0.925 - 0.9 = 0.025.
	if c := got[4].Change(); c < 0.025-1e-12 || c > 0.025+1e-12 {
		t.Errorf("Change = %v, want 0.025", c)
	}
	var b strings.Builder
	if err := eval.WriteComparison(&b, old, cur); err != nil {
		t.Fatal(err)
	}
	wantText := strings.Join([]string{
		"suite ecg: aaa (mitdb) → bbb (mitdb)",
		"metric     old     new    delta",
		"n           10      12       +2",
		"added        —       3    added",
		"gone         1       —  removed",
		"ppv     0.9500  0.9500        0",
		"se      0.9000  0.9250  +0.0250",
		"",
	}, "\n")
	if diff := cmp.Diff(wantText, b.String()); diff != "" {
		t.Errorf("WriteComparison (-want +got):\n%s", diff)
	}
}
