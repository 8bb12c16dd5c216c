package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yizhu-health/yizhu/store"
)

// AppendAudit appends e to the hash chain. The head row is locked (SELECT
// ... FOR UPDATE) for the rest of the transaction, so concurrent appenders
// take turns and the chain cannot fork.
func (s *session) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	if err := store.PrepareAudit(&e, store.Now(s.db.now)); err != nil {
		return store.AuditEntry{}, s.db.fail("AppendAudit", err)
	}
	err := s.write(ctx, "AppendAudit", func(t *session) error {
		q := t.tx.tx
		var seq int64
		var prev string
		if err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&seq, &prev); err != nil {
			return err
		}
		store.LinkAudit(&e, seq, prev)
		if _, err := q.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, role, action, subject, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.Seq, e.At, e.Actor, e.Role, e.Action, e.Subject,
			string(e.Detail), e.PrevHash, e.Hash); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, e.Seq, e.Hash)
		return err
	})
	if err != nil {
		return store.AuditEntry{}, err
	}
	return e, nil
}

const auditColumns = `seq, at, actor, role, action, subject, detail, prev_hash, hash`

func scanAudit(rows pgx.Rows) (store.AuditEntry, error) {
	var (
		e      store.AuditEntry
		at     time.Time
		detail string
	)
	if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Action, &e.Subject, &detail, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	e.At = at.UTC()
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
	out := []store.AuditEntry{}
	err = s.read(ctx, "AuditEntries", func(q querier) error {
		rows, err := q.Query(ctx, `SELECT `+auditColumns+` FROM audit_log
			WHERE ($1 = '' OR subject = $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3)
			ORDER BY seq LIMIT $4`, f.Subject, f.Actor, f.Action, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// VerifyAudit recomputes the chain in one snapshot (a repeatable-read,
// read-only transaction) and reports the first break.
func (s *session) VerifyAudit(ctx context.Context) (store.AuditReport, error) {
	var rep store.AuditReport
	err := s.read(ctx, "VerifyAudit", func(q querier) error {
		if c, ok := q.(*pgxpool.Conn); ok {
			tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
			if err != nil {
				return err
			}
			defer tx.Rollback(context.WithoutCancel(ctx))
			q = tx
		}
		var headSeq int64
		var headHash string
		if err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
			return err
		}
		rows, err := q.Query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var v store.AuditVerifier
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			if !v.Next(e) {
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rep = v.Finish(headSeq, headHash)
		return nil
	})
	return rep, err
}
