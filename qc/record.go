package qc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
)

// Event names that the default rules measure time limits between. Records
// may carry others; rules name them in their params.
const (
	EventAdmitted    = "admitted_at"     // 入院时间
	EventDischarged  = "discharged_at"   // 出院时间
	EventWritten     = "written_at"      // 记录完成时间
	EventSurgeryEnd  = "surgery_end"     // 手术结束时间
	EventRescueStart = "rescue_start"    // 抢救开始时间
	EventRescueEnd   = "rescue_end"      // 抢救结束时间
	EventSeniorRound = "senior_round_at" // 上级医师首次查房时间
	EventVisit       = "visit_at"        // 门诊就诊时间
)

// Signer roles (专业技术职务) a signature may carry.
const (
	RoleIntern         = "intern"          // 实习/试用期医务人员
	RoleResident       = "resident"        // 住院医师
	RoleAttending      = "attending"       // 主治医师
	RoleAssociateChief = "associate_chief" // 副主任医师
	RoleChief          = "chief"           // 主任医师
	RoleSurgeon        = "surgeon"         // 手术者 (主刀)
	RoleNurse          = "nurse"           // 护士
)

// Bounds on one record.
const (
	DefaultMaxLineBytes = 4 << 20
	maxSections         = 128
	maxSectionBytes     = 256 << 10
	maxListItems        = 256
)

// Patient is what consistency rules need to know about the patient.
type Patient struct {
	Sex clinic.Sex `json:"sex,omitempty"`
	// AgeYears is the age at the record's time; nil when unknown. Infants
	// have fractional ages (a 10-day-old is about 0.03).
	AgeYears *float64 `json:"age_years,omitempty"`
}

// Signature is one signature on a record (病历书写基本规范 第八条).
type Signature struct {
	Signer string    `json:"signer"`
	Role   string    `json:"role"`
	At     time.Time `json:"at,omitzero"`
}

// Drug is one prescribed drug. Class may be given; otherwise it is looked up
// by name in the rule set's drug-class table.
type Drug struct {
	Name  string `json:"name"`
	Class string `json:"class,omitempty"`
}

// ProgressNote is one daily progress note (日常病程记录) in a progress record.
type ProgressNote struct {
	At     time.Time `json:"at,omitzero"`
	Signer string    `json:"signer,omitempty"`
	Text   string    `json:"text"`
}

// Record is one clinical document as QC sees it: the Yizhu QC JSONL record
// of DESIGN.md. Sections are keyed by the stable keys of [KnownSections]
// (Chinese titles are accepted on input and mapped to keys). Defects holds
// gold rule IDs in evaluation data and is ignored by the engine.
type Record struct {
	ID            string               `json:"id"`
	Type          clinic.NoteType      `json:"type"`
	Department    string               `json:"department,omitempty"`
	Patient       Patient              `json:"patient,omitzero"`
	Sections      map[string]string    `json:"sections"`
	Events        map[string]time.Time `json:"events,omitempty"`
	Signatures    []Signature          `json:"signatures,omitempty"`
	Drugs         []Drug               `json:"drugs,omitempty"`
	Allergies     []string             `json:"allergies,omitempty"`
	ProgressNotes []ProgressNote       `json:"progress_notes,omitempty"`
	Defects       []clinic.RuleID      `json:"defects,omitempty"`
}

// wire is the accepted input form: times as strings in several layouts.
type wireRecord struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Department string            `json:"department"`
	Patient    Patient           `json:"patient"`
	Sections   map[string]string `json:"sections"`
	Events     map[string]string `json:"events"`
	Signatures []struct {
		Signer string `json:"signer"`
		Role   string `json:"role"`
		At     string `json:"at"`
	} `json:"signatures"`
	Drugs         []Drug   `json:"drugs"`
	Allergies     []string `json:"allergies"`
	ProgressNotes []struct {
		At     string `json:"at"`
		Signer string `json:"signer"`
		Text   string `json:"text"`
	} `json:"progress_notes"`
	Defects []clinic.RuleID `json:"defects"`
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"}

// ParseTime parses an event time: RFC 3339, or a local date-time without a
// zone ("2006-01-02 15:04[:05]", read as UTC: QC compares intervals only).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not RFC 3339 or \"YYYY-MM-DD hh:mm[:ss]\"", s)
}

