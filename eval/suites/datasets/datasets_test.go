package datasets_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/evaltest"
	datasetsuite "github.com/yizhu-health/yizhu/eval/suites/datasets"
)

// The fixture under testdata/data is laid out like ../shared/data:
//
//	notes/aci-bench/data/train.csv          ACI-BENCH, 2 visits
//	triage/cn-internal-medicine/dev.csv     department CSV, 2 rows
//	triage/kuake-qic/KUAKE-QIC_dev.json     malformed: "query": 42 on line 3
//	triage/yizhu-cases/cases.jsonl          Yizhu triage JSONL, 1 case
//	ecg/physionet/mitdb/100.hea, 100.dat    one ECG record (counted, not parsed)
//	standards/misc/x.csv                    no reader: unread
//	README.md                               documentation: ignored
func runFixture(t *testing.T) *eval.Report {
	t.Helper()
	return evaltest.Run(t, datasetsuite.New(datasetsuite.Config{}), filepath.Join("testdata", "data"), eval.Deps{})
}

func TestSuiteOnFixture(t *testing.T) {
	r := runFixture(t)
	wantMetrics := map[string]float64{
		"files_found":            4, // aci, department, kuake, yizhu triage
		"files_loaded":           3,
		"load_errors":            1,
		"records_total":          5, // 2 + 2 + 1
		"records.aci-bench":      2,
		"records.department-csv": 2,
		"records.yizhu-triage":   1,
		"kinds_found":            4,
		"ecg_records_found":      1,
		"files_unread":           1, // standards/ws445/x.csv
	}
	if diff := cmp.Diff(wantMetrics, r.Metrics); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if r.N != 5 {
		t.Errorf("N = %d, want 5", r.N)
	}
	wantRows := []eval.Row{
		{Key: "notes/aci-bench/data/train.csv", Values: []float64{2, 0}},
		{Key: "triage/cn-internal-medicine/dev.csv", Values: []float64{2, 0}},
		{Key: "triage/kuake-qic/KUAKE-QIC_dev.json", Values: []float64{0, 1}},
		{Key: "triage/yizhu-cases/cases.jsonl", Values: []float64{1, 0}},
	}
	if diff := cmp.Diff(wantRows, r.PerRecord.Rows); diff != "" {
		t.Errorf("per-file rows (-want +got):\n%s", diff)
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{
		`load error (kuake-qic): invalid: malformed dataset file: triage/kuake-qic/KUAKE-QIC_dev.json:3: malformed dataset: field "query"`,
		"ECG: 1 records found by their .hea headers (ecg/physionet/mitdb 1); they are counted, not parsed",
		"not read: standards/misc/ (1 files: x.csv)",
		"it scores no model and no agent",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if r.Latency == nil || r.Latency.N != 4 {
		t.Errorf("latency = %+v, want 4 file timings", r.Latency)
	}
}

func TestSuiteGate(t *testing.T) {
	r := runFixture(t)
	th, err := eval.DefaultThresholds()
	if err != nil {
		t.Fatal(err)
	}
	// Only this suite's shipped bounds: the other suites' sections are
	// checked against the full registry in cmd/yizhu.
	th = eval.Thresholds{datasetsuite.Name: th[datasetsuite.Name]}
	var got []string
	for _, v := range th.Gate([]*eval.Report{r}, []string{datasetsuite.Name}) {
		got = append(got, v.String())
	}
	// The built-in gate names only metrics the suite reports, and the
	// fixture's malformed file trips it.
	want := []string{"datasets: load_errors = 1 is above the maximum 0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSuiteMissingData(t *testing.T) {
	s := datasetsuite.New(datasetsuite.Config{})
	_, err := s.Run(t.Context(), eval.Env{DataDir: filepath.Join(t.TempDir(), "absent")})
	if err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("err = %v, want one naming the missing directory", err)
	}
}
