package scribe

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/datasets"
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
		{"mie.first_half.symptom_status.f1", 0, 1},
		{"mie.second_half.symptom_status.f1", 0, 1},
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

// TestMIEItems maps vocabulary codes to MIE items by the item names and,
// when the data set's example_dict.json is there, by its synonyms.
func TestMIEItems(t *testing.T) {
	e, err := scribe.New(scribe.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mie := filepath.Join(dir, filepath.Dir(MIEOntologyFile))
	if err := os.MkdirAll(mie, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(rel, s string) {
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(MIEOntologyFile, `{"症状": ["胸闷", "腹部不适", "僵硬"], "检查": ["心电图"]}`)
	write(MIEDictFile, `{"症状": {"胸闷": [], "腹部不适": ["肚子不舒服", "腹泻", "肚子疼"], "僵硬": ["发麻"]}}`)
	got := mieItems(e, dir, nil)
	for code, item := range map[string]string{"chest_tightness": "胸闷", "abdominal_discomfort": "腹部不适", "diarrhea": "腹部不适", "abdominal_pain": "腹部不适", "stiffness": "僵硬", "numbness": "僵硬"} {
		if got[code] != item {
			t.Errorf("%s → %q, want %q", code, got[code], item)
		}
	}
	if _, ok := got["ecg"]; ok {
		t.Error("a 检查 item was mapped")
	}
	// Without the ontology files, the items come from the labels.
	ds := []datasets.MIEDialogue{{Windows: []datasets.MIEWindow{{Labels: []datasets.MIELabel{{Category: "症状", Item: "胸闷", Status: "阳性"}}}}}}
	if got := mieItems(e, t.TempDir(), ds); len(got) != 1 || got["chest_tightness"] != "胸闷" {
		t.Errorf("from labels: %v", got)
	}
}

func TestMIELabelsOneStatus(t *testing.T) {
	v := scribe.DefaultVocabulary()
	term := func(code string) scribe.Term { tm, _ := v.Term(code); return tm }
	itemOf := map[string]string{"chest_pain": "胸痛", "chest_tightness": "胸闷", "myocarditis": "心肌炎"}
	got, strict := mieLabels([]scribe.Finding{
		{Term: term("chest_pain"), Question: true, Doctor: true},
		{Term: term("chest_pain"), Present: false},
		{Term: term("chest_tightness"), Present: false},
		{Term: term("chest_tightness"), Present: true},
		{Term: term("myocarditis"), Question: true, Doctor: true},
		{Term: term("fever"), Present: true}, // not an MIE item here
	}, itemOf)
	want := map[string]bool{"胸痛|neg": true, "胸闷|pos": true, "心肌炎|unknown": true}
	if len(got) != len(want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("labels %v, want %v", got, want)
		}
	}
	if !strict["胸痛|阴性"] || !strict["胸闷|阳性"] || strict["胸闷|阴性"] || strict["胸痛|未知"] {
		t.Errorf("strict %v", strict)
	}
}

// A clinician ruling out what the patient reports keeps both statuses in
// the window, as MIE labels them (阳性 and 医生阴性); a patient's own
// denial beside an affirmation does not.
func TestMIELabelsDoctorRulesOut(t *testing.T) {
	v := scribe.DefaultVocabulary()
	term := func(code string) scribe.Term { tm, _ := v.Term(code); return tm }
	itemOf := map[string]string{"myocardial_ischemia": "心肌缺血", "chest_tightness": "胸闷"}
	got, strict := mieLabels([]scribe.Finding{
		{Term: term("myocardial_ischemia"), Present: true},
		{Term: term("myocardial_ischemia"), Present: false, Doctor: true},
		{Term: term("chest_tightness"), Present: true},
		{Term: term("chest_tightness"), Present: false},
		{Term: term("chest_tightness"), Present: false, Doctor: true},
	}, itemOf)
	if !got["心肌缺血|pos"] || !got["心肌缺血|neg"] || !strict["心肌缺血|阳性"] || !strict["心肌缺血|医生阴性"] {
		t.Errorf("doctor ruling out: labels %v, strict %v", got, strict)
	}
	if !got["胸闷|pos"] || got["胸闷|neg"] || strict["胸闷|阴性"] || strict["胸闷|医生阴性"] {
		t.Errorf("patient's own denial: labels %v, strict %v", got, strict)
	}
}
