package metrics_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

func TestMatchBeats(t *testing.T) {
	// At 360 Hz, 150 ms is 0.150·360 = 54 samples.
	tests := []struct {
		name     string
		ref, det []int64
		want     metrics.BeatCounts
	}{
		{
			name: "window edge inclusive",
			// 1000↔1054 is 54 samples (150 ms): a match. 2000↔2055 is 55: no match.
			ref:  []int64{1000, 2000},
			det:  []int64{1054, 2055},
			want: metrics.BeatCounts{TP: 1, FN: 1, FP: 1},
		},
		{
			name: "one to one",
			// Two detections 10 samples either side of one beat: only one may
			// match it (the tie goes to the earlier detection); the other is a FP.
			ref:  []int64{1000},
			det:  []int64{990, 1010},
			want: metrics.BeatCounts{TP: 1, FN: 0, FP: 1},
		},
		{
			name: "closest pair first",
			// ref 1000 and 1080, det 1040: |1040-1000| = 40, |1040-1080| = 40 → tie, earlier ref wins.
			// det 1100 then matches ref 1080 (20 samples). TP 2, FN 0, FP 0.
			ref:  []int64{1000, 1080},
			det:  []int64{1040, 1100},
			want: metrics.BeatCounts{TP: 2},
		},
		{
			name: "unsorted input",
			ref:  []int64{3000, 1000, 2000},
			det:  []int64{2010, 990},
			want: metrics.BeatCounts{TP: 2, FN: 1},
		},
		{"no detections", []int64{1, 2}, nil, metrics.BeatCounts{FN: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := metrics.MatchBeats(tc.ref, tc.det, 360, metrics.EC57Window)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MatchBeats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchBeatsClosestBeatsGreedySweep(t *testing.T) {
	// ref 100, 150; det 140. A left-to-right sweep would give det 140 to
	// ref 100 (40 away) and leave ref 150 unmatched although it is only 10
	// away. Closest-first matching gives it to 150. At 1000 Hz the window
	// is 150 samples. TP 1, FN 1 (ref 100), FP 0.
	got, err := metrics.MatchBeats([]int64{100, 150}, []int64{140}, 1000, metrics.EC57Window)
	if err != nil {
		t.Fatal(err)
	}
	want := metrics.BeatCounts{TP: 1, FN: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMatchBeatsErrors(t *testing.T) {
	if _, err := metrics.MatchBeats(nil, nil, 0, metrics.EC57Window); err == nil {
		t.Error("sample rate 0: want error")
	}
	if _, err := metrics.MatchBeats(nil, nil, 360, 0); err == nil {
		t.Error("window 0: want error")
	}
	if _, err := metrics.MatchBeats(nil, nil, 360, -time.Millisecond); err == nil {
		t.Error("negative window: want error")
	}
}

func TestSummarizeBeats(t *testing.T) {
	recs := []metrics.RecordBeats{
		// Record "b": TP 90, FN 10, FP 0 → Se = 90/100 = 0.9, +P = 90/90 = 1.
		{Record: "b", Counts: metrics.BeatCounts{TP: 90, FN: 10, FP: 0}},
		// Record "a": TP 8, FN 2, FP 2 → Se = 8/10 = 0.8, +P = 8/10 = 0.8.
		{Record: "a", Counts: metrics.BeatCounts{TP: 8, FN: 2, FP: 2}},
	}
	got := metrics.SummarizeBeats(recs)
	// Gross: TP 98, FN 12, FP 2 → Se = 98/110, +P = 98/100 = 0.98.
	// Average: Se = (0.8+0.9)/2 = 0.85, +P = (0.8+1)/2 = 0.9.
	want := metrics.BeatSummary{
		Records:      2,
		Gross:        metrics.BeatCounts{TP: 98, FN: 12, FP: 2},
		GrossSe:      98.0 / 110,
		GrossPP:      0.98,
		AverageSe:    0.85,
		AveragePP:    0.9,
		PerRecordKey: []string{"a", "b"},
		PerRecordSe:  []float64{0.8, 0.9},
		PerRecordPP:  []float64{0.8, 1},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("SummarizeBeats (-want +got):\n%s", diff)
	}
}

func TestMatchBeatPairs(t *testing.T) {
	// 100 Hz, 150 ms: 15 samples.
	tests := []struct {
		name     string
		ref, det []int64
		want     []metrics.BeatPair
	}{
		{"none", nil, []int64{5}, nil},
		{"edge of the window", []int64{100, 200}, []int64{115, 216}, []metrics.BeatPair{{Ref: 0, Det: 0}}},
		{"closest claims the detection", []int64{100, 120}, []int64{118}, []metrics.BeatPair{{Ref: 1, Det: 0}}},
		{"unsorted inputs keep their indices", []int64{300, 100, 200}, []int64{202, 99, 305},
			[]metrics.BeatPair{{Ref: 0, Det: 2}, {Ref: 1, Det: 1}, {Ref: 2, Det: 0}}},
		{"tie: earlier reference beat first", []int64{100, 110}, []int64{105}, []metrics.BeatPair{{Ref: 0, Det: 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := metrics.MatchBeatPairs(tc.ref, tc.det, 100, metrics.EC57Window)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, func(a, b metrics.BeatPair) int {
				if a.Ref != b.Ref {
					return a.Ref - b.Ref
				}
				return a.Det - b.Det
			})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("pairs %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMatchBeatPairsProperties: on random beat trains the pairs are one to
// one and within the window.
func TestMatchBeatPairsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		rate := []float64{128, 250, 360}[trial%3]
		var ref, det []int64
		for range rng.IntN(40) {
			ref = append(ref, rng.Int64N(5000))
		}
		for range rng.IntN(40) {
			det = append(det, rng.Int64N(5000))
		}
		pairs, err := metrics.MatchBeatPairs(ref, det, rate, metrics.EC57Window)
		if err != nil {
			t.Fatal(err)
		}
		w := int64(metrics.EC57Window.Seconds()*rate + 1e-9)
		usedR, usedD := map[int]bool{}, map[int]bool{}
		for _, p := range pairs {
			if usedR[p.Ref] || usedD[p.Det] {
				t.Fatalf("trial %d: pair %v reuses a beat", trial, p)
			}
			usedR[p.Ref], usedD[p.Det] = true, true
			if d := ref[p.Ref] - det[p.Det]; d > w || d < -w {
				t.Fatalf("trial %d: pair %v is %d samples apart, window %d", trial, p, d, w)
			}
		}
	}
}
