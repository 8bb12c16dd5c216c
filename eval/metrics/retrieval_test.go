package metrics_test

import (
	"math"
	"testing"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

func TestRecallAtKAndMRR(t *testing.T) {
	tests := []struct {
		name     string
		relevant []string
		ranked   []string
		k        int
		recall   float64
		rr       float64
	}{
		// relevant {a, c}; top-2 = [b a] holds a → 1/2; first relevant at rank 2 → 1/2.
		{"half", []string{"a", "c"}, []string{"b", "a", "c"}, 2, 0.5, 0.5},
		// top-3 holds a and c → 2/2 = 1.
		{"all", []string{"a", "c"}, []string{"b", "a", "c"}, 3, 1, 0.5},
		// a duplicated in the ranking counts once: top-2 [a a] → 1/2; rank 1 → 1.
		{"duplicate", []string{"a", "c"}, []string{"a", "a", "c"}, 2, 0.5, 1},
		{"none", []string{"x"}, []string{"a", "b"}, 2, 0, 0},
		{"no relevant", nil, []string{"a"}, 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := metrics.RecallAtK(tc.relevant, tc.ranked, tc.k); math.Abs(got-tc.recall) > tol {
				t.Errorf("RecallAtK = %v, want %v", got, tc.recall)
			}
			if got := metrics.ReciprocalRank(tc.relevant, tc.ranked); math.Abs(got-tc.rr) > tol {
				t.Errorf("ReciprocalRank = %v, want %v", got, tc.rr)
			}
		})
	}
	// MRR over three queries with first hits at ranks 1, 2 and none:
	// (1 + 1/2 + 0)/3 = 1/2.
	if got := metrics.Mean([]float64{1, 0.5, 0}); math.Abs(got-0.5) > tol {
		t.Errorf("Mean = %v, want 0.5", got)
	}
	if got := metrics.Mean(nil); got != 0 {
		t.Errorf("Mean(nil) = %v, want 0", got)
	}
}
