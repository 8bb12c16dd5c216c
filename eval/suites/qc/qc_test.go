package qc_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/evaltest"
	qcsuite "github.com/yizhu-health/yizhu/eval/suites/qc"
	"github.com/yizhu-health/yizhu/qc"
)

// The fixture under testdata is laid out like ../shared/data with two
// passages written for it and a 17-name ICD-10 list.
const fixture = "testdata"

const fixtureICD = "records/chip-cdn/icd_fixture.tsv"

func TestSuiteOnFixture(t *testing.T) {
	r := evaltest.Run(t, qcsuite.New(qcsuite.Config{ICDPath: fixtureICD}), fixture, eval.Deps{})
	for _, k := range qc.Kinds() {
		for _, m := range []string{"recall.", "precision.", "location_accuracy."} {
			v, ok := r.Metrics[m+k]
			if !ok {
				t.Errorf("metric %s%s missing", m, k)
				continue
			}
			if v < 0.98 {
				t.Errorf("%s%s = %.3f on the fixture", m, k, v)
			}
		}
	}
	if r.Metrics["clean_findings_count"] != 0 || r.Metrics["engine_errors_count"] != 0 {
		t.Errorf("clean findings %v, engine errors %v", r.Metrics["clean_findings_count"], r.Metrics["engine_errors_count"])
	}
	if r.Metrics["n_clean_records"] < 10 || r.Metrics["n_cases"] < 100 {
		t.Errorf("too few records: %v clean, %v cases", r.Metrics["n_clean_records"], r.Metrics["n_cases"])
	}
	if r.PerClass == nil || len(r.PerClass.Rows) != len(qc.Kinds()) {
		t.Fatalf("per-class table %+v", r.PerClass)
	}
	if r.N != int(r.Metrics["n_clean_records"]+r.Metrics["n_cases"]) {
		t.Errorf("N = %d", r.N)
	}
}

// A hospital rule set is measured too: a re-weighted, partly disabled set
// changes the number of cases.
func TestSuiteWithOverride(t *testing.T) {
	rs, err := qc.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	base := evaltest.Run(t, qcsuite.New(qcsuite.Config{ICDPath: fixtureICD}), fixture, eval.Deps{})
	if err := rs.ApplyOverride("h.yaml", []byte("disable: [ADM-001, ADM-002, ADM-003]\n")); err != nil {
		t.Fatal(err)
	}
	r := evaltest.Run(t, qcsuite.New(qcsuite.Config{ICDPath: fixtureICD, Rules: rs}), fixture, eval.Deps{})
	if r.Metrics["n_cases"] >= base.Metrics["n_cases"] {
		t.Errorf("disabling rules left %v cases (default %v)", r.Metrics["n_cases"], base.Metrics["n_cases"])
	}
}

func TestSuiteMissingData(t *testing.T) {
	_, err := qcsuite.New(qcsuite.Config{}).Run(t.Context(), eval.Env{DataDir: fixture, OutDir: t.TempDir()})
	if clinic.ErrorCode(err) != clinic.CodeNotFound || !strings.Contains(err.Error(), filepath.FromSlash("records/chip-cdn")) {
		t.Errorf("missing ICD list: err = %v", err)
	}
	dir := t.TempDir()
	icdFile := filepath.Join(dir, filepath.FromSlash(fixtureICD))
	b, err := os.ReadFile(filepath.Join(fixture, filepath.FromSlash(fixtureICD)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(icdFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(icdFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = qcsuite.New(qcsuite.Config{ICDPath: fixtureICD}).Run(t.Context(), eval.Env{DataDir: dir, OutDir: t.TempDir()})
	if clinic.ErrorCode(err) != clinic.CodeNotFound || !strings.Contains(err.Error(), "yidu") {
		t.Errorf("missing passages: err = %v", err)
	}
}
