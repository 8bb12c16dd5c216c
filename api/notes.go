package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// StatementInput is one sentence of a note as written or edited by a doctor.
type StatementInput struct {
	Text    string          `json:"text" validate:"required,max=4000"`
	Sources []clinic.Source `json:"sources,omitempty" validate:"max=64"`
}

// SectionInput is one section of a note.
type SectionInput struct {
	Key        string           `json:"key" validate:"required,max=64"`
	Title      string           `json:"title" validate:"required,max=64"`
	Statements []StatementInput `json:"statements" validate:"max=500,dive"`
}

// NoteRequest writes a note by hand.
type NoteRequest struct {
	Type     clinic.NoteType `json:"type" validate:"required,oneof=outpatient admission first_course progress discharge operation rescue"`
	Sections []SectionInput  `json:"sections" validate:"required,min=1,max=64,dive"`
}

// UpdateNoteRequest saves an edited version. Version is the version the
// edit was made on; it must still be the latest.
type UpdateNoteRequest struct {
	Version  int            `json:"version" validate:"required,min=1"`
	Sections []SectionInput `json:"sections" validate:"required,min=1,max=64,dive"`
}

// SignNoteRequest signs the note at Version.
type SignNoteRequest struct {
	Version int `json:"version" validate:"required,min=1"`
}

// SignedNote is the signed note with the results of the sign hooks (QC
// score and defects, for one), by hook name.
type SignedNote struct {
	clinic.Note
	Checks map[string]any `json:"checks,omitempty"`
}

// NotesResponse lists notes or note versions.
type NotesResponse struct {
	Notes []clinic.Note `json:"notes"`
}

// keepMarks carries the unsupported/conflict marks of the previous version
// over to the statements an edit left untouched (same section, same text,
// same source kinds and IDs), so saving a note never clears a warning the doctor did not
// act on. A statement the doctor rewrote is the doctor's own and unmarked.
func keepMarks(prev, next []clinic.Section) []clinic.Section {
	type key struct{ section, text string }
	marked := map[key][]clinic.Statement{}
	for _, sec := range prev {
		for _, st := range sec.Statements {
			if st.Unsupported {
				k := key{sec.Key, st.Text}
				marked[k] = append(marked[k], st)
			}
		}
	}
	if len(marked) == 0 {
		return next
	}
	for i, sec := range next {
		for j, st := range sec.Statements {
			for _, old := range marked[key{sec.Key, st.Text}] {
				if slices.EqualFunc(old.Sources, st.Sources, func(a, b clinic.Source) bool { return a.Kind == b.Kind && a.ID == b.ID }) {
					next[i].Statements[j].Unsupported, next[i].Statements[j].Reason = true, old.Reason
					break
				}
			}
		}
	}
	return next
}

func sectionsFrom(in []SectionInput) []clinic.Section {
	out := make([]clinic.Section, len(in))
	for i, s := range in {
		sts := make([]clinic.Statement, len(s.Statements))
		for j, st := range s.Statements {
			// A doctor's own words need no machine source; the doctor is
			// the source, recorded as the note's author.
			sts[j] = clinic.Statement{Text: st.Text, Sources: st.Sources}
		}
		out[i] = clinic.Section{Key: s.Key, Title: s.Title, Statements: sts}
	}
	return out
}

func (s *Server) createNote(c echo.Context) error {
	var req NoteRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	encID := c.Param("id")
	n := clinic.Note{EncounterID: encID, Type: req.Type, Status: clinic.NoteDraft,
		Sections: sectionsFrom(req.Sections), Author: ClaimsFrom(c).Subject()}
	err := s.cfg.Store.InTx(c.Request().Context(), func(ctx context.Context, tx store.Store) error {
		if _, err := tx.Encounter(ctx, encID); err != nil {
			return err
		}
		if err := tx.CreateNote(ctx, &n); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, c, "note.create", n.ID, map[string]any{"version": n.Version, "encounter_id": encID})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, n)
}

func (s *Server) listNotes(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := s.cfg.Store.Encounter(ctx, id); err != nil {
		return err
	}
	ns, err := s.cfg.Store.NotesByEncounter(ctx, id)
	if err != nil {
		return err
	}
	if err := s.audit(c, "phi.read", id, map[string]any{"what": "notes"}); err != nil {
		return err
	}
	if ns == nil {
		ns = []clinic.Note{}
	}
	return c.JSON(http.StatusOK, NotesResponse{Notes: ns})
}

func (s *Server) getNote(c echo.Context) error {
	n, err := s.cfg.Store.Note(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.audit(c, "phi.read", n.ID, map[string]any{"what": "note", "version": n.Version}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

func (s *Server) noteVersions(c echo.Context) error {
	ns, err := s.cfg.Store.NoteVersions(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.audit(c, "phi.read", c.Param("id"), map[string]any{"what": "note_versions"}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NotesResponse{Notes: ns})
}

func (s *Server) updateNote(c echo.Context) error {
	var req UpdateNoteRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	var n clinic.Note
	err := s.cfg.Store.InTx(c.Request().Context(), func(ctx context.Context, tx store.Store) error {
		var err error
		if n, err = tx.Note(ctx, c.Param("id")); err != nil {
			return err
		}
		prev := n.Sections
		n.Version = req.Version
		n.Sections = keepMarks(prev, sectionsFrom(req.Sections))
		n.Author = ClaimsFrom(c).Subject()
		n.Fallback, n.FallbackReason = false, ""
		if err := tx.UpdateNote(ctx, &n); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, c, "note.edit", n.ID, map[string]any{"version": n.Version})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

func (s *Server) signNote(c echo.Context) error {
	var req SignNoteRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	var n clinic.Note
	var checks map[string]any
	err := s.cfg.Store.InTx(c.Request().Context(), func(ctx context.Context, tx store.Store) error {
		var err error
		checks = nil
		if n, err = tx.Note(ctx, c.Param("id")); err != nil {
			return err
		}
		if n.Status == clinic.NoteSigned {
			return clinic.NewError(clinic.CodeConflict, "version", "the note is already signed", "病历已签名")
		}
		if n.Version != req.Version {
			return clinic.NewError(clinic.CodeConflict, "version",
				"the note was changed since you opened it; reload and review the latest version",
				"病历在您打开后已被修改，请刷新并审阅最新版本")
		}
		cl := ClaimsFrom(c)
		n.Status, n.SignedBy, n.SignedAt, n.Author = clinic.NoteSigned, cl.Subject(), s.now(), cl.Subject()
		if err := tx.UpdateNote(ctx, &n); err != nil {
			return err
		}
		for _, h := range s.cfg.SignHooks {
			res, err := h.Run(ctx, tx, n)
			if err != nil {
				return fmt.Errorf("sign hook %s: %w", h.Name, err)
			}
			if checks == nil {
				checks = map[string]any{}
			}
			checks[h.Name] = res
		}
		return s.auditTx(ctx, tx, c, "note.sign", n.ID, map[string]any{"version": n.Version})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, SignedNote{Note: n, Checks: checks})
}
