package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// TriageEngine is what the triage routes need from the triage agent
// (agents/triage.Engine implements it).
type TriageEngine interface {
	Start(ctx context.Context, in triage.Intake) (triage.Turn, error)
	Answer(ctx context.Context, st triage.State, a triage.Answer) (triage.Turn, error)
}

// TriageConfig configures the triage feature.
type TriageConfig struct {
	Engine TriageEngine // required
	// Store persists sessions (as records of kind "triage_session") and
	// the audit entries of every recommendation and escalation; each turn
	// is saved before it is answered. Required.
	Store  store.Store
	Logger *slog.Logger
	Now    func() time.Time
	// SessionTTL is how long an untouched session lives (default 30 min);
	// expired sessions answer 404 and are purged.
	SessionTTL time.Duration
	// SummaryTTL is how long the pre-consultation summary of a finished
	// session stays available to the doctor's draft (POST
	// /v1/encounters/{id}/drafts with triage_session_id) after the session
	// itself is purged; default 7 days. A draft keeps its own copy of the
	// summary, so it lasts as long as the encounter's note.
	SummaryTTL time.Duration
}

// Triage is the kiosk triage feature: one engine turn per message,
// streamed as server-sent events, with sessions persisted in the store so
// that any replica can continue them and none is lost on restart. It is
// safe for concurrent use.
type Triage struct {
	cfg       TriageConfig
	log       *slog.Logger
	now       func() time.Time
	mu        sync.Mutex
	lastPurge time.Time
}

// Record kinds of the feature.
const (
	// triageKind is a persisted session, purged SessionTTL after its last
	// turn.
	triageKind = "triage_session"
	// triageSummaryKind is the pre-consultation summary (a triage.Summary)
	// of a finished session, under the session's ID, written with the
	// turn that finishes it and kept for SummaryTTL, so that it outlives
	// the session for the doctor's draft.
	triageSummaryKind = "triage_summary"
)

// triageSession is the persisted body of a session record.
type triageSession struct {
	Owner string       `json:"owner"` // token subject of the creator
	State triage.State `json:"state"`
	Last  triage.Turn  `json:"last"` // state stripped
}

// NewTriage returns the triage feature.
func NewTriage(cfg TriageConfig) (*Triage, error) {
	if cfg.Engine == nil || cfg.Store == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "api.NewTriage: Engine and Store are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * time.Minute
	}
	if cfg.SummaryTTL <= 0 {
		cfg.SummaryTTL = 7 * 24 * time.Hour
	}
	t := &Triage{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t, nil
}

