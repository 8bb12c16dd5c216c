package api

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// scribeDiffKind is the record kind of the AI-draft-versus-signed diff,
// stored under the note ID with the encounter as subject.
const scribeDiffKind = "scribe_diff"

// NoteDiff is the measure of help of an AI draft: the per-section edit
// distance (scribe.EditDistance, in characters) between the first (AI)
// version of a note and its signed version. It is computed and stored when
// the note is signed.
type NoteDiff struct {
	NoteID       string          `json:"note_id"`
	EncounterID  string          `json:"encounter_id"`
	Type         clinic.NoteType `json:"type"`
	DraftAuthor  string          `json:"draft_author"`
	DraftVersion int             `json:"draft_version"`
	FinalVersion int             `json:"final_version"`
	SignedBy     string          `json:"signed_by,omitempty"`
	SignedAt     time.Time       `json:"signed_at,omitzero"`
	// Signed is false for a live comparison of a note not yet signed.
	Signed bool `json:"signed"`
	// DraftFallback is set when the draft came from the built-in engine
	// because the LLM failed.
	DraftFallback bool `json:"draft_fallback,omitempty"`
	// Unchanged counts sections signed exactly as drafted.
	Unchanged int `json:"unchanged"`
	scribe.EditSummary
}

// diffNote compares the AI draft with the final (signed or latest) note.
func diffNote(draft, final clinic.Note) NoteDiff {
	d := NoteDiff{NoteID: final.ID, EncounterID: final.EncounterID, Type: final.Type,
		DraftAuthor: draft.Author, DraftVersion: draft.Version, FinalVersion: final.Version,
		SignedBy: final.SignedBy, SignedAt: final.SignedAt, Signed: final.Status == clinic.NoteSigned,
		DraftFallback: draft.Fallback, EditSummary: scribe.EditDistance(draft, final)}
	if d.Sections == nil {
		d.Sections = []scribe.SectionEdit{}
	}
	for _, s := range d.Sections {
		if s.Distance == 0 {
			d.Unchanged++
		}
	}
	return d
}

// SignHook returns the hook that, when a note drafted by the scribe agent
// is signed, stores the per-section edit distance between the AI draft
// and the signed text (record kind "scribe_diff") and an audit entry
// ("scribe.diff"), in the signing transaction, and reports the diff under
// checks["scribe"]. Notes not drafted by the agent are left alone (nil).
func (s *Scribe) SignHook() SignHook {
	return SignHook{Name: "scribe", Run: s.recordDiff}
}

func (s *Scribe) recordDiff(ctx context.Context, tx store.Store, n clinic.Note) (any, error) {
	draft, err := tx.NoteVersion(ctx, n.ID, 1)
	if err != nil {
		return nil, fmt.Errorf("api.Scribe: first version of note %s: %w", n.ID, err)
	}
	if !isScribeAuthor(draft.Author) {
		return nil, nil
	}
	d := diffNote(draft, n)
	body, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("api.Scribe: encode diff: %w", err)
	}
	r := store.Record{Kind: scribeDiffKind, ID: n.ID, Subject: n.EncounterID, Body: body}
	if old, err := tx.Record(ctx, scribeDiffKind, n.ID); err == nil {
		r.Version = old.Version // a diff left from an earlier signing is replaced
	} else if clinic.ErrorCode(err) != clinic.CodeNotFound {
		return nil, fmt.Errorf("api.Scribe: read diff: %w", err)
	}
	if err := tx.PutRecord(ctx, &r); err != nil {
		return nil, fmt.Errorf("api.Scribe: store diff: %w", err)
	}
	detail, _ := json.Marshal(map[string]any{"note_version": n.Version, "distance": d.Distance,
		"ratio": d.Ratio, "unchanged_sections": d.Unchanged, "sections": len(d.Sections)})
	if _, err := tx.AppendAudit(ctx, store.AuditEntry{Actor: n.SignedBy, Role: string(RoleDoctor),
		Action: "scribe.diff", Subject: n.ID, Detail: detail}); err != nil {
		return nil, fmt.Errorf("api.Scribe: audit diff: %w", err)
	}
	return d, nil
}
