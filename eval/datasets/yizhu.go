package datasets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
)

// Yizhu's own JSON-lines formats (DESIGN.md, "Dataset formats"). They are
// decoded strictly: an unknown field is an error, so a typo in a
// hand-written case cannot silently drop data.

// NoteCase is a Yizhu note-drafting case: a dialogue and the reference
// note sections a drafter should produce.
//
//	{"id":"n1","dialogue":[{"speaker":"patient","text":"…"}],"reference":{"chief_complaint":"…"}}
type NoteCase struct {
	ID        string            `json:"id"`
	Dialogue  []Turn            `json:"dialogue"`
	Reference map[string]string `json:"reference"`
	Line      int               `json:"line"`
}

var speakers = []clinic.Speaker{clinic.SpeakerPatient, clinic.SpeakerDoctor, clinic.SpeakerCompanion, clinic.SpeakerOther}

// ScanNoteCases streams a Yizhu notes JSONL file. A case needs an id, at
// least one turn, speakers from clinic (patient, doctor, companion, other)
// and at least one non-empty reference section.
func ScanNoteCases(r io.Reader, name string, lim Limits, fn func(NoteCase) error) error {
	type rawTurn struct {
		Speaker clinic.Speaker `json:"speaker"`
		Text    string         `json:"text"`
	}
	type raw struct {
		ID        string            `json:"id"`
		Dialogue  []rawTurn         `json:"dialogue"`
		Reference map[string]string `json:"reference"`
	}
	return scanJSONLines(r, name, lim, true, func(line int, v *raw) error {
		if strings.TrimSpace(v.ID) == "" {
			return badLine(name, line, "empty id")
		}
		if len(v.Dialogue) == 0 {
			return badLine(name, line, "case %s: empty dialogue", truncate(v.ID, 40))
		}
		c := NoteCase{ID: v.ID, Reference: v.Reference, Line: line}
		for i, t := range v.Dialogue {
			if !slices.Contains(speakers, t.Speaker) {
				return badLine(name, line, "case %s turn %d: speaker %q, want patient, doctor, companion or other", truncate(v.ID, 40), i, truncate(string(t.Speaker), 20))
			}
			c.Dialogue = append(c.Dialogue, Turn{Speaker: t.Speaker, Label: string(t.Speaker), Text: t.Text})
		}
		nonEmpty := 0
		for _, text := range v.Reference {
			if strings.TrimSpace(text) != "" {
				nonEmpty++
			}
		}
		if nonEmpty == 0 {
			return badLine(name, line, "case %s: no reference section", truncate(v.ID, 40))
		}
		return fn(c)
	})
}

// acuityJSON accepts an acuity as a number 1–4 or a Roman numeral I–IV.
type acuityJSON clinic.Acuity

func (a *acuityJSON) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*a = 0
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if !clinic.Acuity(n).Valid() {
			return fmt.Errorf("acuity %d, want 1–4", n)
		}
		*a = acuityJSON(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("acuity must be a number 1–4 or I–IV")
	}
	for lv := clinic.AcuityI; lv <= clinic.AcuityIV; lv++ {
		if strings.EqualFold(s, lv.String()) {
			*a = acuityJSON(lv)
			return nil
		}
	}
	return fmt.Errorf("acuity %q, want I, II, III or IV", truncate(s, 10))
}

// redFlagJSON accepts a boolean or the ID of the red-flag rule that fires.
type redFlagJSON struct {
	set  bool
	rule string
}

func (r *redFlagJSON) UnmarshalJSON(b []byte) error {
	var v bool
	if err := json.Unmarshal(b, &v); err == nil {
		r.set = v
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("red_flag must be a boolean or a rule ID")
	}
	r.set, r.rule = s != "", s
	return nil
}

// TriageCase is a Yizhu triage case: a patient's complaint with the
// expected department, acuity and red flag.
//
//	{"id":"t1","text":"胸痛伴大汗1小时","age":58,"sex":"M","vitals":{"hr":110},"department":"急诊科","acuity":2,"red_flag":true}
//
// Acuity may be written 1–4 or "I"–"IV"; red_flag true/false or the ID of
// the rule expected to fire. Age is -1 when absent.
type TriageCase struct {
	ID          string             `json:"id"`
	Text        string             `json:"text"`
	AgeYears    int                `json:"age"`
	Sex         clinic.Sex         `json:"sex,omitempty"`
	Vitals      map[string]float64 `json:"vitals,omitempty"`
	Department  string             `json:"department,omitempty"`
	Acuity      clinic.Acuity      `json:"acuity,omitempty"`
	RedFlag     bool               `json:"red_flag"`
	RedFlagRule clinic.RuleID      `json:"red_flag_rule,omitempty"`
	Line        int                `json:"line"`
}

