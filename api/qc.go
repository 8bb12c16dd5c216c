package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/agents/qcreview"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/store"
)

// Record kinds of the QC feature.
const (
	qcResultKind = "qc_result" // one per scanned record, replaced on re-scan
	qcReviewKind = "qc_review" // one per reviewed finding; Subject is the result ID
)

// Bounds of the QC feature.
const (
	qcMaxScanBytes = 256 << 20 // one NDJSON scan body
	qcMaxListed    = 20000     // stored results read for a list or the statistics
	qcDefaultLimit = 200
	qcMaxNoteIDs   = 1000
)

// QCReviewer is what the QC routes need from the QC review agent
// (agents/qcreview.Reviewer implements it).
type QCReviewer interface {
	Review(ctx context.Context, rec *qc.Record) (qcreview.Review, error)
}

// QCConfig configures the QC feature.
type QCConfig struct {
	Engine *qc.Engine  // required
	Store  store.Store // required
	// Reload rebuilds the engine from the rule files (hospital override
	// edited); nil disables POST /v1/qc/rules/reload.
	Reload func(ctx context.Context) (*qc.Engine, error)
	// Reviewer gives content suggestions; nil disables
	// POST /v1/qc/results/:id/suggestions.
	Reviewer QCReviewer
	Logger   *slog.Logger
	Now      func() time.Time
}

// QC is the record QC feature: scans at signing and in batches, results
// stored as records of kind "qc_result", reviews of findings as "qc_review"
// feeding per-rule precision. It is safe for concurrent use.
type QC struct {
	cfg    QCConfig
	log    *slog.Logger
	now    func() time.Time
	engine atomic.Pointer[qc.Engine]
}

// NewQC returns the QC feature.
func NewQC(cfg QCConfig) (*QC, error) {
	if cfg.Engine == nil || cfg.Store == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "api.NewQC: Engine and Store are required")
	}
	q := &QC{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.now == nil {
		q.now = time.Now
	}
	q.engine.Store(cfg.Engine)
	return q, nil
}

// QCFinding is a rule finding with its stable ID and review verdict.
type QCFinding struct {
	ID string `json:"id"`
	clinic.Finding
	// Verdict is "confirm" or "reject" once QC staff reviewed it.
	Verdict    string    `json:"verdict,omitempty"`
	ReviewedBy string    `json:"reviewed_by,omitempty"`
	ReviewedAt time.Time `json:"reviewed_at,omitzero"`
}

// QCResult is the stored outcome of scanning one record.
type QCResult struct {
	ID         string          `json:"id"`
	RecordID   string          `json:"record_id"`
	NoteID     string          `json:"note_id,omitempty"`
	Source     string          `json:"source"` // sign | note | batch | rescan
	Type       clinic.NoteType `json:"type"`
	Department string          `json:"department,omitempty"`
	Score      float64         `json:"score"`
	Grade      qc.Grade        `json:"grade"`
	Veto       bool            `json:"veto,omitempty"`
	Findings   []QCFinding     `json:"findings"`
	// Record is the scanned text, which finding locations point into.
	Record      qc.Record        `json:"record"`
	Suggestions *qcreview.Review `json:"suggestions,omitempty"`
	ScannedAt   time.Time        `json:"scanned_at"`
}

// QCResultSummary is a list row.
type QCResultSummary struct {
	ID         string          `json:"id"`
	RecordID   string          `json:"record_id"`
	Source     string          `json:"source"`
	Type       clinic.NoteType `json:"type"`
	Department string          `json:"department,omitempty"`
	Score      float64         `json:"score"`
	Grade      qc.Grade        `json:"grade"`
	Veto       bool            `json:"veto,omitempty"`
	Defects    int             `json:"defects"`
	Rules      []clinic.RuleID `json:"rules"`
	ScannedAt  time.Time       `json:"scanned_at"`
}

// QCResultList is the answer of GET /v1/qc/results.
type QCResultList struct {
	Results []QCResultSummary `json:"results"`
	// Grades counts all matching results by grade (before the limit).
	Grades map[qc.Grade]int `json:"grades"`
	Total  int              `json:"total"`
}

