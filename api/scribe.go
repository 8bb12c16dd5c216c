package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/prompts"
	"github.com/yizhu-health/yizhu/store"
)

// ScribeEngine is what the drafting routes need from the scribe agent
// (agents/scribe.Engine implements it).
type ScribeEngine interface {
	Draft(ctx context.Context, in scribe.Input, opts ...scribe.Option) (scribe.Draft, error)
}

// ScribeConfig configures the record-drafting feature.
type ScribeConfig struct {
	Engine ScribeEngine // required
	// Store holds the encounters, dialogues, triage sessions and notes the
	// drafts are made from and saved to. Required.
	Store  store.Store
	Logger *slog.Logger
	// Now is the clock that decides whether a triage summary has passed
	// its retention (default time.Now).
	Now func() time.Time
}

// Scribe is the record-drafting feature: drafts a note from an
// encounter's dialogue, its triage summary and attached results (streamed
// as server-sent events), exports notes as FHIR R4 and Markdown/plain text,
// and measures how much the doctor changed the AI draft before signing
// (see SignHook). It is safe for concurrent use.
type Scribe struct {
	cfg ScribeConfig
	log *slog.Logger
}

// NewScribe returns the record-drafting feature.
func NewScribe(cfg ScribeConfig) (*Scribe, error) {
	if cfg.Engine == nil || cfg.Store == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "api.NewScribe: Engine and Store are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Scribe{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Record kinds of the feature.
const (
	// scribeDraftKind holds what a draft was made from (DraftInfo), under
	// the note ID with the encounter as subject.
	scribeDraftKind = "scribe_draft"
)

// maxDraftBody bounds a draft request: up to scribe.MaxDataItems attached
// results.
const maxDraftBody = 4 << 20

// isScribeAuthor reports whether a note version was written by the scribe
// agent (either engine).
func isScribeAuthor(author string) bool {
	return author == scribe.AuthorEmbedded || author == scribe.AuthorLLM
}

// ScribeAuthor is the author of drafts from the built-in scribe engine.
const ScribeAuthor = scribe.AuthorEmbedded

// DraftRequest asks the scribe agent for a draft of one note.
type DraftRequest struct {
	Type clinic.NoteType `json:"type" validate:"required,oneof=outpatient admission first_course progress discharge"`
	// Language is "zh" (Chinese record) or "en" (English SOAP note); empty
	// detects it from the dialogue.
	Language string `json:"language,omitempty" validate:"omitempty,oneof=zh en"`
	// TriageSessionID links the kiosk session whose pre-consultation
	// summary the draft starts from; the session must be finished.
	TriageSessionID string `json:"triage_session_id,omitempty" validate:"omitempty,max=64,alphanum"`
	// Data holds attached results (ECG reports, labs, …) that statements
	// may cite by ID.
	Data []scribe.DataItem `json:"data,omitempty" validate:"max=500,dive"`
}

// DraftInfo is what a stored draft was made from and how: returned by
// GET /v1/notes/{id}/draft, and with the note as the last SSE event of a
// draft request.
type DraftInfo struct {
	NoteID          string            `json:"note_id"`
	EncounterID     string            `json:"encounter_id"`
	Language        string            `json:"language"`
	Outcome         agents.Outcome    `json:"outcome"`
	Model           string            `json:"model,omitempty"`
	Prompts         []prompts.Meta    `json:"prompts,omitempty"`
	Problems        []scribe.Problem  `json:"problems"`
	TriageSessionID string            `json:"triage_session_id,omitempty"`
	Summary         *triage.Summary   `json:"summary,omitempty"`
	Data            []scribe.DataItem `json:"data,omitempty"`
	Utterances      int               `json:"utterances"`
}

// DraftResponse is the final SSE event of a draft request (event "draft"):
// the stored note (status draft, version 1) and what it was made from.
type DraftResponse struct {
	Note clinic.Note `json:"note"`
	DraftInfo
}

// ScribeDiffResponse is the AI-draft-versus-signed measure of a note.
// Stored is true once the note is signed (the diff recorded at signing);
// before that it compares the draft with the latest version.
type ScribeDiffResponse struct {
	Stored bool `json:"stored"`
	NoteDiff
}

// DraftProgressEvent documents the SSE events of a draft request (for the
// OpenAPI document): any number of "progress" events, then exactly one
// "draft" (a DraftResponse) or "error" (an ErrorBody) event.
type DraftProgressEvent struct {
	Event    string          `json:"event" validate:"oneof=progress draft error"`
	Progress scribe.Progress `json:"progress"`
}

// Routes lists the record-drafting endpoints.
func (s *Scribe) Routes() []Route {
	return []Route{
		{Method: "POST", Path: "/v1/encounters/:id/drafts", Roles: doctors, Handler: s.draft, Tag: "notes",
			Summary: "Draft a note from the encounter's dialogue, triage summary and attached results; streams SSE " +
				"\"progress\" events and ends with one \"draft\" event (the stored draft note) or an \"error\" event.",
			Request: DraftRequest{}, Response: DraftProgressEvent{}, Stream: true, ContentType: "text/event-stream",
			BodyLimit: maxDraftBody},
		{Method: "GET", Path: "/v1/notes/:id/draft", Roles: clinicalReaders, Handler: s.draftInfo, Tag: "notes",
			Summary:  "What an AI draft was made from: triage summary, attached results, verifier problems, engine (audited PHI access).",
			Response: DraftInfo{}},
		{Method: "GET", Path: "/v1/notes/:id/fhir", Roles: clinicalReaders, Handler: s.fhir, Tag: "notes",
			Summary:     "The note as a FHIR R4 Composition (status preliminary for a draft, final once signed).",
			ContentType: "application/fhir+json",
			Query:       map[string]string{"version": "a note version (default the latest)"}},
		{Method: "GET", Path: "/v1/notes/:id/export", Roles: clinicalReaders, Handler: s.export, Tag: "notes",
			Summary:     "The note as Markdown (format=md, default) or plain text (format=txt); unsupported statements are marked.",
			ContentType: "text/markdown",
			Query:       map[string]string{"format": "md or txt", "version": "a note version (default the latest)"}},
		{Method: "GET", Path: "/v1/notes/:id/diff", Roles: clinicalReaders, Handler: s.diff, Tag: "notes",
			Summary:  "Per-section edit distance between the AI draft and the signed text (the latest version while unsigned).",
			Response: ScribeDiffResponse{}},
	}
}

// sseStream writes server-sent events, starting the response on the
// first event so that errors before it are ordinary JSON errors.
type sseStream struct {
	c       echo.Context
	started bool
	gone    bool // the client went away
}

func (w *sseStream) event(name string, v any) {
	if w.gone {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(ErrorBody{Error: ErrorDetail{Code: clinic.CodeInternal, Message: "internal error", MessageZH: "内部错误"}})
		name = "error"
	}
	if !w.started {
		startSSE(w.c)
		w.started = true
	}
	if err := writeEvent(w.c.Response(), name, b); err != nil {
		w.gone = true
	}
}

// fail ends the request with err: a JSON error before the stream started,
// an "error" event after.
func (w *sseStream) fail(err error) error {
	if !w.started {
		return err
	}
	_, body := errorResponse(err)
	body.RequestID = w.c.Response().Header().Get(echo.HeaderXRequestID)
	w.event("error", body)
	return nil
}

func (s *Scribe) draft(c echo.Context) error {
	var req DraftRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	encID := c.Param("id")
	in, summary, err := s.input(c, encID, req)
	if err != nil {
		return err
	}
	w := &sseStream{c: c}
	d, err := s.cfg.Engine.Draft(ctx, in, scribe.WithProgress(func(p scribe.Progress) { w.event("progress", p) }))
	if err != nil {
		if code := clinic.ErrorCode(err); code == clinic.CodeInternal || code == clinic.CodeUnavailable {
			s.log.ErrorContext(ctx, "scribe draft failed", "encounter_id", encID, "err", err)
		}
		return w.fail(err)
	}
	n := d.Note
	n.ID, n.Version, n.EncounterID, n.Status = "", 0, encID, clinic.NoteDraft
	if !isScribeAuthor(n.Author) {
		n.Author = ScribeAuthor
	}
	info := DraftInfo{EncounterID: encID, Language: d.Language, Outcome: d.Outcome, Model: d.Model,
		Prompts: d.Prompts, Problems: d.Problems, TriageSessionID: req.TriageSessionID, Summary: summary,
		Data: req.Data, Utterances: len(in.Utterances)}
	if info.Problems == nil {
		info.Problems = []scribe.Problem{}
	}
	w.event("progress", scribe.Progress{Stage: "save", Done: 0, Total: 1})
	err = s.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		if err := tx.CreateNote(ctx, &n); err != nil {
			return err
		}
		info.NoteID = n.ID
		body, err := json.Marshal(info)
		if err != nil {
			return fmt.Errorf("api.Scribe: encode draft info: %w", err)
		}
		if err := tx.PutRecord(ctx, &store.Record{Kind: scribeDraftKind, ID: n.ID, Subject: encID, Body: body}); err != nil {
			return err
		}
		return s.auditDraft(ctx, tx, c, n, d, info)
	})
	if err != nil {
		s.log.ErrorContext(ctx, "scribe draft not saved", "encounter_id", encID, "err", err)
		return w.fail(err)
	}
	s.log.InfoContext(ctx, "scribe draft saved", "note_id", n.ID, "encounter_id", encID, "type", string(n.Type),
		"author", n.Author, "fallback", n.Fallback, "problems", len(info.Problems))
	w.event("draft", DraftResponse{Note: n, DraftInfo: info})
	return nil
}

