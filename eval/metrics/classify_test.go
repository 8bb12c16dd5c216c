package metrics_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

// tol is the tolerance for comparing hand-computed fractions.
const tol = 1e-12

var approx = cmpopts.EquateApprox(0, tol)

func TestAccuracy(t *testing.T) {
	tests := []struct {
		name       string
		gold, pred []string
		want       float64
		wantErr    bool
	}{
		// 3 of 4 positions agree (the third differs): 3/4 = 0.75.
		{"three of four", []string{"a", "b", "c", "a"}, []string{"a", "b", "a", "a"}, 0.75, false},
		{"empty", nil, nil, 0, false},
		{"length mismatch", []string{"a"}, nil, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := metrics.Accuracy(tc.gold, tc.pred)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if math.Abs(got-tc.want) > tol {
				t.Errorf("Accuracy = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTopKAccuracy(t *testing.T) {
	gold := []string{"心血管科", "消化科", "神经科"}
	ranked := [][]string{
		{"心血管科", "消化科"}, // rank 1: a hit at k=1 and k=2
		{"神经科", "消化科"},  // rank 2: a hit at k=2 only
		{"消化科"},         // absent: never a hit
	}
	tests := []struct {
		k       int
		want    float64
		wantErr bool
	}{
		{1, 1.0 / 3, false}, // only item 0: 1/3
		{2, 2.0 / 3, false}, // items 0 and 1: 2/3
		{5, 2.0 / 3, false}, // lists shorter than k are used whole: 2/3
		{0, 0, true},
	}
	for _, tc := range tests {
		got, err := metrics.TopKAccuracy(gold, ranked, tc.k)
		if (err != nil) != tc.wantErr {
			t.Fatalf("k=%d: err = %v, wantErr %v", tc.k, err, tc.wantErr)
		}
		if math.Abs(got-tc.want) > tol {
			t.Errorf("k=%d: TopKAccuracy = %v, want %v", tc.k, got, tc.want)
		}
	}
}

func TestConfusion(t *testing.T) {
	// Six items over three labels.
	gold := []string{"cat", "cat", "cat", "dog", "dog", "fox"}
	pred := []string{"cat", "cat", "dog", "dog", "fox", "fox"}
	c, err := metrics.NewConfusion(gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	// Rows are gold, columns predicted, labels sorted.
	wantC := &metrics.Confusion{
		Labels: []string{"cat", "dog", "fox"},
		Counts: [][]int{
			{2, 1, 0}, // cat: 2 right, 1 called dog
			{0, 1, 1}, // dog: 1 right, 1 called fox
			{0, 0, 1}, // fox: 1 right
		},
	}
	if diff := cmp.Diff(wantC, c); diff != "" {
		t.Fatalf("confusion (-want +got):\n%s", diff)
	}
	// cat: TP 2, FP 0, FN 1 → P = 2/2 = 1, R = 2/3, F1 = 2·1·(2/3)/(1+2/3) = (4/3)/(5/3) = 0.8
	// dog: TP 1, FP 1 (a cat), FN 1 → P = 1/2, R = 1/2, F1 = 0.5
	// fox: TP 1, FP 1 (a dog), FN 0 → P = 1/2, R = 1, F1 = 2·0.5·1/1.5 = 2/3
	wantPer := []metrics.ClassStats{
		{Label: "cat", TP: 2, FP: 0, FN: 1, Support: 3, Precision: 1, Recall: 2.0 / 3, F1: 0.8},
		{Label: "dog", TP: 1, FP: 1, FN: 1, Support: 2, Precision: 0.5, Recall: 0.5, F1: 0.5},
		{Label: "fox", TP: 1, FP: 1, FN: 0, Support: 1, Precision: 0.5, Recall: 1, F1: 2.0 / 3},
	}
	if diff := cmp.Diff(wantPer, c.PerClass(), approx); diff != "" {
		t.Errorf("PerClass (-want +got):\n%s", diff)
	}
	// Macro P = (1 + 0.5 + 0.5)/3 = 2/3; macro R = (2/3 + 1/2 + 1)/3 = (13/6)/3 = 13/18;
	// macro F1 = (0.8 + 0.5 + 2/3)/3 = (59/30)/3 = 59/90.
	// Micro: TP 4, FP 2, FN 2 → P = R = F1 = 4/6 = 2/3 = accuracy (4 of 6 right).
	wantAvg := metrics.Averages{
		Accuracy:       2.0 / 3,
		MacroPrecision: 2.0 / 3,
		MacroRecall:    13.0 / 18,
		MacroF1:        59.0 / 90,
		MicroPrecision: 2.0 / 3,
		MicroRecall:    2.0 / 3,
		MicroF1:        2.0 / 3,
	}
	if diff := cmp.Diff(wantAvg, c.Averages(), approx); diff != "" {
		t.Errorf("Averages (-want +got):\n%s", diff)
	}
	if got := c.Total(); got != 6 {
		t.Errorf("Total = %d, want 6", got)
	}
}

func TestConfusionPredictedOnlyLabel(t *testing.T) {
	// "b" is never gold: its precision is 0/1 = 0 and its recall 0/0 → 0.
	c, err := metrics.NewConfusion([]string{"a", "a"}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	per := c.PerClass()
	// a: TP 1, FN 1, FP 0 → P 1, R 1/2, F1 = 2·0.5/1.5 = 2/3.
	want := []metrics.ClassStats{
		{Label: "a", TP: 1, FN: 1, Support: 2, Precision: 1, Recall: 0.5, F1: 2.0 / 3},
		{Label: "b", FP: 1},
	}
	if diff := cmp.Diff(want, per, approx); diff != "" {
		t.Errorf("PerClass (-want +got):\n%s", diff)
	}
	if _, err := metrics.NewConfusion([]string{"a"}, nil); err == nil {
		t.Error("NewConfusion with mismatched lengths: want error")
	}
}
