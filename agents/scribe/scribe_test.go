package scribe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func newEngine(t testing.TB, cfg scribe.Config) *scribe.Engine {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	e, err := scribe.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func dialogue(lines ...string) []clinic.Utterance {
	out := make([]clinic.Utterance, 0, len(lines))
	for i, l := range lines {
		sp, text, _ := strings.Cut(l, ":")
		out = append(out, clinic.Utterance{ID: fmt.Sprintf("u%d", i+1), Seq: i, Speaker: clinic.Speaker(sp), Text: text})
	}
	return out
}

// chestDialogue is a written Chinese cardiology consultation.
func chestDialogue() []clinic.Utterance {
	return dialogue(
		"doctor:您好，哪里不舒服？",
		"patient:医生，我胸闷三天了，还有点心慌。",
		"doctor:有没有胸痛？发烧吗？",
		"patient:没有。",
		"doctor:以前有高血压、糖尿病吗？",
		"patient:有高血压五年了，一直吃氨氯地平。没有糖尿病。",
		"doctor:有药物过敏吗？",
		"patient:没有过敏。",
		"doctor:我听诊一下，心率88次/分，律齐，双肺呼吸音清。",
		"doctor:考虑是冠心病，建议做个心电图和心脏彩超，先口服阿司匹林。",
	)
}

func section(t *testing.T, n clinic.Note, key string) string {
	t.Helper()
	s, ok := n.Section(key)
	if !ok {
		t.Fatalf("note has no %s section; sections: %+v", key, n.Sections)
	}
	return scribe.SectionText(s)
}

func TestDraftOutpatientChinese(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	in := scribe.Input{Encounter: clinic.Encounter{ID: "enc1", PatientID: "p1"}, Type: clinic.NoteOutpatient, Utterances: chestDialogue(),
		Data: []scribe.DataItem{{ID: "ecg1", Kind: scribe.DataECG, Name: "心电图", Text: "窦性心律，心率88次/分，V4-V6 ST段压低0.1mV。"}}}
	var stages []string
	d, err := e.Draft(context.Background(), in, scribe.WithProgress(func(p scribe.Progress) { stages = append(stages, p.Stage) }))
	if err != nil {
		t.Fatal(err)
	}
	n := d.Note
	if n.Status != clinic.NoteDraft || n.Author != scribe.AuthorEmbedded || n.EncounterID != "enc1" || n.Fallback || !n.CreatedAt.Equal(t0) {
		t.Errorf("note header = %+v", n)
	}
	if !d.Outcome.Fallback || d.Outcome.Reason != agents.ReasonNoLLM || d.Language != scribe.LangZH {
		t.Errorf("outcome %+v language %s", d.Outcome, d.Language)
	}
	want := map[string][]string{
		scribe.SecChiefComplaint: {"胸闷3天"},
		scribe.SecPresentIllness: {"患者3天前出现胸闷", "伴心悸", "无胸痛、发热", "曾服用氨氯地平"},
		scribe.SecPastHistory:    {"有高血压病史", "否认糖尿病病史"},
		scribe.SecAllergies:      {"否认药物及食物过敏史"},
		scribe.SecPhysicalExam:   {"心率88次/分"},
		scribe.SecAuxiliary:      {"心电图：窦性心律"},
		scribe.SecDiagnosis:      {"冠心病"},
		scribe.SecPlan:           {"建议做个心电图"},
	}
	for key, parts := range want {
		got := section(t, n, key)
		for _, p := range parts {
			if !strings.Contains(got, p) {
				t.Errorf("%s = %q, want it to contain %q", key, got, p)
			}
		}
	}
	if cc := section(t, n, scribe.SecChiefComplaint); len([]rune(cc)) > scribe.MaxChiefComplaintRunes {
		t.Errorf("chief complaint %q longer than %d", cc, scribe.MaxChiefComplaintRunes)
	}
	if _, ok := n.Section(scribe.SecFamilyHistory); ok {
		t.Error("family history drafted though never mentioned")
	}
	for _, s := range n.Sections {
		for _, st := range s.Statements {
			if len(st.Sources) == 0 || st.Unsupported {
				t.Errorf("%s: statement %q has sources %v, unsupported %v (%s)", s.Key, st.Text, st.Sources, st.Unsupported, st.Reason)
			}
		}
	}
	// The negatives come from the question and the bare answer together.
	hpi, _ := n.Section(scribe.SecPresentIllness)
	for _, st := range hpi.Statements {
		if strings.HasPrefix(st.Text, "无") && (len(st.Sources) != 2 || st.Sources[0].ID != "u3" || st.Sources[1].ID != "u4") {
			t.Errorf("negative statement %q cites %v, want u3,u4", st.Text, st.Sources)
		}
	}
	if len(d.Problems) != 0 {
		t.Errorf("problems: %+v", d.Problems)
	}
	if strings.Join(stages, ",") != "validate,extract,section,section,section,section,section,section,section,section,verify,done" {
		t.Errorf("stages = %v", stages)
	}
}

func TestDraftOutpatientEnglishSOAP(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	in := scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue(
		"doctor:What brings you in today?",
		"patient:I've had a cough for three days and I feel tired.",
		"doctor:Any fever or chest pain?",
		"patient:No.",
		"doctor:Do you have any allergies to medications?",
		"patient:I'm allergic to penicillin.",
		"doctor:Do you smoke?",
		"patient:No, I don't smoke.",
		"doctor:On exam your lungs are clear and your temperature is 37.2.",
		"doctor:I think you have bronchitis. I'm going to prescribe azithromycin and we'll follow up in one week.",
	)}
	d, err := e.Draft(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Language != scribe.LangEN {
		t.Fatalf("language = %s", d.Language)
	}
	want := map[string]string{
		scribe.SecChiefComplaint:  "Cough and fatigue for three days.",
		scribe.SecPresentIllness:  "The patient reports cough and fatigue for three days.",
		scribe.SecReviewOfSystems: "Denies fever and chest pain.",
		scribe.SecAllergies:       "Allergic to penicillin.",
		scribe.SecPersonalHistory: "Denies smoking.",
		scribe.SecPhysicalExam:    "lungs are clear",
		scribe.SecDiagnosis:       "Bronchitis.",
		scribe.SecPlan:            "prescribe azithromycin",
	}
	for key, part := range want {
		if got := section(t, d.Note, key); !strings.Contains(got, part) {
			t.Errorf("%s = %q, want %q in it", key, got, part)
		}
	}
	if len(d.Problems) != 0 {
		t.Errorf("problems: %+v", d.Problems)
	}
}

func TestDraftConflictMarker(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"zh", []string{"doctor:有药物过敏吗？", "patient:没有过敏。", "doctor:好的，最近咳嗽吗？", "patient:咳嗽两天了。我对青霉素过敏，刚想起来。"}, "青霉素"},
		{"en", []string{"doctor:Any allergies?", "patient:No allergies.", "doctor:And what brings you in?", "patient:A cough for two days. Oh wait, I'm allergic to penicillin."}, "penicillin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.Draft(context.Background(), scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue(tc.lines...)})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := d.Note.Section(scribe.SecAllergies)
			if len(s.Statements) != 1 || !scribe.IsConflict(s.Statements[0]) || !strings.Contains(s.Statements[0].Text, tc.want) {
				t.Fatalf("allergies = %+v, want one conflict marker naming %s", s.Statements, tc.want)
			}
			if len(s.Statements[0].Sources) < 3 {
				t.Errorf("conflict cites %v, want both sides", s.Statements[0].Sources)
			}
			if len(d.Problems) != 1 || d.Problems[0].Kind != scribe.ProblemConflict {
				t.Errorf("problems = %+v", d.Problems)
			}
			if md := scribe.Markdown(d.Note); !strings.Contains(md, "⚠") {
				t.Errorf("markdown does not mark the conflict:\n%s", md)
			}
		})
	}
}

