package qc_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/qc/icd"
)

const oneRule = `rules:
  - id: T-001
    title_zh: 缺主诉
    title_en: No chief complaint
    source: 病历书写基本规范 第十九条
    types: [admission]
    severity: major
    points: 5
    check: {kind: section_required, params: {sections: [chief_complaint]}}
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"syntax", "rules:\n  - id: [\n", []string{"bad.yaml", "line"}},
		{"unknown field", strings.Replace(oneRule, "points: 5", "pointz: 5", 1), []string{"bad.yaml:8", "rule T-001", `unknown field "pointz"`}},
		{"unknown section", strings.Replace(oneRule, "[chief_complaint]", "[chief_complain]", 1), []string{"bad.yaml:9", "rule T-001", `unknown section "chief_complain"`}},
		{"unknown kind", strings.Replace(oneRule, "section_required", "spelling", 1), []string{"bad.yaml:2", "rule T-001", `unknown check kind "spelling"`}},
		{"unknown param", strings.Replace(oneRule, "sections:", "section:", 1), []string{"bad.yaml:9", "rule T-001", `unknown field "section"`}},
		{"no source", strings.Replace(oneRule, "    source: 病历书写基本规范 第十九条\n", "", 1), []string{"rule T-001", "source"}},
		{"bad type", strings.Replace(oneRule, "[admission]", "[ward_round]", 1), []string{"rule T-001", `unknown record type "ward_round"`}},
		{"bad regexp", strings.Replace(oneRule, "{kind: section_required, params: {sections: [chief_complaint]}}", "{kind: pattern, params: {sections: [chief_complaint], required: '('}}", 1), []string{"rule T-001", "params.required"}},
		{"duplicate", oneRule + strings.TrimPrefix(oneRule, "rules:\n"), []string{"rule T-001", "duplicate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := qc.ParseRules("bad.yaml", []byte(tc.yaml))
			if err == nil {
				_, err = qc.New(qc.Config{Rules: rs})
			}
			if err == nil {
				t.Fatal("no error")
			}
			if clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Errorf("code = %q, want invalid", clinic.ErrorCode(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func admission(sections map[string]string) *qc.Record {
	at := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	return &qc.Record{ID: "r1", Type: clinic.NoteAdmission, Sections: sections,
		Events:     map[string]time.Time{qc.EventAdmitted: at, qc.EventWritten: at.Add(2 * time.Hour)},
		Signatures: []qc.Signature{{Signer: "王强", Role: qc.RoleResident}}}
}

func ruleIDs(res qc.Result) []clinic.RuleID {
	var out []clinic.RuleID
	for _, f := range res.Findings {
		if qc.IsDefect(f) {
			out = append(out, f.RuleID)
		}
	}
	return out
}

func TestOverride(t *testing.T) {
	rs, err := qc.ParseRules("base.yaml", []byte(oneRule))
	if err != nil {
		t.Fatal(err)
	}
	override := `rules:
  - id: T-001
    points: 12
    severity: critical
  - id: H-001
    title_zh: 主诉不得写“见病历”
    title_en: Chief complaint must not say "see record"
    source: 本院病历质控细则 第3条
    types: [admission]
    severity: minor
    points: 1
    check: {kind: pattern, params: {sections: [主诉], forbidden: 见病历, message: 主诉写“见病历”}}
