package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

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
	var expires sql.NullInt64
	if !c.ExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: micros(c.ExpiresAt), Valid: true}
	}
	err := s.write(ctx, "PutRecord", func(t *session) error {
		q := t.tx.tx
		if c.Version == 0 {
			res, err := q.ExecContext(ctx, `INSERT INTO records (kind, id, subject, version, body, created_at, updated_at, expires_at)
				VALUES (?, ?, ?, 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				c.Kind, c.ID, c.Subject, string(c.Body), micros(now), micros(now), expires)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return store.RecordExists(c.Kind, c.ID)
			}
			c.Version, c.CreatedAt, c.UpdatedAt = 1, now, now
			return nil
		}
		var created int64
		err := q.QueryRowContext(ctx, `UPDATE records SET subject = ?, version = version + 1, body = ?, updated_at = ?, expires_at = ?
			WHERE kind = ? AND id = ? AND version = ? RETURNING created_at`,
			c.Subject, string(c.Body), micros(now), expires, c.Kind, c.ID, c.Version).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return store.RecordStale(c.Kind, c.ID)
		}
		if err != nil {
			return err
		}
		c.Version++
		c.CreatedAt, c.UpdatedAt = fromMicros(created), now
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
		created, updated int64
		expires          sql.NullInt64
	)
	if err := sc.Scan(&r.Kind, &r.ID, &r.Subject, &r.Version, &body, &created, &updated, &expires); err != nil {
		return r, err
	}
	r.Body = []byte(body)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	if expires.Valid {
		r.ExpiresAt = fromMicros(expires.Int64)
	}
	return r, nil
}

// Record returns a record, or not_found.
func (s *session) Record(ctx context.Context, kind, id string) (store.Record, error) {
	r, err := scanRecord(s.reader(ctx).QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = ? AND id = ?`, kind, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, s.db.fail("Record", store.NotFound("record", kind+"/"+id))
	}
	if err != nil {
		return store.Record{}, s.db.fail("Record", err)
	}
	return r, nil
}

// ListRecords returns matching records ordered by CreatedAt, then ID.
func (s *session) ListRecords(ctx context.Context, f store.RecordFilter) ([]store.Record, error) {
	limit, err := store.CheckLimit(f.Limit)
	if err != nil {
		return nil, s.db.fail("ListRecords", err)
	}
	var since int64 = -1 << 62
	if !f.Since.IsZero() {
		since = micros(f.Since)
	}
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+recordColumns+` FROM records
		WHERE (?1 = '' OR kind = ?1) AND (?2 = '' OR subject = ?2) AND created_at >= ?3
		ORDER BY created_at, id, kind LIMIT ?4`, f.Kind, f.Subject, since, limit)
	if err != nil {
		return nil, s.db.fail("ListRecords", err)
	}
	defer rows.Close()
	out := []store.Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, s.db.fail("ListRecords", err)
		}
		out = append(out, r)
	}
	return out, s.db.fail("ListRecords", rows.Err())
}

// DeleteRecord deletes a record; a missing one is not an error.
func (s *session) DeleteRecord(ctx context.Context, kind, id string) error {
	return s.write(ctx, "DeleteRecord", func(t *session) error {
		_, err := t.tx.tx.ExecContext(ctx, `DELETE FROM records WHERE kind = ? AND id = ?`, kind, id)
		return err
	})
}

// PurgeExpired deletes records whose ExpiresAt is before now.
func (s *session) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "PurgeExpired", func(t *session) error {
		res, err := t.tx.tx.ExecContext(ctx, `DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at < ?`, micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
