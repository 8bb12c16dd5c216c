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
		// a body site and what is felt there
		{"胸部两侧常会痛", []want{{"chest_pain", false, false}}, nil},
		{"心电图丢了，脚没肿", []want{{"edema", true, false}}, nil},
		{"跑完肚子也不舒服", []want{{"abdominal_discomfort", false, false}}, nil},
		{"现在气不短", []want{{"dyspnea", true, false}}, nil},
		{"她舌头疼", nil, []string{"headache"}},
		{"一生气就心慌", []want{{"palpitations", false, false}}, []string{"dyspnea"}},
		// heart rate reported fast or normal
		{"他最近说心跳的比较快", []want{{"arrhythmia", false, false}}, nil},
		{"心率正常", []want{{"arrhythmia", true, false}}, nil},
		{"心率多少", nil, []string{"arrhythmia"}},
		// words that look like negations
		{"吃了一个星期药还没有用头晕", []want{{"dizziness", false, false}}, nil},
		{"尽量不要感冒", []want{{"common_cold", false, false}}, nil},
		{"我没有用阿司匹林", []want{{"aspirin", true, false}}, nil},
		{"我没用阿司匹林", []want{{"aspirin", true, false}}, nil},
		{"不要吃阿司匹林", []want{{"aspirin", true, false}}, nil},
		{"我不用阿司匹林", []want{{"aspirin", true, false}}, nil},
		{"葡萄糖改善不了贫血", []want{{"anemia", false, false}}, nil},
		// a value clause is not a list item of the denial before it
		{"没有甲亢，血压偏高", []want{{"hyperthyroidism", true, false}, {"hypertension", false, false}}, nil},
		// ruled out after the finding
		{"缺血性心脏病可能性不大", []want{{"myocardial_ischemia", true, false}}, nil},
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
		{"patient general question", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "房颤怎么治疗？"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "要看具体情况。"}}, "atrial_fibrillation", unk},
		{"patient topic question of a relative", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "我妈妈52岁，有房颤可以吃辅酶Q10吗"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "可以。"}}, "atrial_fibrillation", pos},
		{"patient asks how serious", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "窦性心动过速严重吗？"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "不严重。"}}, "arrhythmia", pos},
		{"symptom in a question", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "房颤病人好咳嗽怎么办"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "咳嗽多久了？"}}, "cough", pos},
		{"but is not a question word", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "这不是心脏病。"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "可是我经常心慌啊？"}}, "palpitations", pos},
		{"doctor rules out", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "我是缺血性心脏病吗"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "38岁女性，缺血性心脏病可能性不大。"}}, "myocardial_ischemia", neg},
		{"doctor says likely", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "就是心口疼"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "有可能是冠心病。"}}, "coronary_disease", pos},
		{"doctor describes a value in general", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "稍微一紧张都100多点"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "紧张时心率会增快的"}}, "arrhythmia", ""},
		{"no, then something else", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "有什么不舒服吗？比如心慌胸闷？"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "没有  就是睡眠不好。"}}, "palpitations", neg},
		{"nothing but", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "有没有咳嗽发热？"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "除了流鼻涕没有别的症状"}}, "cough", neg},
		{"a later yes", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "做过心电图吗？有胸闷气短症状吗？"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "做过心电图。偶尔会有。"}}, "chest_tightness", pos},
		{"how long answers yes", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "以前有房颤吗？"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "三年了。"}}, "atrial_fibrillation", pos},
		{"asking back answers nothing", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "是否有气短加重"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "是右心衰加重导致左心衰吗？"}}, "dyspnea", unk},
		{"blank reply", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "有没有胸痛？"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: ""}}, "chest_pain", unk},
		{"relative", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "我爸爸有冠心病"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "平时吃什么药？"}}, "coronary_disease", pos},
		{"patient asks whether", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "会不会是心肌炎？"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "要查心肌酶。"}}, "myocarditis", unk},
		{"patient worry", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "我担心发烧过后会得心肌炎"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "不要听百度的。"}}, "myocarditis", unk},
		{"answered no", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "有没有胸痛？"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "没有"}}, "chest_pain", neg},
		// a particle closing the sentence asks about its whole list,
		// the negation included: no clinician's denial
		{"negated list question", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerPatient, Text: "这次做的是5毫米"},
			{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "恩，目前没有心慌胸闷，气短，口唇发紫的情况么"}}, "palpitations", unk},
		{"negated list question answered", []clinic.Utterance{
			{ID: "1", Speaker: clinic.SpeakerDoctor, Text: "目前没有心慌胸闷，气短的情况么"},
			{ID: "2", Speaker: clinic.SpeakerPatient, Text: "有"}}, "dyspnea", pos},
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

// TestFindingsFamily checks that a relative's finding says whose it is.
func TestFindingsFamily(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	us := []clinic.Utterance{
		{ID: "1", Speaker: clinic.SpeakerPatient, Text: "我爸爸有冠心病，我自己有点胸闷"},
		{ID: "2", Speaker: clinic.SpeakerDoctor, Text: "多久了？"}}
	got := map[string]string{}
	for _, f := range e.Findings(us) {
		got[f.Term.Code] = f.Family
	}
	if got["coronary_disease"] != "爸爸" || got["chest_tightness"] != "" {
		t.Errorf("family = %v, want coronary_disease of 爸爸 and chest_tightness of the patient", got)
	}
}

// TestAskWholeSentence checks how far a clinician's closing yes/no
// particle reaches back: over the list it closes, not over a statement
// before an unrelated question.
func TestAskWholeSentence(t *testing.T) {
	v := DefaultVocabulary()
	for _, tc := range []struct {
		text  string
		asked map[string]bool // code → asked
	}{
		{"目前没有心慌胸闷，气短，口唇发紫的情况么", map[string]bool{"palpitations": true, "chest_tightness": true, "dyspnea": true}},
		{"有胸闷，气短吗？", map[string]bool{"chest_tightness": true, "dyspnea": true}},
		{"药疹有荨麻疹，也有红色小丘疹，宝宝咳嗽严重吗？", map[string]bool{"rash": false, "cough": true}},
		{"胸闷三天了，要紧吗？", map[string]bool{"chest_tightness": false}},
	} {
		rd := v.read(tc.text)
		askWholeSentence(v, &rd)
		got := map[string]bool{}
		for _, m := range rd.mentions {
			got[v.terms[m.term].Code] = got[v.terms[m.term].Code] || m.question
		}
		for code, want := range tc.asked {
			if q, ok := got[code]; !ok || q != want {
				t.Errorf("%q: %s asked = %v (read %v), want %v", tc.text, code, q, ok, want)
			}
		}
	}
}
