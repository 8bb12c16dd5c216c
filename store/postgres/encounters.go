package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

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
		tag, err := t.tx.tx.Exec(ctx, `INSERT INTO encounters (id, patient_id, body, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, c.ID, c.PatientID, string(body), c.CreatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
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
	var e clinic.Encounter
	err := s.read(ctx, "Encounter", func(q querier) error {
		var body []byte
		err := q.QueryRow(ctx, `SELECT body::text FROM encounters WHERE id = $1`, id).Scan(&body)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.NotFound("encounter", id)
		}
		if err != nil {
			return err
		}
		e, err = store.DecodeEncounter(body)
		return err
	})
	return e, err
}

func encounterExists(ctx context.Context, q querier, id string, lock bool) error {
	query := `SELECT count(*) FROM encounters WHERE id = $1`
	if lock {
		query = `SELECT count(*) FROM (SELECT 1 FROM encounters WHERE id = $1 FOR UPDATE) e`
	}
	var n int
	if err := q.QueryRow(ctx, query, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return store.NotFound("encounter", id)
	}
	return nil
}

// AppendUtterances appends us to the encounter's dialogue. The encounter's
// row is locked, so concurrent appends to one encounter are serialised.
func (s *session) AppendUtterances(ctx context.Context, encounterID string, us []clinic.Utterance) ([]clinic.Utterance, error) {
	if err := store.CheckUtterances(us); err != nil {
		return nil, s.db.fail("AppendUtterances", err)
	}
	var out []clinic.Utterance
	err := s.write(ctx, "AppendUtterances", func(t *session) error {
		q := t.tx.tx
		if err := encounterExists(ctx, q, encounterID, true); err != nil {
			return err
		}
		var last int
		if err := q.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM utterances WHERE encounter_id = $1`, encounterID).Scan(&last); err != nil {
			return err
		}
		stored, bodies, err := store.PrepareUtterances(encounterID, last, us)
		if err != nil {
			return err
		}
		for i, u := range stored {
			tag, err := q.Exec(ctx, `INSERT INTO utterances (encounter_id, seq, id, body)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, encounterID, u.Seq, u.ID, string(bodies[i]))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
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
	var out []clinic.Utterance
	err := s.read(ctx, "Utterances", func(q querier) error {
		if err := encounterExists(ctx, q, encounterID, false); err != nil {
			return err
		}
		var err error
		out, err = queryBodies(ctx, q, store.DecodeUtterance,
			`SELECT body::text FROM utterances WHERE encounter_id = $1 ORDER BY seq`, encounterID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
