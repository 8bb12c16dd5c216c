package metrics_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

func TestTriage(t *testing.T) {
	// Levels: 1 most urgent … 4 least.
	gold := []int{1, 2, 3, 4, 2, 3}
	pred := []int{1, 3, 2, 4, 0, 4}
	// case 0: 1→1 exact        |d| = 0
	// case 1: 2→3 under-triage |d| = 1
	// case 2: 3→2 over-triage  |d| = 1
	// case 3: 4→4 exact        |d| = 0
	// case 4: 2→0 missing, counted as under-triage, not in the mean error
	// case 5: 3→4 under-triage |d| = 1
	// N 6, exact 2, under 3 (1, 4, 5), over 1, missing 1.
	// Rates: accuracy 2/6, under 3/6, over 1/6; MAE = (0+1+1+0+1)/5 = 3/5.
	want := metrics.TriageRates{
		N: 6, Exact: 2, Under: 3, Over: 1, Missing: 1,
		Accuracy: 2.0 / 6, UnderTriage: 3.0 / 6, OverTriage: 1.0 / 6, MeanAbsError: 3.0 / 5,
	}
	got, err := metrics.Triage(gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("Triage (-want +got):\n%s", diff)
	}
}

func TestTriageErrors(t *testing.T) {
	tests := []struct {
		name       string
		gold, pred []int
	}{
		{"length mismatch", []int{1}, nil},
		{"gold level zero", []int{0}, []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := metrics.Triage(tc.gold, tc.pred); err == nil {
				t.Error("want error")
			}
		})
	}
}