// QCScanRequest is the JSON form of POST /v1/qc/scans: signed notes to
// score, or every stored result to re-score with the current rules. The
// NDJSON form (Content-Type application/x-ndjson) sends Yizhu QC JSONL
// records instead.
type QCScanRequest struct {
	NoteIDs []string `json:"note_ids,omitempty" validate:"max=1000,dive,required,max=128"`
	Rescan  bool     `json:"rescan,omitempty"`
}

// QCScanLine is one line of the NDJSON answer of POST /v1/qc/scans.
type QCScanLine struct {
	ResultID string           `json:"result_id,omitempty"`
	RecordID string           `json:"record_id,omitempty"`
	Score    float64          `json:"score"`
	Grade    qc.Grade         `json:"grade,omitempty"`
	Veto     bool             `json:"veto,omitempty"`
	Findings []clinic.Finding `json:"findings,omitempty"`
	// Line and Error report an input record that could not be scanned.
	Line  int    `json:"line,omitempty"`
	Error string `json:"error,omitempty"`
}

// QCReviewRequest marks a finding as confirmed or rejected.
type QCReviewRequest struct {
	Verdict string `json:"verdict" validate:"required,oneof=confirm reject"`
	Comment string `json:"comment,omitempty" validate:"max=1000"`
}

// QCReview is a stored review of one finding.
type QCReview struct {
	FindingID  string        `json:"finding_id"`
	ResultID   string        `json:"result_id"`
	RuleID     clinic.RuleID `json:"rule_id"`
	Verdict    string        `json:"verdict"`
	Comment    string        `json:"comment,omitempty"`
	ReviewedBy string        `json:"reviewed_by"`
	ReviewedAt time.Time     `json:"reviewed_at"`
}

// QCRuleStat is the precision of one rule as judged by QC staff.
type QCRuleStat struct {
	RuleID    clinic.RuleID `json:"rule_id"`
	Title     string        `json:"title"`
	Kind      string        `json:"kind"`
	Source    string        `json:"source"`
	Enabled   bool          `json:"enabled"`
	Findings  int           `json:"findings"` // in stored results
	Confirmed int           `json:"confirmed"`
	Rejected  int           `json:"rejected"`
	// Precision is confirmed / (confirmed + rejected); absent before any review.
	Precision *float64 `json:"precision,omitempty"`
}

// QCRuleStats is the answer of GET /v1/qc/rules/stats.
type QCRuleStats struct {
	Rules []QCRuleStat `json:"rules"`
	// Problems are rules left out of the engine (bad override entries).
	Problems []string `json:"problems,omitempty"`
}

// QCReloadResponse is the answer of POST /v1/qc/rules/reload.
type QCReloadResponse struct {
	Rules    int      `json:"rules"`
	Problems []string `json:"problems,omitempty"`
}

var (
	qcStaff   = []Role{RoleQC, RoleAdmin}
	qcReaders = []Role{RoleQC, RoleAdmin, RoleDoctor}
)

