package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// StatusResponse is a one-word status.
type StatusResponse struct {
	Status string `json:"status"`
}

// CheckResult is the outcome of one readiness check.
type CheckResult struct {
	OK       bool   `json:"ok"`
	Required bool   `json:"required"`
	Detail   string `json:"detail,omitempty"`
	Error    string `json:"error,omitempty"`
}

// ReadyResponse reports each dependency. Status is "ready", "degraded"
// (an optional dependency such as the LLM is down; built-in engines are used)
// or "not_ready".
type ReadyResponse struct {
	Status string                 `json:"status"`
	Checks map[string]CheckResult `json:"checks"`
}

// VersionResponse is the build version.
type VersionResponse struct {
	Version string `json:"version"`
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, StatusResponse{Status: "ok"})
}

func (s *Server) version(c echo.Context) error {
	return c.JSON(http.StatusOK, VersionResponse{Version: s.cfg.Version})
}

func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, s.spec)
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := append([]Check{{Name: "db", Required: true, Check: s.cfg.Store.Ping}}, s.cfg.Checks...)
	resp := ReadyResponse{Status: "ready", Checks: map[string]CheckResult{}}
	for _, ch := range checks {
		r := CheckResult{OK: true, Required: ch.Required, Detail: ch.Detail}
		if ch.Check != nil {
			if err := ch.Check(ctx); err != nil {
				r.OK, r.Error = false, err.Error()
			}
		}
		if !r.OK {
			if ch.Required {
				resp.Status = "not_ready"
			} else if resp.Status == "ready" {
				resp.Status = "degraded"
			}
		}
		resp.Checks[ch.Name] = r
	}
	status := http.StatusOK
	if resp.Status == "not_ready" {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, resp)
}

// TokenResponse is an issued bearer token.
type TokenResponse struct {
	Token     string    `json:"token"`
	Role      Role      `json:"role"`
	Subject   string    `json:"subject"`
	ExpiresAt time.Time `json:"expires_at"`
}

// IssueTokenRequest asks for a token for a user or device.
type IssueTokenRequest struct {
	Subject    string `json:"subject" validate:"required,max=128,printascii"`
	Role       Role   `json:"role" validate:"required,oneof=kiosk doctor qc ecg admin"`
	Name       string `json:"name,omitempty" validate:"max=128"`
	TTLMinutes int    `json:"ttl_minutes" validate:"required,min=1,max=43200"`
}

func (s *Server) kioskToken(c echo.Context) error {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	sub := "kiosk:" + hex.EncodeToString(id)
	tok, exp, err := s.cfg.Tokens.Issue(sub, RoleKiosk, "", s.cfg.KioskTokenTTL)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, TokenResponse{Token: tok, Role: RoleKiosk, Subject: sub, ExpiresAt: exp})
}

func (s *Server) issueToken(c echo.Context) error {
	var req IssueTokenRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	tok, exp, err := s.cfg.Tokens.Issue(req.Subject, req.Role, req.Name, time.Duration(req.TTLMinutes)*time.Minute)
	if err != nil {
		return err
	}
	if err := s.audit(c, "auth.issue_token", req.Subject, map[string]any{"role": req.Role, "ttl_minutes": req.TTLMinutes}); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, TokenResponse{Token: tok, Role: req.Role, Subject: req.Subject, ExpiresAt: exp})
}

// CreateEncounterRequest opens an encounter.
type CreateEncounterRequest struct {
	PatientID  string               `json:"patient_id" validate:"required,max=64"`
	Kind       clinic.EncounterKind `json:"kind" validate:"required,oneof=kiosk outpatient emergency inpatient"`
	Department string               `json:"department,omitempty" validate:"max=64"`
	StartedAt  time.Time            `json:"started_at,omitzero"`
	Events     map[string]time.Time `json:"events,omitempty" validate:"max=64"`
}

// UtteranceInput is one dialogue turn to append.
type UtteranceInput struct {
	Speaker clinic.Speaker `json:"speaker" validate:"required,oneof=patient doctor companion other"`
	Text    string         `json:"text" validate:"required,max=4000"`
	At      time.Time      `json:"at,omitzero"`
}