// TestDraftAllergyConflictOnlyAllergens: the conflict marker of 过敏史
// names what the patient says they are allergic to, never a medicine they
// say they take (issue 7 defect a).
func TestDraftAllergyConflictOnlyAllergens(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	for _, tc := range []struct {
		name          string
		lines         []string
		allergen, med string
	}{
		{"zh answer names a medicine", []string{"doctor:有药物过敏吗？", "patient:没有，我一直在吃阿司匹林。", "doctor:好的，还有别的不舒服吗？", "patient:我对青霉素过敏，刚想起来。"}, "青霉素", "阿司匹林"},
		{"zh one clause", []string{"doctor:有药物过敏吗？", "patient:没有过敏。", "doctor:平时吃什么药？", "patient:我对青霉素过敏现在每天吃阿司匹林"}, "青霉素", "阿司匹林"},
		{"en", []string{"doctor:Any allergies?", "patient:No allergies.", "doctor:What medicines do you take?", "patient:Actually I'm allergic to penicillin and I take aspirin daily."}, "penicillin", "aspirin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.Draft(context.Background(), scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue(tc.lines...)})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := d.Note.Section(scribe.SecAllergies)
			if len(s.Statements) != 1 || !scribe.IsConflict(s.Statements[0]) {
				t.Fatalf("allergies = %+v, want one conflict marker", s.Statements)
			}
			if txt := s.Statements[0].Text; !strings.Contains(txt, tc.allergen) || strings.Contains(txt, tc.med) {
				t.Errorf("conflict %q: want %s named and the medicine %s not", txt, tc.allergen, tc.med)
			}
			var meds strings.Builder
			for _, sec := range d.Note.Sections {
				if sec.Key != scribe.SecAllergies {
					meds.WriteString(scribe.SectionText(sec))
				}
			}
			if !strings.Contains(meds.String(), tc.med) {
				t.Errorf("the medicine %s is not drafted outside 过敏史:\n%s", tc.med, meds.String())
			}
		})
	}
}