// Routes lists the QC endpoints.
func (q *QC) Routes() []Route {
	return []Route{
		{Method: "POST", Path: "/v1/qc/scans", Roles: qcStaff, Handler: q.scan, Tag: "qc", Stream: true, OK: http.StatusOK,
			Summary: "Scan records and stream one NDJSON result per record: a body of Yizhu QC JSONL records (Content-Type application/x-ndjson), or JSON {note_ids} for signed notes, or JSON {rescan: true} to re-score every stored result with the current rules.",
			Request: QCScanRequest{}, Response: QCScanLine{}, ContentType: "application/x-ndjson", BodyLimit: qcMaxScanBytes},
		{Method: "GET", Path: "/v1/qc/results", Roles: qcReaders, Handler: q.list, Tag: "qc",
			Summary: "Stored QC results, newest first, filtered by grade, department and rule.", Response: QCResultList{},
			Query: map[string]string{"grade": "甲, 乙 or 丙", "department": "department", "rule": "rule ID that fired", "limit": "maximum rows (default 200)"}},
		{Method: "GET", Path: "/v1/qc/results/:id", Roles: qcReaders, Handler: q.get, Tag: "qc",
			Summary: "One QC result with the record text, findings and their reviews (audited PHI access).", Response: QCResult{}},
		{Method: "POST", Path: "/v1/qc/results/:id/suggestions", Roles: qcStaff, Handler: q.suggest, Tag: "qc", OK: http.StatusOK,
			Summary: "Run the QC review agent on the record: content suggestions citing guidelines; the rule score is unchanged.", Response: qcreview.Review{}},
		{Method: "POST", Path: "/v1/qc/findings/:id/review", Roles: qcStaff, Handler: q.review, Tag: "qc", OK: http.StatusOK,
			Summary: "Confirm or reject a rule finding; feeds the rule precision statistics.", Request: QCReviewRequest{}, Response: QCReview{}},
		{Method: "GET", Path: "/v1/qc/rules/stats", Roles: qcReaders, Handler: q.stats, Tag: "qc",
			Summary: "Per-rule findings and precision from QC staff reviews.", Response: QCRuleStats{}},
		{Method: "POST", Path: "/v1/qc/rules/reload", Roles: admins, Handler: q.reload, Tag: "qc", OK: http.StatusOK,
			Summary: "Reload the rules (hospital override); bad rules are reported and left out. Re-scan with POST /v1/qc/scans {rescan: true}.", Response: QCReloadResponse{}},
	}
}

// Engine returns the engine in use.
func (q *QC) Engine() *qc.Engine { return q.engine.Load() }

// SignHook scores a note as it is signed and stores the result in the
// signing transaction. A note QC cannot read (an unknown type) is reported
// as skipped rather than blocking the signature; a store failure aborts it.
func (q *QC) SignHook() SignHook {
	return SignHook{Name: "qc", Run: func(ctx context.Context, tx store.Store, n clinic.Note) (any, error) {
		res, err := q.scoreNote(ctx, tx, n, "sign")
		if clinic.ErrorCode(err) == clinic.CodeInvalid {
			return map[string]string{"skipped": err.Error()}, nil
		}
		if err != nil {
			return nil, err
		}
		return summaryOf(res), nil
	}}
}

// ResultID is the stored result ID of a record ID.
func ResultID(recordID string) string {
	h := sha256.Sum256([]byte(recordID))
	return "qc-" + hex.EncodeToString(h[:10])
}

func findingID(resultID string, f clinic.Finding, seen map[string]int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d|%d", f.RuleID, f.Location.Section, f.Location.Start, f.Location.End))
	id := resultID + "-" + hex.EncodeToString(h[:4])
	seen[id]++
	if n := seen[id]; n > 1 {
		id += "-" + strconv.Itoa(n)
	}
	return id
}

// score scans rec with the current engine and builds the stored result.
func (q *QC) score(ctx context.Context, rec *qc.Record, source string) (QCResult, error) {
	r, err := q.Engine().Scan(ctx, rec)
	if err != nil {
		return QCResult{}, err
	}
	out := QCResult{ID: ResultID(rec.ID), RecordID: rec.ID, Source: source, Type: rec.Type, Department: rec.Department,
		Score: r.Score, Grade: r.Grade, Veto: r.Veto, Record: *rec, ScannedAt: q.now().UTC()}
	out.Record.Defects = nil
	seen := map[string]int{}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, QCFinding{ID: findingID(out.ID, f, seen), Finding: f})
	}
	if out.Findings == nil {
		out.Findings = []QCFinding{}
	}
	return out, nil
}

// put stores res, replacing an earlier scan of the same record (keeping
// its agent suggestions only if the record text is unchanged).
func (q *QC) put(ctx context.Context, st store.Store, res *QCResult) error {
	r := store.Record{Kind: qcResultKind, ID: res.ID, Subject: res.Department}
	old, err := st.Record(ctx, qcResultKind, res.ID)
	switch {
	case err == nil:
		r.Version = old.Version
	case clinic.ErrorCode(err) != clinic.CodeNotFound:
		return err
	}
	body, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("api.QC: encode result: %w", err)
	}
	r.Body = body
	return st.PutRecord(ctx, &r)
}

