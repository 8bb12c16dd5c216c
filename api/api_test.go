package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
	"github.com/yizhu-health/yizhu/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite golden files")

const secret = "0123456789abcdef0123456789abcdef-test"

type fixture struct {
	srv    *api.Server
	ts     *httptest.Server
	store  store.Store
	tokens *api.Tokens
}

type panicFeature struct{}

func (panicFeature) Routes() []api.Route {
	return []api.Route{{Method: "GET", Path: "/v1/test/panic", Roles: []api.Role{api.RoleAdmin}, Summary: "test",
		Handler: func(echo.Context) error { panic("boom") }}}
}

func newFixture(t *testing.T, mod func(*api.Config)) *fixture {
	t.Helper()
	st, tokens := openStore(t), testTokens(t)
	cfg := api.Config{Store: st, Tokens: tokens, Version: "test", BodyLimit: 64 << 10,
		Features: []api.Feature{panicFeature{}}}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{srv: srv, ts: ts, store: st, tokens: tokens}
}

// openStore opens an empty sqlite store, closed when tb ends.
func openStore(tb testing.TB) store.Store {
	tb.Helper()
	st, err := sqlite.Open(tb.Context(), sqlite.Config{Path: filepath.Join(tb.TempDir(), "y.db")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// testTokens returns a token issuer with the tests' secret.
func testTokens(tb testing.TB) *api.Tokens {
	tb.Helper()
	tokens, err := api.NewTokens([]byte(secret), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return tokens
}

func (f *fixture) token(t *testing.T, role api.Role) string {
	t.Helper()
	tok, _, err := f.tokens.Issue("user-"+string(role), role, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request and returns the status and body.
func (f *fixture) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	var header []string
	if body != nil {
		header = []string{"Content-Type", "application/json"}
	}
	resp, out := fetch(t, method, f.ts.URL+path, token, r, header...)
	return resp.StatusCode, out
}

// post sends body of content type ctype and returns the status and body.
func (f *fixture) post(t *testing.T, path, token, ctype string, body []byte) (int, []byte) {
	t.Helper()
	resp, out := fetch(t, "POST", f.ts.URL+path, token, bytes.NewReader(body), "Content-Type", ctype)
	return resp.StatusCode, out
}

// sendRequest sends a request to url with body (nil: none), the bearer
// token (none when "") and the headers given as name, value pairs. The
// caller closes the response's body.
func sendRequest(tb testing.TB, method, url, token string, body io.Reader, header ...string) *http.Response {
	tb.Helper()
	if len(header)%2 != 0 {
		tb.Fatalf("headers %q are not name, value pairs", header)
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

// fetch sends a request as sendRequest does and returns the response
// with its whole body, which it closes.
func fetch(tb testing.TB, method, url, token string, body io.Reader, header ...string) (*http.Response, []byte) {
	tb.Helper()
	resp := sendRequest(tb, method, url, token, body, header...)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, out
}

// file is one file part of a multipart upload.
type file struct {
	name string
	data []byte
}

// multipartBody returns the content type and body of a multipart form
// with the fields, in the order of their names, and then the files, each
// in a part named "file".
func multipartBody(t *testing.T, fields map[string]string, files ...file) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if err := mw.WriteField(k, fields[k]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("file", f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data json.RawMessage
}

// sseReader reads server-sent events from a response body.
type sseReader struct {
	sc *bufio.Scanner
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	return &sseReader{sc: sc}
}

// next returns the next named event; io.EOF at the end of the stream.
func (r *sseReader) next() (event, data string, err error) {
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "" && event != "":
			return event, data, nil
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	if err := r.sc.Err(); err != nil {
		return "", "", err
	}
	return "", "", io.EOF
}

// postEvents posts the JSON body to url, asking for server-sent events.
// It returns the status and, when that is 200, the stream's events; else
// the body of the answer.
func postEvents(t *testing.T, url, token string, body []byte) (int, []sseEvent, []byte) {
	t.Helper()
	resp := sendRequest(t, "POST", url, token, bytes.NewReader(body),
		"Content-Type", "application/json", "Accept", "text/event-stream")
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, nil, out
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	var events []sseEvent
	r := newSSEReader(resp.Body)
	for {
		name, data, err := r.next()
		if errors.Is(err, io.EOF) {
			return resp.StatusCode, events, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, sseEvent{name: name, data: json.RawMessage(data)})
	}
}

// checkFields checks an error response's status and that it names the
// fields, each with a reason in both languages.
func checkFields(t *testing.T, code int, body []byte, wantCode int, fields []string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("status %d, want %d: %s", code, wantCode, body)
	}
	eb := decode[api.ErrorBody](t, body)
	var got []string
	for _, fe := range eb.Error.Fields {
		if fe.ReasonEN == "" || fe.ReasonZH == "" {
			t.Errorf("field %s lacks a bilingual reason: %+v", fe.Field, fe)
		}
		got = append(got, fe.Field)
	}
	if !slices.Equal(got, fields) {
		t.Errorf("fields %v, want %v (%s)", got, fields, body)
	}
	if eb.Error.Message == "" || eb.Error.MessageZH == "" {
		t.Errorf("error lacks a bilingual message: %s", body)
	}
}

// mustJSON encodes v as JSON.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestRolesAreEnforcedOnEveryRoute(t *testing.T) {
	f := newFixture(t, nil)
	// An encounter exists so that a wrongly admitted caller would get data.
	enc := clinic.Encounter{PatientID: "p1", Kind: clinic.EncounterOutpatient}
	if err := f.store.CreateEncounter(t.Context(), &enc); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.srv.Routes() {
		if len(r.Roles) == 0 {
			continue
		}
		path := strings.NewReplacer(":id", enc.ID).Replace(r.Path)
		t.Run(r.Method+" "+r.Path+" no token", func(t *testing.T) {
			code, body := f.do(t, r.Method, path, "", nil)
			if code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", code, body)
			}
		})
		for _, role := range api.Roles {
			if slices.Contains(r.Roles, role) {
				continue
			}
			t.Run(r.Method+" "+r.Path+" as "+string(role), func(t *testing.T) {
				code, body := f.do(t, r.Method, path, f.token(t, role), "{}")
				if code != http.StatusForbidden {
					t.Fatalf("status %d, want 403; body %s", code, body)
				}
				eb := decode[api.ErrorBody](t, body)
				if eb.Error.Code != clinic.CodeForbidden || strings.Contains(string(body), "p1") {
					t.Fatalf("forbidden body leaks or has the wrong code: %s", body)
				}
			})
		}
	}
	t.Run("forged token", func(t *testing.T) {
		other, _ := api.NewTokens([]byte(strings.Repeat("x", 40)), nil)
		tok, _, _ := other.Issue("mallory", api.RoleAdmin, "", time.Hour)
		if code, _ := f.do(t, "GET", "/v1/audit", tok, nil); code != http.StatusUnauthorized {
			t.Fatalf("forged token: status %d, want 401", code)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		past, _ := api.NewTokens([]byte(secret), func() time.Time { return time.Now().Add(-2 * time.Hour) })
		tok, _, _ := past.Issue("old", api.RoleAdmin, "", time.Hour)
		if code, _ := f.do(t, "GET", "/v1/audit", tok, nil); code != http.StatusUnauthorized {
			t.Fatalf("expired token: status %d, want 401", code)
		}
	})
}

func TestValidationErrorsNameTheField(t *testing.T) {
	f := newFixture(t, nil)
	doc := f.token(t, api.RoleDoctor)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantFields []string
	}{
		{"unknown field", `{"patient_id":"p","kind":"outpatient","extra":1}`, 400, []string{"extra"}},
		{"missing required", `{"kind":"outpatient"}`, 400, []string{"patient_id"}},
		{"bad enum", `{"patient_id":"p","kind":"spa"}`, 400, []string{"kind"}},
		{"wrong type", `{"patient_id":7,"kind":"outpatient"}`, 400, []string{"patient_id"}},
		{"malformed", `{"patient_id":`, 400, []string{"body"}},
		{"empty body", ``, 400, []string{"body"}},
		{"trailing data", `{"patient_id":"p","kind":"outpatient"} {}`, 400, []string{"body"}},
		{"ok", `{"patient_id":"p","kind":"outpatient"}`, 201, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, "POST", "/v1/encounters", doc, []byte(tc.body))
			if tc.wantFields == nil {
				if code != tc.wantStatus {
					t.Fatalf("status %d, want %d; body %s", code, tc.wantStatus, body)
				}
				return
			}
			checkFields(t, code, body, tc.wantStatus, tc.wantFields)
		})
	}
}

func TestOversizeBodyIs413(t *testing.T) {
	f := newFixture(t, nil)
	big := `{"patient_id":"` + strings.Repeat("x", 70<<10) + `","kind":"outpatient"}`
	code, body := f.do(t, "POST", "/v1/encounters", f.token(t, api.RoleDoctor), []byte(big))
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413; body %s", code, body)
	}
	if eb := decode[api.ErrorBody](t, body); eb.Error.Code != clinic.CodeTooLarge {
		t.Fatalf("code %q, want too_large", eb.Error.Code)
	}
}

func TestNoteWorkflowIsVersionedAndAudited(t *testing.T) {
	f := newFixture(t, nil)
	doc, admin := f.token(t, api.RoleDoctor), f.token(t, api.RoleAdmin)

	code, body := f.do(t, "POST", "/v1/encounters", doc, api.CreateEncounterRequest{PatientID: "p9", Kind: clinic.EncounterOutpatient})
	if code != 201 {
		t.Fatalf("create encounter: %d %s", code, body)
	}
	enc := decode[clinic.Encounter](t, body)

	code, body = f.do(t, "POST", "/v1/encounters/"+enc.ID+"/utterances", doc, api.AppendUtterancesRequest{Utterances: []api.UtteranceInput{
		{Speaker: clinic.SpeakerDoctor, Text: "哪里不舒服？"}, {Speaker: clinic.SpeakerPatient, Text: "胸口闷三天了。"}}})
	if code != 201 {
		t.Fatalf("append: %d %s", code, body)
	}
	if us := decode[api.UtterancesResponse](t, body).Utterances; len(us) != 2 || us[1].Seq <= us[0].Seq || us[0].ID == "" {
		t.Fatalf("utterances not stored in order with IDs: %+v", us)
	}

	sections := []api.SectionInput{{Key: "chief_complaint", Title: "主诉", Statements: []api.StatementInput{{Text: "胸闷3天"}}}}
	code, body = f.do(t, "POST", "/v1/encounters/"+enc.ID+"/notes", doc, api.NoteRequest{Type: clinic.NoteOutpatient, Sections: sections})
	if code != 201 {
		t.Fatalf("create note: %d %s", code, body)
	}
	n := decode[clinic.Note](t, body)
	if n.Version != 1 || n.Status != clinic.NoteDraft {
		t.Fatalf("new note: version %d status %s", n.Version, n.Status)
	}

	sections[0].Statements[0].Text = "胸闷3天，加重1天"
	code, body = f.do(t, "PUT", "/v1/notes/"+n.ID, doc, api.UpdateNoteRequest{Version: 1, Sections: sections})
	if code != 200 || decode[clinic.Note](t, body).Version != 2 {
		t.Fatalf("edit: %d %s", code, body)
	}
	// A second editor still on version 1 is rejected.
	if code, body = f.do(t, "PUT", "/v1/notes/"+n.ID, doc, api.UpdateNoteRequest{Version: 1, Sections: sections}); code != http.StatusConflict {
		t.Fatalf("stale edit: %d %s", code, body)
	}
	if code, body = f.do(t, "POST", "/v1/notes/"+n.ID+"/sign", doc, api.SignNoteRequest{Version: 1}); code != http.StatusConflict {
		t.Fatalf("stale sign: %d %s", code, body)
	}
	code, body = f.do(t, "POST", "/v1/notes/"+n.ID+"/sign", doc, api.SignNoteRequest{Version: 2})
	if code != 200 {
		t.Fatalf("sign: %d %s", code, body)
	}
	if s := decode[clinic.Note](t, body); s.Status != clinic.NoteSigned || s.SignedBy != "user-doctor" {
		t.Fatalf("signed note: %+v", s)
	}
	if code, _ = f.do(t, "PUT", "/v1/notes/"+n.ID, doc, api.UpdateNoteRequest{Version: 3, Sections: sections}); code != http.StatusConflict {
		t.Fatalf("edit after sign: status %d, want 409", code)
	}
	code, body = f.do(t, "GET", "/v1/notes/"+n.ID+"/versions", doc, nil)
	if vs := decode[api.NotesResponse](t, body).Notes; code != 200 || len(vs) != 3 || vs[0].Sections[0].Statements[0].Text != "胸闷3天" {
		t.Fatalf("versions: %d %s", code, body)
	}

	code, body = f.do(t, "GET", "/v1/audit?subject="+n.ID, admin, nil)
	var actions []string
	for _, e := range decode[api.AuditResponse](t, body).Entries {
		actions = append(actions, e.Action)
	}
	want := []string{"note.create", "note.edit", "note.sign", "phi.read"}
	if diff := cmp.Diff(want, actions); code != 200 || diff != "" {
		t.Fatalf("audit actions (-want +got):\n%s", diff)
	}
	code, body = f.do(t, "GET", "/v1/audit/verify", admin, nil)
	if r := decode[store.AuditReport](t, body); code != 200 || !r.OK || r.Entries < 6 {
		t.Fatalf("verify: %d %s", code, body)
	}
}

func TestNotFoundAndUnknownRoute(t *testing.T) {
	f := newFixture(t, nil)
	code, body := f.do(t, "GET", "/v1/encounters/nope", f.token(t, api.RoleDoctor), nil)
	if code != 404 || decode[api.ErrorBody](t, body).Error.Code != clinic.CodeNotFound {
		t.Fatalf("missing encounter: %d %s", code, body)
	}
	code, body = f.do(t, "GET", "/v1/no-such-thing", "", nil)
	if code != 404 || decode[api.ErrorBody](t, body).Error.MessageZH == "" {
		t.Fatalf("unknown route: %d %s", code, body)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	f := newFixture(t, nil)
	code, body := f.do(t, "GET", "/v1/test/panic", f.token(t, api.RoleAdmin), nil)
	if code != 500 || strings.Contains(string(body), "boom") {
		t.Fatalf("panic: %d %s (the cause must not leak)", code, body)
	}
	if code, _ := f.do(t, "GET", "/healthz", "", nil); code != 200 {
		t.Fatalf("server not serving after a panic: %d", code)
	}
}

func TestReadiness(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name       string
		checks     []api.Check
		wantStatus int
		want       string
	}{
		{"all up", []api.Check{{Name: "llm", Check: func(context.Context) error { return nil }}}, 200, "ready"},
		{"optional down", []api.Check{{Name: "llm", Check: func(context.Context) error { return down }}}, 200, "degraded"},
		{"required down", []api.Check{{Name: "embedder", Required: true, Check: func(context.Context) error { return down }}}, 503, "not_ready"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *api.Config) { c.Checks = tc.checks })
			code, body := f.do(t, "GET", "/readyz", "", nil)
			r := decode[api.ReadyResponse](t, body)
			if code != tc.wantStatus || r.Status != tc.want || !r.Checks["db"].OK {
				t.Fatalf("readyz: %d %s", code, body)
			}
		})
	}
}