// TestDraftPastDrugRash: a rash the patient once had after a drug is
// allergy history, not a present complaint (issue 7 defect b).
func TestDraftPastDrugRash(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	for _, tc := range []struct {
		name             string
		lines            []string
		drug, rash, hpiW string
	}{
		{"zh answer", []string{"doctor:哪里不舒服？", "patient:胸闷三天了。", "doctor:有药物过敏吗？", "patient:以前吃头孢出过皮疹。"}, "头孢", "皮疹", "胸闷"},
		{"zh two clauses", []string{"doctor:哪里不舒服？", "patient:胸闷三天了。以前吃头孢，出过皮疹。", "doctor:好的。"}, "头孢", "皮疹", "胸闷"},
		{"en", []string{"doctor:What brings you in?", "patient:Chest tightness for three days.", "doctor:Any allergies?", "patient:I got a rash from amoxicillin years ago."}, "amoxicillin", "rash", "chest tightness"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			us := dialogue(tc.lines...)
			d, err := e.Draft(context.Background(), scribe.Input{Type: clinic.NoteOutpatient, Utterances: us})
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{scribe.SecChiefComplaint, scribe.SecPresentIllness} {
				got := strings.ToLower(section(t, d.Note, key))
				if strings.Contains(got, tc.rash) || strings.Contains(got, tc.drug) {
					t.Errorf("%s = %q: the past drug rash is written as a present complaint", key, got)
				}
			}
			if got := strings.ToLower(section(t, d.Note, scribe.SecPresentIllness)); !strings.Contains(got, tc.hpiW) {
				t.Errorf("present illness = %q, want %q", got, tc.hpiW)
			}
			s, _ := d.Note.Section(scribe.SecAllergies)
			al := strings.ToLower(scribe.SectionText(s))
			if !strings.Contains(al, tc.drug) || !strings.Contains(al, tc.rash) {
				t.Errorf("allergies = %q, want the drug %s and the reaction %s", al, tc.drug, tc.rash)
			}
			if len(d.Problems) != 0 {
				t.Errorf("problems = %+v", d.Problems)
			}
			for _, f := range e.Findings(us) {
				if f.Term.Code == "rash" {
					t.Errorf("Findings reports the past drug rash as a finding: %+v", f)
				}
			}
		})
	}
}