func invalid(field, en, zh string) *clinic.Error {
	return clinic.NewError(clinic.CodeInvalid, field, en, zh)
}

// UnmarshalJSON decodes and validates a record: the type must be known, the
// ID present, times parseable and sizes within bounds. Section titles in
// Chinese are mapped to keys.
func (r *Record) UnmarshalJSON(b []byte) error {
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return clinic.Wrap(err, clinic.CodeInvalid, "record is not valid JSON", "记录不是合法的 JSON")
	}
	out := Record{ID: strings.TrimSpace(w.ID), Department: w.Department, Patient: w.Patient, Drugs: w.Drugs, Allergies: w.Allergies, Defects: w.Defects}
	if out.ID == "" {
		return invalid("id", "record has no id", "记录缺少 id")
	}
	t, ok := ParseNoteType(strings.TrimSpace(w.Type))
	if !ok {
		return invalid("type", fmt.Sprintf("record %s: unknown record type %q", out.ID, w.Type), fmt.Sprintf("记录 %s：未知的病历类型 %q", out.ID, w.Type))
	}
	out.Type = t
	switch out.Patient.Sex {
	case "", clinic.SexMale, clinic.SexFemale, clinic.SexUnknown:
	default:
		return invalid("patient.sex", fmt.Sprintf("record %s: sex %q is not M, F or U", out.ID, out.Patient.Sex), "性别应为 M、F 或 U")
	}
	if len(w.Sections) > maxSections || len(w.Signatures) > maxListItems || len(w.Drugs) > maxListItems || len(w.Allergies) > maxListItems || len(w.ProgressNotes) > maxListItems || len(w.Events) > maxSections {
		return clinic.NewError(clinic.CodeTooLarge, "record", fmt.Sprintf("record %s has too many items (limit %d sections, %d per list)", out.ID, maxSections, maxListItems), "记录条目过多")
	}
	ix := newSectionIndex()
	out.Sections = make(map[string]string, len(w.Sections))
	for k, v := range w.Sections {
		if len(v) > maxSectionBytes {
			return clinic.NewError(clinic.CodeTooLarge, "sections."+k, fmt.Sprintf("record %s: section %s longer than %d bytes", out.ID, k, maxSectionBytes), "章节过长")
		}
		if key, ok := ix.key(k); ok {
			k = key
		}
		out.Sections[k] = v
	}
	if len(w.Events) > 0 {
		out.Events = make(map[string]time.Time, len(w.Events))
	}
	for k, v := range w.Events {
		if strings.TrimSpace(v) == "" {
			continue // an empty time is a missing time; rules report it
		}
		tm, err := ParseTime(v)
		if err != nil {
			return clinic.Wrap(err, clinic.CodeInvalid, fmt.Sprintf("record %s: event %s has a bad time", out.ID, k), fmt.Sprintf("记录 %s：事件 %s 时间格式错误", out.ID, k))
		}
		out.Events[k] = tm
	}
	for i, s := range w.Signatures {
		sig := Signature{Signer: s.Signer, Role: s.Role}
		if strings.TrimSpace(s.At) != "" {
			tm, err := ParseTime(s.At)
			if err != nil {
				return clinic.Wrap(err, clinic.CodeInvalid, fmt.Sprintf("record %s: signature %d has a bad time", out.ID, i), "签名时间格式错误")
			}
			sig.At = tm
		}
		out.Signatures = append(out.Signatures, sig)
	}
	for i, p := range w.ProgressNotes {
		pn := ProgressNote{Signer: p.Signer, Text: p.Text}
		if len(p.Text) > maxSectionBytes {
			return clinic.NewError(clinic.CodeTooLarge, fmt.Sprintf("progress_notes/%d", i), "progress note too long", "病程记录过长")
		}
		if strings.TrimSpace(p.At) != "" {
			tm, err := ParseTime(p.At)
			if err != nil {
				return clinic.Wrap(err, clinic.CodeInvalid, fmt.Sprintf("record %s: progress note %d has a bad time", out.ID, i), "病程记录时间格式错误")
			}
			pn.At = tm
		}
		out.ProgressNotes = append(out.ProgressNotes, pn)
	}
	*r = out
	return nil
}

