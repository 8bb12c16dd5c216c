package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// CreateEncounter stores e, filling an empty ID and setting CreatedAt.
func (s *session) CreateEncounter(ctx context.Context, e *clinic.Encounter) error {
	c, body, err := store.PrepareEncounter(e, s.db.now)
	if err != nil {
		return s.db.fail("CreateEncounter", err)
	}
	err = s.write(ctx, "CreateEncounter", func(t *session) error {
		res, err := t.tx.tx.ExecContext(ctx, `INSERT INTO encounters (id, patient_id, body, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, c.ID, c.PatientID, string(body), micros(c.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.EncounterExists(c.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.ID, e.CreatedAt = c.ID, c.CreatedAt
	return nil
}

// Encounter returns the encounter with the given ID, or not_found.
func (s *session) Encounter(ctx context.Context, id string) (clinic.Encounter, error) {
	var body []byte
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT body FROM encounters WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return clinic.Encounter{}, s.db.fail("Encounter", store.NotFound("encounter", id))
	}
	if err != nil {
		return clinic.Encounter{}, s.db.fail("Encounter", err)
	}
	e, err := store.DecodeEncounter(body)
	if err != nil {
		return clinic.Encounter{}, s.db.fail("Encounter", err)
	}
	return e, nil
}

func encounterExists(ctx context.Context, q querier, id string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM encounters WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return store.NotFound("encounter", id)
	}
	return nil
}

// AppendUtterances appends us to the encounter's dialogue.
func (s *session) AppendUtterances(ctx context.Context, encounterID string, us []clinic.Utterance) ([]clinic.Utterance, error) {
	if err := store.CheckUtterances(us); err != nil {
		return nil, s.db.fail("AppendUtterances", err)
	}
	var out []clinic.Utterance
	err := s.write(ctx, "AppendUtterances", func(t *session) error {
		q := t.tx.tx
		if err := encounterExists(ctx, q, encounterID); err != nil {
			return err
		}
		var last int
		if err := q.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM utterances WHERE encounter_id = ?`, encounterID).Scan(&last); err != nil {
			return err
		}
		stored, bodies, err := store.PrepareUtterances(encounterID, last, us)
		if err != nil {
			return err
		}
		for i, u := range stored {
			res, err := q.ExecContext(ctx, `INSERT INTO utterances (encounter_id, seq, id, body)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, encounterID, u.Seq, u.ID, string(bodies[i]))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return store.UtteranceExists(u.ID)
			}
		}
		out = stored
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Utterances returns the encounter's dialogue ordered by Seq; not_found if
// there is no such encounter.
func (s *session) Utterances(ctx context.Context, encounterID string) ([]clinic.Utterance, error) {
	q := s.reader(ctx)
	if err := encounterExists(ctx, q, encounterID); err != nil {
		return nil, s.db.fail("Utterances", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT body FROM utterances WHERE encounter_id = ? ORDER BY seq`, encounterID)
	if err != nil {
		return nil, s.db.fail("Utterances", err)
	}
	out, err := scanBodies(rows, store.DecodeUtterance)
	return out, s.db.fail("Utterances", err)
}