func TestDraftBadInput(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	long := make([]clinic.Utterance, 10000)
	for i := range long {
		sp := clinic.SpeakerDoctor
		if i%2 == 1 {
			sp = clinic.SpeakerPatient
		}
		long[i] = clinic.Utterance{ID: fmt.Sprintf("u%d", i), Speaker: sp, Text: "咳嗽"}
	}
	dup := dialogue("doctor:哪里不舒服？", "patient:咳嗽。")
	dup[1].ID = "u1"
	for _, tc := range []struct {
		name  string
		in    scribe.Input
		code  clinic.Code
		field string
	}{
		{"empty dialogue", scribe.Input{Type: clinic.NoteOutpatient}, clinic.CodeInvalid, "utterances"},
		{"blank turns", scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue("doctor: ", "patient:  ")}, clinic.CodeInvalid, "utterances"},
		{"single speaker", scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue("patient:我咳嗽三天了", "patient:还发烧")}, clinic.CodeInvalid, "utterances"},
		{"unknown speaker", scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue("doctor:哪里不舒服？", "SPEAKER_2:咳嗽")}, clinic.CodeInvalid, "utterances[1].speaker"},
		{"10000 turns", scribe.Input{Type: clinic.NoteOutpatient, Utterances: long}, clinic.CodeTooLarge, "utterances"},
		{"long turn", scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue("doctor:哪里不舒服？", "patient:"+strings.Repeat("咳", scribe.MaxUtteranceRunes+1))}, clinic.CodeTooLarge, "utterances[1].text"},
		{"duplicate id", scribe.Input{Type: clinic.NoteOutpatient, Utterances: dup}, clinic.CodeInvalid, "utterances[1].id"},
		{"bad type", scribe.Input{Type: "poem", Utterances: chestDialogue()}, clinic.CodeInvalid, ""},
		{"inpatient without data", scribe.Input{Type: clinic.NoteDischarge}, clinic.CodeInvalid, "data"},
		{"bad data kind", scribe.Input{Type: clinic.NoteProgress, Data: []scribe.DataItem{{ID: "d1", Kind: "gossip", Text: "x"}}}, clinic.CodeInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Draft(context.Background(), tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			if got := clinic.ErrorCode(err); got != tc.code {
				t.Errorf("code = %s, want %s (%v)", got, tc.code, err)
			}
			if tc.field != "" {
				ce, ok := errors.AsType[*clinic.Error](err)
				if !ok || ce.Field != tc.field || ce.MessageZH == "" || ce.Message == "" {
					t.Errorf("error = %#v, want field %s with both messages", err, tc.field)
				}
			} else if len(agents.FieldReasons(err)) == 0 {
				t.Errorf("validation error %v has no field reasons", err)
			}
		})
	}
}

