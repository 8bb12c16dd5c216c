package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/agents/qcreview"
	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
)

type qcFixture struct {
	*fixture
	qc *api.QC
}

func newQCFixture(t *testing.T, reload func(context.Context) (*qc.Engine, error)) *qcFixture {
	t.Helper()
	e, err := qc.New(qc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := qcreview.New(qcreview.Config{})
	if err != nil {
		t.Fatal(err)
	}
	qf := &qcFixture{}
	qf.fixture = newFixture(t, func(cfg *api.Config) {
		f, err := api.NewQC(api.QCConfig{Engine: e, Store: cfg.Store, Reviewer: rv, Reload: reload,
			Now: func() time.Time { return time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		qf.qc = f
		cfg.Features = append(cfg.Features, f)
		cfg.SignHooks = append(cfg.SignHooks, f.SignHook())
		cfg.BodyLimit = 1 << 20
	})
	return qf
}

// ndjson posts body to /v1/qc/scans and returns the decoded lines.
func (qf *qcFixture) ndjson(t *testing.T, token, contentType, body string) (int, []api.QCScanLine) {
	t.Helper()
	resp := sendRequest(t, "POST", qf.ts.URL+"/v1/qc/scans", token, strings.NewReader(body), "Content-Type", contentType)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") {
		t.Fatalf("content type %q", ct)
	}
	var out []api.QCScanLine
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var l api.QCScanLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %s: %v", sc.Bytes(), err)
		}
		out = append(out, l)
	}
	return resp.StatusCode, out
}

// Records written for these tests.
const qcRecords = `{"id":"r-good","type":"门诊病历","department":"心内科","sections":{"主诉":"反复胸闷3天","现病史":"患者3天前活动后出现胸闷，休息后缓解，伴心悸。","既往史":"否认高血压病史。","过敏史":"否认药物过敏史。","体格检查":"BP 120/80mmHg，心肺无异常。","诊断":"1.胸闷待查","处理意见":"完善心电图及心肌酶检查，门诊随诊。"},"events":{"visit_at":"2026-02-01 09:00","written_at":"2026-02-01 09:30"},"signatures":[{"signer":"王强","role":"attending"}]}
{"id":"r-bad","type":"入院记录","department":"消化科","sections":{"主诉":"腹痛"},"events":{"admitted_at":"2026-02-01 08:00","written_at":"2026-02-03 08:00"}}
not json
{"id":"r-odd","type":"查房记录","sections":{}}
`

func TestQCScanNDJSONAndResults(t *testing.T) {
	qf := newQCFixture(t, nil)
	qcTok := qf.token(t, api.RoleQC)
	if code, _ := qf.ndjson(t, qf.token(t, api.RoleDoctor), "application/x-ndjson", qcRecords); code != http.StatusForbidden {
		t.Errorf("doctor scanning: %d, want 403", code)
	}
	code, lines := qf.ndjson(t, qcTok, "application/x-ndjson", qcRecords)
	if code != http.StatusOK || len(lines) != 4 {
		t.Fatalf("status %d, lines %+v", code, lines)
	}
	good, bad := lines[0], lines[1]
	if good.RecordID != "r-good" || good.Grade != qc.GradeA || good.ResultID == "" {
		t.Errorf("good record: %+v", good)
	}
	if bad.RecordID != "r-bad" || bad.Grade != qc.GradeC || len(bad.Findings) == 0 {
		t.Errorf("bad record: %+v", bad)
	}
	if lines[2].Line != 3 || lines[2].Error == "" || lines[3].Line != 4 || !strings.Contains(lines[3].Error, "查房记录") {
		t.Errorf("bad lines are reported with their line: %+v %+v", lines[2], lines[3])
	}

	// The list filters by grade, department and rule.
	list := func(q string) api.QCResultList {
		code, body := qf.do(t, "GET", "/v1/qc/results"+q, qcTok, nil)
		if code != http.StatusOK {
			t.Fatalf("list %s: %d %s", q, code, body)
		}
		return decode[api.QCResultList](t, body)
	}
	if l := list(""); l.Total != 2 || l.Grades[qc.GradeA] != 1 || l.Grades[qc.GradeC] != 1 {
		t.Errorf("all: %+v", l)
	}
	if l := list("?grade=丙"); len(l.Results) != 1 || l.Results[0].RecordID != "r-bad" {
		t.Errorf("grade 丙: %+v", l)
	}
	if l := list("?department=心内科"); len(l.Results) != 1 || l.Results[0].RecordID != "r-good" {
		t.Errorf("department: %+v", l)
	}
	if l := list("?rule=ADM-002"); len(l.Results) != 1 || l.Results[0].RecordID != "r-bad" {
		t.Errorf("rule ADM-002 (no present illness): %+v", l)
	}
	if code, _ := qf.do(t, "GET", "/v1/qc/results?grade=A", qcTok, nil); code != http.StatusBadRequest {
		t.Errorf("bad grade: %d", code)
	}

	// One result: record text and findings with locations and sources.
	code, body := qf.do(t, "GET", "/v1/qc/results/"+bad.ResultID, qcTok, nil)
	if code != http.StatusOK {
		t.Fatalf("get: %d %s", code, body)
	}
	res := decode[api.QCResult](t, body)
	if res.Record.Sections["chief_complaint"] != "腹痛" || len(res.Findings) == 0 {
		t.Fatalf("result %+v", res)
	}
	var timeLimit bool
	for _, f := range res.Findings {
		if f.ID == "" || len(f.Sources) == 0 || f.Sources[0].Kind != clinic.SourceRule || f.Sources[0].Quote == "" {
			t.Errorf("finding without ID or source: %+v", f)
		}
		if f.RuleID == "ADM-018" || strings.Contains(f.Location.Section, "events/written_at") {
			timeLimit = true
		}
	}
	if !timeLimit {
		t.Errorf("late admission note (48 h) not found: %+v", res.Findings)
	}
	if code, _ := qf.do(t, "GET", "/v1/qc/results/qc-nope", qcTok, nil); code != http.StatusNotFound {
		t.Errorf("missing result: %d", code)
	}
}

func TestQCReviewFeedsRuleStats(t *testing.T) {
	qf := newQCFixture(t, nil)
	qcTok := qf.token(t, api.RoleQC)
	_, lines := qf.ndjson(t, qcTok, "application/x-ndjson", qcRecords)
	_, body := qf.do(t, "GET", "/v1/qc/results/"+lines[1].ResultID, qcTok, nil)
	res := decode[api.QCResult](t, body)
	var defects []api.QCFinding
	for _, f := range res.Findings {
		if qc.IsDefect(f.Finding) {
			defects = append(defects, f)
		}
	}
	if len(defects) < 2 {
		t.Fatalf("want two defects, got %+v", res.Findings)
	}
	verdict := map[string]string{defects[0].ID: "confirm", defects[1].ID: "reject"}
	for id, v := range verdict {
		code, body := qf.do(t, "POST", "/v1/qc/findings/"+id+"/review", qcTok, api.QCReviewRequest{Verdict: v, Comment: "人工复核"})
		if code != http.StatusOK {
			t.Fatalf("review: %d %s", code, body)
		}
	}
	// A second review of the same finding replaces the first.
	if code, body := qf.do(t, "POST", "/v1/qc/findings/"+defects[1].ID+"/review", qcTok, api.QCReviewRequest{Verdict: "reject"}); code != http.StatusOK {
		t.Fatalf("re-review: %d %s", code, body)
	}
	for _, tc := range []struct {
		id   string
		body any
		want int
	}{
		{defects[0].ID, api.QCReviewRequest{Verdict: "maybe"}, http.StatusBadRequest},
		{"qc-0000-0000", api.QCReviewRequest{Verdict: "confirm"}, http.StatusNotFound},
		{"nonsense", api.QCReviewRequest{Verdict: "confirm"}, http.StatusNotFound},
	} {
		if code, body := qf.do(t, "POST", "/v1/qc/findings/"+tc.id+"/review", qcTok, tc.body); code != tc.want {
			t.Errorf("review %s: %d %s, want %d", tc.id, code, body, tc.want)
		}
	}
	_, body = qf.do(t, "GET", "/v1/qc/results/"+lines[1].ResultID, qcTok, nil)
	res = decode[api.QCResult](t, body)
	for _, f := range res.Findings {
		if want := verdict[f.ID]; f.Verdict != want || (want != "" && f.ReviewedBy != "user-qc") {
			t.Errorf("finding %s verdict %q by %q, want %q", f.ID, f.Verdict, f.ReviewedBy, want)
		}
	}
	code, body := qf.do(t, "GET", "/v1/qc/rules/stats", qcTok, nil)
	if code != http.StatusOK {
		t.Fatalf("stats: %d %s", code, body)
	}
	st := decode[api.QCRuleStats](t, body)
	if len(st.Rules) < 50 {
		t.Errorf("%d rules in stats", len(st.Rules))
	}
	for _, r := range st.Rules {
		switch r.RuleID {
		case defects[0].RuleID:
			if r.Confirmed != 1 || r.Precision == nil || *r.Precision != 1 || r.Findings < 1 {
				t.Errorf("confirmed rule: %+v", r)
			}
		case defects[1].RuleID:
			if r.Rejected != 1 || r.Precision == nil || *r.Precision != 0 {
				t.Errorf("rejected rule: %+v", r)
			}
		}
	}
}

func TestQCSignHook(t *testing.T) {
	qf := newQCFixture(t, nil)
	doc := qf.token(t, api.RoleDoctor)
	admitted := time.Date(2026, 2, 27, 8, 0, 0, 0, time.UTC) // the signing clock is real time: the note is late
	enc := clinic.Encounter{PatientID: "p1", Kind: clinic.EncounterInpatient, Department: "呼吸科",
		Events: map[string]time.Time{qc.EventAdmitted: admitted}}
	if err := qf.store.CreateEncounter(t.Context(), &enc); err != nil {
		t.Fatal(err)
	}
	code, body := qf.do(t, "POST", "/v1/encounters/"+enc.ID+"/notes", doc, api.NoteRequest{Type: clinic.NoteAdmission,
		Sections: []api.SectionInput{{Key: "chief_complaint", Title: "主诉", Statements: []api.StatementInput{{Text: "咳嗽咳痰5天"}}},
			{Key: "present_illness", Title: "现病史", Statements: []api.StatementInput{{Text: "患者5天前受凉后出现咳嗽，咳黄痰，伴发热，最高38.5℃。"}}}}})
	if code != http.StatusCreated {
		t.Fatalf("create note: %d %s", code, body)
	}
	n := decode[clinic.Note](t, body)
	code, body = qf.do(t, "POST", "/v1/notes/"+n.ID+"/sign", doc, api.SignNoteRequest{Version: n.Version})
	if code != http.StatusOK {
		t.Fatalf("sign: %d %s", code, body)
	}
	var signed struct {
		Checks struct {
			QC api.QCResultSummary `json:"qc"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(body, &signed); err != nil {
		t.Fatal(err)
	}
	s := signed.Checks.QC
	if s.ID != api.ResultID(n.ID) || s.Grade != qc.GradeC || s.Source != "sign" || s.Department != "呼吸科" || !slices.Contains(s.Rules, "ADM-009") {
		t.Fatalf("checks.qc = %+v", s)
	}
	// Stored in the signing transaction: QC staff read it.
	code, body = qf.do(t, "GET", "/v1/qc/results/"+s.ID, qf.token(t, api.RoleQC), nil)
	if code != http.StatusOK {
		t.Fatalf("stored result: %d %s", code, body)
	}
	res := decode[api.QCResult](t, body)
	if res.NoteID != n.ID || res.Record.Sections["chief_complaint"] != "咳嗽咳痰5天" {
		t.Errorf("stored result %+v", res)
	}
	// Re-scan by note ID gives the same result.
	code, lines := qf.ndjson(t, qf.token(t, api.RoleQC), "application/json", `{"note_ids":["`+n.ID+`","missing"]}`)
	if code != http.StatusOK || len(lines) != 2 || lines[0].ResultID != s.ID || lines[0].Score != s.Score || lines[1].Error == "" {
		t.Errorf("scan by note: %d %+v", code, lines)
	}
}

func TestQCReloadAndRescan(t *testing.T) {
	reload := func(context.Context) (*qc.Engine, error) {
		rs, err := qc.DefaultRules()
		if err != nil {
			return nil, err
		}
		bad := "disable: [ADM-002]\nrules:\n  - id: ADM-003\n    pointz: 1\n"
		skipped, err := rs.ApplyOverrideSkipping("hospital.yaml", []byte(bad))
		if err != nil {
			return nil, err
		}
		if len(skipped) != 1 {
			t.Errorf("skipped %v", skipped)
		}
		return qc.New(qc.Config{Rules: rs})
	}
	qf := newQCFixture(t, reload)
	qcTok, admin := qf.token(t, api.RoleQC), qf.token(t, api.RoleAdmin)
	_, lines := qf.ndjson(t, qcTok, "application/x-ndjson", qcRecords)
	before := lines[1]
	if code, _ := qf.do(t, "POST", "/v1/qc/rules/reload", qcTok, nil); code != http.StatusForbidden {
		t.Errorf("qc reloading rules: %d, want 403", code)
	}
	code, body := qf.do(t, "POST", "/v1/qc/rules/reload", admin, nil)
	if code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	code, after := qf.ndjson(t, qcTok, "application/json", `{"rescan":true}`)
	if code != http.StatusOK || len(after) != 2 {
		t.Fatalf("rescan: %d %+v", code, after)
	}
	i := slices.IndexFunc(after, func(l api.QCScanLine) bool { return l.ResultID == before.ResultID })
	if i < 0 {
		t.Fatalf("rescan lines %+v", after)
	}
	has := func(l api.QCScanLine, id clinic.RuleID) bool {
		return slices.ContainsFunc(l.Findings, func(f clinic.Finding) bool { return f.RuleID == id && qc.IsDefect(f) })
	}
	if !has(before, "ADM-002") || has(after[i], "ADM-002") || after[i].Score <= before.Score {
		t.Errorf("before %v, after %v", before.Score, after[i].Score)
	}
	if code, _ := qf.ndjson(t, qcTok, "application/json", `{}`); code != http.StatusBadRequest {
		t.Errorf("empty JSON scan: %d", code)
	}
}

func TestQCSuggestions(t *testing.T) {
	qf := newQCFixture(t, nil)
	qcTok := qf.token(t, api.RoleQC)
	rec := `{"id":"s1","type":"admission","department":"心内科","sections":{"chief_complaint":"腹痛2天","present_illness":"患者2天前出现胸闷，无发热。","auxiliary_exam":"血钾2.9mmol/L，降低。","preliminary_diagnosis":"1.冠心病","treatment_plan":"完善检查。"},"events":{"admitted_at":"2026-02-01 08:00","written_at":"2026-02-01 10:00"},"signatures":[{"signer":"王强","role":"resident"}]}` + "\n"
	_, lines := qf.ndjson(t, qcTok, "application/x-ndjson", rec)
	code, body := qf.do(t, "POST", "/v1/qc/results/"+lines[0].ResultID+"/suggestions", qcTok, nil)
	if code != http.StatusOK {
		t.Fatalf("suggestions: %d %s", code, body)
	}
	rv := decode[qcreview.Review](t, body)
	var checks []string
	for _, f := range rv.Findings {
		checks = append(checks, string(f.RuleID))
		if !f.Suggestion || f.Points != 0 {
			t.Errorf("not a suggestion: %+v", f)
		}
	}
	if !slices.Contains(checks, "QCR-001") || !slices.Contains(checks, "QCR-003") || rv.Engine != qcreview.EngineEmbedded {
		t.Errorf("review %+v", rv)
	}
	_, body = qf.do(t, "GET", "/v1/qc/results/"+lines[0].ResultID, qcTok, nil)
	res := decode[api.QCResult](t, body)
	if res.Suggestions == nil || len(res.Suggestions.Findings) != len(rv.Findings) || res.Score != lines[0].Score {
		t.Errorf("stored suggestions %+v, score %v→%v", res.Suggestions, lines[0].Score, res.Score)
	}
}

func TestQCScanBodyBounded(t *testing.T) {
	qf := newQCFixture(t, nil)
	var b bytes.Buffer
	b.WriteString(`{"id":"big","type":"outpatient","sections":{"主诉":"`)
	b.WriteString(strings.Repeat("咳", 200<<10))
	b.WriteString(`"}}` + "\n")
	code, lines := qf.ndjson(t, qf.token(t, api.RoleQC), "application/x-ndjson", b.String())
	if code == http.StatusOK && (len(lines) != 1 || lines[0].Error == "") {
		t.Errorf("an over-long section must be an error line: %+v", lines)
	}
}
