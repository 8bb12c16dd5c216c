package triage_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/yizhu-health/yizhu/agents/triage"
)

// dataDir is ../shared/data relative to the repository root; the package
// directory is two levels below the root.
var dataDir = flag.String("data", filepath.Join("..", "..", "..", "shared", "data"), "directory of the shared evaluation data")

func TestRealDataRouting(t *testing.T) {
	if testing.Short() {
		t.Skip("real-data evaluation is slow; run without -short")
	}
	dir := *dataDir
	if d := os.Getenv("YIZHU_DATA"); d != "" {
		dir = d
	}
	path := filepath.Join(dir, "triage", "cn-internal-medicine", "dev.csv")
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("YIZHU_REQUIRE_DATA") == "1" {
			t.Fatalf("YIZHU_REQUIRE_DATA=1 but no evaluation data at %s: %v", path, err)
		}
		t.Skipf("no evaluation data at %s (set -data): %v", path, err)
	}
	defer f.Close()
	rows, err := triage.ReadRoutingCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	e, err := triage.New(triage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	kbAll, err := triage.EvalRouting(t.Context(), e, rows, triage.RoutingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kbLabels, err := triage.EvalRouting(t.Context(), e, rows, triage.RoutingOptions{LabelsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	cv, err := triage.CrossValidate(t.Context(), rows, triage.CVConfig{Folds: 5, Seed: 1, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	report := map[string]any{"rows": len(rows), "kb_catalog": kbAll, "kb_labels_only": kbLabels, "cv": cv}
	b, _ := json.MarshalIndent(report, "", " ")
	t.Logf("%s", b)
	if kbLabels.Top3 < 0.70 {
		t.Errorf("KB top-3 (labels only) = %.3f, want ≥ 0.70", kbLabels.Top3)
	}
	if cv.Router.Top1 < 0.85 || cv.Router.Top3 < 0.97 {
		t.Errorf("router 5-fold top-1 %.3f top-3 %.3f, want ≥ 0.85 / 0.97", cv.Router.Top1, cv.Router.Top3)
	}
}

func TestVignettes(t *testing.T) {
	e, err := triage.New(triage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	vs := triage.DefaultVignettes()
	if len(vs) < 150 {
		t.Fatalf("%d vignettes, want ≥ 150", len(vs))
	}
	res, err := triage.EvalVignettes(t.Context(), e, vs)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(res, "", " ")
	t.Logf("%s", b)
	if res.UnderTriageHigh != 0 {
		t.Errorf("under-triage of level I/II vignettes = %d, want 0", res.UnderTriageHigh)
	}
	if res.RedFlagHits != res.RedFlagCases {
		t.Errorf("red flags found %d of %d", res.RedFlagHits, res.RedFlagCases)
	}
}
