package scribe

import (
	"context"
	"log/slog"
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
)

func env(t *testing.T, dir string) eval.Env {
	return eval.Env{DataDir: dir, OutDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}
}

// TestRunFixtures runs the suite over small data files written for this
// test in the layout of ../shared/data.
func TestRunFixtures(t *testing.T) {
	rep, err := New(Config{}).Run(context.Background(), env(t, "testdata/data"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Validate(); err != nil {
		t.Fatal(err)
	}
	m := rep.Metrics
	for _, tc := range []struct {
		key      string
		min, max float64
	}{
		{"aci.n", 2, 2},
		{"aci.rouge1", 0.3, 1},
		{"aci.objective_exam.rouge1", 0.3, 1},
		{"aci.assessment_and_plan.rouge1", 0.2, 1},
		{"mts.n", 6, 6},
		{"mts.cc.rouge1", 0.3, 1},  // "Headache for two days." against "Headache."
		{"mts.genhx.rouge1", 0, 0}, // the single-speaker dialogue is refused
		{"draft_errors_count", 2, 2},
		{"imcs.n", 2, 2},
		{"imcs.chief_complaint.rouge1", 0.99, 1}, // 咳嗽3天
		{"imcs.diagnosis.rouge1", 0.99, 1},
		{"mie.windows", 4, 4},
		{"mie.symptom_status.f1", 0.99, 1},
		{"unsupported_rate", 0, 0},
		{"injected.catch_rate", 0.95, 1},
	} {
		got, ok := m[tc.key]
		if !ok || got < tc.min || got > tc.max {
			t.Errorf("%s = %v (present %v), want in [%v, %v]", tc.key, got, ok, tc.min, tc.max)
		}
	}
	if m["injected_count"] == 0 || rep.N == 0 || rep.PerRecord == nil || rep.Latency == nil {
		t.Errorf("report incomplete: injected %v, N %d", m["injected_count"], rep.N)
	}
}

func TestRunMissingData(t *testing.T) {
	_, err := New(Config{}).Run(context.Background(), env(t, t.TempDir()))
	if clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("err = %v, want not_found", err)
	}
}

func TestSplitACINote(t *testing.T) {
	got := splitACINote("CHIEF COMPLAINT\n\nCough.\n\nHISTORY OF PRESENT ILLNESS\nThree days.\nPHYSICAL EXAM\nClear.\nRESULTS\nNone.\nASSESSMENT AND PLAN\nRest.")
	want := map[string]string{"subjective": "Cough.\nThree days.", "objective_exam": "Clear.", "objective_results": "None.", "assessment_and_plan": "Rest."}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
