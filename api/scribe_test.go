package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

type scribeFixture struct {
	*fixture
	sc *api.Scribe
	// watched serves the same handler, checking at the moment the final
	// "draft" event is written whether the draft is already stored.
	watched *httptest.Server
	mu      sync.Mutex
	// storedAtFinal holds, per final event written, how many notes of the
	// encounter and note.draft audit entries the store held just then.
	storedAtFinal []string
}

func newScribeFixture(t *testing.T) *scribeFixture {
	return newScribeFixtureWith(t, nil)
}

// newScribeFixtureWith serves the scribe feature with runner (nil: the
// embedded engine only) and the triage feature.
func newScribeFixtureWith(t *testing.T, runner *agents.Runner) *scribeFixture {
	t.Helper()
	eng, err := scribe.New(scribe.Config{Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	teng, err := triage.New(triage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sf := &scribeFixture{}
	sf.fixture = newFixture(t, func(cfg *api.Config) {
		sc, err := api.NewScribe(api.ScribeConfig{Engine: eng, Store: cfg.Store})
		if err != nil {
			t.Fatal(err)
		}
		tri, err := api.NewTriage(api.TriageConfig{Engine: teng, Store: cfg.Store})
		if err != nil {
			t.Fatal(err)
		}
		sf.sc = sc
		cfg.Features = append(cfg.Features, sc, tri)
		cfg.SignHooks = append(cfg.SignHooks, sc.SignHook())
	})
	sf.watched = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encID := ""
		if parts := strings.Split(r.URL.Path, "/"); len(parts) > 3 {
			encID = parts[3] // /v1/encounters/{id}/drafts
		}
		sf.srv.Handler().ServeHTTP(&finalWatch{ResponseWriter: w, check: func() {
			ns, err := sf.store.NotesByEncounter(r.Context(), encID)
			if err != nil {
				t.Error(err)
			}
			as, err := sf.store.AuditEntries(r.Context(), store.AuditFilter{Action: "note.draft"})
			if err != nil {
				t.Error(err)
			}
			n := 0
			for _, a := range as {
				if bytes.Contains(a.Detail, []byte(encID)) {
					n++
				}
			}
			sf.mu.Lock()
			sf.storedAtFinal = append(sf.storedAtFinal, fmt.Sprintf("notes=%d audits=%d", len(ns), n))
			sf.mu.Unlock()
		}}, r)
	}))
	t.Cleanup(sf.watched.Close)
	return sf
}

// finalWatch calls check just before the final "draft" SSE event is
// written to the client.
type finalWatch struct {
	http.ResponseWriter
	check func()
}

func (w *finalWatch) Write(b []byte) (int, error) {
	if bytes.HasPrefix(b, []byte("event: draft\n")) {
		w.check()
	}
	return w.ResponseWriter.Write(b)
}

func (w *finalWatch) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *finalWatch) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// draft posts a draft request and returns the status, the events (for a
// stream) or the body (for an error answered before the stream).
func (sf *scribeFixture) draft(t *testing.T, encID, token string, body any) (int, []sseEvent, []byte) {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		raw = mustJSON(t, body)
	}
	return postEvents(t, sf.watched.URL+"/v1/encounters/"+encID+"/drafts", token, raw)
}

// encounter opens an encounter with the given dialogue (speaker:text).
func (sf *scribeFixture) encounter(t *testing.T, token string, turns ...string) string {
	t.Helper()
	code, body := sf.do(t, "POST", "/v1/encounters", token, api.CreateEncounterRequest{PatientID: "p-scribe", Kind: clinic.EncounterOutpatient})
	if code != http.StatusCreated {
		t.Fatalf("create encounter: %d %s", code, body)
	}
	enc := decode[clinic.Encounter](t, body)
	if len(turns) == 0 {
		return enc.ID
	}
	var in []api.UtteranceInput
	for _, turn := range turns {
		who, text, _ := strings.Cut(turn, ":")
		in = append(in, api.UtteranceInput{Speaker: clinic.Speaker(who), Text: text})
	}
	if code, body := sf.do(t, "POST", "/v1/encounters/"+enc.ID+"/utterances", token, api.AppendUtterancesRequest{Utterances: in}); code != http.StatusCreated {
		t.Fatalf("append utterances: %d %s", code, body)
	}
	return enc.ID
}

// A short outpatient visit; the patient both denies and reports a drug
// allergy, which the draft must show as a conflict.
var visit = []string{
	"doctor:您好，哪里不舒服？",
	"patient:我咳嗽三天了，还发烧，最高38.5度。",
	"doctor:有没有胸痛？",
	"patient:没有胸痛。",
	"doctor:以前有什么病吗？有没有药物过敏？",
	"patient:有高血压五年，一直吃氨氯地平。没有药物过敏。",
	"doctor:青霉素用过吗？",
	"patient:哦对，我对青霉素过敏，打过一次起皮疹。",
	"doctor:听诊双肺呼吸音粗。先查个血常规，开点止咳药。",
}