// auditDraft records the AI output: which engine, model and prompts, the
// fallback, and counts — never patient text.
func (s *Scribe) auditDraft(ctx context.Context, a store.Audit, c echo.Context, n clinic.Note, d scribe.Draft, info DraftInfo) error {
	statements, unsupported := 0, 0
	for _, sec := range n.Sections {
		for _, st := range sec.Statements {
			statements++
			if st.Unsupported {
				unsupported++
			}
		}
	}
	engine := "embedded"
	if n.Author == scribe.AuthorLLM {
		engine = "llm"
	}
	detail := map[string]any{"version": n.Version, "encounter_id": n.EncounterID, "type": string(n.Type),
		"author": n.Author, "engine": engine, "language": info.Language, "fallback": n.Fallback,
		"statements": statements, "unsupported": unsupported, "utterances": info.Utterances, "data_items": len(info.Data)}
	if d.Outcome.Reason != "" {
		detail["outcome_reason"] = d.Outcome.Reason
	}
	if d.Model != "" {
		detail["model"] = d.Model
	}
	if len(d.Prompts) > 0 {
		detail["prompts"] = d.Prompts
	}
	if info.TriageSessionID != "" {
		detail["triage_session_id"] = info.TriageSessionID
	}
	if _, err := a.AppendAudit(ctx, AuditEntryFor(c, "note.draft", n.ID, detail)); err != nil {
		return fmt.Errorf("api.Scribe: audit draft: %w", err)
	}
	return nil
}

