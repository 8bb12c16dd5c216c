package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/yizhu-health/yizhu/store"
)

// AppendAudit appends e to the hash chain. Appends run on the single writer
// connection, so they are serialised and the chain cannot fork.
func (s *session) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	if err := store.PrepareAudit(&e, store.Now(s.db.now)); err != nil {
		return store.AuditEntry{}, s.db.fail("AppendAudit", err)
	}
	err := s.write(ctx, "AppendAudit", func(t *session) error {
		q := t.tx.tx
		var seq int64
		var prev string
		err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		store.LinkAudit(&e, seq, prev)
		if _, err := q.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, role, action, subject, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, micros(e.At), e.Actor, e.Role, e.Action, e.Subject,
			string(e.Detail), e.PrevHash, e.Hash); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, e.Seq, e.Hash)
		return err
	})
	if err != nil {
		return store.AuditEntry{}, err
	}
	return e, nil
}

const auditColumns = `seq, at, actor, role, action, subject, detail, prev_hash, hash`

func scanAudit(rows *sql.Rows) (store.AuditEntry, error) {
	var (
		e      store.AuditEntry
		at     int64
		detail string
	)
	if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Action, &e.Subject, &detail, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	e.At = fromMicros(at)
	if detail != "" {
		e.Detail = []byte(detail)
	}
	return e, nil
}

// AuditEntries returns matching entries, oldest first.
func (s *session) AuditEntries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	limit, err := store.CheckLimit(f.Limit)
	if err != nil {
		return nil, s.db.fail("AuditEntries", err)
	}
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log
		WHERE (?1 = '' OR subject = ?1) AND (?2 = '' OR actor = ?2) AND (?3 = '' OR action = ?3)
		ORDER BY seq LIMIT ?4`, f.Subject, f.Actor, f.Action, limit)
	if err != nil {
		return nil, s.db.fail("AuditEntries", err)
	}
	defer rows.Close()
	out := []store.AuditEntry{}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, s.db.fail("AuditEntries", err)
		}
		out = append(out, e)
	}
	return out, s.db.fail("AuditEntries", rows.Err())
}

// VerifyAudit recomputes the chain in one read snapshot and reports the
// first break.
func (s *session) VerifyAudit(ctx context.Context) (store.AuditReport, error) {
	rep, err := s.verifyAudit(ctx)
	return rep, s.db.fail("VerifyAudit", err)
}

func (s *session) verifyAudit(ctx context.Context) (store.AuditReport, error) {
	q := s.reader(ctx)
	if _, inTx := q.(*wtx); !inTx {
		tx, err := s.db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return store.AuditReport{}, err
		}
		defer tx.Rollback()
		q = tx
	}
	var headSeq int64
	var headHash string
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.AuditReport{}, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return store.AuditReport{}, err
	}
	defer rows.Close()
	var v store.AuditVerifier
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return store.AuditReport{}, err
		}
		if !v.Next(e) {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return store.AuditReport{}, err
	}
	return v.Finish(headSeq, headHash), nil
}
