package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// CreateNote stores n as version 1.
func (s *session) CreateNote(ctx context.Context, n *clinic.Note) error {
	c, body, err := store.PrepareNote(n, s.db.now)
	if err != nil {
		return s.db.fail("CreateNote", err)
	}
	err = s.write(ctx, "CreateNote", func(t *session) error {
		tag, err := t.tx.tx.Exec(ctx, `INSERT INTO notes (id, encounter_id, version, status, created_at)
			VALUES ($1, $2, 1, $3, $4) ON CONFLICT DO NOTHING`, c.ID, c.EncounterID, string(c.Status), c.CreatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.NoteExists(c.ID)
		}
		_, err = t.tx.tx.Exec(ctx, `INSERT INTO note_versions (note_id, version, body) VALUES ($1, 1, $2)`, c.ID, string(body))
		return err
	})
	if err != nil {
		return err
	}
	*n = c
	return nil
}

// UpdateNote stores n as a new version if n.Version is the latest stored
// version and the note is not signed. The note's row is locked (FOR
// UPDATE), so of two concurrent updates naming one version exactly one
// succeeds.
func (s *session) UpdateNote(ctx context.Context, n *clinic.Note) error {
	c := *n
	err := s.write(ctx, "UpdateNote", func(t *session) error {
		q := t.tx.tx
		var (
			head   store.NoteHead
			status string
		)
		err := q.QueryRow(ctx, `SELECT version, status, encounter_id, created_at FROM notes WHERE id = $1 FOR UPDATE`, c.ID).
			Scan(&head.Version, &status, &head.EncounterID, &head.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.NotFound("note", c.ID)
		}
		if err != nil {
			return err
		}
		head.Status = clinic.NoteStatus(status)
		body, err := store.PrepareNoteUpdate(&c, head, s.db.now)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE notes SET version = $1, status = $2 WHERE id = $3`,
			c.Version, string(c.Status), c.ID); err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO note_versions (note_id, version, body) VALUES ($1, $2, $3)`, c.ID, c.Version, string(body))
		return err
	})
	if err != nil {
		return err
	}
	*n = c
	return nil
}

func (s *session) notes(ctx context.Context, op string, query string, args ...any) ([]clinic.Note, error) {
	var out []clinic.Note
	err := s.read(ctx, op, func(q querier) error {
		var err error
		out, err = queryBodies(ctx, q, store.DecodeNote, query, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *session) oneNote(ctx context.Context, op, id, query string, args ...any) (clinic.Note, error) {
	ns, err := s.notes(ctx, op, query, args...)
	if err != nil {
		return clinic.Note{}, err
	}
	if len(ns) == 0 {
		return clinic.Note{}, s.db.fail(op, store.NotFound("note", id))
	}
	return ns[0], nil
}

// Note returns the latest version of a note.
func (s *session) Note(ctx context.Context, id string) (clinic.Note, error) {
	return s.oneNote(ctx, "Note", id, `SELECT v.body::text FROM notes n
		JOIN note_versions v ON v.note_id = n.id AND v.version = n.version WHERE n.id = $1`, id)
}

// NoteVersion returns one version of a note.
func (s *session) NoteVersion(ctx context.Context, id string, version int) (clinic.Note, error) {
	return s.oneNote(ctx, "NoteVersion", fmt.Sprintf("%s version %d", id, version),
		`SELECT body::text FROM note_versions WHERE note_id = $1 AND version = $2`, id, version)
}

// NoteVersions returns every version of a note, oldest first.
func (s *session) NoteVersions(ctx context.Context, id string) ([]clinic.Note, error) {
	ns, err := s.notes(ctx, "NoteVersions", `SELECT body::text FROM note_versions WHERE note_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return nil, s.db.fail("NoteVersions", store.NotFound("note", id))
	}
	return ns, nil
}

// NotesByEncounter returns the latest version of each note of an
// encounter, oldest note first.
func (s *session) NotesByEncounter(ctx context.Context, encounterID string) ([]clinic.Note, error) {
	return s.notes(ctx, "NotesByEncounter", `SELECT v.body::text FROM notes n
		JOIN note_versions v ON v.note_id = n.id AND v.version = n.version
		WHERE n.encounter_id = $1 ORDER BY n.ord`, encounterID)
}