// TriageSessionResponse is a session and its latest turn.
type TriageSessionResponse struct {
	ID        string      `json:"id"`
	Done      bool        `json:"done"`
	Turn      triage.Turn `json:"turn"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
	ExpiresAt time.Time   `json:"expires_at"`
}

var (
	triageCallers = []Role{RoleKiosk, RoleDoctor}
	triageReaders = []Role{RoleKiosk, RoleDoctor}
)

// Routes lists the triage endpoints.
func (t *Triage) Routes() []Route {
	return []Route{
		{Method: "POST", Path: "/v1/triage/sessions", Roles: triageCallers, Handler: t.create, Tag: "triage",
			Summary: "Start a triage session with the patient's complaint; answers the first turn (question, recommendation or escalation).",
			Request: triage.Intake{}, Response: TriageSessionResponse{}, BodyLimit: 64 << 10},
		{Method: "POST", Path: "/v1/triage/sessions/:id/messages", Roles: triageCallers, Handler: t.message, Tag: "triage",
			Summary: "Answer the open question; streams the next turn as one SSE event named question, recommendation or escalation.",
			Request: triage.Answer{}, Response: triage.Turn{}, Stream: true, ContentType: "text/event-stream", BodyLimit: 64 << 10},
		{Method: "GET", Path: "/v1/triage/sessions/:id", Roles: triageReaders, Handler: t.get, Tag: "triage",
			Summary:  "Read a session: its latest turn and, once finished, the pre-consultation summary (doctor reads are audited).",
			Response: TriageSessionResponse{}},
	}
}

func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func caller(c echo.Context) (subject string, role Role) {
	if cl := ClaimsFrom(c); cl != nil {
		return cl.Subject(), cl.Role
	}
	return "", ""
}

// maybePurge deletes expired records at most once a minute.
func (t *Triage) maybePurge(ctx context.Context, now time.Time) {
	t.mu.Lock()
	due := now.Sub(t.lastPurge) >= time.Minute
	if due {
		t.lastPurge = now
	}
	t.mu.Unlock()
	if !due {
		return
	}
	if n, err := t.cfg.Store.PurgeExpired(ctx, now); err != nil {
		t.log.WarnContext(ctx, "purge expired triage sessions", "err", err)
	} else if n > 0 {
		t.log.InfoContext(ctx, "purged expired records", "count", n)
	}
}

// Purge deletes expired sessions now and returns how many it deleted.
func (t *Triage) Purge(ctx context.Context) (int, error) {
	t.mu.Lock()
	t.lastPurge = t.now()
	t.mu.Unlock()
	return t.cfg.Store.PurgeExpired(ctx, t.now())
}

// Sessions returns the number of stored sessions, expired or not.
func (t *Triage) Sessions(ctx context.Context) (int, error) {
	rs, err := t.cfg.Store.ListRecords(ctx, store.RecordFilter{Kind: triageKind})
	return len(rs), err
}

func (t *Triage) response(r store.Record, s triageSession) TriageSessionResponse {
	return TriageSessionResponse{ID: r.ID, Done: s.State.Done, Turn: s.Last, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, ExpiresAt: r.ExpiresAt}
}

// save persists the session and audits the turn in one transaction; the
// turn that finishes the session also stores its summary record.
// r.Version 0 creates the record; otherwise it must still be the stored
// version (a concurrent answer to the same session is a conflict).
func (t *Triage) save(c echo.Context, r *store.Record, s triageSession, turn triage.Turn) error {
	body, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("api.Triage: encode session: %w", err)
	}
	now := t.now()
	r.Body = body
	r.ExpiresAt = now.Add(t.cfg.SessionTTL)
	var sum *store.Record
	if s.State.Done && turn.Summary != nil {
		b, err := json.Marshal(turn.Summary)
		if err != nil {
			return fmt.Errorf("api.Triage: encode summary: %w", err)
		}
		sum = &store.Record{Kind: triageSummaryKind, ID: r.ID, Subject: r.Subject, Body: b,
			ExpiresAt: now.Add(t.cfg.SummaryTTL)}
	}
	return t.cfg.Store.InTx(c.Request().Context(), func(ctx context.Context, tx store.Store) error {
		if err := tx.PutRecord(ctx, r); err != nil {
			if clinic.ErrorCode(err) == clinic.CodeConflict && r.Version > 0 {
				return clinic.NewError(clinic.CodeConflict, "id", "the session moved on; reload it", "会话已更新，请刷新")
			}
			return err
		}
		// A session finishes once (the engine refuses answers after),
		// and the version check above lets only one finishing turn in.
		if sum != nil {
			if err := tx.PutRecord(ctx, sum); err != nil {
				return fmt.Errorf("api.Triage: save summary: %w", err)
			}
		}
		return t.auditTurn(ctx, tx, c, r.ID, turn)
	})
}

// finishedSummary returns the pre-consultation summary of a finished
// session, for the scribe: from the summary record the finishing turn
// stored, which outlives the session's purge, or else from the session
// itself (one finished before summaries were stored apart). Returns
// not_found when neither exists, or when the record has passed its
// retention (purging runs only now and then; an expired summary is never
// served), and invalid for an unfinished session.
func finishedSummary(ctx context.Context, st store.Store, id string, now time.Time) (*triage.Summary, error) {
	notFound := clinic.NewError(clinic.CodeNotFound, "triage_session_id",
		"no such triage session (it may have expired)", "分诊会话不存在或已过期")
	expired := func(r store.Record) bool { return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt) }
	r, err := st.Record(ctx, triageSummaryKind, id)
	if err == nil && expired(r) {
		return nil, notFound
	}
	if err == nil {
		var sum triage.Summary
		if err := json.Unmarshal(r.Body, &sum); err != nil {
			return nil, fmt.Errorf("api.Triage: decode summary %s: %w", id, err)
		}
		return &sum, nil
	}
	if clinic.ErrorCode(err) != clinic.CodeNotFound {
		return nil, err
	}
	r, err = st.Record(ctx, triageKind, id)
	if clinic.ErrorCode(err) == clinic.CodeNotFound || (err == nil && expired(r)) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	var sess triageSession
	if err := json.Unmarshal(r.Body, &sess); err != nil {
		return nil, fmt.Errorf("api.Triage: decode session %s: %w", id, err)
	}
	if !sess.State.Done || sess.Last.Summary == nil {
		return nil, clinic.NewError(clinic.CodeInvalid, "triage_session_id",
			"the triage session is not finished; it has no summary yet", "分诊会话尚未结束，暂无预问诊摘要")
	}
	return sess.Last.Summary, nil
}

// auditTurn records a finished turn (an AI output) without patient text.
func (t *Triage) auditTurn(ctx context.Context, a store.Audit, c echo.Context, id string, turn triage.Turn) error {
	if turn.Kind == triage.TurnQuestion {
		return nil
	}
	detail := map[string]any{"acuity": turn.Acuity.String(), "kind": string(turn.Kind), "engine": turn.Origin.Engine}
	if o := turn.Origin; o.Engine == triage.EngineLLM || o.Fallback {
		detail["model"], detail["prompt"] = o.Model, o.Prompt
		if o.Fallback {
			detail["fallback"], detail["fallback_reason"] = true, o.Reason
		}
		if len(o.Tools) > 0 {
			detail["tools"] = o.Tools
		}
		if len(o.Overrides) > 0 {
			detail["overrides"] = o.Overrides
		}
	}
	var flags []string
	for _, rf := range turn.RedFlags {
		flags = append(flags, string(rf.RuleID))
	}
	if len(flags) > 0 {
		detail["red_flags"] = flags
	}
	if turn.Escalation != nil {
		detail["escalation"] = turn.Escalation.Code
	}
	if turn.Recommendation != nil {
		var depts []string
		for _, d := range turn.Recommendation.Departments {
			depts = append(depts, d.Code)
		}
		detail["departments"] = depts
	}
	if _, err := a.AppendAudit(ctx, AuditEntryFor(c, "triage."+string(turn.Kind), "triage:"+id, detail)); err != nil {
		return fmt.Errorf("api.Triage: audit: %w", err)
	}
	return nil
}

func (t *Triage) create(c echo.Context) error {
	var in triage.Intake
	if err := Bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t.maybePurge(ctx, t.now())
	turn, err := t.cfg.Engine.Start(ctx, in)
	if err != nil {
		return err
	}
	owner, _ := caller(c)
	s := triageSession{Owner: owner, State: turn.State}
	turn.State = triage.State{}
	s.Last = turn
	r := store.Record{Kind: triageKind, ID: newSessionID(), Subject: owner}
	if err := t.save(c, &r, s, turn); err != nil {
		return err
	}
	t.log.InfoContext(ctx, "triage session started", "session_id", r.ID, "kind", string(turn.Kind), "acuity", turn.Acuity.String())
	return c.JSON(http.StatusCreated, t.response(r, s))
}

// lookup returns a live session the caller may see.
func (t *Triage) lookup(c echo.Context, id string) (store.Record, triageSession, error) {
	notFound := clinic.NewError(clinic.CodeNotFound, "id", "no such triage session (it may have expired)", "分诊会话不存在或已过期")
	r, err := t.cfg.Store.Record(c.Request().Context(), triageKind, id)
	if clinic.ErrorCode(err) == clinic.CodeNotFound {
		return r, triageSession{}, notFound
	}
	if err != nil {
		return r, triageSession{}, err
	}
	if !t.now().Before(r.ExpiresAt) {
		return r, triageSession{}, notFound
	}
	var s triageSession
	if err := json.Unmarshal(r.Body, &s); err != nil {
		return r, s, fmt.Errorf("api.Triage: decode session %s: %w", id, err)
	}
	// A kiosk sees only its own sessions; another kiosk gets 404, not 403,
	// so session IDs cannot be probed.
	if subject, role := caller(c); role == RoleKiosk && s.Owner != subject {
		return r, triageSession{}, notFound
	}
	return r, s, nil
}

func (t *Triage) message(c echo.Context) error {
	id := c.Param("id")
	var a triage.Answer
	if err := Bind(c, &a); err != nil {
		return err
	}
	r, s, err := t.lookup(c, id)
	if err != nil {
		return err
	}
	turn, err := t.cfg.Engine.Answer(c.Request().Context(), s.State, a)
	if err != nil {
		return err
	}
	s.State = turn.State
	turn.State = triage.State{}
	s.Last = turn
	if err := t.save(c, &r, s, turn); err != nil {
		return err
	}
	return writeSSE(c, string(turn.Kind), turn)
}

// writeSSE writes one server-sent event and ends the stream.
func writeSSE(c echo.Context, event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("api.writeSSE: %w", err)
	}
	startSSE(c)
	_ = writeEvent(c.Response(), event, b) // a failed write: the client went away, nothing more to send
	return nil
}

func (t *Triage) get(c echo.Context) error {
	r, s, err := t.lookup(c, c.Param("id"))
	if err != nil {
		return err
	}
	if _, role := caller(c); role == RoleDoctor {
		// A doctor reading a kiosk session reads PHI: audited.
		if _, err := t.cfg.Store.AppendAudit(c.Request().Context(), AuditEntryFor(c, "triage.read", "triage:"+r.ID, nil)); err != nil {
			return fmt.Errorf("api.Triage: audit: %w", err)
		}
	}
	return c.JSON(http.StatusOK, t.response(r, s))
}
