package triage_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
)

func patient(age *int, sex clinic.Sex, v triage.Vitals, codes ...string) triage.Patient {
	p := triage.Patient{Age: age, Sex: sex, Vitals: v, Findings: map[string]triage.Mention{}}
	for _, c := range codes {
		m := triage.Mention{Code: c}
		if s, ok := strings.CutSuffix(c, ":severe"); ok {
			m = triage.Mention{Code: s, Severity: triage.SeveritySevere}
		}
		if s, ok := strings.CutSuffix(c, ":sudden"); ok {
			m = triage.Mention{Code: s, Sudden: true}
		}
		p.Findings[m.Code] = m
	}
	return p
}

func TestAssess(t *testing.T) {
	rs := triage.DefaultRules()
	tests := []struct {
		name       string
		p          triage.Patient
		acuity     clinic.Acuity
		escalation string
		rule       clinic.RuleID
	}{
		{"nothing", patient(intp(30), "", triage.Vitals{}), clinic.AcuityIV, "", ""},
		{"cough only", patient(intp(30), "", triage.Vitals{}, "cough"), clinic.AcuityIV, "", ""},
		{"chest pain with sweating", patient(intp(35), clinic.SexMale, triage.Vitals{}, "chest_pain", "sweating"), clinic.AcuityII, "chest_pain_center", "RF-CHEST-ACS"},
		{"chest pain young", patient(intp(25), "", triage.Vitals{}, "chest_pain"), clinic.AcuityIII, "chest_pain_center", "RF-CHEST"},
		{"chest pain age unknown", patient(nil, "", triage.Vitals{}, "chest_pain"), clinic.AcuityII, "chest_pain_center", "RF-CHEST-OLDER"},
		{"stroke face", patient(intp(70), "", triage.Vitals{}, "facial_droop"), clinic.AcuityII, "stroke_center", "RF-STROKE-FACE"},
		{"anaphylaxis", patient(intp(20), "", triage.Vitals{}, "allergy", "airway_swelling"), clinic.AcuityI, "resuscitation", "RF-ANAPHYLAXIS"},
		{"suicidal", patient(intp(20), "", triage.Vitals{}, "suicidal"), clinic.AcuityII, "psychiatric_crisis", "RF-SUICIDE"},
		{"pregnant bleeding", patient(intp(28), clinic.SexFemale, triage.Vitals{}, "pregnancy", "vaginal_bleeding"), clinic.AcuityII, "obstetric_emergency", "RF-OB-BLEEDING"},
		{"pregnancy rule skips men", patient(intp(28), clinic.SexMale, triage.Vitals{}, "pregnancy", "vaginal_bleeding"), clinic.AcuityIV, "", ""},
		{"child lethargic", patient(intp(2), "", triage.Vitals{}, "fever", "child_lethargy"), clinic.AcuityII, "pediatric_emergency", "RF-CHILD-DANGER"},
		{"child words, age unknown", patient(nil, "", triage.Vitals{}, "child", "unable_to_drink"), clinic.AcuityII, "pediatric_emergency", "RF-CHILD-DANGER"},
		{"adult not child rule", patient(intp(30), "", triage.Vitals{}, "unable_to_drink"), clinic.AcuityIV, "", ""},
		{"dyspnoea low spo2", patient(intp(60), "", triage.Vitals{SpO2Pct: 89}, "dyspnea"), clinic.AcuityII, "emergency", "RF-DYSPNEA-HYPOXIA"},
		{"spo2 79", patient(intp(60), "", triage.Vitals{SpO2Pct: 79}), clinic.AcuityI, "resuscitation", "VS-SPO2-I"},
		{"hr 185", patient(intp(60), "", triage.Vitals{HeartRateBPM: 185}), clinic.AcuityI, "resuscitation", "VS-HR-I"},
		{"hr 130", patient(intp(60), "", triage.Vitals{HeartRateBPM: 130}), clinic.AcuityIII, "", "VS-HR-III"},
		{"child hr 130 normal", patient(intp(2), "", triage.Vitals{HeartRateBPM: 130}), clinic.AcuityIV, "", ""},
		{"sbp 75", patient(intp(60), "", triage.Vitals{SystolicMMHg: 75, DiastolicMMHg: 40}), clinic.AcuityII, "emergency", "VS-SBP-II-LOW"},
		{"temp 39.5", patient(intp(30), "", triage.Vitals{TempC: 39.5}), clinic.AcuityIII, "", "VS-TEMP-III"},
		{"gcs 7", patient(intp(30), "", triage.Vitals{GCS: 7}), clinic.AcuityI, "resuscitation", "VS-GCS-I"},
		{"avpu V", patient(intp(30), "", triage.Vitals{AVPU: "V"}), clinic.AcuityII, "emergency", "VS-AVPU-II"},
		{"severe headache sudden", patient(intp(40), "", triage.Vitals{}, "headache:severe"), clinic.AcuityIII, "emergency", "RF-HEADACHE-SEVERE"},
		{"infant fever", patient(intp(0), "", triage.Vitals{TempC: 38.2}), clinic.AcuityII, "pediatric_emergency", "VS-PED-FEVER-INFANT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := rs.Assess(tc.p)
			if a.Acuity != tc.acuity {
				t.Errorf("acuity = %v, want %v (red flags %+v)", a.Acuity, tc.acuity, a.RedFlags)
			}
			gotEsc := ""
			if a.Escalation != nil {
				gotEsc = a.Escalation.Code
			}
			if gotEsc != tc.escalation {
				t.Errorf("escalation = %q, want %q", gotEsc, tc.escalation)
			}
			if tc.rule != "" && !slices.ContainsFunc(a.RedFlags, func(r triage.RedFlag) bool { return r.RuleID == tc.rule }) {
				t.Errorf("rule %s did not fire: %+v", tc.rule, a.RedFlags)
			}
			for _, r := range a.RedFlags {
				if r.Source == "" {
					t.Errorf("red flag %s has no source", r.RuleID)
				}
			}
		})
	}
}

