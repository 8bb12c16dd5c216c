package metrics

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of samples by the
// nearest-rank method: the smallest sample such that at least p percent of
// the samples are less than or equal to it, i.e. the sample at 1-based rank
// ceil(p/100 · n) of the sorted list. p <= 0 gives the minimum and p > 100
// the maximum; no samples give 0. samples is not modified.
func Percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return nearestRank(s, p)
}

func nearestRank(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// HistogramBins is the number of equal-width bins of a LatencyStats
// histogram.
const HistogramBins = 20

// LatencyStats summarises latency samples in milliseconds.
type LatencyStats struct {
	N      int     `json:"n"`
	MinMS  float64 `json:"min_ms"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
	// Histogram counts the samples in HistogramBins equal-width bins from
	// MinMS to MaxMS; bin i covers [Edges[i], Edges[i+1]) and the last bin
	// also holds MaxMS. Edges has one more entry than Counts.
	EdgesMS []float64 `json:"edges_ms"`
	Counts  []int     `json:"counts"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Latency summarises samples. It returns the zero LatencyStats for none.
func Latency(samples []time.Duration) LatencyStats {
	if len(samples) == 0 {
		return LatencyStats{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum float64
	for _, d := range s {
		sum += ms(d)
	}
	st := LatencyStats{
		N:      len(s),
		MinMS:  ms(s[0]),
		MeanMS: sum / float64(len(s)),
		P50MS:  ms(nearestRank(s, 50)),
		P90MS:  ms(nearestRank(s, 90)),
		P95MS:  ms(nearestRank(s, 95)),
		P99MS:  ms(nearestRank(s, 99)),
		MaxMS:  ms(s[len(s)-1]),
	}
	bins := HistogramBins
	width := (st.MaxMS - st.MinMS) / float64(bins)
	if width == 0 {
		bins = 1
	}
	st.EdgesMS = make([]float64, bins+1)
	for i := range st.EdgesMS {
		st.EdgesMS[i] = st.MinMS + float64(i)*width
	}
	st.EdgesMS[bins] = st.MaxMS
	st.Counts = make([]int, bins)
	for _, d := range s {
		i := bins - 1
		if width > 0 {
			i = min(int((ms(d)-st.MinMS)/width), bins-1)
		}
		st.Counts[i]++
	}
	return st
}