func TestScribeRoutesEnforceRoles(t *testing.T) {
	sf := newScribeFixture(t)
	doc := sf.token(t, api.RoleDoctor)
	encID := sf.encounter(t, doc, visit...)
	for _, r := range sf.sc.Routes() {
		path := strings.NewReplacer(":id", encID).Replace(r.Path)
		for _, role := range api.Roles {
			if slices.Contains(r.Roles, role) {
				continue
			}
			t.Run(r.Method+" "+r.Path+" as "+string(role), func(t *testing.T) {
				code, body := sf.do(t, r.Method, path, sf.token(t, role), `{"type":"outpatient"}`)
				if code != http.StatusForbidden {
					t.Fatalf("status %d, want 403; body %s", code, body)
				}
			})
		}
		t.Run(r.Method+" "+r.Path+" without a token", func(t *testing.T) {
			if code, _ := sf.do(t, r.Method, path, "", `{"type":"outpatient"}`); code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", code)
			}
		})
	}
	// Drafting is for doctors only; kiosk and QC staff are refused even
	// though QC may read notes.
	for _, role := range []api.Role{api.RoleKiosk, api.RoleQC} {
		if code, _, _ := sf.draft(t, encID, sf.token(t, role), api.DraftRequest{Type: clinic.NoteOutpatient}); code != http.StatusForbidden {
			t.Errorf("draft as %s: %d, want 403", role, code)
		}
	}
}

func TestScribeDraftRejectsBadInput(t *testing.T) {
	sf := newScribeFixture(t)
	doc := sf.token(t, api.RoleDoctor)
	encID := sf.encounter(t, doc, visit...)
	empty := sf.encounter(t, doc)
	single := sf.encounter(t, doc, "patient:我头痛。", "patient:头痛两天了。")
	// A kiosk session that is still asking questions has no summary yet.
	code, body := sf.do(t, "POST", "/v1/triage/sessions", sf.token(t, api.RoleKiosk), triage.Intake{Text: "肚子痛两天"})
	if code != http.StatusCreated {
		t.Fatalf("triage: %d %s", code, body)
	}
	open := decode[api.TriageSessionResponse](t, body)

	tests := []struct {
		name   string
		enc    string
		body   string
		status int
		field  string
	}{
		{"bad note type", encID, `{"type":"poem"}`, 400, "type"},
		{"missing type", encID, `{}`, 400, "type"},
		{"unknown field", encID, `{"type":"outpatient","temperature":0.2}`, 400, "temperature"},
		{"bad language", encID, `{"type":"outpatient","language":"fr"}`, 400, "language"},
		{"bad data kind", encID, `{"type":"outpatient","data":[{"id":"d1","kind":"horoscope","text":"x"}]}`, 400, "data[0].kind"},
		{"data without text", encID, `{"type":"outpatient","data":[{"id":"d1","kind":"lab"}]}`, 400, "data[0].text"},
		{"bad triage id", encID, `{"type":"outpatient","triage_session_id":"../x"}`, 400, "triage_session_id"},
		{"unknown triage session", encID, `{"type":"outpatient","triage_session_id":"abc123"}`, 404, "triage_session_id"},
		{"unfinished triage session", encID, `{"type":"outpatient","triage_session_id":"` + open.ID + `"}`, 400, "triage_session_id"},
		{"empty dialogue", empty, `{"type":"outpatient"}`, 400, "utterances"},
		{"single speaker", single, `{"type":"outpatient"}`, 400, "utterances"},
		{"no such encounter", "nope", `{"type":"outpatient"}`, 404, ""},
		{"malformed", encID, `{"type":`, 400, "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, events, body := sf.draft(t, tc.enc, doc, []byte(tc.body))
			if code != tc.status {
				t.Fatalf("status %d, want %d; events %d body %s", code, tc.status, len(events), body)
			}
			eb := decode[api.ErrorBody](t, body)
			if eb.Error.Message == "" || eb.Error.MessageZH == "" {
				t.Errorf("error lacks a message in both languages: %s", body)
			}
			if tc.field == "" {
				return
			}
			var fields []string
			for _, fe := range eb.Error.Fields {
				if fe.ReasonEN == "" || fe.ReasonZH == "" {
					t.Errorf("field %s lacks a reason in both languages: %+v", fe.Field, fe)
				}
				fields = append(fields, fe.Field)
			}
			if !slices.Contains(fields, tc.field) {
				t.Errorf("fields %v, want %s; body %s", fields, tc.field, body)
			}
		})
	}
	// No draft was stored by any rejected request.
	for _, id := range []string{encID, empty, single} {
		if ns, err := sf.store.NotesByEncounter(t.Context(), id); err != nil || len(ns) != 0 {
			t.Errorf("encounter %s has %d notes after rejected drafts (err %v)", id, len(ns), err)
		}
	}
}