func (q *QC) scoreNote(ctx context.Context, st store.Store, n clinic.Note, source string) (QCResult, error) {
	nc := qc.NoteContext{
		// A doctor token signs as a registered physician; the professional
		// title is not known to the service, so the lowest qualified one
		// (住院医师) is assumed.
		SignerRole: qc.RoleResident,
	}
	if n.EncounterID != "" {
		enc, err := st.Encounter(ctx, n.EncounterID)
		switch {
		case err == nil:
			nc.Department, nc.Events = enc.Department, enc.Events
		case clinic.ErrorCode(err) != clinic.CodeNotFound:
			return QCResult{}, err
		}
	}
	rec := qc.FromNote(n, nc)
	res, err := q.score(ctx, &rec, source)
	if err != nil {
		return QCResult{}, err
	}
	res.NoteID = n.ID
	if err := q.put(ctx, st, &res); err != nil {
		return QCResult{}, err
	}
	return res, nil
}

func summaryOf(r QCResult) QCResultSummary {
	s := QCResultSummary{ID: r.ID, RecordID: r.RecordID, Source: r.Source, Type: r.Type, Department: r.Department,
		Score: r.Score, Grade: r.Grade, Veto: r.Veto, ScannedAt: r.ScannedAt, Rules: []clinic.RuleID{}}
	for _, f := range r.Findings {
		if qc.IsDefect(f.Finding) {
			s.Defects++
			if !slices.Contains(s.Rules, f.RuleID) {
				s.Rules = append(s.Rules, f.RuleID)
			}
		}
	}
	return s
}

func lineOf(r QCResult) QCScanLine {
	l := QCScanLine{ResultID: r.ID, RecordID: r.RecordID, Score: r.Score, Grade: r.Grade, Veto: r.Veto}
	for _, f := range r.Findings {
		l.Findings = append(l.Findings, f.Finding)
	}
	return l
}

// ndjsonWriter writes one JSON value per line and flushes it.
type ndjsonWriter struct {
	c       echo.Context
	enc     *json.Encoder
	started bool
	gone    bool
}

func (w *ndjsonWriter) write(v any) {
	if w.gone {
		return
	}
	if !w.started {
		h := w.c.Response().Header()
		h.Set(echo.HeaderContentType, "application/x-ndjson; charset=utf-8")
		h.Set(echo.HeaderCacheControl, "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.c.Response().WriteHeader(http.StatusOK)
		w.enc = json.NewEncoder(w.c.Response())
		w.enc.SetEscapeHTML(false)
		w.started = true
	}
	if err := w.enc.Encode(v); err != nil {
		w.gone = true // the client went away
		return
	}
	w.c.Response().Flush()
}

func (q *QC) scan(c echo.Context) error {
	ctx := c.Request().Context()
	ct := c.Request().Header.Get(echo.HeaderContentType)
	w := &ndjsonWriter{c: c}
	var scanned int
	if strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		var req QCScanRequest
		if err := Bind(c, &req); err != nil {
			return err
		}
		if (len(req.NoteIDs) == 0) == !req.Rescan {
			return clinic.NewError(clinic.CodeInvalid, "body", "give note_ids or rescan: true (not both)", "请提供 note_ids 或 rescan: true（二选一）")
		}
		var err error
		if req.Rescan {
			scanned, err = q.rescan(ctx, w)
		} else {
			scanned, err = q.scanNotes(ctx, w, req.NoteIDs)
		}
		if err != nil && !w.started {
			return err
		}
	} else {
		var err error
		if scanned, err = q.scanNDJSON(ctx, c.Request().Body, w); err != nil && !w.started {
			return err
		}
	}
	if !w.started {
		w.write(QCScanLine{Error: "no records / 没有记录"})
	}
	q.log.InfoContext(ctx, "qc scan", "records", scanned)
	_, _ = q.cfg.Store.AppendAudit(ctx, AuditEntryFor(c, "qc.scan", "qc", map[string]any{"records": scanned}))
	return nil
}

