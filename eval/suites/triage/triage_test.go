package triage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/evaltest"
	triagesuite "github.com/yizhu-health/yizhu/eval/suites/triage"
)

// The fixture under testdata/data is laid out like ../shared/data:
//
//	triage/cn-internal-medicine/dev.csv   24 rows, 8 each of 心血管科, 消化科, 呼吸科
var fixture = filepath.Join("testdata", "data")

func intp(v int) *int { return &v }

// twoVignettes are a chest-pain escalation (gold II) and a plain cough
// (gold IV), both triaged exactly by the embedded engine.
func twoVignettes() []triage.Vignette {
	return []triage.Vignette{
		{ID: "t1", Lang: "zh", Text: "胸口痛一小时，出了很多汗", Age: intp(58), Sex: clinic.SexMale, Acuity: clinic.AcuityII, RedFlag: "RF-CHEST"},
		{ID: "t2", Lang: "en", Text: "I have had a cough for three days", Age: intp(30), Sex: clinic.SexFemale, Acuity: clinic.AcuityIV},
	}
}

func readFixtureRows(t *testing.T) []triage.Row {
	t.Helper()
	f, err := os.Open(filepath.Join(fixture, triagesuite.RoutingFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := triage.ReadRoutingCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestSuiteRoutingOnFixture(t *testing.T) {
	e, err := triage.New(triage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := evaltest.Run(t, triagesuite.New(triagesuite.Config{Engine: e, Vignettes: twoVignettes()}), fixture, eval.Deps{})

	// The report carries exactly what the agents/triage evaluators return
	// on the same rows, under the documented names.
	rows := readFixtureRows(t)
	if len(rows) != 24 {
		t.Fatalf("fixture has %d rows, want 24", len(rows))
	}
	kbAll, err := triage.EvalRouting(t.Context(), e, rows, triage.RoutingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kbLab, err := triage.EvalRouting(t.Context(), e, rows, triage.RoutingOptions{LabelsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	cv, err := triage.CrossValidate(t.Context(), rows, triage.CVConfig{Folds: 5, Seed: 1, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"kb.all.top1":         kbAll.Top1,
		"kb.all.top3":         kbAll.Top3,
		"kb.labels_only.top1": kbLab.Top1,
		"kb.labels_only.top3": kbLab.Top3,
		"kb.unmapped_count":   0,
		"cv.router.top1":      cv.Router.Top1,
		"cv.router.top3":      cv.Router.Top3,
		"cv.blended.top1":     cv.Blended.Top1,
		"cv.blended.top3":     cv.Blended.Top3,
		"n_routing_rows":      24,
	}
	got := map[string]float64{}
	for k := range want {
		got[k] = r.Metrics[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routing metrics (-want +got):\n%s", diff)
	}
	// Three labels ranked among three departments: top-3 is certain.
	if r.Metrics["kb.labels_only.top3"] != 1 {
		t.Errorf("kb.labels_only.top3 = %v, want 1 with three labels", r.Metrics["kb.labels_only.top3"])
	}
	if r.N != 24+2 {
		t.Errorf("N = %d, want 26 (24 rows + 2 vignettes)", r.N)
	}
	var keys []string
	for _, row := range r.PerRecord.Rows {
		keys = append(keys, row.Key)
		if row.Values[0] != 8 {
			t.Errorf("per-label row %s: n = %v, want 8", row.Key, row.Values[0])
		}
	}
	if diff := cmp.Diff([]string{"呼吸科", "心血管科", "消化科"}, keys); diff != "" {
		t.Errorf("per-label rows (-want +got):\n%s", diff)
	}
	if r.Config["cv_folds"] != "5" || r.Config["routing_rows"] != "24" {
		t.Errorf("config = %v", r.Config)
	}
}

func TestSuiteVignettes(t *testing.T) {
	underTriaged := twoVignettes()
	underTriaged[1].Acuity = clinic.AcuityI // a cough labelled as level I: the engine's IV is under-triage
	tests := []struct {
		name       string
		vignettes  []triage.Vignette
		want       map[string]float64
		violations []string
	}{
		{
			name:      "exact",
			vignettes: twoVignettes(),
			want: map[string]float64{
				"n_vignettes":                       2,
				"vignettes.exact_rate":              1,
				"vignettes.under_triage_count":      0,
				"vignettes.under_triage_high_count": 0,
				"vignettes.over_triage_count":       0,
				"vignettes.high_acuity_recall":      1,
				"vignettes.red_flag_recall":         1,
				"vignettes.false_red_flag_count":    0,
				"triage_accuracy":                   1,
				"under_triage_rate":                 0,
				"over_triage_rate":                  0,
				"mean_abs_level_error":              0,
			},
		},
		{
			name:      "under-triage of a level I case",
			vignettes: underTriaged,
			want: map[string]float64{
				"n_vignettes":                       2,
				"vignettes.exact_rate":              0.5,
				"vignettes.under_triage_count":      1,
				"vignettes.under_triage_high_count": 1,
				"vignettes.over_triage_count":       0,
				"vignettes.high_acuity_recall":      0.5,
				"vignettes.red_flag_recall":         1,
				"vignettes.false_red_flag_count":    0,
				"triage_accuracy":                   0.5,
				"under_triage_rate":                 0.5,
				"over_triage_rate":                  0,
				"mean_abs_level_error":              1.5, // |2-2| and |4-1| over 2
			},
			violations: []string{"vignettes.high_acuity_recall:min", "vignettes.under_triage_high_count:max"},
		},
	}
	th, err := eval.DefaultThresholds()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := evaltest.Run(t, triagesuite.New(triagesuite.Config{Vignettes: tc.vignettes}), fixture, eval.Deps{})
			got := map[string]float64{}
			for k := range tc.want {
				got[k] = r.Metrics[k]
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("vignette metrics (-want +got):\n%s", diff)
			}
			// Gate only the vignette bounds: the 24-row fixture is too
			// small for the routing minimums.
			var vs []string
			for _, v := range th.Gate([]*eval.Report{r}, []string{"datasets", triagesuite.Name}) {
				// Other suites' thresholds are their own business here.
				if (v.Kind == "missing" || v.Kind == "unknown-suite") && (v.Suite == triagesuite.Name || v.Suite == "datasets") {
					t.Errorf("gate: %s", v)
				}
				if strings.HasPrefix(v.Metric, "vignettes.") {
					vs = append(vs, v.Metric+":"+v.Kind)
				}
			}
			if diff := cmp.Diff(tc.violations, vs); diff != "" {
				t.Errorf("vignette gate violations (-want +got):\n%s", diff)
			}
			if r.Confusion == nil || r.Confusion.Total() != 2 {
				t.Fatalf("confusion = %+v, want 2 cases", r.Confusion)
			}
			if r.Latency == nil || r.Latency.N < 2 {
				t.Errorf("latency = %+v, want one sample per turn", r.Latency)
			}
		})
	}
}

func TestSuiteMissingData(t *testing.T) {
	dir := t.TempDir()
	s := triagesuite.New(triagesuite.Config{Vignettes: twoVignettes()})
	_, err := s.Run(t.Context(), eval.Env{DataDir: dir, OutDir: t.TempDir()})
	if err == nil {
		t.Fatal("no error without dev.csv")
	}
	if clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("code = %s, want not_found", clinic.ErrorCode(err))
	}
	if want := filepath.Join(dir, "triage", "cn-internal-medicine", "dev.csv"); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}

func TestSuiteBadCSV(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, triagesuite.RoutingFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("title,ask\nx,y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := triagesuite.New(triagesuite.Config{Vignettes: twoVignettes()})
	_, err := s.Run(t.Context(), eval.Env{DataDir: dir, OutDir: t.TempDir()})
	if clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("CSV without a department column: err = %v, want invalid", err)
	}
}