// Adding findings or worsening vitals never makes the acuity less urgent.
func TestAssessMonotone(t *testing.T) {
	rs := triage.DefaultRules()
	lex := triage.DefaultLexicon()
	var codes []string
	for _, f := range lex.Findings() {
		codes = append(codes, f.Code)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var age *int
		if i%3 != 0 {
			age = intp(rng.IntN(90))
		}
		sex := []clinic.Sex{"", clinic.SexMale, clinic.SexFemale}[rng.IntN(3)]
		var picked []string
		for range rng.IntN(4) {
			picked = append(picked, codes[rng.IntN(len(codes))])
		}
		base := rs.Assess(patient(age, sex, triage.Vitals{}, picked...))
		more := rs.Assess(patient(age, sex, triage.Vitals{}, append(picked, codes[rng.IntN(len(codes))])...))
		if more.Acuity > base.Acuity {
			t.Fatalf("adding a finding to %v lowered acuity %v → %v", picked, base.Acuity, more.Acuity)
		}
		if diff := cmp.Diff(base, rs.Assess(patient(age, sex, triage.Vitals{}, picked...))); diff != "" {
			t.Fatalf("Assess is not deterministic (-first +second):\n%s", diff)
		}
	}
}

func TestLoadRulesErrors(t *testing.T) {
	lex, cat := triage.DefaultLexicon(), triage.DefaultCatalog()
	head := "version: 1\nchild_age: 14\nchild_finding: child\nescalations:\n  - {code: emergency, name_zh: 急诊, name_en: ED, department: EM, instruction_zh: 去急诊, instruction_en: go}\nrules:\n"
	tests := []struct{ name, yaml string }{
		{"unknown finding", head + "  - {id: R1, title_zh: 甲, title_en: a, acuity: 3, source: s, all: [nonsense]}\n"},
		{"no condition", head + "  - {id: R1, title_zh: 甲, title_en: a, acuity: 3, source: s}\n"},
		{"high acuity without escalation", head + "  - {id: R1, title_zh: 甲, title_en: a, acuity: 2, source: s, all: [cough]}\n"},
		{"no source", head + "  - {id: R1, title_zh: 甲, title_en: a, acuity: 3, all: [cough]}\n"},
		{"duplicate id", head + "  - {id: R1, title_zh: 甲, title_en: a, acuity: 3, source: s, all: [cough]}\n  - {id: R1, title_zh: 甲, title_en: a, acuity: 3, source: s, all: [fever]}\n"},
		{"unknown escalation", head + "  - {id: R1, title_zh: 甲, title_en: a, acuity: 2, escalation: moon, source: s, all: [cough]}\n"},
		{"bad vital", head + "  - {id: R1, title_zh: 甲, title_en: a, acuity: 3, source: s, vitals: [{vital: iq, op: '<', value: 1}]}\n"},
		{"bad acuity", head + "  - {id: R1, title_zh: 甲, title_en: a, acuity: 5, source: s, all: [cough]}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := triage.LoadRules(strings.NewReader(tc.yaml), lex, cat); clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Fatalf("err = %v, want code invalid", err)
			}
		})
	}
	if _, err := triage.LoadRules(strings.NewReader(head+"  - {id: R1, title_zh: 甲, title_en: a, acuity: 3, source: s, all: [cough]}\n"), lex, cat); err != nil {
		t.Fatalf("valid rules: %v", err)
	}
}

func TestDefaultRulesHaveSources(t *testing.T) {
	for _, r := range triage.DefaultRules().Rules() {
		if r.Source == "" || r.TitleZH == "" || r.TitleEN == "" {
			t.Errorf("rule %s lacks a source or title", r.ID)
		}
	}
}
