package scribe

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// SourceText is one citable item with its text.
type SourceText struct {
	Kind    clinic.SourceKind `json:"kind"`
	ID      string            `json:"id"`
	Text    string            `json:"text"`
	Speaker clinic.Speaker    `json:"speaker,omitempty"` // utterances only
	Seq     int               `json:"seq"`               // order; utterances by Seq, data after them
}

// Sources is the set of items a note's statements may cite, keyed by kind
// and ID.
type Sources struct {
	items map[string]SourceText
}

func srcKey(kind clinic.SourceKind, id string) string { return string(kind) + "\x00" + id }

// NewSources returns a set of items. A later item with the same kind and
// ID replaces an earlier one.
func NewSources(items ...SourceText) Sources {
	s := Sources{items: make(map[string]SourceText, len(items))}
	for _, it := range items {
		s.items[srcKey(it.Kind, it.ID)] = it
	}
	return s
}

// Get returns the item with kind and id.
func (s Sources) Get(kind clinic.SourceKind, id string) (SourceText, bool) {
	it, ok := s.items[srcKey(kind, id)]
	return it, ok
}

// Len is the number of items.
func (s Sources) Len() int { return len(s.items) }

// Summary source IDs: the triage pre-consultation summary and the patient
// record are cited as data items with these IDs.
const (
	SummarySourceID = "triage-summary"
	PatientSourceID = "patient"
)

// SourcesOf returns every item of in that a statement may cite: the
// utterances, the data items, the triage summary (SummarySourceID), the
// patient's age and sex (PatientSourceID) and the statements of prior
// notes ("<note id>#<section key>.<index>").
func SourcesOf(in Input) Sources {
	items := make([]SourceText, 0, len(in.Utterances)+len(in.Data)+2)
	for i, u := range in.Utterances {
		items = append(items, SourceText{Kind: clinic.SourceUtterance, ID: u.ID, Text: u.Text, Speaker: u.Speaker, Seq: i})
	}
	n := len(in.Utterances)
	for i, d := range in.Data {
		text := d.Text
		if d.Name != "" {
			text = d.Name + "：" + d.Text
		}
		if !d.At.IsZero() {
			text = d.At.Format("2006-01-02") + " " + text
		}
		items = append(items, SourceText{Kind: clinic.SourceData, ID: d.ID, Text: text, Seq: n + i})
	}
	if in.Summary != nil {
		items = append(items, SourceText{Kind: clinic.SourceData, ID: SummarySourceID, Text: summaryText(in.Summary), Seq: -1})
	}
	if t := patientText(in); t != "" {
		items = append(items, SourceText{Kind: clinic.SourceData, ID: PatientSourceID, Text: t, Seq: -2})
	}
	for ps := range priorStatements(in.Prior) {
		items = append(items, SourceText{Kind: clinic.SourceData, ID: ps.id, Text: ps.text, Seq: -3})
	}
	return NewSources(items...)
}

// priorStatement is a citable statement of a prior note.
type priorStatement struct {
	id         string // "<note id>#<section key>.<index>"
	key, title string // of its section
	text       string
}

// priorStatements yields the statements of the prior notes in order,
// leaving out the unsupported ones: what a draft may cite of them.
func priorStatements(prior []clinic.Note) iter.Seq[priorStatement] {
	return func(yield func(priorStatement) bool) {
		for _, p := range prior {
			for _, s := range p.Sections {
				for i, st := range s.Statements {
					if st.Unsupported {
						continue
					}
					if !yield(priorStatement{id: priorID(p.ID, s.Key, i), key: s.Key, title: s.Title, text: st.Text}) {
						return
					}
				}
			}
		}
	}
}

func priorID(noteID, key string, i int) string { return fmt.Sprintf("%s#%s.%d", noteID, key, i) }

// Problem kinds.
const (
	ProblemNoSource      = "no_source"      // the statement cites nothing
	ProblemUnknownSource = "unknown_source" // it cites an item that does not exist
	ProblemNumber        = "number"         // a number is not in its sources
	ProblemNegation      = "negation"       // a finding's presence/absence contradicts its sources
	ProblemEntity        = "entity"         // a term or word is not in its sources
	ProblemConflict      = "conflict"       // the sources contradict each other
)

// ConflictReasonPrefix starts the Reason of a statement that reports
// conflicting facts.
const ConflictReasonPrefix = ProblemConflict + ": "

// Problem is one verifier finding about a statement.
type Problem struct {
	Section  string `json:"section"` // section key
	Index    int    `json:"index"`   // statement index in the section
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
	DetailZH string `json:"detail_zh"`
}

// IsConflict reports whether st is a conflict marker: sources that say
// opposite things, shown for the clinician to resolve, never as fact.
func IsConflict(st clinic.Statement) bool {
	return st.Unsupported && strings.HasPrefix(st.Reason, ConflictReasonPrefix)
}

// cited returns the items st cites, in source order, and the first
// citation that does not resolve.
func (s Sources) cited(st clinic.Statement) ([]SourceText, string) {
	out := make([]SourceText, 0, len(st.Sources))
	for _, c := range st.Sources {
		it, ok := s.Get(c.Kind, c.ID)
		if !ok {
			return nil, string(c.Kind) + ":" + c.ID
		}
		out = append(out, it)
	}
	slices.SortStableFunc(out, func(a, b SourceText) int { return a.Seq - b.Seq })
	return out, ""
}