func TestKioskTokensAreShortLivedAndRateLimited(t *testing.T) {
	f := newFixture(t, func(c *api.Config) { c.KioskTokensPerMinute = 2; c.KioskTokenTTL = 10 * time.Minute })
	code, body := f.do(t, "POST", "/v1/auth/kiosk", "", nil)
	if code != 201 {
		t.Fatalf("kiosk token: %d %s", code, body)
	}
	tr := decode[api.TokenResponse](t, body)
	if tr.Role != api.RoleKiosk || time.Until(tr.ExpiresAt) > 11*time.Minute {
		t.Fatalf("kiosk token: %+v", tr)
	}
	if _, err := f.tokens.Verify(tr.Token); err != nil {
		t.Fatal(err)
	}
	// A kiosk token cannot read clinical data.
	if code, _ := f.do(t, "GET", "/v1/audit", tr.Token, nil); code != 403 {
		t.Fatalf("kiosk reading audit: %d", code)
	}
	f.do(t, "POST", "/v1/auth/kiosk", "", nil)
	if code, _ := f.do(t, "POST", "/v1/auth/kiosk", "", nil); code != http.StatusTooManyRequests {
		t.Fatalf("third kiosk token in a minute: %d, want 429", code)
	}
}

func TestMetricsCountRequests(t *testing.T) {
	f := newFixture(t, nil)
	f.do(t, "GET", "/healthz", "", nil)
	_, body := f.do(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(body), `yizhu_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Fatalf("metrics lack the healthz request:\n%s", body)
	}
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	f := newFixture(t, nil)
	code, body := f.do(t, "GET", "/openapi.json", "", nil)
	if code != 200 {
		t.Fatal(code)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.srv.Routes() {
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ":") {
				p = strings.Replace(p, seg, "{"+seg[1:]+"}", 1)
			}
		}
		op, ok := doc.Paths[p][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s missing from openapi.json", r.Method, p)
			continue
		}
		if len(r.Roles) > 0 && op["security"] == nil {
			t.Errorf("%s %s: no security requirement", r.Method, p)
		}
	}
	golden := filepath.Join("testdata", "openapi.golden.json")
	if *update {
		if err := os.WriteFile(golden, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./api -update)", err)
	}
	if diff := cmp.Diff(string(want), string(body)); diff != "" {
		t.Errorf("openapi.json changed (-want +got); run go test ./api -update if intended:\n%s", diff)
	}
}