// input gathers what a draft is made from: the encounter, its dialogue,
// earlier notes, the linked triage summary and the attached results.
func (s *Scribe) input(c echo.Context, encID string, req DraftRequest) (scribe.Input, *triage.Summary, error) {
	ctx := c.Request().Context()
	enc, err := s.cfg.Store.Encounter(ctx, encID)
	if err != nil {
		return scribe.Input{}, nil, err
	}
	in := scribe.Input{Encounter: enc, Type: req.Type, Language: req.Language, Data: req.Data}
	var summary *triage.Summary
	if in.Utterances, err = s.cfg.Store.Utterances(ctx, encID); err != nil {
		return in, nil, err
	}
	if len(in.Utterances) > scribe.MaxUtterances {
		return in, nil, clinic.NewError(clinic.CodeTooLarge, "utterances",
			fmt.Sprintf("the dialogue has %d turns; at most %d can be drafted from", len(in.Utterances), scribe.MaxUtterances),
			fmt.Sprintf("对话共 %d 轮，超过可草拟的上限 %d 轮", len(in.Utterances), scribe.MaxUtterances))
	}
	if req.Type != clinic.NoteOutpatient {
		// Inpatient documents build on the earlier notes; only signed ones
		// are facts a draft may cite, not other AI drafts.
		notes, err := s.cfg.Store.NotesByEncounter(ctx, encID)
		if err != nil {
			return in, nil, err
		}
		for _, n := range notes {
			if n.Status == clinic.NoteSigned {
				in.Prior = append(in.Prior, n)
			}
		}
		if len(in.Prior) > scribe.MaxPriorNotes {
			in.Prior = in.Prior[len(in.Prior)-scribe.MaxPriorNotes:] // the most recent
		}
	}
	if req.TriageSessionID != "" {
		sum, err := s.triageSummary(c, req.TriageSessionID)
		if err != nil {
			return in, nil, err
		}
		// The engine reads the summary's JSON shape (agents/triage.Summary),
		// whatever Go type it declares for it.
		raw, err := json.Marshal(sum)
		if err != nil {
			return in, nil, fmt.Errorf("api.Scribe: encode triage summary: %w", err)
		}
		if err := json.Unmarshal(raw, &in.Summary); err != nil {
			return in, nil, fmt.Errorf("api.Scribe: triage summary for the engine: %w", err)
		}
		summary = sum
	}
	if err := s.audit(c, "phi.read", encID, map[string]any{"what": "draft_input", "utterances": len(in.Utterances)}); err != nil {
		return in, nil, err
	}
	return in, summary, nil
}