func (q *QC) scanNDJSON(ctx context.Context, body io.Reader, w *ndjsonWriter) (int, error) {
	rd := qc.NewReader(body, "body", 0)
	n := 0
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if le, ok := errors.AsType[*qc.LineError](err); ok {
			w.write(QCScanLine{Line: le.Line, Error: le.Err.Error()})
			if _, tooBig := errors.AsType[*echo.HTTPError](le.Err); tooBig {
				return n, le.Err
			}
			continue
		}
		if err != nil {
			w.write(QCScanLine{Error: err.Error()})
			return n, err
		}
		res, err := q.score(ctx, rec, "batch")
		if err == nil {
			err = q.put(ctx, q.cfg.Store, &res)
		}
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			w.write(QCScanLine{RecordID: rec.ID, Line: rd.Line(), Error: err.Error()})
			continue
		}
		n++
		w.write(lineOf(res))
	}
}

func (q *QC) scanNotes(ctx context.Context, w *ndjsonWriter, ids []string) (int, error) {
	n := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		note, err := q.cfg.Store.Note(ctx, id)
		var res QCResult
		if err == nil {
			res, err = q.scoreNote(ctx, q.cfg.Store, note, "note")
		}
		if err != nil {
			w.write(QCScanLine{RecordID: id, Error: err.Error()})
			continue
		}
		n++
		w.write(lineOf(res))
	}
	return n, nil
}

// rescan re-scores every stored result with the current engine.
func (q *QC) rescan(ctx context.Context, w *ndjsonWriter) (int, error) {
	rs, err := q.cfg.Store.ListRecords(ctx, store.RecordFilter{Kind: qcResultKind, Limit: qcMaxListed})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var old QCResult
		if err := json.Unmarshal(r.Body, &old); err != nil {
			w.write(QCScanLine{ResultID: r.ID, Error: "stored result unreadable: " + err.Error()})
			continue
		}
		res, err := q.score(ctx, &old.Record, old.Source)
		if err == nil {
			res.NoteID, res.Suggestions = old.NoteID, old.Suggestions
			err = q.put(ctx, q.cfg.Store, &res)
		}
		if err != nil {
			w.write(QCScanLine{ResultID: r.ID, RecordID: old.RecordID, Error: err.Error()})
			continue
		}
		n++
		w.write(lineOf(res))
	}
	return n, nil
}

func (q *QC) load(ctx context.Context, id string) (store.Record, QCResult, error) {
	res, r, err := loadJSON[QCResult](ctx, q.cfg.Store, qcResultKind, id, "no such QC result", "质控结果不存在")
	return r, res, err
}

func (q *QC) list(c echo.Context) error {
	ctx := c.Request().Context()
	grade, dept, rule := qc.Grade(c.QueryParam("grade")), c.QueryParam("department"), clinic.RuleID(c.QueryParam("rule"))
	switch grade {
	case "", qc.GradeA, qc.GradeB, qc.GradeC:
	default:
		return clinic.NewError(clinic.CodeInvalid, "grade", "grade must be 甲, 乙 or 丙", "等级应为 甲、乙 或 丙")
	}
	limit := qcDefaultLimit
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > qcMaxListed {
			return clinic.NewError(clinic.CodeInvalid, "limit", fmt.Sprintf("limit must be 1..%d", qcMaxListed), fmt.Sprintf("limit 应为 1..%d", qcMaxListed))
		}
		limit = n
	}
	rs, err := q.cfg.Store.ListRecords(ctx, store.RecordFilter{Kind: qcResultKind, Subject: dept, Limit: qcMaxListed})
	if err != nil {
		return err
	}
	out := QCResultList{Results: []QCResultSummary{}, Grades: map[qc.Grade]int{}}
	var rows []QCResultSummary
	for _, r := range rs {
		var res QCResult
		if err := json.Unmarshal(r.Body, &res); err != nil {
			q.log.WarnContext(ctx, "qc: unreadable stored result", "id", r.ID, "err", err)
			continue
		}
		s := summaryOf(res)
		if rule != "" && !slices.Contains(s.Rules, rule) {
			continue
		}
		if grade != "" && s.Grade != grade {
			continue
		}
		out.Grades[s.Grade]++
		rows = append(rows, s)
	}
	out.Total = len(rows)
	slices.SortStableFunc(rows, func(a, b QCResultSummary) int { return b.ScannedAt.Compare(a.ScannedAt) })
	out.Results = append(out.Results, rows[:min(limit, len(rows))]...)
	return c.JSON(http.StatusOK, out)
}

