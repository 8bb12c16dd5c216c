package eval_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/metrics"
)

var approx = cmpopts.EquateApprox(0, 1e-12)

func TestAddClassification(t *testing.T) {
	var r eval.Report
	// gold a a b, pred a b b: a TP1 FN1 FP0 → P 1, R 1/2, F1 2/3; b TP1 FN0 FP1 → P 1/2, R 1, F1 2/3.
	// Accuracy 2/3; macro P = R = 3/4; macro F1 = 2/3; micro F1 = 2/3.
	if err := r.AddClassification([]string{"a", "a", "b"}, []string{"a", "b", "b"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"accuracy": 2.0 / 3, "macro_precision": 0.75, "macro_recall": 0.75, "macro_f1": 2.0 / 3, "micro_f1": 2.0 / 3}
	if diff := cmp.Diff(want, r.Metrics, approx); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	wantRows := []eval.Row{{Key: "a", Values: []float64{1, 0.5, 2.0 / 3, 2}}, {Key: "b", Values: []float64{0.5, 1, 2.0 / 3, 1}}}
	if diff := cmp.Diff(wantRows, r.PerClass.Rows, approx); diff != "" {
		t.Errorf("per class (-want +got):\n%s", diff)
	}
	if r.Confusion == nil || r.Confusion.Total() != 3 {
		t.Errorf("confusion = %+v", r.Confusion)
	}
	if err := r.AddClassification([]string{"a"}, nil); err == nil {
		t.Error("mismatched lengths: want error")
	}
}

func TestAddBeatsTriageRougeLatency(t *testing.T) {
	var r eval.Report
	// Record 100: TP 9 FN 1 FP 1 → Se 0.9, +P 0.9. Record 101: TP 10 → Se 1, +P 1.
	// Gross: TP 19 FN 1 FP 1 → 19/20 = 0.95 each; average (0.9+1)/2 = 0.95 each.
	r.AddBeats([]metrics.RecordBeats{
		{Record: "100", Counts: metrics.BeatCounts{TP: 9, FN: 1, FP: 1}},
		{Record: "101", Counts: metrics.BeatCounts{TP: 10}},
	})
	r.AddTriage(metrics.TriageRates{Accuracy: 0.5, UnderTriage: 0.25, OverTriage: 0.25, MeanAbsError: 1})
	r.AddRouge([]metrics.Rouge{{R1: metrics.RougeScore{Precision: 1, Recall: 0.5, F1: 2.0 / 3}}})
	r.AddLatencies("per record", []time.Duration{time.Millisecond})
	want := map[string]float64{
		"gross_sensitivity": 0.95, "gross_positive_predictivity": 0.95, "average_sensitivity": 0.95, "average_positive_predictivity": 0.95,
		"triage_accuracy": 0.5, "under_triage_rate": 0.25, "over_triage_rate": 0.25, "mean_abs_level_error": 1,
		"rouge1_precision": 1, "rouge1_recall": 0.5, "rouge1_f1": 2.0 / 3,
		"rouge2_precision": 0, "rouge2_recall": 0, "rouge2_f1": 0, "rougeL_precision": 0, "rougeL_recall": 0, "rougeL_f1": 0,
	}
	if diff := cmp.Diff(want, r.Metrics, approx); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	wantRows := []eval.Row{{Key: "100", Values: []float64{0.9, 0.9, 9, 1, 1}}, {Key: "101", Values: []float64{1, 1, 10, 0, 0}}}
	if diff := cmp.Diff(wantRows, r.PerRecord.Rows, approx); diff != "" {
		t.Errorf("per record (-want +got):\n%s", diff)
	}
	if r.Latency == nil || r.Latency.N != 1 || r.LatencyLabel != "per record" {
		t.Errorf("latency = %+v %q", r.Latency, r.LatencyLabel)
	}
}