func TestScribeDraftRejectsTooLongTranscript(t *testing.T) {
	sf := newScribeFixture(t)
	doc := sf.token(t, api.RoleDoctor)
	encID := sf.encounter(t, doc)
	// 2,500 turns stored in batches: past the drafting bound of 2,000.
	for range 5 {
		in := make([]api.UtteranceInput, 500)
		for i := range in {
			in[i] = api.UtteranceInput{Speaker: clinic.SpeakerPatient, Text: "还是咳嗽。"}
			if i%2 == 0 {
				in[i] = api.UtteranceInput{Speaker: clinic.SpeakerDoctor, Text: "还咳嗽吗？"}
			}
		}
		if code, body := sf.do(t, "POST", "/v1/encounters/"+encID+"/utterances", doc, api.AppendUtterancesRequest{Utterances: in}); code != http.StatusCreated {
			t.Fatalf("append: %d %.200s", code, body)
		}
	}
	code, _, body := sf.draft(t, encID, doc, api.DraftRequest{Type: clinic.NoteOutpatient})
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %s", code, body)
	}
	if eb := decode[api.ErrorBody](t, body); eb.Error.Code != clinic.CodeTooLarge || eb.Error.MessageZH == "" {
		t.Fatalf("error %s", body)
	}
}

// drafted runs a draft request that must succeed and returns its events
// and final response.
func (sf *scribeFixture) drafted(t *testing.T, encID, token string, req api.DraftRequest) ([]sseEvent, api.DraftResponse) {
	t.Helper()
	code, events, body := sf.draft(t, encID, token, req)
	if code != http.StatusOK {
		t.Fatalf("draft: %d %s", code, body)
	}
	if len(events) == 0 || events[len(events)-1].name != "draft" {
		t.Fatalf("stream does not end with a draft event: %+v", events)
	}
	return events, decode[api.DraftResponse](t, events[len(events)-1].data)
}

// citesTriageSummary reports whether a statement of note cites the
// pre-consultation summary of a triage session.
func citesTriageSummary(note clinic.Note) bool {
	for _, sec := range note.Sections {
		for _, st := range sec.Statements {
			for _, src := range st.Sources {
				if src.Kind == clinic.SourceData && src.ID == scribe.SummarySourceID {
					return true
				}
			}
		}
	}
	return false
}

