package metrics_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

func TestCompareEpisodes(t *testing.T) {
	ref := []metrics.Episode{
		{Start: 0, End: 100},   // overlapped by det [50,150)
		{Start: 200, End: 300}, // overlapped by det [290,400)
		{Start: 500, End: 600}, // missed
		{Start: 700, End: 700}, // empty: ignored
	}
	det := []metrics.Episode{
		{Start: 50, End: 150},  // true (overlaps ref 0)
		{Start: 290, End: 400}, // true (overlaps ref 1)
		{Start: 600, End: 650}, // touches ref 2 at 600 only; half-open → no overlap: false
	}
	got := metrics.CompareEpisodes(ref, det)
	// Episodes: ref 3 (2 detected), det 3 (2 true) → Se 2/3, +P 2/3.
	// Durations: ref 100+100+100 = 300; det 100+110+50 = 260;
	// overlap [50,100) 50 + [290,300) 10 = 60.
	// Duration Se = 60/300 = 0.2; duration +P = 60/260 = 3/13.
	want := metrics.EpisodeStats{
		RefEpisodes: 3, RefDetected: 2, DetEpisodes: 3, DetTrue: 2,
		RefDuration: 300, DetDuration: 260, OverlapDuration: 60,
		Sensitivity: 2.0 / 3, PositivePredictivity: 2.0 / 3,
		DurationSensitivity: 0.2, DurationPositivePredictivity: 3.0 / 13,
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("CompareEpisodes (-want +got):\n%s", diff)
	}
}

func TestCompareEpisodesOverlappingDetections(t *testing.T) {
	// Two detections overlap each other inside one reference episode: both
	// are true, and the merged detected time [10,40) is 30, not 20+20 = 40.
	ref := []metrics.Episode{{Start: 0, End: 100}}
	det := []metrics.Episode{{Start: 10, End: 30}, {Start: 20, End: 40}}
	got := metrics.CompareEpisodes(ref, det)
	// Se 1/1, +P 2/2, duration Se 30/100 = 0.3, duration +P 30/30 = 1.
	want := metrics.EpisodeStats{
		RefEpisodes: 1, RefDetected: 1, DetEpisodes: 2, DetTrue: 2,
		RefDuration: 100, DetDuration: 30, OverlapDuration: 30,
		Sensitivity: 1, PositivePredictivity: 1,
		DurationSensitivity: 0.3, DurationPositivePredictivity: 1,
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
