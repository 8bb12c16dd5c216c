package metrics

// RecallAtK returns the fraction of the relevant items that appear among
// the first k entries of ranked (|relevant ∩ top-k| / |relevant|).
// Duplicates in ranked count once. It returns 0 when relevant is empty or
// k < 1.
func RecallAtK(relevant, ranked []string, k int) float64 {
	if len(relevant) == 0 || k < 1 {
		return 0
	}
	want := make(map[string]bool, len(relevant))
	for _, r := range relevant {
		want[r] = true
	}
	hit := make(map[string]bool)
	for i, id := range ranked {
		if i >= k {
			break
		}
		if want[id] {
			hit[id] = true
		}
	}
	return float64(len(hit)) / float64(len(want))
}

// ReciprocalRank returns 1/rank of the first relevant item in ranked
// (ranks start at 1), or 0 when none is relevant.
func ReciprocalRank(relevant, ranked []string) float64 {
	want := make(map[string]bool, len(relevant))
	for _, r := range relevant {
		want[r] = true
	}
	for i, id := range ranked {
		if want[id] {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// Mean returns the arithmetic mean of xs, or 0 for none. Averaged over
// queries, ReciprocalRank gives the mean reciprocal rank (MRR) and
// RecallAtK the mean recall@k.
func Mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return ratio(s, float64(len(xs)))
}
