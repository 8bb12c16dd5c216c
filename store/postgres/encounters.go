package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// CreateEncounter stores e, filling an empty ID and setting CreatedAt.
func (s *session) CreateEncounter(ctx context.Context, e *clinic.Encounter) error {
	if err := store.CheckEncounter(e); err != nil {
		return s.db.fail("CreateEncounter", err)
	}
	c := *e
	if c.ID == "" {
		c.ID = store.NewID()
	}
	c.CreatedAt = store.Now(s.db.now)
	body, err := store.EncounterJSON(&c)
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
			return conflict("id", "encounter "+c.ID+" already exists", "就诊编号已存在："+c.ID)
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
			return notFound("encounter", id)
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(body, &e)
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
		return notFound("encounter", id)
	}
	return nil
}

// AppendUtterances appends us to the encounter's dialogue. The encounter's
// row is locked, so concurrent appends to one encounter are serialised.
func (s *session) AppendUtterances(ctx context.Context, encounterID string, us []clinic.Utterance) ([]clinic.Utterance, error) {
	if err := store.CheckUtterances(us); err != nil {
		return nil, s.db.fail("AppendUtterances", err)
	}
	out := make([]clinic.Utterance, len(us))
	err := s.write(ctx, "AppendUtterances", func(t *session) error {
		q := t.tx.tx
		if err := encounterExists(ctx, q, encounterID, true); err != nil {
			return err
		}
		var last int
		if err := q.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM utterances WHERE encounter_id = $1`, encounterID).Scan(&last); err != nil {
			return err
		}
		for i, u := range us {
			if u.ID == "" {
				u.ID = store.NewID()
			}
			u.EncounterID = encounterID
			u.Seq = last + 1 + i
			body, err := json.Marshal(u)
			if err != nil {
				return err
			}
			tag, err := q.Exec(ctx, `INSERT INTO utterances (encounter_id, seq, id, body)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, encounterID, u.Seq, u.ID, string(body))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return conflict("id", "utterance "+u.ID+" already exists", "话语编号已存在："+u.ID)
			}
			out[i] = u
		}
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
	out := []clinic.Utterance{}
	err := s.read(ctx, "Utterances", func(q querier) error {
		if err := encounterExists(ctx, q, encounterID, false); err != nil {
			return err
		}
		rows, err := q.Query(ctx, `SELECT body::text FROM utterances WHERE encounter_id = $1 ORDER BY seq`, encounterID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&body); err != nil {
				return err
			}
			var u clinic.Utterance
			if err := json.Unmarshal(body, &u); err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
