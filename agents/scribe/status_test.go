package scribe

import (
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
)

// TestReadListsAndMeasurements checks comma lists that carry a negation
// or a question, and measurements read as conditions.
func TestReadListsAndMeasurements(t *testing.T) {
	v := DefaultVocabulary()
	type want struct {
		code              string
		negated, question bool
	}
	for _, tc := range []struct {
		text string
		want []want
		none []string // codes that must not be read
	}{
		{"无心脏病，甲亢，心肌炎", []want{{"heart_disease", true, false}, {"hyperthyroidism", true, false}, {"myocarditis", true, false}}, nil},
		{"没有胸痛，还有胸闷", []want{{"chest_pain", true, false}, {"chest_tightness", false, false}}, nil},
		{"开车没有平衡感了。胸闷气短", []want{{"chest_tightness", false, false}, {"dyspnea", false, false}}, nil},
		{"没有胸痛，胸闷三天了", []want{{"chest_pain", true, false}, {"chest_tightness", false, false}}, nil},
		{"患者有没有高血压，冠心病，或者其他的问题？", []want{{"hypertension", false, true}, {"coronary_disease", false, true}}, nil},
		{"我血压很正常，三油甘脂一项高点", []want{{"hypertension", true, false}}, nil},
		{"血糖有点高", []want{{"hyperglycemia", false, false}}, nil},
		{"血脂不高", []want{{"hyperlipidemia", true, false}}, nil},
		{"血压偏低", nil, []string{"hypertension"}},
		{"去量一下血压", nil, []string{"hypertension"}},
	} {
		rd := v.read(tc.text)
		got := map[string]mention{}
		for _, m := range rd.mentions {
			got[v.terms[m.term].Code] = m
		}
		for _, w := range tc.want {
			m, ok := got[w.code]
			if !ok || m.negated != w.negated || m.question != w.question {
				t.Errorf("%q: %s = %+v (found %v), want negated %v question %v", tc.text, w.code, m, ok, w.negated, w.question)
			}
		}
		for _, c := range tc.none {
			if _, ok := got[c]; ok {
				t.Errorf("%q: %s read, want none", tc.text, c)
			}
		}
	}
}

// TestFindingsStatus checks the speaker-aware status of Findings: a
// clinician's teaching and plans are not findings of the patient, a
// patient's question may name a condition they have, and worries are not
// findings.
func TestFindingsStatus(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	const (
		pos = "pos"
		neg = "neg"
		unk = "unknown"
	)
	status := func(f Finding) string {
		switch {
		case f.Question:
			return unk
		case f.Present:
			return pos
		}
		return neg
	}
	for _, tc := range []struct {
		name string
		us   []clinic.Utterance
		code string
		want string
	}{
		{"doctor teaching", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "房颤可以吃辅酶Q10吗"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "这药主要是用于病毒性心肌炎、慢性心功能不全。"}}, "myocarditis", unk},
		{"doctor plan", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "如果出现胸闷气短的情况，就得查心肌酶。"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "好的"}}, "chest_tightness", unk},
		{"doctor diagnosis", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "胸闷三天"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "考虑心肌缺血。"}}, "myocardial_ischemia", pos},
		{"patient topic question", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "房颤可以吃辅酶Q10吗"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "可以。"}}, "atrial_fibrillation", pos},
		{"patient asks whether", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "会不会是心肌炎？"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "要查心肌酶。"}}, "myocarditis", unk},
		{"patient worry", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "我担心发烧过后会得心肌炎"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "不要听百度的。"}}, "myocarditis", unk},
		{"answered no", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "有没有胸痛？"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "没有"}}, "chest_pain", neg},
		{"patient denies a list", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "以前有什么病？"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "无心脏病，甲亢，心肌炎"}}, "hyperthyroidism", neg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			for _, f := range e.Findings(tc.us) {
				if f.Term.Code == tc.code {
					got[status(f)] = true
				}
			}
			// One status per finding: an answer wins over the question.
			best := ""
			for _, s := range []string{pos, neg, unk} {
				if got[s] {
					best = s
					break
				}
			}
			if best != tc.want {
				t.Errorf("%s: statuses %v, want %s", tc.code, got, tc.want)
			}
		})
	}
}
