package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
		res, err := t.tx.tx.ExecContext(ctx, `INSERT INTO notes (id, encounter_id, version, status, created_at)
			VALUES (?, ?, 1, ?, ?) ON CONFLICT DO NOTHING`, c.ID, c.EncounterID, string(c.Status), micros(c.CreatedAt))
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return store.NoteExists(c.ID)
		}
		_, err = t.tx.tx.ExecContext(ctx, `INSERT INTO note_versions (note_id, version, body) VALUES (?, 1, ?)`, c.ID, string(body))
		return err
	})
	if err != nil {
		return err
	}
	*n = c
	return nil
}

// UpdateNote stores n as a new version if n.Version is the latest stored
// version and the note is not signed.
func (s *session) UpdateNote(ctx context.Context, n *clinic.Note) error {
	c := *n
	err := s.write(ctx, "UpdateNote", func(t *session) error {
		q := t.tx.tx
		var (
			head    store.NoteHead
			status  string
			created int64
		)
		err := q.QueryRowContext(ctx, `SELECT version, status, encounter_id, created_at FROM notes WHERE id = ?`, c.ID).
			Scan(&head.Version, &status, &head.EncounterID, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return store.NotFound("note", c.ID)
		}
		if err != nil {
			return err
		}
		head.Status, head.CreatedAt = clinic.NoteStatus(status), fromMicros(created)
		body, err := store.PrepareNoteUpdate(&c, head, s.db.now)
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE notes SET version = ?, status = ? WHERE id = ?`,
			c.Version, string(c.Status), c.ID); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `INSERT INTO note_versions (note_id, version, body) VALUES (?, ?, ?)`, c.ID, c.Version, string(body))
		return err
	})
	if err != nil {
		return err
	}
	*n = c
	return nil
}

func (s *session) oneNote(ctx context.Context, op, id, query string, args ...any) (clinic.Note, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return clinic.Note{}, s.db.fail(op, err)
	}
	ns, err := scanBodies(rows, store.DecodeNote)
	if err != nil {
		return clinic.Note{}, s.db.fail(op, err)
	}
	if len(ns) == 0 {
		return clinic.Note{}, s.db.fail(op, store.NotFound("note", id))
	}
	return ns[0], nil
}

// Note returns the latest version of a note.
func (s *session) Note(ctx context.Context, id string) (clinic.Note, error) {
	return s.oneNote(ctx, "Note", id, `SELECT v.body FROM notes n
		JOIN note_versions v ON v.note_id = n.id AND v.version = n.version WHERE n.id = ?`, id)
}

// NoteVersion returns one version of a note.
func (s *session) NoteVersion(ctx context.Context, id string, version int) (clinic.Note, error) {
	return s.oneNote(ctx, "NoteVersion", fmt.Sprintf("%s version %d", id, version),
		`SELECT body FROM note_versions WHERE note_id = ? AND version = ?`, id, version)
}

// NoteVersions returns every version of a note, oldest first.
func (s *session) NoteVersions(ctx context.Context, id string) ([]clinic.Note, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT body FROM note_versions WHERE note_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, s.db.fail("NoteVersions", err)
	}
	ns, err := scanBodies(rows, store.DecodeNote)
	if err != nil {
		return nil, s.db.fail("NoteVersions", err)
	}
	if len(ns) == 0 {
		return nil, s.db.fail("NoteVersions", store.NotFound("note", id))
	}
	return ns, nil
}

// NotesByEncounter returns the latest version of each note of an
// encounter, oldest note first.
func (s *session) NotesByEncounter(ctx context.Context, encounterID string) ([]clinic.Note, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT v.body FROM notes n
		JOIN note_versions v ON v.note_id = n.id AND v.version = n.version
		WHERE n.encounter_id = ? ORDER BY n.ord`, encounterID)
	if err != nil {
		return nil, s.db.fail("NotesByEncounter", err)
	}
	ns, err := scanBodies(rows, store.DecodeNote)
	return ns, s.db.fail("NotesByEncounter", err)
}