// withReviews fills the verdicts of res's findings.
func (q *QC) withReviews(ctx context.Context, res *QCResult) error {
	rs, err := q.cfg.Store.ListRecords(ctx, store.RecordFilter{Kind: qcReviewKind, Subject: res.ID})
	if err != nil {
		return err
	}
	by := map[string]QCReview{}
	for _, r := range rs {
		var rv QCReview
		if json.Unmarshal(r.Body, &rv) == nil {
			by[rv.FindingID] = rv
		}
	}
	for i := range res.Findings {
		if rv, ok := by[res.Findings[i].ID]; ok {
			res.Findings[i].Verdict, res.Findings[i].ReviewedBy, res.Findings[i].ReviewedAt = rv.Verdict, rv.ReviewedBy, rv.ReviewedAt
		}
	}
	return nil
}

func (q *QC) get(c echo.Context) error {
	ctx := c.Request().Context()
	_, res, err := q.load(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := q.withReviews(ctx, &res); err != nil {
		return err
	}
	if _, err := q.cfg.Store.AppendAudit(ctx, AuditEntryFor(c, "phi.read", "qc:"+res.ID, map[string]any{"what": "qc_result", "record_id": res.RecordID})); err != nil {
		return fmt.Errorf("api.QC: audit: %w", err)
	}
	return c.JSON(http.StatusOK, res)
}

func (q *QC) suggest(c echo.Context) error {
	if q.cfg.Reviewer == nil {
		return clinic.NewError(clinic.CodeUnavailable, "", "the QC review agent is not configured", "未配置质控审查助手")
	}
	ctx := c.Request().Context()
	_, res, err := q.load(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	rv, err := q.cfg.Reviewer.Review(ctx, &res.Record)
	if err != nil {
		return err
	}
	err = q.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		r, cur, err := q.loadTx(ctx, tx, res.ID)
		if err != nil {
			return err
		}
		cur.Suggestions = &rv
		body, err := json.Marshal(cur)
		if err != nil {
			return fmt.Errorf("api.QC: encode result: %w", err)
		}
		r.Body = body
		if err := tx.PutRecord(ctx, &r); err != nil {
			return err
		}
		detail := map[string]any{"engine": rv.Engine, "fallback": rv.Fallback, "findings": len(rv.Findings)}
		if rv.Model != "" {
			detail["model"], detail["prompt"] = rv.Model, rv.Prompt
		}
		if rv.FallbackReason != "" {
			detail["reason"] = rv.FallbackReason
		}
		_, err = tx.AppendAudit(ctx, AuditEntryFor(c, "qc.suggest", "qc:"+res.ID, detail))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rv)
}

func (q *QC) loadTx(ctx context.Context, tx store.Store, id string) (store.Record, QCResult, error) {
	res, r, err := loadJSON[QCResult](ctx, tx, qcResultKind, id, "", "")
	return r, res, err
}

func (q *QC) review(c echo.Context) error {
	var req QCReviewRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	fid := c.Param("id")
	resultID, _, ok := strings.Cut(strings.TrimPrefix(fid, "qc-"), "-")
	notFound := clinic.NewError(clinic.CodeNotFound, "id", "no such finding", "缺陷不存在")
	if !ok {
		return notFound
	}
	resultID = "qc-" + resultID
	ctx := c.Request().Context()
	_, res, err := q.load(ctx, resultID)
	if clinic.ErrorCode(err) == clinic.CodeNotFound {
		return notFound
	}
	if err != nil {
		return err
	}
	i := slices.IndexFunc(res.Findings, func(f QCFinding) bool { return f.ID == fid })
	if i < 0 {
		return notFound
	}
	f := res.Findings[i]
	if f.Suggestion || f.Title == qc.EngineErrorTitle {
		return clinic.NewError(clinic.CodeInvalid, "id", "only rule findings are reviewed", "只能审核规则缺陷")
	}
	rv := QCReview{FindingID: fid, ResultID: resultID, RuleID: f.RuleID, Verdict: req.Verdict, Comment: req.Comment,
		ReviewedBy: ClaimsFrom(c).Subject(), ReviewedAt: q.now().UTC()}
	body, err := json.Marshal(rv)
	if err != nil {
		return fmt.Errorf("api.QC: encode review: %w", err)
	}
	err = q.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		r := store.Record{Kind: qcReviewKind, ID: fid, Subject: resultID, Body: body}
		old, err := tx.Record(ctx, qcReviewKind, fid)
		switch {
		case err == nil:
			r.Version = old.Version
		case clinic.ErrorCode(err) != clinic.CodeNotFound:
			return err
		}
		if err := tx.PutRecord(ctx, &r); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, AuditEntryFor(c, "qc.review", "qc:"+resultID, map[string]any{"finding_id": fid, "rule_id": string(f.RuleID), "verdict": req.Verdict}))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rv)
}