// ScanTriageCases streams a Yizhu triage JSONL file. A case needs an id,
// text, and a department or an acuity to be scored against; age must be
// 0–150 when given and sex M, F or U.
func ScanTriageCases(r io.Reader, name string, lim Limits, fn func(TriageCase) error) error {
	type raw struct {
		ID         string             `json:"id"`
		Text       string             `json:"text"`
		Age        *float64           `json:"age"`
		Sex        clinic.Sex         `json:"sex"`
		Vitals     map[string]float64 `json:"vitals"`
		Department string             `json:"department"`
		Acuity     acuityJSON         `json:"acuity"`
		RedFlag    redFlagJSON        `json:"red_flag"`
	}
	return scanJSONLines(r, name, lim, true, func(line int, v *raw) error {
		if err := requireText(name, line, "id", v.ID, "text", v.Text); err != nil {
			return err
		}
		c := TriageCase{
			ID: v.ID, Text: v.Text, AgeYears: -1, Sex: v.Sex, Vitals: v.Vitals,
			Department: strings.TrimSpace(v.Department), Acuity: clinic.Acuity(v.Acuity),
			RedFlag: v.RedFlag.set, RedFlagRule: clinic.RuleID(v.RedFlag.rule), Line: line,
		}
		if v.Age != nil {
			if *v.Age < 0 || *v.Age > 150 {
				return badLine(name, line, "case %s: age %v, want 0–150", truncate(v.ID, 40), *v.Age)
			}
			c.AgeYears = int(*v.Age)
		}
		switch c.Sex {
		case "", clinic.SexMale, clinic.SexFemale, clinic.SexUnknown:
		default:
			return badLine(name, line, "case %s: sex %q, want M, F or U", truncate(v.ID, 40), truncate(string(c.Sex), 10))
		}
		if c.Department == "" && !c.Acuity.Valid() {
			return badLine(name, line, "case %s: neither department nor acuity to score against", truncate(v.ID, 40))
		}
		return fn(c)
	})
}

var noteTypes = []clinic.NoteType{
	clinic.NoteOutpatient, clinic.NoteAdmission, clinic.NoteFirstCourse, clinic.NoteProgress,
	clinic.NoteDischarge, clinic.NoteOperation, clinic.NoteRescue,
}

// QCCase is a Yizhu QC case: a record's sections and clinical event times,
// with the IDs of the rules whose defects it contains (empty for a clean
// record).
//
//	{"id":"q1","type":"admission","sections":{"chief_complaint":"…"},"events":{"admitted_at":"2026-01-02T08:00:00+08:00"},"defects":["ADM-001"]}
type QCCase struct {
	ID       string               `json:"id"`
	Type     clinic.NoteType      `json:"type"`
	Sections map[string]string    `json:"sections"`
	Events   map[string]time.Time `json:"events,omitempty"`
	Defects  []clinic.RuleID      `json:"defects"`
	Line     int                  `json:"line"`
}

// ScanQCCases streams a Yizhu QC JSONL file. A case needs an id, a known
// note type (clinic.NoteType), at least one section and RFC 3339 event
// times; defects must be non-empty rule IDs.
func ScanQCCases(r io.Reader, name string, lim Limits, fn func(QCCase) error) error {
	type raw struct {
		ID       string            `json:"id"`
		Type     clinic.NoteType   `json:"type"`
		Sections map[string]string `json:"sections"`
		Events   map[string]string `json:"events"`
		Defects  []clinic.RuleID   `json:"defects"`
	}
	return scanJSONLines(r, name, lim, true, func(line int, v *raw) error {
		if strings.TrimSpace(v.ID) == "" {
			return badLine(name, line, "empty id")
		}
		if !slices.Contains(noteTypes, v.Type) {
			return badLine(name, line, "case %s: note type %q is not a clinic.NoteType", truncate(v.ID, 40), truncate(string(v.Type), 20))
		}
		if len(v.Sections) == 0 {
			return badLine(name, line, "case %s: no sections", truncate(v.ID, 40))
		}
		c := QCCase{ID: v.ID, Type: v.Type, Sections: v.Sections, Defects: v.Defects, Line: line}
		for k, s := range v.Events {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return badLine(name, line, "case %s: event %q: time %q is not RFC 3339", truncate(v.ID, 40), truncate(k, 20), truncate(s, 30))
			}
			if c.Events == nil {
				c.Events = make(map[string]time.Time)
			}
			c.Events[k] = t
		}
		for i, d := range v.Defects {
			if strings.TrimSpace(string(d)) == "" {
				return badLine(name, line, "case %s: defect %d is empty", truncate(v.ID, 40), i)
			}
		}
		return fn(c)
	})
}