func TestDraftInpatient(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	pat := &clinic.Patient{ID: "p1", Sex: clinic.SexMale, BirthDate: time.Date(1960, 5, 1, 0, 0, 0, 0, time.UTC)}
	enc := clinic.Encounter{ID: "enc9", PatientID: "p1", Kind: clinic.EncounterInpatient, StartedAt: t0}
	admission, err := e.Draft(context.Background(), scribe.Input{Encounter: enc, Patient: pat, Type: clinic.NoteAdmission, Utterances: chestDialogue(),
		Data: []scribe.DataItem{{ID: "dx1", Kind: scribe.DataDiagnosis, Role: "admission", Text: "冠状动脉粥样硬化性心脏病 不稳定型心绞痛"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := section(t, admission.Note, scribe.SecAdmissionDx); !strings.Contains(got, "不稳定型心绞痛") {
		t.Errorf("admission dx = %q", got)
	}
	admission.Note.ID = "n1"
	data := []scribe.DataItem{
		{ID: "dx1", Kind: scribe.DataDiagnosis, Role: "admission", Text: "冠状动脉粥样硬化性心脏病 不稳定型心绞痛"},
		{ID: "lab1", Kind: scribe.DataLab, Name: "肌钙蛋白I", Text: "0.02 ng/mL", At: day(0)},
		{ID: "c1", Kind: scribe.DataCourse, Text: "患者胸闷较前减轻，夜间睡眠可。", At: day(1)},
		{ID: "p1", Kind: scribe.DataProcedure, Text: "冠脉造影示前降支狭窄80%，植入支架1枚。", At: day(2)},
		{ID: "m1", Kind: scribe.DataMedication, Text: "阿司匹林100mg qd，氯吡格雷75mg qd，阿托伐他汀20mg qn。"},
		{ID: "dx2", Kind: scribe.DataDiagnosis, Role: "discharge", Text: "冠状动脉粥样硬化性心脏病 PCI术后"},
		{ID: "s1", Kind: scribe.DataCondition, Text: "无胸闷胸痛，生命体征平稳。", At: day(4)},
		{ID: "a1", Kind: scribe.DataAdvice, Text: "坚持双联抗血小板治疗12个月，1个月后心内科门诊复诊。"},
		{ID: "o1", Kind: scribe.DataOrder, Text: "二级护理，低盐低脂饮食。"},
	}
	for _, tc := range []struct {
		typ  clinic.NoteType
		want map[string]string
	}{
		{clinic.NoteFirstCourse, map[string]string{scribe.SecCaseFeatures: "患者男，64岁", scribe.SecDiagnosticBasis: "诊断依据：患者3天前出现胸闷", scribe.SecCarePlan: "二级护理"}},
		{clinic.NoteProgress, map[string]string{scribe.SecSubjective: "2025-03-02：患者胸闷较前减轻", scribe.SecObjective: "肌钙蛋白I", scribe.SecPlan: "阿司匹林100mg"}},
		{clinic.NoteDischarge, map[string]string{scribe.SecAdmissionStatus: "胸闷3天", scribe.SecHospitalCourse: "植入支架1枚", scribe.SecDischargeDx: "PCI术后",
			scribe.SecDischargeStatus: "生命体征平稳", scribe.SecDischargeAdvice: "双联抗血小板"}},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			d, err := e.Draft(context.Background(), scribe.Input{Encounter: enc, Patient: pat, Type: tc.typ, Data: data, Prior: []clinic.Note{admission.Note}})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Note.Sections) != len(scribe.Sections(tc.typ, scribe.LangZH)) {
				t.Errorf("sections = %d", len(d.Note.Sections))
			}
			for key, part := range tc.want {
				if got := section(t, d.Note, key); !strings.Contains(got, part) {
					t.Errorf("%s = %q, want %q in it", key, got, part)
				}
			}
			if len(d.Problems) != 0 {
				t.Errorf("problems: %+v", d.Problems)
			}
		})
	}
}

func TestDraftFromTriageSummary(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	sum := &triage.Summary{ChiefComplaintZH: "头痛2天", PatientText: "我头痛两天了，没有发烧", Symptoms: []triage.SummarySymptom{{Code: "headache", NameZH: "头痛", NameEN: "headache", Present: true, DurationText: "两天"}}}
	d, err := e.Draft(context.Background(), scribe.Input{Type: clinic.NoteOutpatient, Summary: sum,
		Utterances: dialogue("doctor:头痛是哪个位置？", "patient:两边太阳穴。")})
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := d.Note.Section(scribe.SecChiefComplaint)
	if scribe.SectionText(cc) != "头痛2天" || cc.Statements[0].Sources[0].ID != scribe.SummarySourceID {
		t.Errorf("chief complaint = %+v", cc)
	}
	if len(d.Problems) != 0 {
		t.Errorf("problems: %+v", d.Problems)
	}
}

func TestVerifierMarksUnsupported(t *testing.T) {
	in := scribe.Input{Type: clinic.NoteOutpatient, Utterances: chestDialogue()}
	src := scribe.SourcesOf(in)
	u := func(ids ...string) []clinic.Source {
		var out []clinic.Source
		for _, id := range ids {
			out = append(out, clinic.Source{Kind: clinic.SourceUtterance, ID: id})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		st   clinic.Statement
		kind string
	}{
		{"supported", clinic.Statement{Text: "患者3天前出现胸闷。", Sources: u("u2")}, ""},
		{"qa negative", clinic.Statement{Text: "无胸痛、发热。", Sources: u("u3", "u4")}, ""},
		{"no source", clinic.Statement{Text: "患者3天前出现胸闷。"}, scribe.ProblemNoSource},
		{"unknown source", clinic.Statement{Text: "患者3天前出现胸闷。", Sources: u("u99")}, scribe.ProblemUnknownSource},
		{"wrong number", clinic.Statement{Text: "患者5天前出现胸闷。", Sources: u("u2")}, scribe.ProblemNumber},
		{"flipped negation", clinic.Statement{Text: "有胸痛。", Sources: u("u3", "u4")}, scribe.ProblemNegation},
		{"invented drug", clinic.Statement{Text: "曾服用氨氯地平、美托洛尔。", Sources: u("u6")}, scribe.ProblemEntity},
		{"invented word", clinic.Statement{Text: "患者3天前出现胸闷，伴左臂放射。", Sources: u("u2")}, scribe.ProblemEntity},
		{"english invented", clinic.Statement{Text: "Chest tightness after jogging.", Sources: u("u2")}, scribe.ProblemEntity},
		{"allergy flipped", clinic.Statement{Text: "对青霉素过敏。", Sources: u("u7", "u8")}, scribe.ProblemEntity},
		{"allergy none", clinic.Statement{Text: "否认药物及食物过敏史。", Sources: u("u7", "u8")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := clinic.Note{Sections: []clinic.Section{{Key: "k", Statements: []clinic.Statement{tc.st}}}}
			ps := scribe.Verify(&n, src)
			got := ""
			if len(ps) > 0 {
				got = ps[0].Kind
			}
			if got != tc.kind {
				t.Fatalf("problem = %q (%+v), want %q", got, ps, tc.kind)
			}
			if st := n.Sections[0].Statements[0]; st.Unsupported != (tc.kind != "") || (st.Unsupported && !strings.HasPrefix(st.Reason, tc.kind+": ")) {
				t.Errorf("statement after verify = %+v", st)
			}
		})
	}
}

// TestVerifierCatchesInjectedFaults drafts notes from written dialogues,
// writes wrong numbers, flipped negations and invented drugs into every
// supported statement and requires the verifier to catch ≥ 95 %.
func TestVerifierCatchesInjectedFaults(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	inputs := []scribe.Input{
		{Type: clinic.NoteOutpatient, Utterances: chestDialogue(), Data: []scribe.DataItem{{ID: "ecg1", Kind: scribe.DataECG, Name: "心电图", Text: "窦性心律，心率88次/分。"}}},
		{Type: clinic.NoteOutpatient, Utterances: dialogue(
			"doctor:孩子怎么了？", "companion:发烧两天了，最高39度，咳嗽。", "doctor:有没有呕吐、腹泻？", "companion:没有。",
			"doctor:吃过什么药吗？", "companion:吃了布洛芬。", "doctor:咽部充血，双肺呼吸音粗，体温38.6度。", "doctor:考虑是上呼吸道感染，建议多喝水，3天后复查。")},
		{Type: clinic.NoteOutpatient, Utterances: dialogue(
			"doctor:What brings you in?", "patient:I have had headaches for two weeks and some dizziness.", "doctor:Any nausea or vomiting?", "patient:No.",
			"doctor:Do you take any medications?", "patient:I take lisinopril 10 mg for high blood pressure.", "doctor:Your blood pressure today is 150 over 95.",
			"doctor:I think this is likely from your hypertension. I'm going to increase lisinopril to 20 mg and see you in 2 weeks.")},
	}
	total, caught := map[string]int{}, map[string]int{}
	for i, in := range inputs {
		d, err := e.Draft(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		src := scribe.SourcesOf(in)
		for _, s := range d.Note.Sections {
			for j, st := range s.Statements {
				if st.Unsupported {
					continue
				}
				for _, f := range []string{scribe.FaultNumber, scribe.FaultNegation, scribe.FaultDrug} {
					bad, ok := scribe.InjectFault(e.Vocabulary(), st, src, f, i+j)
					if !ok {
						continue
					}
					total[f]++
					if e.StatementProblem(bad, src) != "" {
						caught[f]++
					} else {
						t.Logf("missed %s: %q (from %q)", f, bad.Text, st.Text)
					}
				}
			}
		}
	}
	all, got := 0, 0
	for f, n := range total {
		all += n
		got += caught[f]
		t.Logf("%s: %d/%d caught", f, caught[f], n)
	}
	if total[scribe.FaultNumber] == 0 || total[scribe.FaultNegation] == 0 || total[scribe.FaultDrug] == 0 {
		t.Fatalf("some fault kind was never injected: %v", total)
	}
	if rate := float64(got) / float64(all); rate < 0.95 {
		t.Errorf("catch rate %.3f (%d/%d) < 0.95", rate, got, all)
	}
}

func TestExportAndEditDistance(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	in := scribe.Input{Encounter: clinic.Encounter{ID: "enc1", PatientID: "p 1"}, Type: clinic.NoteOutpatient, Utterances: chestDialogue()}
	d, err := e.Draft(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	d.Note.ID, d.Note.Version = "n1", 1
	b, err := scribe.FHIR(d.Note, in.Encounter)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c["resourceType"] != "Composition" || c["status"] != "preliminary" || c["subject"].(map[string]any)["reference"] != "Patient/p-1" {
		t.Errorf("composition = %s", b)
	}
	secs := c["section"].([]any)
	first := secs[0].(map[string]any)
	if first["title"] != "主诉" || first["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] != "10154-3" ||
		!strings.Contains(first["text"].(map[string]any)["div"].(string), "胸闷3天") {
		t.Errorf("first section = %v", first)
	}
	signed := d.Note
	signed.Status, signed.SignedBy, signed.SignedAt = clinic.NoteSigned, "dr-wang", t0
	signed.Sections = append([]clinic.Section(nil), d.Note.Sections...)
	signed.Sections[0] = clinic.Section{Key: scribe.SecChiefComplaint, Title: "主诉", Statements: []clinic.Statement{{Text: "胸闷伴心悸3天"}}}
	b, err = scribe.FHIR(signed, in.Encounter)
	if err != nil || !strings.Contains(string(b), `"status":"final"`) || !strings.Contains(string(b), `"mode":"legal"`) {
		t.Errorf("signed FHIR = %s, %v", b, err)
	}
	sum := scribe.EditDistance(d.Note, signed)
	if sum.Sections[0].Key != scribe.SecChiefComplaint || sum.Sections[0].Distance != 3 || sum.Distance != 3 {
		t.Errorf("edit summary = %+v", sum)
	}
	for _, s := range sum.Sections[1:] {
		if s.Distance != 0 {
			t.Errorf("unchanged section %s has distance %d", s.Key, s.Distance)
		}
	}
	if md := scribe.Markdown(d.Note); !strings.HasPrefix(md, "# 门诊病历") || !strings.Contains(md, "## 主诉\n\n- 胸闷3天") {
		t.Errorf("markdown:\n%s", md)
	}
	if pt := scribe.PlainText(d.Note); !strings.Contains(pt, "主诉：胸闷3天") {
		t.Errorf("plain text:\n%s", pt)
	}
	if _, err := scribe.FHIR(clinic.Note{}, in.Encounter); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("empty note FHIR error = %v", err)
	}
}

func TestEditDistanceAddedRemoved(t *testing.T) {
	a := clinic.Note{Sections: []clinic.Section{{Key: "a", Statements: []clinic.Statement{{Text: "kitten"}}}, {Key: "b", Statements: []clinic.Statement{{Text: "xy"}}}}}
	b := clinic.Note{Sections: []clinic.Section{{Key: "a", Statements: []clinic.Statement{{Text: "sitting"}}}, {Key: "c", Statements: []clinic.Statement{{Text: "new"}}}}}
	sum := scribe.EditDistance(a, b)
	if len(sum.Sections) != 3 || sum.Sections[0].Distance != 3 || !sum.Sections[1].Added || sum.Sections[1].Distance != 3 ||
		!sum.Sections[2].Removed || sum.Sections[2].Distance != 2 || sum.Distance != 8 {
		t.Errorf("summary = %+v", sum)
	}
}

func TestDraftCanceled(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Draft(ctx, scribe.Input{Type: clinic.NoteOutpatient, Utterances: chestDialogue()}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func FuzzDraft(f *testing.F) {
	f.Add("我胸闷三天了，没有发烧", "有药物过敏吗？", "没有，对青霉素过敏")
	f.Add("I have had a cough for 3 days", "Any fever?", "No.")
	f.Add("", "？？？", "无无无不不没有")
	e := newEngine(f, scribe.Config{})
	f.Fuzz(func(t *testing.T, a, b, c string) {
		in := scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue("patient:"+a, "doctor:"+b, "patient:"+c)}
		d, err := e.Draft(context.Background(), in)
		if err != nil {
			if clinic.ErrorCode(err) == clinic.CodeInternal {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		for _, s := range d.Note.Sections {
			for _, st := range s.Statements {
				if len(st.Sources) == 0 {
					t.Fatalf("statement %q without sources", st.Text)
				}
			}
		}
		if _, err := scribe.FHIR(d.Note, in.Encounter); err != nil {
			t.Fatal(err)
		}
	})
}