// triageSummary reads the pre-consultation summary of a finished kiosk
// session (a doctor's read of it is audited like GET /v1/triage/sessions).
func (s *Scribe) triageSummary(c echo.Context, id string) (*triage.Summary, error) {
	sum, err := finishedSummary(c.Request().Context(), s.cfg.Store, id, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	if err := s.audit(c, "triage.read", "triage:"+id, map[string]any{"for": "draft"}); err != nil {
		return nil, err
	}
	return sum, nil
}

func (s *Scribe) audit(c echo.Context, action, subject string, detail map[string]any) error {
	if _, err := s.cfg.Store.AppendAudit(c.Request().Context(), AuditEntryFor(c, action, subject, detail)); err != nil {
		return fmt.Errorf("api.Scribe: audit: %w", err)
	}
	return nil
}

func (s *Scribe) draftInfo(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := s.cfg.Store.Note(ctx, id); err != nil {
		return err
	}
	r, err := s.cfg.Store.Record(ctx, scribeDraftKind, id)
	if clinic.ErrorCode(err) == clinic.CodeNotFound {
		return clinic.NewError(clinic.CodeNotFound, "id", "this note was not drafted by the scribe agent", "该病历不是由病历草拟助手生成的")
	}
	if err != nil {
		return err
	}
	var info DraftInfo
	if err := json.Unmarshal(r.Body, &info); err != nil {
		return fmt.Errorf("api.Scribe: decode draft info %s: %w", id, err)
	}
	if err := s.audit(c, "phi.read", id, map[string]any{"what": "draft_info"}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

// noteAt returns the note named by the route, at the "version" query
// parameter when given, and its encounter.
func (s *Scribe) noteAt(c echo.Context) (clinic.Note, clinic.Encounter, error) {
	ctx := c.Request().Context()
	id := c.Param("id")
	n, err := s.cfg.Store.Note(ctx, id)
	if err != nil {
		return n, clinic.Encounter{}, err
	}
	if v := c.QueryParam("version"); v != "" {
		ver, err := strconv.Atoi(v)
		if err != nil || ver < 1 || ver > n.Version {
			return n, clinic.Encounter{}, clinic.NewError(clinic.CodeInvalid, "version",
				fmt.Sprintf("version must be an integer from 1 to %d", n.Version),
				fmt.Sprintf("版本号必须是 1 到 %d 的整数", n.Version))
		}
		if ver != n.Version {
			if n, err = s.cfg.Store.NoteVersion(ctx, id, ver); err != nil {
				return n, clinic.Encounter{}, err
			}
		}
	}
	enc, err := s.cfg.Store.Encounter(ctx, n.EncounterID)
	if err != nil {
		return n, enc, err
	}
	return n, enc, nil
}

func (s *Scribe) fhir(c echo.Context) error {
	n, enc, err := s.noteAt(c)
	if err != nil {
		return err
	}
	b, err := scribe.FHIR(n, enc)
	if err != nil {
		return err
	}
	if err := s.audit(c, "phi.read", n.ID, map[string]any{"what": "note_fhir", "version": n.Version}); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/fhir+json; charset=utf-8", b)
}

func (s *Scribe) export(c echo.Context) error {
	format := c.QueryParam("format")
	if format == "" {
		format = "md"
	}
	if format != "md" && format != "txt" {
		return clinic.NewError(clinic.CodeInvalid, "format", "format must be md or txt", "format 必须是 md 或 txt")
	}
	n, _, err := s.noteAt(c)
	if err != nil {
		return err
	}
	if err := s.audit(c, "phi.read", n.ID, map[string]any{"what": "note_export", "format": format, "version": n.Version}); err != nil {
		return err
	}
	ct := "text/markdown; charset=utf-8"
	if format == "txt" {
		ct = "text/plain; charset=utf-8"
	}
	c.Response().Header().Set(echo.HeaderContentDisposition,
		fmt.Sprintf(`inline; filename="note-%s-v%d.%s"`, n.ID, n.Version, format))
	text := scribe.Markdown(n)
	if format == "txt" {
		text = scribe.PlainText(n)
	}
	return c.Blob(http.StatusOK, ct, []byte(text))
}

func (s *Scribe) diff(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	n, err := s.cfg.Store.Note(ctx, id)
	if err != nil {
		return err
	}
	resp := ScribeDiffResponse{}
	if r, err := s.cfg.Store.Record(ctx, scribeDiffKind, id); err == nil {
		if err := json.Unmarshal(r.Body, &resp.NoteDiff); err != nil {
			return fmt.Errorf("api.Scribe: decode diff %s: %w", id, err)
		}
		resp.Stored = true
	} else if clinic.ErrorCode(err) != clinic.CodeNotFound {
		return err
	} else {
		first, err := s.cfg.Store.NoteVersion(ctx, id, 1)
		if err != nil {
			return err
		}
		if !isScribeAuthor(first.Author) {
			return clinic.NewError(clinic.CodeNotFound, "id", "this note was not drafted by the scribe agent", "该病历不是由病历草拟助手生成的")
		}
		resp.NoteDiff = diffNote(first, n)
	}
	if err := s.audit(c, "phi.read", id, map[string]any{"what": "note_diff"}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}
