package metrics_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

func TestPercentileNearestRank(t *testing.T) {
	// Ten samples 1..10 ms given out of order.
	var s []time.Duration
	for _, v := range []int{7, 3, 10, 1, 5, 2, 9, 4, 8, 6} {
		s = append(s, time.Duration(v)*time.Millisecond)
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{50, 5 * time.Millisecond},  // rank ceil(0.50·10) = 5 → 5 ms
		{90, 9 * time.Millisecond},  // rank ceil(0.90·10) = 9 → 9 ms
		{95, 10 * time.Millisecond}, // rank ceil(0.95·10) = ceil(9.5) = 10 → 10 ms
		{99, 10 * time.Millisecond}, // rank ceil(9.9) = 10 → 10 ms
		{25, 3 * time.Millisecond},  // rank ceil(2.5) = 3 → 3 ms
		{0, 1 * time.Millisecond},   // below range → minimum
		{100, 10 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := metrics.Percentile(s, tc.p); got != tc.want {
			t.Errorf("Percentile(p=%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if s[0] != 7*time.Millisecond {
		t.Error("Percentile modified its input")
	}
	if got := metrics.Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
}

func TestLatency(t *testing.T) {
	// Samples 10, 20, 30, 40 ms. Mean = 100/4 = 25. Nearest rank on n = 4:
	// p50 rank ceil(2) = 2 → 20; p90 rank ceil(3.6) = 4 → 40; p95, p99 → 40.
	// Histogram: width (40-10)/20 = 1.5 ms; 10 → bin 0, 20 → bin (10/1.5 = 6.67) 6,
	// 30 → bin (20/1.5 = 13.3) 13, 40 → bin 20 clamped to the last, 19.
	s := []time.Duration{40 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond, 20 * time.Millisecond}
	got := metrics.Latency(s)
	counts := make([]int, 20)
	counts[0], counts[6], counts[13], counts[19] = 1, 1, 1, 1
	edges := make([]float64, 21)
	for i := range edges {
		edges[i] = 10 + 1.5*float64(i)
	}
	want := metrics.LatencyStats{
		N: 4, MinMS: 10, MeanMS: 25, P50MS: 20, P90MS: 40, P95MS: 40, P99MS: 40, MaxMS: 40,
		EdgesMS: edges, Counts: counts,
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("Latency (-want +got):\n%s", diff)
	}
}

func TestLatencyConstant(t *testing.T) {
	// All samples equal: one bin holding all three.
	got := metrics.Latency([]time.Duration{time.Second, time.Second, time.Second})
	want := metrics.LatencyStats{
		N: 3, MinMS: 1000, MeanMS: 1000, P50MS: 1000, P90MS: 1000, P95MS: 1000, P99MS: 1000, MaxMS: 1000,
		EdgesMS: []float64{1000, 1000}, Counts: []int{3},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(metrics.LatencyStats{}, metrics.Latency(nil)); diff != "" {
		t.Errorf("Latency(nil) (-want +got):\n%s", diff)
	}
}
