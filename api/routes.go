package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// Route is one endpoint of the API. The route table is the single source of
// the HTTP surface: registration, role checks, limits and the OpenAPI
// document are all derived from it.
type Route struct {
	Method string
	Path   string // Echo syntax: /v1/notes/:id
	// Roles that may call the route; empty means public.
	Roles   []Role
	Handler echo.HandlerFunc
	// Summary is the one-line description in the OpenAPI document.
	Summary string
	Tag     string
	// Request and Response are zero values of the body types (nil = none),
	// used for the OpenAPI schemas.
	Request  any
	Response any
	// Query lists query parameters as name → description.
	Query map[string]string
	// Stream marks SSE/NDJSON/WebSocket routes: no request timeout.
	Stream bool
	// ContentType of a non-JSON response (text/event-stream, image/svg+xml).
	ContentType string
	// OK is the success status the handler answers with; 0 means 201 for
	// a non-streaming POST and 200 otherwise.
	OK int
	// BodyLimit overrides Config.BodyLimit for this route.
	BodyLimit  int64
	Middleware []echo.MiddlewareFunc
}

var (
	clinicalReaders = []Role{RoleDoctor, RoleQC, RoleAdmin}
	doctors         = []Role{RoleDoctor}
	admins          = []Role{RoleAdmin}
)

// coreRoutes is the API surface that comes with every server. Features add
// theirs through Config.Features.
func (s *Server) coreRoutes() []Route {
	kioskLimiter := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(float64(s.cfg.KioskTokensPerMinute) / 60), Burst: s.cfg.KioskTokensPerMinute,
		}),
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests)
		},
	})
	return []Route{
		{Method: "GET", Path: "/healthz", Handler: s.healthz, Tag: "ops",
			Summary: "Liveness: the process is up.", Response: StatusResponse{}},
		{Method: "GET", Path: "/readyz", Handler: s.readyz, Tag: "ops",
			Summary: "Readiness: database, LLM and embedder status.", Response: ReadyResponse{}},
		{Method: "GET", Path: "/metrics", Handler: s.metricsHandler(), Tag: "ops",
			Summary: "Prometheus metrics.", ContentType: "text/plain"},
		{Method: "GET", Path: "/openapi.json", Handler: s.openapi, Tag: "ops",
			Summary: "This OpenAPI 3 document.", ContentType: "application/json"},
		{Method: "GET", Path: "/v1/version", Handler: s.version, Tag: "ops",
			Summary: "Build version.", Response: VersionResponse{}},

		{Method: "POST", Path: "/v1/auth/kiosk", Handler: s.kioskToken, Tag: "auth",
			Summary:  "Anonymous short-lived token for a self-service kiosk session (rate-limited per IP).",
			Response: TokenResponse{}, Middleware: []echo.MiddlewareFunc{kioskLimiter}},
		{Method: "POST", Path: "/v1/auth/tokens", Roles: admins, Handler: s.issueToken, Tag: "auth",
			Summary: "Issue a bearer token for a user or device.", Request: IssueTokenRequest{}, Response: TokenResponse{}},

		{Method: "POST", Path: "/v1/encounters", Roles: doctors, Handler: s.createEncounter, Tag: "encounters",
			Summary: "Open an encounter.", Request: CreateEncounterRequest{}, Response: clinic.Encounter{}},
		{Method: "GET", Path: "/v1/encounters/:id", Roles: clinicalReaders, Handler: s.getEncounter, Tag: "encounters",
			Summary: "Read an encounter (audited PHI access).", Response: clinic.Encounter{}},
		{Method: "POST", Path: "/v1/encounters/:id/utterances", Roles: doctors, Handler: s.appendUtterances, Tag: "encounters",
			Summary: "Append dialogue turns to an encounter.", Request: AppendUtterancesRequest{}, Response: UtterancesResponse{}},
		{Method: "GET", Path: "/v1/encounters/:id/utterances", Roles: clinicalReaders, Handler: s.listUtterances, Tag: "encounters",
			Summary: "Read the dialogue of an encounter (audited PHI access).", Response: UtterancesResponse{}},
		{Method: "GET", Path: "/v1/encounters/:id/notes", Roles: clinicalReaders, Handler: s.listNotes, Tag: "notes",
			Summary: "Latest version of each note of an encounter.", Response: NotesResponse{}},
		{Method: "POST", Path: "/v1/encounters/:id/notes", Roles: doctors, Handler: s.createNote, Tag: "notes",
			Summary: "Write a note by hand (a draft until signed).", Request: NoteRequest{}, Response: clinic.Note{}},

		{Method: "GET", Path: "/v1/notes/:id", Roles: clinicalReaders, Handler: s.getNote, Tag: "notes",
			Summary: "Latest version of a note.", Response: clinic.Note{}},
		{Method: "GET", Path: "/v1/notes/:id/versions", Roles: clinicalReaders, Handler: s.noteVersions, Tag: "notes",
			Summary: "Every version of a note, oldest first.", Response: NotesResponse{}},
		{Method: "PUT", Path: "/v1/notes/:id", Roles: doctors, Handler: s.updateNote, Tag: "notes",
			Summary: "Save an edited version; the version must be the latest (409 otherwise).",
			Request: UpdateNoteRequest{}, Response: clinic.Note{}},
		{Method: "POST", Path: "/v1/notes/:id/sign", Roles: doctors, Handler: s.signNote, Tag: "notes",
			Summary: "Sign the latest version; a stale version is rejected (409).",
			Request: SignNoteRequest{}, Response: SignedNote{}, OK: http.StatusOK},

		{Method: "GET", Path: "/v1/audit", Roles: admins, Handler: s.listAudit, Tag: "audit",
			Summary: "Audit log entries, oldest first.", Response: AuditResponse{},
			Query: map[string]string{"subject": "filter by subject", "actor": "filter by actor", "action": "filter by action", "limit": "maximum entries"}},
		{Method: "GET", Path: "/v1/audit/verify", Roles: admins, Handler: s.verifyAudit, Tag: "audit",
			Summary: "Recompute the audit hash chain and report the first break.", Response: store.AuditReport{}},
	}
}
