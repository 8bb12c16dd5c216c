package clinic

import "time"

// NoteType is the kind of clinical document, named after the national
// documentation norms (病历书写基本规范, 卫医政发〔2010〕11号).
type NoteType string

// Note types.
const (
	NoteOutpatient  NoteType = "outpatient"   // 门(急)诊病历
	NoteAdmission   NoteType = "admission"    // 入院记录
	NoteFirstCourse NoteType = "first_course" // 首次病程记录
	NoteProgress    NoteType = "progress"     // 日常病程记录
	NoteDischarge   NoteType = "discharge"    // 出院记录
	NoteOperation   NoteType = "operation"    // 手术记录
	NoteRescue      NoteType = "rescue"       // 抢救记录
)

// NoteStatus is where a note is in the review workflow. AI output is a
// draft until a clinician signs it.
type NoteStatus string

// Note statuses.
const (
	NoteDraft  NoteStatus = "draft"
	NoteSigned NoteStatus = "signed"
)

// SourceKind says what a Source points at.
type SourceKind string

// Source kinds.
const (
	SourceUtterance SourceKind = "utterance" // an Utterance.ID
	SourceData      SourceKind = "data"      // an encounter data item (lab, vital, ECG report)
	SourceGuideline SourceKind = "guideline" // a RAG chunk ID
	SourceRule      SourceKind = "rule"      // a QC or triage rule ID
)

// Source is one piece of evidence for a statement or finding.
type Source struct {
	Kind SourceKind `json:"kind"`
	ID   string     `json:"id"`
	// Quote is the supporting span, when the source is text.
	Quote string `json:"quote,omitempty"`
}

// Statement is one sentence of a note with its sources. A statement
// without sources, or one the verifier could not match to them, has
// Unsupported set and is shown as such, never as fact.
type Statement struct {
	Text        string   `json:"text"`
	Sources     []Source `json:"sources,omitempty"`
	Unsupported bool     `json:"unsupported,omitempty"`
	Reason      string   `json:"reason,omitempty"` // why it is unsupported or in conflict
}

// Section is a titled part of a note (主诉, 现病史, …). Key is a stable
// machine name ("chief_complaint"); Title is what is printed.
type Section struct {
	Key        string      `json:"key"`
	Title      string      `json:"title"`
	Statements []Statement `json:"statements"`
}

// Text returns the statements of s joined into one paragraph.
func (s Section) Text() string {
	var n int
	for _, st := range s.Statements {
		n += len(st.Text)
	}
	b := make([]byte, 0, n)
	for _, st := range s.Statements {
		b = append(b, st.Text...)
	}
	return string(b)
}

// Note is a versioned clinical document. Version starts at 1 and grows by
// one with each saved edit; a save that names a stale version is a
// CodeConflict.
type Note struct {
	ID          string     `json:"id"`
	EncounterID string     `json:"encounter_id"`
	Type        NoteType   `json:"type"`
	Status      NoteStatus `json:"status"`
	Version     int        `json:"version"`
	Sections    []Section  `json:"sections"`
	// Author is who wrote this version: "ai:<agent>" for drafts, or a user ID.
	Author   string    `json:"author"`
	SignedBy string    `json:"signed_by,omitempty"`
	SignedAt time.Time `json:"signed_at,omitzero"`
	// Fallback is set when the draft came from the built-in engine because
	// the configured LLM failed; FallbackReason says why.
	Fallback       bool      `json:"fallback,omitempty"`
	FallbackReason string    `json:"fallback_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Section returns the section with the given key and whether it exists.
func (n *Note) Section(key string) (Section, bool) {
	for _, s := range n.Sections {
		if s.Key == key {
			return s, true
		}
	}
	return Section{}, false
}
