package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

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
		res, err := t.tx.tx.ExecContext(ctx, `INSERT INTO encounters (id, patient_id, body, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, c.ID, c.PatientID, string(body), micros(c.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
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
	var body []byte
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT body FROM encounters WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return clinic.Encounter{}, s.db.fail("Encounter", notFound("encounter", id))
	}
	if err != nil {
		return clinic.Encounter{}, s.db.fail("Encounter", err)
	}
	var e clinic.Encounter
	if err := json.Unmarshal(body, &e); err != nil {
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
		return notFound("encounter", id)
	}
	return nil
}

// AppendUtterances appends us to the encounter's dialogue.
func (s *session) AppendUtterances(ctx context.Context, encounterID string, us []clinic.Utterance) ([]clinic.Utterance, error) {
	if err := store.CheckUtterances(us); err != nil {
		return nil, s.db.fail("AppendUtterances", err)
	}
	out := make([]clinic.Utterance, len(us))
	err := s.write(ctx, "AppendUtterances", func(t *session) error {
		q := t.tx.tx
		if err := encounterExists(ctx, q, encounterID); err != nil {
			return err
		}
		var last int
		if err := q.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM utterances WHERE encounter_id = ?`, encounterID).Scan(&last); err != nil {
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
			res, err := q.ExecContext(ctx, `INSERT INTO utterances (encounter_id, seq, id, body)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, encounterID, u.Seq, u.ID, string(body))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
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
	q := s.reader(ctx)
	if err := encounterExists(ctx, q, encounterID); err != nil {
		return nil, s.db.fail("Utterances", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT body FROM utterances WHERE encounter_id = ? ORDER BY seq`, encounterID)
	if err != nil {
		return nil, s.db.fail("Utterances", err)
	}
	defer rows.Close()
	out := []clinic.Utterance{}
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, s.db.fail("Utterances", err)
		}
		var u clinic.Utterance
		if err := json.Unmarshal(body, &u); err != nil {
			return nil, s.db.fail("Utterances", err)
		}
		out = append(out, u)
	}
	return out, s.db.fail("Utterances", rows.Err())
}
