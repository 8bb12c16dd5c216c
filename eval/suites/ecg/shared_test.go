package ecg_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/evaltest"
	ecgsuite "github.com/yizhu-health/yizhu/eval/suites/ecg"
)

// sharedData returns the shared evaluation data root or skips the test.
func sharedData(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("YIZHU_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "ecg")); err != nil {
		if os.Getenv("YIZHU_REQUIRE_DATA") == "1" {
			t.Fatalf("YIZHU_REQUIRE_DATA=1 but shared ECG data not found under %s: %v", dir, err)
		}
		t.Skipf("shared ECG data not found under %s (set YIZHU_DATA): %v", dir, err)
	}
	return dir
}

// TestSharedData runs the suite on ../shared/data and logs every metric;
// the gate (eval/thresholds.yaml) holds the targets, this test only
// checks that the suite finds and scores the records the README lists.
func TestSharedData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole shared data set twice")
	}
	dir := sharedData(t)
	r := evaltest.Run(t, ecgsuite.New(ecgsuite.Config{}), dir, eval.Deps{})
	keys := make([]string, 0, len(r.Metrics))
	for k := range r.Metrics {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("%-45s %.4f", k, r.Metrics[k])
	}
	for _, n := range r.Notes {
		t.Log(n)
	}
	for _, k := range []string{"qrs.se.physionet/mitdb/100", "qrs.se.physionet/svdb/800", "af.episode_sensitivity", "st.mi_flagged_rate", "false_alarm.raised_count"} {
		if _, ok := r.Metrics[k]; !ok {
			t.Errorf("metric %s missing", k)
		}
	}
}
