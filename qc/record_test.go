package qc_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
)

func TestReader(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"r1","type":"出院记录","patient":{"sex":"F","age_years":51},"sections":{"出院诊断":"高血压","course":"好转"},"events":{"admitted_at":"2024-05-01T08:00:00+08:00","discharged_at":"2024-05-03 09:30"},"signatures":[{"signer":"王强","role":"resident","at":"2024-05-03 12:00"}],"defects":["DIS-001"]}`,
		``,
		`{"id":"r2","type":"ward_round","sections":{}}`,
		`{"id":"","type":"admission"}`,
		`{"id":"r4","type":"admission","events":{"admitted_at":"yesterday"}}`,
		`{"id":"r5","type":"admission","patient":{"sex":"X"}}`,
		`{"id":"r6","type":"admission","sections":{"主诉":"` + strings.Repeat("咳", 200) + `"}}`,
		`{"id":"r7","type":"admission","events":{"admitted_at":""}}`,
	}, "\n")
	rd := qc.NewReader(strings.NewReader(in), "in.jsonl", 400)
	type got struct {
		ID   string
		Line int
		Code clinic.Code
		Msg  string
	}
	var gots []got
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			le, ok := errors.AsType[*qc.LineError](err)
			if !ok {
				t.Fatalf("error %v is not a LineError", err)
			}
			if !strings.HasPrefix(err.Error(), "in.jsonl:") {
				t.Errorf("error %q does not start with file:line", err)
			}
			gots = append(gots, got{Line: le.Line, Code: clinic.ErrorCode(err)})
			continue
		}
		gots = append(gots, got{ID: rec.ID})
		if rec.ID == "r1" {
			want := qc.Record{ID: "r1", Type: clinic.NoteDischarge, Patient: qc.Patient{Sex: clinic.SexFemale, AgeYears: ptr(51.0)},
				Sections: map[string]string{"discharge_diagnosis": "高血压", "course": "好转"},
				Events: map[string]time.Time{
					"admitted_at":   time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
					"discharged_at": time.Date(2024, 5, 3, 9, 30, 0, 0, time.UTC),
				},
				Signatures: []qc.Signature{{Signer: "王强", Role: "resident", At: time.Date(2024, 5, 3, 12, 0, 0, 0, time.UTC)}},
				Defects:    []clinic.RuleID{"DIS-001"}}
			if diff := cmp.Diff(want, *rec, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		}
	}
	want := []got{{ID: "r1"}, {Line: 3, Code: clinic.CodeInvalid}, {Line: 4, Code: clinic.CodeInvalid}, {Line: 5, Code: clinic.CodeInvalid}, {Line: 6, Code: clinic.CodeInvalid}, {Line: 7, Code: clinic.CodeTooLarge}, {ID: "r7"}}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("reader results (-want +got):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }

func TestMissingTimestampIsInfo(t *testing.T) {
	e := mustEngine(t, qc.Config{})
	rec := admission(map[string]string{})
	delete(rec.Events, qc.EventAdmitted)
	res, err := e.Scan(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	var info, missing bool
	for _, f := range res.Findings {
		if f.RuleID == "ADM-017" && f.Severity == clinic.SeverityInfo && f.Points == 0 {
			info = true
		}
		if f.RuleID == "ADM-025" && qc.IsDefect(f) {
			missing = true
		}
	}
	if !info || !missing {
		t.Errorf("missing admitted_at: ADM-017 info = %v, ADM-025 defect = %v", info, missing)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(`{"id":"r1","type":"admission","sections":{"主诉":"咳嗽3天"},"events":{"admitted_at":"2024-05-01 08:00"}}`)
	f.Add(`{"id":"r2","type":"progress","progress_notes":[{"at":"2024-05-01 08:00","text":"今日查房"}]}`)
	f.Add("{\"id\":\"x\"}\n\n{")
	f.Add(`{"id":"r3","type":"outpatient","drugs":[{"name":"阿莫西林"}],"allergies":["青霉素"],"sections":{"allergy_history":"对青霉素过敏"}}`)
	e, err := qc.New(qc.Config{ICD: mustICD(f)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rd := qc.NewReader(strings.NewReader(in), "fuzz", 1<<16)
		for range 1000 {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if _, ok := errors.AsType[*qc.LineError](err); !ok {
					t.Fatalf("error %v is not a LineError", err)
				}
				continue
			}
			if rec.ID == "" {
				t.Fatal("record without id accepted")
			}
			if _, ok := qc.ParseNoteType(string(rec.Type)); !ok {
				t.Fatalf("record with type %q accepted", rec.Type)
			}
			res, err := e.Scan(t.Context(), rec)
			if err != nil {
				t.Fatal(err)
			}
			if res.Score < 0 || res.Score > 100 || (res.Veto && res.Grade != qc.GradeC) {
				t.Fatalf("bad result %+v", res)
			}
			for _, f := range res.Findings {
				if f.Title == qc.EngineErrorTitle {
					t.Fatalf("engine error on fuzz input: %s", f.Message)
				}
			}
		}
	})
}

func FuzzParseRules(f *testing.F) {
	f.Add(oneRule)
	f.Add("rules: []\ndisable: []\n")
	f.Add("drug_classes: {x: {name_zh: 甲, terms: [a]}}\n")
	f.Add("rules:\n  - id: A\n    check: {kind: length, params: {section: 主诉, max_runes: 3}}\n")
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := qc.ParseRules("fuzz.yaml", []byte(in))
		if err != nil {
			if clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Fatalf("code %q, want invalid", clinic.ErrorCode(err))
			}
			return
		}
		for _, r := range rs.Rules {
			if r.ID == "" || r.Source == "" || len(r.Types) == 0 {
				t.Fatalf("incomplete rule accepted: %+v", r)
			}
		}
		if _, err := qc.New(qc.Config{Rules: rs}); err != nil && clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Fatalf("compile error code %q", clinic.ErrorCode(err))
		}
	})
}