// AppendUtterancesRequest appends turns to a dialogue.
type AppendUtterancesRequest struct {
	Utterances []UtteranceInput `json:"utterances" validate:"required,min=1,max=2000,dive"`
}

// UtterancesResponse lists dialogue turns.
type UtterancesResponse struct {
	Utterances []clinic.Utterance `json:"utterances"`
}

func (s *Server) createEncounter(c echo.Context) error {
	var req CreateEncounterRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	e := clinic.Encounter{PatientID: req.PatientID, Kind: req.Kind, Department: req.Department,
		StartedAt: req.StartedAt, Events: req.Events}
	if e.StartedAt.IsZero() {
		e.StartedAt = s.now()
	}
	ctx := c.Request().Context()
	err := s.cfg.Store.InTx(ctx, func(ctx context.Context, tx store.Store) error {
		if err := tx.CreateEncounter(ctx, &e); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, c, "encounter.create", e.ID, nil)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

func (s *Server) getEncounter(c echo.Context) error {
	e, err := s.cfg.Store.Encounter(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.audit(c, "phi.read", e.ID, map[string]any{"what": "encounter"}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) appendUtterances(c echo.Context) error {
	var req AppendUtterancesRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	us := make([]clinic.Utterance, len(req.Utterances))
	for i, u := range req.Utterances {
		us[i] = clinic.Utterance{Speaker: u.Speaker, Text: u.Text, At: u.At}
	}
	id := c.Param("id")
	var stored []clinic.Utterance
	err := s.cfg.Store.InTx(c.Request().Context(), func(ctx context.Context, tx store.Store) error {
		var err error
		if stored, err = tx.AppendUtterances(ctx, id, us); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, c, "encounter.append_utterances", id, map[string]any{"count": len(stored)})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, UtterancesResponse{Utterances: stored})
}

func (s *Server) listUtterances(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := s.cfg.Store.Encounter(ctx, id); err != nil {
		return err
	}
	us, err := s.cfg.Store.Utterances(ctx, id)
	if err != nil {
		return err
	}
	if err := s.audit(c, "phi.read", id, map[string]any{"what": "utterances"}); err != nil {
		return err
	}
	if us == nil {
		us = []clinic.Utterance{}
	}
	return c.JSON(http.StatusOK, UtterancesResponse{Utterances: us})
}

// AuditResponse lists audit entries.
type AuditResponse struct {
	Entries []store.AuditEntry `json:"entries"`
}

func (s *Server) listAudit(c echo.Context) error {
	f := store.AuditFilter{Subject: c.QueryParam("subject"), Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Limit: 1000}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			return clinic.NewError(clinic.CodeInvalid, "limit", "limit must be an integer from 1 to 10000", "limit 必须是 1 到 10000 的整数")
		}
		f.Limit = n
	}
	es, err := s.cfg.Store.AuditEntries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if es == nil {
		es = []store.AuditEntry{}
	}
	return c.JSON(http.StatusOK, AuditResponse{Entries: es})
}

func (s *Server) verifyAudit(c echo.Context) error {
	r, err := s.cfg.Store.VerifyAudit(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// audit appends an audit entry for the caller of c.
func (s *Server) audit(c echo.Context, action, subject string, detail map[string]any) error {
	return s.auditTx(c.Request().Context(), s.cfg.Store, c, action, subject, detail)
}

func (s *Server) auditTx(ctx context.Context, a store.Audit, c echo.Context, action, subject string, detail map[string]any) error {
	_, err := a.AppendAudit(ctx, AuditEntryFor(c, action, subject, detail))
	return err
}

// AuditEntryFor builds an audit entry for the caller of an Echo request:
// actor and role from its token, the request ID in the detail.
func AuditEntryFor(c echo.Context, action, subject string, detail map[string]any) store.AuditEntry {
	actor, role := "anonymous", "public"
	if cl := ClaimsFrom(c); cl != nil {
		actor, role = cl.Subject(), string(cl.Role)
	}
	if detail == nil {
		detail = map[string]any{}
	}
	if rid := c.Response().Header().Get(echo.HeaderXRequestID); rid != "" {
		detail["request_id"] = rid
	}
	raw, _ := json.Marshal(detail)
	return store.AuditEntry{Actor: actor, Role: role, Action: action, Subject: subject, Detail: raw}
}