// LineError is a record that could not be read, with where it was.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// Reader streams records from JSONL, one per line, holding one line at a
// time. A bad line gives a *LineError and reading can go on with the next
// line; the end of input gives io.EOF.
type Reader struct {
	br      *bufio.Reader
	name    string
	line    int
	maxLine int
	buf     []byte
}

// NewReader returns a Reader over r; name is used in errors (a file path
// or "-"); maxLine bounds one line in bytes (0 = DefaultMaxLineBytes).
func NewReader(r io.Reader, name string, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), name: name, maxLine: maxLine}
}

// Next returns the next record.
func (r *Reader) Next() (*Record, error) {
	for {
		line, tooLong, err := r.readLine()
		if err != nil && (len(line) == 0 && !tooLong) {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, &LineError{File: r.name, Line: r.line, Err: clinic.Wrap(err, clinic.CodeInvalid, "read error", "读取错误")}
		}
		if tooLong {
			return nil, &LineError{File: r.name, Line: r.line, Err: clinic.NewError(clinic.CodeTooLarge, "line", fmt.Sprintf("line longer than %d bytes", r.maxLine), "行过长")}
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			continue
		}
		if !utf8.Valid(line) {
			return nil, &LineError{File: r.name, Line: r.line, Err: invalid("line", "line is not UTF-8", "行不是 UTF-8 编码")}
		}
		var rec Record
		if uerr := json.Unmarshal(line, &rec); uerr != nil {
			return nil, &LineError{File: r.name, Line: r.line, Err: uerr}
		}
		return &rec, nil
	}
}

// readLine reads one line into r.buf, bounded by maxLine; a longer line is
// consumed and reported with tooLong.
func (r *Reader) readLine() (line []byte, tooLong bool, err error) {
	r.line++
	r.buf = r.buf[:0]
	for {
		frag, ferr := r.br.ReadSlice('\n')
		if len(r.buf)+len(frag) > r.maxLine {
			tooLong = true
		} else {
			r.buf = append(r.buf, frag...)
		}
		if ferr == bufio.ErrBufferFull {
			continue
		}
		if tooLong {
			return nil, true, ferr
		}
		return r.buf, false, ferr
	}
}

// NoteContext is what a signed note does not carry itself but QC needs.
type NoteContext struct {
	Patient    Patient
	Department string
	// Events are the encounter's clinical times (clinic.Encounter.Events).
	Events map[string]time.Time
	// SignerRole is the role of Note.SignedBy (e.g. RoleResident).
	SignerRole string
	Drugs      []Drug
	Allergies  []string
}

// FromNote adapts a note written through the scribe workflow to a record:
// each section's statements are joined into its text, the signature comes
// from SignedBy/SignedAt, and written_at is the signing time (or the last
// update for drafts).
func FromNote(n clinic.Note, nc NoteContext) Record {
	ix := newSectionIndex()
	rec := Record{
		ID:         n.ID,
		Type:       n.Type,
		Department: nc.Department,
		Patient:    nc.Patient,
		Sections:   make(map[string]string, len(n.Sections)),
		Events:     make(map[string]time.Time, len(nc.Events)+1),
		Drugs:      nc.Drugs,
		Allergies:  nc.Allergies,
	}
	for _, s := range n.Sections {
		k := s.Key
		if key, ok := ix.key(k); ok {
			k = key
		} else if key, ok := ix.key(s.Title); ok {
			k = key
		}
		rec.Sections[k] = s.Text()
	}
	for k, v := range nc.Events {
		rec.Events[k] = v
	}
	switch {
	case !n.SignedAt.IsZero():
		rec.Events[EventWritten] = n.SignedAt
	case !n.UpdatedAt.IsZero():
		rec.Events[EventWritten] = n.UpdatedAt
	}
	if n.SignedBy != "" {
		rec.Signatures = []Signature{{Signer: n.SignedBy, Role: nc.SignerRole, At: n.SignedAt}}
	}
	return rec
}

// Line returns the line number of the record (or error) last returned.
func (r *Reader) Line() int { return r.line }