func TestScribeDraftStreamsProgressAndStoresTheDraftFirst(t *testing.T) {
	sf := newScribeFixture(t)
	doc := sf.token(t, api.RoleDoctor)
	encID := sf.encounter(t, doc, visit...)
	req := api.DraftRequest{Type: clinic.NoteOutpatient, Data: []scribe.DataItem{
		{ID: "lab-1", Kind: scribe.DataLab, Name: "血常规", Text: "白细胞 11.2×10^9/L，中性粒细胞 78%。"}}}
	events, res := sf.drafted(t, encID, doc, req)

	// Event order: progress events in stage order, then exactly one draft.
	order := []string{scribe.StageValidate, scribe.StageExtract, scribe.StageLLM, scribe.StageFallback,
		scribe.StageSection, scribe.StageVerify, scribe.StageDone, "save"}
	last, seen := -1, map[string]bool{}
	for i, e := range events {
		if e.name == "draft" {
			if i != len(events)-1 {
				t.Fatalf("draft event at %d of %d", i, len(events))
			}
			continue
		}
		if e.name != "progress" {
			t.Fatalf("event %d is %q: %s", i, e.name, e.data)
		}
		var p scribe.Progress
		if err := json.Unmarshal(e.data, &p); err != nil {
			t.Fatal(err)
		}
		at := slices.Index(order, p.Stage)
		if at < 0 || at < last {
			t.Fatalf("stage %q after %q: %v", p.Stage, order[max(last, 0)], events)
		}
		last, seen[p.Stage] = at, true
	}
	for _, want := range []string{scribe.StageValidate, scribe.StageExtract, scribe.StageSection, scribe.StageVerify, "save"} {
		if !seen[want] {
			t.Errorf("no %q progress event", want)
		}
	}

	// The draft was stored, with its audit entry, before the final event.
	sf.mu.Lock()
	if want := []string{"notes=1 audits=1"}; !slices.Equal(sf.storedAtFinal, want) {
		t.Errorf("store at the final event: %v, want %v", sf.storedAtFinal, want)
	}
	sf.mu.Unlock()

	n := res.Note
	if n.ID == "" || n.Version != 1 || n.Status != clinic.NoteDraft || n.Author != scribe.AuthorEmbedded || n.EncounterID != encID {
		t.Fatalf("draft note: id %q v%d %s by %s", n.ID, n.Version, n.Status, n.Author)
	}
	if n.Fallback {
		t.Errorf("embedded draft flagged as an LLM fallback: %s", n.FallbackReason)
	}
	stored, err := sf.store.Note(t.Context(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Version != 1 || stored.Author != scribe.AuthorEmbedded || len(stored.Sections) != len(n.Sections) {
		t.Fatalf("stored note differs from the streamed one: %+v", stored)
	}
	cc, ok := n.Section(scribe.SecChiefComplaint)
	if !ok || len(cc.Statements) == 0 {
		t.Fatalf("no chief complaint: %+v", n.Sections)
	}
	utterances := map[string]bool{}
	us, _ := sf.store.Utterances(t.Context(), encID)
	for _, u := range us {
		utterances[u.ID] = true
	}
	conflict, citesLab := false, false
	for _, sec := range n.Sections {
		for _, st := range sec.Statements {
			if len(st.Sources) == 0 && !st.Unsupported {
				t.Errorf("%s: statement %q has no source and is not marked", sec.Key, st.Text)
			}
			if st.Unsupported && st.Reason == "" {
				t.Errorf("%s: unsupported statement %q has no reason", sec.Key, st.Text)
			}
			for _, src := range st.Sources {
				switch src.Kind {
				case clinic.SourceUtterance:
					if !utterances[src.ID] {
						t.Errorf("%s: %q cites unknown utterance %s", sec.Key, st.Text, src.ID)
					}
				case clinic.SourceData:
					citesLab = citesLab || src.ID == "lab-1"
				}
			}
			conflict = conflict || scribe.IsConflict(st)
		}
	}
	if !conflict {
		t.Errorf("the allergy conflict is not marked: %+v", n.Sections)
	}
	if !citesLab {
		t.Errorf("no statement cites the attached lab result")
	}
	if res.Utterances != len(visit) || len(res.Data) != 1 || res.Outcome.Reason != "no_llm" {
		t.Errorf("draft info: %+v", res.DraftInfo)
	}

	// What the draft was made from can be read back (audited).
	code, body := sf.do(t, "GET", "/v1/notes/"+n.ID+"/draft", doc, nil)
	info := decode[api.DraftInfo](t, body)
	if code != http.StatusOK || info.NoteID != n.ID || len(info.Data) != 1 || info.Data[0].ID != "lab-1" {
		t.Fatalf("draft info: %d %s", code, body)
	}
	entries, err := sf.store.AuditEntries(t.Context(), store.AuditFilter{Subject: n.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if bytes.Contains(e.Detail, []byte("咳嗽")) || bytes.Contains(e.Detail, []byte("青霉素")) {
			t.Errorf("audit detail holds patient text: %s", e.Detail)
		}
	}
	if strings.Join(actions, ",") != "note.draft,phi.read" {
		t.Errorf("audit actions %v", actions)
	}
}

func TestScribeDraftReadsTheTriageSummary(t *testing.T) {
	sf := newScribeFixture(t)
	doc, kiosk := sf.token(t, api.RoleDoctor), sf.token(t, api.RoleKiosk)
	code, body := sf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "咳嗽三天，发烧", Age: triagePtr(40), Sex: clinic.SexMale})
	if code != http.StatusCreated {
		t.Fatalf("triage: %d %s", code, body)
	}
	sess := decode[api.TriageSessionResponse](t, body)
	for turn, i := sess.Turn, 0; turn.Kind == triage.TurnQuestion; i++ {
		if i > 8 {
			t.Fatal("triage session does not end")
		}
		var st int
		st, _, turn = (&triageFixture{fixture: sf.fixture}).sse(t, sess.ID, kiosk, triage.Answer{QuestionID: turn.Question.ID, Choice: triage.ChoiceNo})
		if st != http.StatusOK {
			t.Fatalf("triage answer: %d", st)
		}
	}
	encID := sf.encounter(t, doc, visit...)
	_, res := sf.drafted(t, encID, doc, api.DraftRequest{Type: clinic.NoteOutpatient, TriageSessionID: sess.ID})
	if res.Summary == nil || res.Summary.ChiefComplaintZH == "" || res.TriageSessionID != sess.ID {
		t.Fatalf("draft did not read the triage summary: %+v", res.DraftInfo)
	}
	if !citesTriageSummary(res.Note) {
		t.Errorf("no statement cites the triage summary: %+v", res.Note.Sections)
	}
	entries, err := sf.store.AuditEntries(t.Context(), store.AuditFilter{Subject: "triage:" + sess.ID, Action: "triage.read"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("triage read audit: %d entries, err %v", len(entries), err)
	}
}

func TestScribeReviewEditSignDiffAndExport(t *testing.T) {
	sf := newScribeFixture(t)
	doc, qc := sf.token(t, api.RoleDoctor), sf.token(t, api.RoleQC)
	encID := sf.encounter(t, doc, visit...)
	_, res := sf.drafted(t, encID, doc, api.DraftRequest{Type: clinic.NoteOutpatient})
	n := res.Note

	// FHIR of the draft: a preliminary Composition with the sections.
	comp := sf.fhir(t, n.ID, "", qc)
	if comp.ResourceType != "Composition" || comp.Status != "preliminary" || len(comp.Attester) != 0 ||
		comp.Subject.Reference != "Patient/p-scribe" || len(comp.Section) != len(n.Sections) {
		t.Fatalf("draft composition: %+v", comp)
	}
	if comp.Section[0].Title != "主诉" || comp.Section[0].Code == nil || comp.Section[0].Code.Coding[0].Code != "10154-3" ||
		!strings.HasPrefix(comp.Section[0].Text.Div, `<div xmlns="http://www.w3.org/1999/xhtml">`) {
		t.Errorf("first section: %+v", comp.Section[0])
	}
	if !strings.Contains(string(mustJSON(t, comp)), "需核实") {
		t.Errorf("the unsupported statements are not marked in the narrative")
	}

	// Markdown and plain text exports.
	for format, ct := range map[string]string{"md": "text/markdown", "txt": "text/plain"} {
		code, hdr, body := sf.get(t, "/v1/notes/"+n.ID+"/export?format="+format, doc)
		if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), ct) || !strings.Contains(string(body), "主诉") {
			t.Errorf("export %s: %d %s %.200s", format, code, hdr.Get("Content-Type"), body)
		}
	}
	if code, _, body := sf.get(t, "/v1/notes/"+n.ID+"/export?format=pdf", doc); code != http.StatusBadRequest || !bytes.Contains(body, []byte(`"field":"format"`)) {
		t.Errorf("export pdf: %d %s", code, body)
	}
	if code, _, _ := sf.get(t, "/v1/notes/"+n.ID+"/fhir?version=9", doc); code != http.StatusBadRequest {
		t.Errorf("fhir of a missing version: %d, want 400", code)
	}

	// Before signing, the diff compares the draft with the latest version.
	code, body := sf.do(t, "GET", "/v1/notes/"+n.ID+"/diff", doc, nil)
	live := decode[api.ScribeDiffResponse](t, body)
	if code != http.StatusOK || live.Stored || live.Signed || live.Distance != 0 || live.Unchanged != len(n.Sections) {
		t.Fatalf("live diff of an unedited draft: %d %s", code, body)
	}

	// The doctor rewrites the chief complaint and saves version 2.
	var sections []api.SectionInput
	for _, sec := range n.Sections {
		si := api.SectionInput{Key: sec.Key, Title: sec.Title}
		for _, st := range sec.Statements {
			if st.Unsupported {
				continue // the doctor drops what could not be verified
			}
			si.Statements = append(si.Statements, api.StatementInput{Text: st.Text, Sources: st.Sources})
		}
		if sec.Key == scribe.SecChiefComplaint {
			si.Statements = []api.StatementInput{{Text: "咳嗽伴发热3天。"}}
		}
		sections = append(sections, si)
	}
	code, body = sf.do(t, "PUT", "/v1/notes/"+n.ID, doc, api.UpdateNoteRequest{Version: 1, Sections: sections})
	if code != http.StatusOK {
		t.Fatalf("edit: %d %s", code, body)
	}
	edited := decode[clinic.Note](t, body)

	// Signing the stale version 1 is refused with a clear message.
	code, body = sf.do(t, "POST", "/v1/notes/"+n.ID+"/sign", doc, api.SignNoteRequest{Version: 1})
	eb := decode[api.ErrorBody](t, body)
	if code != http.StatusConflict || !strings.Contains(eb.Error.MessageZH, "已被修改") {
		t.Fatalf("stale sign: %d %s", code, body)
	}
	if _, err := sf.store.Record(t.Context(), "scribe_diff", n.ID); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Fatalf("a refused signing stored a diff: %v", err)
	}

	// Signing the latest version stores the diff in the same transaction.
	code, body = sf.do(t, "POST", "/v1/notes/"+n.ID+"/sign", doc, api.SignNoteRequest{Version: edited.Version})
	if code != http.StatusOK {
		t.Fatalf("sign: %d %s", code, body)
	}
	var signed struct {
		clinic.Note
		Checks struct {
			Scribe api.NoteDiff `json:"scribe"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(body, &signed); err != nil {
		t.Fatal(err)
	}
	d := signed.Checks.Scribe
	if signed.Status != clinic.NoteSigned || !d.Signed || d.DraftVersion != 1 || d.FinalVersion != signed.Version || d.SignedBy != "user-doctor" {
		t.Fatalf("sign response: %s", body)
	}
	var ccEdit *scribe.SectionEdit
	for i, s := range d.Sections {
		if s.Key == scribe.SecChiefComplaint {
			ccEdit = &d.Sections[i]
		}
	}
	if ccEdit == nil || ccEdit.Distance == 0 || d.Distance < ccEdit.Distance || d.Unchanged >= len(d.Sections) {
		t.Fatalf("diff does not show the edit: %+v", d)
	}
	code, body = sf.do(t, "GET", "/v1/notes/"+n.ID+"/diff", qc, nil)
	got := decode[api.ScribeDiffResponse](t, body)
	if code != http.StatusOK || !got.Stored || got.Distance != d.Distance || len(got.Sections) != len(d.Sections) {
		t.Fatalf("stored diff: %d %s", code, body)
	}
	if comp := sf.fhir(t, n.ID, "", doc); comp.Status != "final" || len(comp.Attester) != 1 || comp.Attester[0].Mode != "legal" {
		t.Errorf("signed composition: %+v", comp)
	}
	if comp := sf.fhir(t, n.ID, "?version=1", doc); comp.Status != "preliminary" {
		t.Errorf("composition of version 1: %s", comp.Status)
	}
	entries, err := sf.store.AuditEntries(t.Context(), store.AuditFilter{Subject: n.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Action != "phi.read" {
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, ",") != "note.draft,note.edit,scribe.diff,note.sign" {
		t.Errorf("audit actions %v", actions)
	}

	// A note written by hand is signed without a scribe diff.
	hand := api.NoteRequest{Type: clinic.NoteOutpatient, Sections: []api.SectionInput{{Key: "chief_complaint", Title: "主诉", Statements: []api.StatementInput{{Text: "咳嗽3天。"}}}}}
	code, body = sf.do(t, "POST", "/v1/encounters/"+encID+"/notes", doc, hand)
	if code != http.StatusCreated {
		t.Fatalf("hand note: %d %s", code, body)
	}
	hn := decode[clinic.Note](t, body)
	code, body = sf.do(t, "POST", "/v1/notes/"+hn.ID+"/sign", doc, api.SignNoteRequest{Version: 1})
	if code != http.StatusOK || bytes.Contains(body, []byte(`"distance"`)) {
		t.Fatalf("hand note sign: %d %s", code, body)
	}
	if code, _ := sf.do(t, "GET", "/v1/notes/"+hn.ID+"/diff", doc, nil); code != http.StatusNotFound {
		t.Errorf("diff of a hand-written note: %d, want 404", code)
	}
}

// fhirComposition is the part of a FHIR R4 Composition the tests check.
type fhirComposition struct {
	ResourceType string `json:"resourceType"`
	Status       string `json:"status"`
	Subject      struct {
		Reference string `json:"reference"`
	} `json:"subject"`
	Encounter struct {
		Reference string `json:"reference"`
	} `json:"encounter"`
	Date     string `json:"date"`
	Author   []json.RawMessage
	Title    string `json:"title"`
	Attester []struct {
		Mode string `json:"mode"`
	} `json:"attester"`
	Section []struct {
		Title string `json:"title"`
		Code  *struct {
			Coding []struct {
				System string `json:"system"`
				Code   string `json:"code"`
			} `json:"coding"`
		} `json:"code"`
		Text struct {
			Status string `json:"status"`
			Div    string `json:"div"`
		} `json:"text"`
	} `json:"section"`
}

func (sf *scribeFixture) fhir(t *testing.T, id, query, token string) fhirComposition {
	t.Helper()
	code, hdr, body := sf.get(t, "/v1/notes/"+id+"/fhir"+query, token)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/fhir+json") {
		t.Fatalf("fhir: %d %s %s", code, hdr.Get("Content-Type"), body)
	}
	c := decode[fhirComposition](t, body)
	if c.Date == "" || len(c.Author) == 0 || c.Title == "" || !strings.HasPrefix(c.Encounter.Reference, "Encounter/") {
		t.Fatalf("composition lacks required elements: %s", body)
	}
	return c
}

func (sf *scribeFixture) get(t *testing.T, path, token string) (int, http.Header, []byte) {
	t.Helper()
	resp, body := fetch(t, "GET", sf.ts.URL+path, token, nil)
	return resp.StatusCode, resp.Header, body
}

func TestScribeDraftFlagsTheLLMFallback(t *testing.T) {
	// The configured model is down: the built-in draft is stored, flagged.
	srv := llmtest.NewServer(t, llmtest.WithHandler(func(llmtest.Request) llmtest.Reply {
		return llmtest.Error(http.StatusServiceUnavailable, "overloaded")
	}))
	runner, err := agents.New(agents.Config{Model: srv.Model(t), ModelName: "test-model", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	sf := newScribeFixtureWith(t, runner)
	doc := sf.token(t, api.RoleDoctor)
	encID := sf.encounter(t, doc, visit...)
	events, res := sf.drafted(t, encID, doc, api.DraftRequest{Type: clinic.NoteOutpatient})
	n := res.Note
	if !n.Fallback || n.FallbackReason == "" || n.Author != scribe.AuthorEmbedded || !res.Outcome.Fallback {
		t.Fatalf("fallback not flagged: fallback %v reason %q author %s outcome %+v", n.Fallback, n.FallbackReason, n.Author, res.Outcome)
	}
	if len(srv.Requests()) == 0 {
		t.Fatal("the model was never asked")
	}
	fell := false
	for _, e := range events {
		fell = fell || (e.name == "progress" && bytes.Contains(e.data, []byte(`"stage":"fallback"`)))
	}
	if !fell {
		t.Errorf("no fallback progress event")
	}
	if stored, err := sf.store.Note(t.Context(), n.ID); err != nil || !stored.Fallback {
		t.Errorf("stored note lost the fallback flag (err %v)", err)
	}
	entries, err := sf.store.AuditEntries(t.Context(), store.AuditFilter{Subject: n.ID, Action: "note.draft"})
	if err != nil || len(entries) != 1 || !bytes.Contains(entries[0].Detail, []byte(`"fallback":true`)) {
		t.Fatalf("draft audit: %v %+v", err, entries)
	}
	// The Markdown export says so too.
	if _, _, body := sf.get(t, "/v1/notes/"+n.ID+"/export?format=md", doc); !bytes.Contains(body, []byte("主诉")) {
		t.Errorf("export: %s", body)
	}
}

// BenchmarkScribeDraftHTTP drafts an outpatient note from a 40-turn
// dialogue over HTTP with the embedded engine: SSE stream, sqlite
// persistence and audit included.
func BenchmarkScribeDraftHTTP(b *testing.B) {
	st, tokens := openStore(b), testTokens(b)
	eng, err := scribe.New(scribe.Config{})
	if err != nil {
		b.Fatal(err)
	}
	sc, err := api.NewScribe(api.ScribeConfig{Engine: eng, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.Config{Store: st, Tokens: tokens, Features: []api.Feature{sc}, SignHooks: []api.SignHook{sc.SignHook()}})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	tok, _, err := tokens.Issue("bench-doctor", api.RoleDoctor, "", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	enc := clinic.Encounter{PatientID: "p-bench", Kind: clinic.EncounterOutpatient}
	if err := st.CreateEncounter(b.Context(), &enc); err != nil {
		b.Fatal(err)
	}
	var us []clinic.Utterance
	for len(us) < 40 {
		for _, turn := range visit {
			who, text, _ := strings.Cut(turn, ":")
			us = append(us, clinic.Utterance{Speaker: clinic.Speaker(who), Text: text})
		}
	}
	if _, err := st.AppendUtterances(b.Context(), enc.ID, us[:40]); err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(api.DraftRequest{Type: clinic.NoteOutpatient})
	for b.Loop() {
		resp, body := fetch(b, "POST", ts.URL+"/v1/encounters/"+enc.ID+"/drafts", tok, bytes.NewReader(raw), "Content-Type", "application/json")
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("event: draft")) {
			b.Fatalf("draft: %d %.200s", resp.StatusCode, body)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/draft")
}

func TestScribeDischargeDraftFromDataAndTheSignedAdmissionNote(t *testing.T) {
	sf := newScribeFixture(t)
	doc := sf.token(t, api.RoleDoctor)
	encID := sf.encounter(t, doc)
	adm := api.NoteRequest{Type: clinic.NoteAdmission, Sections: []api.SectionInput{
		{Key: scribe.SecChiefComplaint, Title: "主诉", Statements: []api.StatementInput{{Text: "咳嗽、发热3天。"}}},
		{Key: scribe.SecPresentIllness, Title: "现病史", Statements: []api.StatementInput{{Text: "患者3天前受凉后出现咳嗽、发热，体温最高39.0℃。"}}},
	}}
	code, body := sf.do(t, "POST", "/v1/encounters/"+encID+"/notes", doc, adm)
	if code != http.StatusCreated {
		t.Fatalf("admission note: %d %s", code, body)
	}
	an := decode[clinic.Note](t, body)
	if code, body := sf.do(t, "POST", "/v1/notes/"+an.ID+"/sign", doc, api.SignNoteRequest{Version: 1}); code != http.StatusOK {
		t.Fatalf("sign admission note: %d %s", code, body)
	}
	// An unsigned note is not a fact a draft may cite.
	code, body = sf.do(t, "POST", "/v1/encounters/"+encID+"/notes", doc, adm)
	if code != http.StatusCreated {
		t.Fatalf("unsigned note: %d %s", code, body)
	}
	unsigned := decode[clinic.Note](t, body)
	_, res := sf.drafted(t, encID, doc, api.DraftRequest{Type: clinic.NoteDischarge, Data: []scribe.DataItem{
		{ID: "dx-1", Kind: scribe.DataDiagnosis, Role: "discharge", Text: "社区获得性肺炎"},
		{ID: "c-1", Kind: scribe.DataCourse, Text: "入院后予头孢曲松抗感染治疗7天，体温正常。"},
		{ID: "cond-1", Kind: scribe.DataCondition, Text: "出院时无发热，咳嗽明显减轻。"},
		{ID: "adv-1", Kind: scribe.DataAdvice, Text: "出院后继续口服阿莫西林3天，1周后门诊复诊。"},
	}})
	n := res.Note
	cited := map[string]bool{}
	for _, sec := range n.Sections {
		for _, st := range sec.Statements {
			for _, src := range st.Sources {
				cited[src.ID] = true
			}
		}
	}
	for _, id := range []string{"dx-1", "c-1", "cond-1", "adv-1", an.ID + "#" + scribe.SecChiefComplaint + ".0"} {
		if !cited[id] {
			t.Errorf("discharge draft does not cite %s", id)
		}
	}
	for id := range cited {
		if strings.HasPrefix(id, unsigned.ID) {
			t.Errorf("discharge draft cites the unsigned note: %s", id)
		}
	}
	if n.Type != clinic.NoteDischarge || res.Utterances != 0 {
		t.Errorf("draft %s from %d utterances", n.Type, res.Utterances)
	}
}

// FuzzScribeDraftRequest feeds arbitrary bodies through the draft route's
// decoding and validation and, when they pass, through the engine with a
// short dialogue: nothing may panic, and every rejection is a coded error.
func FuzzScribeDraftRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type":"outpatient"}`,
		`{"type":"discharge","language":"zh","data":[{"id":"d1","kind":"lab","text":"白细胞 11.2×10^9/L"}]}`,
		`{"type":"admission","data":[{"id":"d1","kind":"diagnosis","role":"admission","text":"肺炎"},{"id":"d1","kind":"lab","text":"x"}]}`,
		`{"type":"progress","language":"en","data":[{"id":"v","kind":"vital","text":"BP 120/80, HR 88"}]}`,
		`{"type":"outpatient","triage_session_id":"abc"}`,
		`{"type":`, `[]`, `{"type":"outpatient","data":null}`,
	} {
		f.Add([]byte(seed))
	}
	eng, err := scribe.New(scribe.Config{})
	if err != nil {
		f.Fatal(err)
	}
	v := api.NewValidator()
	us := []clinic.Utterance{
		{ID: "u1", Seq: 1, Speaker: clinic.SpeakerDoctor, Text: "哪里不舒服？"},
		{ID: "u2", Seq: 2, Speaker: clinic.SpeakerPatient, Text: "咳嗽三天了，没有发热。"},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req api.DraftRequest
		if err := api.DecodeStrict(body, &req); err != nil {
			return
		}
		if err := v.Struct(req); err != nil {
			return
		}
		in := scribe.Input{Encounter: clinic.Encounter{ID: "e1", PatientID: "p1", Kind: clinic.EncounterOutpatient},
			Type: req.Type, Language: req.Language, Data: req.Data, Utterances: us}
		d, err := eng.Draft(t.Context(), in)
		if err != nil {
			if code := clinic.ErrorCode(err); code != clinic.CodeInvalid && code != clinic.CodeTooLarge {
				t.Fatalf("draft of a valid request: %v", err)
			}
			return
		}
		for _, sec := range d.Note.Sections {
			for _, st := range sec.Statements {
				if len(st.Sources) == 0 && !st.Unsupported {
					t.Fatalf("%s: unsourced statement %q not marked", sec.Key, st.Text)
				}
			}
		}
	})
}