func (q *QC) stats(c echo.Context) error {
	ctx := c.Request().Context()
	e := q.Engine()
	byID := map[clinic.RuleID]*QCRuleStat{}
	out := QCRuleStats{Rules: []QCRuleStat{}}
	rules := e.Rules()
	stats := make([]QCRuleStat, len(rules))
	for i, r := range rules {
		stats[i] = QCRuleStat{RuleID: r.ID, Title: r.TitleZH + " / " + r.TitleEN, Kind: r.Check.Kind, Source: r.Source, Enabled: r.IsEnabled()}
		byID[r.ID] = &stats[i]
	}
	results, err := q.cfg.Store.ListRecords(ctx, store.RecordFilter{Kind: qcResultKind, Limit: qcMaxListed})
	if err != nil {
		return err
	}
	for _, r := range results {
		var res QCResult
		if json.Unmarshal(r.Body, &res) != nil {
			continue
		}
		for _, f := range res.Findings {
			if s, ok := byID[f.RuleID]; ok && qc.IsDefect(f.Finding) {
				s.Findings++
			}
		}
	}
	reviews, err := q.cfg.Store.ListRecords(ctx, store.RecordFilter{Kind: qcReviewKind, Limit: qcMaxListed})
	if err != nil {
		return err
	}
	for _, r := range reviews {
		var rv QCReview
		if json.Unmarshal(r.Body, &rv) != nil {
			continue
		}
		s, ok := byID[rv.RuleID]
		if !ok {
			continue
		}
		if rv.Verdict == "confirm" {
			s.Confirmed++
		} else {
			s.Rejected++
		}
	}
	for i := range stats {
		if n := stats[i].Confirmed + stats[i].Rejected; n > 0 {
			p := float64(stats[i].Confirmed) / float64(n)
			stats[i].Precision = &p
		}
	}
	out.Rules = stats
	for _, p := range e.Problems() {
		out.Problems = append(out.Problems, p.Error())
	}
	return c.JSON(http.StatusOK, out)
}

func (q *QC) reload(c echo.Context) error {
	if q.cfg.Reload == nil {
		return clinic.NewError(clinic.CodeUnavailable, "", "rule reloading is not configured", "未配置规则重新加载")
	}
	ctx := c.Request().Context()
	e, err := q.cfg.Reload(ctx)
	if err != nil {
		return err
	}
	q.engine.Store(e)
	out := QCReloadResponse{Rules: len(e.Rules())}
	for _, p := range e.Problems() {
		out.Problems = append(out.Problems, p.Error())
	}
	if _, err := q.cfg.Store.AppendAudit(ctx, AuditEntryFor(c, "qc.rules.reload", "qc", map[string]any{"rules": out.Rules, "problems": len(out.Problems)})); err != nil {
		return fmt.Errorf("api.QC: audit: %w", err)
	}
	return c.JSON(http.StatusOK, out)
}