`
	if err := rs.ApplyOverride("hospital.yaml", []byte(override)); err != nil {
		t.Fatal(err)
	}
	e := mustEngine(t, qc.Config{Rules: rs})
	res, err := e.Scan(t.Context(), admission(map[string]string{"present_illness": "见病历"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]clinic.RuleID{"T-001"}, ruleIDs(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if res.Score != 88 || res.Grade != qc.GradeB || res.Findings[0].Severity != clinic.SeverityCritical {
		t.Errorf("score %v grade %s severity %s, want 88 乙 critical", res.Score, res.Grade, res.Findings[0].Severity)
	}
	res, err = e.Scan(t.Context(), admission(map[string]string{"chief_complaint": "见病历"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]clinic.RuleID{"H-001"}, ruleIDs(res)); diff != "" {
		t.Errorf("hospital rule (-want +got):\n%s", diff)
	}
	if err := rs.ApplyOverride("off.yaml", []byte("disable: [T-001, H-001]\n")); err != nil {
		t.Fatal(err)
	}
	e = mustEngine(t, qc.Config{Rules: rs})
	res, err = e.Scan(t.Context(), admission(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || res.Grade != qc.GradeA {
		t.Errorf("disabled rules still fire: %+v", res)
	}
	err = rs.ApplyOverride("typo.yaml", []byte("disable: [T-999]\n"))
	if err == nil || !strings.Contains(err.Error(), "T-999") {
		t.Errorf("disabling an unknown rule: err = %v", err)
	}
}

type panicICD struct{}

func (panicICD) Normalise(string) (icd.Match, bool) { panic("boom") }

func TestEngineErrorDoesNotStopOtherRules(t *testing.T) {
	e := mustEngine(t, qc.Config{ICD: panicICD{}})
	rec := admission(map[string]string{"preliminary_diagnosis": "1.高血压"})
	res, err := e.Scan(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	var engineErr, missing bool
	for _, f := range res.Findings {
		if f.Title == qc.EngineErrorTitle && f.RuleID == "ADM-023" && f.Points == 0 {
			engineErr = true
		}
		if f.RuleID == "ADM-001" {
			missing = true
		}
	}
	if !engineErr || !missing {
		t.Errorf("engine_error for ADM-023 = %v, ADM-001 still ran = %v; findings %v", engineErr, missing, ruleIDs(res))
	}
}

func TestICDSkippedWithoutList(t *testing.T) {
	e := mustEngine(t, qc.Config{})
	res, err := e.Scan(t.Context(), admission(map[string]string{"preliminary_diagnosis": "胃不好"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.RuleID == "ADM-023" && (f.Severity != clinic.SeverityInfo || f.Points != 0) {
			t.Errorf("ADM-023 without a list: %+v, want an info finding", f)
		}
	}
}

func TestGradeFor(t *testing.T) {
	tests := []struct {
		score float64
		veto  bool
		want  qc.Grade
	}{{100, false, qc.GradeA}, {90, false, qc.GradeA}, {89.5, false, qc.GradeB}, {75, false, qc.GradeB}, {74.9, false, qc.GradeC}, {99, true, qc.GradeC}}
	for _, tc := range tests {
		if got := qc.GradeFor(tc.score, tc.veto); got != tc.want {
			t.Errorf("GradeFor(%v, %v) = %s, want %s", tc.score, tc.veto, got, tc.want)
		}
	}
}

func TestVetoForcesC(t *testing.T) {
	e := mustEngine(t, qc.Config{})
	rec := admission(map[string]string{"allergy_history": "对青霉素过敏"})
	rec.Drugs = []qc.Drug{{Name: "阿莫西林胶囊"}}
	res, err := e.Scan(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Veto || res.Grade != qc.GradeC {
		t.Errorf("veto %v grade %s, want veto and 丙", res.Veto, res.Grade)
	}
}

func TestNegation(t *testing.T) {
	e := mustEngine(t, qc.Config{})
	tests := []struct {
		name, cc, pi string
		fire         bool
	}{
		{"negated in PI", "腹痛3天", "患者3天前进食后感上腹不适，否认腹痛，无发热。", true},
		{"pseudo negation", "腹痛3天", "患者3天前无明显诱因出现腹痛，呈阵发性。", false},
		{"terminator", "腹痛3天", "患者无诱因，后出现腹痛。", false},
		{"bu ban", "发热2天", "患者咳嗽，不伴发热。", true},
		{"other clause", "腹痛3天", "无发热，腹痛明显。", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Scan(t.Context(), admission(map[string]string{"chief_complaint": tc.cc, "present_illness": tc.pi}))
			if err != nil {
				t.Fatal(err)
			}
			got := false
			for _, id := range ruleIDs(res) {
				got = got || id == "ADM-024"
			}
			if got != tc.fire {
				t.Errorf("ADM-024 fired = %v, want %v", got, tc.fire)
			}
		})
	}
}

func TestFromNote(t *testing.T) {
	signed := time.Date(2024, 5, 1, 20, 0, 0, 0, time.UTC)
	n := clinic.Note{ID: "n1", Type: clinic.NoteAdmission, SignedBy: "u7", SignedAt: signed, Sections: []clinic.Section{
		{Key: "chief_complaint", Title: "主诉", Statements: []clinic.Statement{{Text: "咳嗽"}, {Text: "3天"}}},
		{Key: "x", Title: "现病史", Statements: []clinic.Statement{{Text: "患者咳嗽。"}}},
	}}
	rec := qc.FromNote(n, qc.NoteContext{SignerRole: qc.RoleAttending, Events: map[string]time.Time{qc.EventAdmitted: signed.Add(-30 * time.Hour)}})
	want := map[string]string{"chief_complaint": "咳嗽3天", "present_illness": "患者咳嗽。"}
	if diff := cmp.Diff(want, rec.Sections); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}
	e := mustEngine(t, qc.Config{})
	res, err := e.Scan(t.Context(), &rec)
	if err != nil {
		t.Fatal(err)
	}
	ids := ruleIDs(res)
	if !containsID(ids, "ADM-017") || containsID(ids, "ADM-018") {
		t.Errorf("findings %v: want ADM-017 (30 h late) and no ADM-018 (signed by attending)", ids)
	}
}

func containsID(ids []clinic.RuleID, id clinic.RuleID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestScanCancelled(t *testing.T) {
	e := mustEngine(t, qc.Config{})
	ctx, cancel := contextWithCancel(t)
	cancel()
	if _, err := e.Scan(ctx, admission(nil)); !errors.Is(err, ctxCanceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestScanUnknownType(t *testing.T) {
	e := mustEngine(t, qc.Config{})
	_, err := e.Scan(t.Context(), &qc.Record{ID: "x", Type: "ward_round"})
	if clinic.ErrorCode(err) != clinic.CodeInvalid || !strings.Contains(err.Error(), "ward_round") {
		t.Errorf("err = %v, want invalid naming the type", err)
	}
}

func TestSyntaxErrorNamesRuleAndLine(t *testing.T) {
	bad := oneRule + `  - id: T-002
    title_zh: 坏规则
    title_en: [unclosed
`
	_, err := qc.ParseRules("bad.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"bad.yaml:", "rule T-002", "line"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	var le *qc.LoadError
	if !errors.As(err, &le) || le.Rule != "T-002" || le.Line < 11 {
		t.Errorf("LoadError = %+v, want rule T-002 at line ≥ 11", le)
	}
}

func TestBadRuleDoesNotStopTheOthers(t *testing.T) {
	second := strings.NewReplacer("T-001", "T-002", "[chief_complaint]", "[chief_complain]").Replace(strings.TrimPrefix(oneRule, "rules:\n"))
	rs, err := qc.ParseRules("mixed.yaml", []byte(oneRule+second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qc.New(qc.Config{Rules: rs}); err == nil {
		t.Fatal("strict New accepted an unknown section")
	}
	e := mustEngine(t, qc.Config{Rules: rs, SkipInvalidRules: true})
	probs := e.Problems()
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), "rule T-002") || !strings.Contains(probs[0].Error(), `unknown section "chief_complain"`) || !strings.Contains(probs[0].Error(), "mixed.yaml:") {
		t.Fatalf("problems = %v", probs)
	}
	res, err := e.Scan(t.Context(), admission(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]clinic.RuleID{"T-001"}, ruleIDs(res)); diff != "" {
		t.Errorf("the good rule must still run (-want +got):\n%s", diff)
	}
}

func TestOverrideSkipping(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/hospital.yaml"
	override := `disable: [NOPE-1]
rules:
  - id: ADM-001
    points: 9
  - id: ADM-002
    pointz: 3
`
	if err := os.WriteFile(path, []byte(override), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := qc.NewFromFiles(qc.Config{}, path); err == nil {
		t.Fatal("strict override accepted a bad rule")
	}
	e, err := qc.NewFromFiles(qc.Config{SkipInvalidRules: true}, path)
	if err != nil {
		t.Fatal(err)
	}
	probs := e.Problems()
	if len(probs) != 2 || !strings.Contains(probs[0].Error(), "NOPE-1") || !strings.Contains(probs[1].Error(), "hospital.yaml:6: rule ADM-002") {
		t.Fatalf("problems = %v", probs)
	}
	r, ok := e.Rule("ADM-001")
	if !ok || r.Points != 9 {
		t.Errorf("good patch not applied: %+v", r)
	}
	if r, ok := e.Rule("ADM-002"); !ok || r.Points != 5 {
		t.Errorf("bad patch must leave ADM-002 as it was: %+v", r)
	}
}

// TestRescanAfterRuleChange scores the same record before and after a
// hospital re-weights one rule and disables another.
func TestRescanAfterRuleChange(t *testing.T) {
	rec := admission(map[string]string{"past_history": "", "family_history": ""})
	before, err := mustEngine(t, qc.Config{}).Scan(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/o.yaml"
	if err := os.WriteFile(path, []byte("disable: [ADM-007]\nrules:\n  - id: ADM-003\n    points: 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := qc.NewFromFiles(qc.Config{}, path)
	if err != nil {
		t.Fatal(err)
	}
	after, err := e.Scan(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	has := func(res qc.Result, id clinic.RuleID) bool { return slices.Contains(ruleIDs(res), id) }
	if !has(before, "ADM-007") || has(after, "ADM-007") || !has(after, "ADM-003") {
		t.Errorf("before %v after %v", ruleIDs(before), ruleIDs(after))
	}
	points := func(res qc.Result) (sum float64) {
		for _, f := range res.Findings {
			sum += f.Points
		}
		return sum
	}
	if points(after) != points(before)+18-1 {
		t.Errorf("points deducted before %v after %v, want 20 instead of 2 for ADM-003 and 1 fewer for ADM-007", points(before), points(after))
	}
}
