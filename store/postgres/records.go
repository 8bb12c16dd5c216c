package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yizhu-health/yizhu/store"
)

// PutRecord creates (Version 0) or replaces (Version = stored version) a
// record.
func (s *session) PutRecord(ctx context.Context, r *store.Record) error {
	c := *r
	if err := store.PrepareRecord(&c); err != nil {
		return s.db.fail("PutRecord", err)
	}
	now := store.Now(s.db.now)
	var expires *time.Time
	if !c.ExpiresAt.IsZero() {
		expires = &c.ExpiresAt
	}
	err := s.write(ctx, "PutRecord", func(t *session) error {
		q := t.tx.tx
		if c.Version == 0 {
			tag, err := q.Exec(ctx, `INSERT INTO records (kind, id, subject, version, body, created_at, updated_at, expires_at)
				VALUES ($1, $2, $3, 1, $4, $5, $5, $6) ON CONFLICT DO NOTHING`,
				c.Kind, c.ID, c.Subject, string(c.Body), now, expires)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return store.RecordExists(c.Kind, c.ID)
			}
			c.Version, c.CreatedAt, c.UpdatedAt = 1, now, now
			return nil
		}
		var created time.Time
		err := q.QueryRow(ctx, `UPDATE records SET subject = $1, version = version + 1, body = $2, updated_at = $3, expires_at = $4
			WHERE kind = $5 AND id = $6 AND version = $7 RETURNING created_at`,
			c.Subject, string(c.Body), now, expires, c.Kind, c.ID, c.Version).Scan(&created)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.RecordStale(c.Kind, c.ID)
		}
		if err != nil {
			return err
		}
		c.Version++
		c.CreatedAt, c.UpdatedAt = created.UTC(), now
		return nil
	})
	if err != nil {
		return err
	}
	*r = c
	return nil
}

const recordColumns = `kind, id, subject, version, body, created_at, updated_at, expires_at`

func scanRecord(sc interface{ Scan(...any) error }) (store.Record, error) {
	var (
		r                store.Record
		body             string
		created, updated time.Time
		expires          *time.Time
	)
	if err := sc.Scan(&r.Kind, &r.ID, &r.Subject, &r.Version, &body, &created, &updated, &expires); err != nil {
		return r, err
	}
	r.Body = []byte(body)
	r.CreatedAt, r.UpdatedAt = created.UTC(), updated.UTC()
	if expires != nil {
		r.ExpiresAt = expires.UTC()
	}
	return r, nil
}

// Record returns a record, or not_found.
func (s *session) Record(ctx context.Context, kind, id string) (store.Record, error) {
	var r store.Record
	err := s.read(ctx, "Record", func(q querier) error {
		var err error
		r, err = scanRecord(q.QueryRow(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = $1 AND id = $2`, kind, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.NotFound("record", kind+"/"+id)
		}
		return err
	})
	if err != nil {
		return store.Record{}, err
	}
	return r, nil
}

// ListRecords returns matching records ordered by CreatedAt, then ID.
func (s *session) ListRecords(ctx context.Context, f store.RecordFilter) ([]store.Record, error) {
	limit, err := store.CheckLimit(f.Limit)
	if err != nil {
		return nil, s.db.fail("ListRecords", err)
	}
	var since *time.Time
	if !f.Since.IsZero() {
		t := store.Micro(f.Since)
		since = &t
	}
	out := []store.Record{}
	err = s.read(ctx, "ListRecords", func(q querier) error {
		rows, err := q.Query(ctx, `SELECT `+recordColumns+` FROM records
			WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR subject = $2) AND ($3::timestamptz IS NULL OR created_at >= $3)
			ORDER BY created_at, id, kind LIMIT $4`, f.Kind, f.Subject, since, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRecord deletes a record; a missing one is not an error.
func (s *session) DeleteRecord(ctx context.Context, kind, id string) error {
	return s.write(ctx, "DeleteRecord", func(t *session) error {
		_, err := t.tx.tx.Exec(ctx, `DELETE FROM records WHERE kind = $1 AND id = $2`, kind, id)
		return err
	})
}

// PurgeExpired deletes records whose ExpiresAt is before now.
func (s *session) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "PurgeExpired", func(t *session) error {
		tag, err := t.tx.tx.Exec(ctx, `DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at < $1`, store.Micro(now))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
