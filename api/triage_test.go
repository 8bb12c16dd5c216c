package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/provider"
	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

type triageFixture struct {
	*fixture
	tri *api.Triage
	mu  sync.Mutex
	now time.Time
}

func (tf *triageFixture) clock() time.Time {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	return tf.now
}

func (tf *triageFixture) advance(d time.Duration) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	tf.now = tf.now.Add(d)
}

func newTriageFixture(t *testing.T) *triageFixture {
	t.Helper()
	eng, err := triage.New(triage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tf := &triageFixture{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	tf.fixture = newFixture(t, func(cfg *api.Config) {
		tri, err := api.NewTriage(api.TriageConfig{Engine: eng, Store: cfg.Store, Now: tf.clock, SessionTTL: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		tf.tri = tri
		cfg.Features = append(cfg.Features, tri)
	})
	return tf
}

// sse posts an answer and returns the event name and the decoded turn.
func (tf *triageFixture) sse(t *testing.T, id, token string, a triage.Answer) (int, string, triage.Turn) {
	t.Helper()
	code, events, _ := postEvents(t, tf.ts.URL+"/v1/triage/sessions/"+id+"/messages", token, mustJSON(t, a))
	var event string
	var turn triage.Turn
	for _, ev := range events {
		event = ev.name
		if err := json.Unmarshal(ev.data, &turn); err != nil {
			t.Fatalf("data %s: %v", ev.data, err)
		}
	}
	return code, event, turn
}

func TestTriageSessionOverHTTP(t *testing.T) {
	tf := newTriageFixture(t)
	kiosk := tf.token(t, api.RoleKiosk)
	status, body := tf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "肚子痛两天", Age: triagePtr(35), Sex: clinic.SexFemale})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	sess := decode[api.TriageSessionResponse](t, body)
	if sess.ID == "" || sess.Turn.Kind != triage.TurnQuestion || bytes.Contains(body, []byte(`"state"`)) {
		t.Fatalf("create response %s", body)
	}
	turn := sess.Turn
	events := 0
	for turn.Kind == triage.TurnQuestion {
		events++
		if events > 6 {
			t.Fatal("session does not end")
		}
		var event string
		status, event, turn = tf.sse(t, sess.ID, kiosk, triage.Answer{QuestionID: turn.Question.ID, Choice: triage.ChoiceNo})
		if status != http.StatusOK || event != string(turn.Kind) {
			t.Fatalf("message: status %d event %q kind %q", status, event, turn.Kind)
		}
	}
	if turn.Kind != triage.TurnRecommendation || turn.Summary == nil || len(turn.Recommendation.Departments) == 0 {
		t.Fatalf("final turn %+v", turn)
	}
	// Answering a finished session is a conflict.
	if status, _, _ := tf.sse(t, sess.ID, kiosk, triage.Answer{QuestionID: "fever", Choice: "yes"}); status != http.StatusConflict {
		t.Errorf("answer after the end: %d, want 409", status)
	}
	// The doctor reads the summary (audited); another kiosk cannot see it.
	doctor := tf.token(t, api.RoleDoctor)
	status, body = tf.do(t, "GET", "/v1/triage/sessions/"+sess.ID, doctor, nil)
	got := decode[api.TriageSessionResponse](t, body)
	if status != http.StatusOK || !got.Done || got.Turn.Summary == nil || got.Turn.Summary.ChiefComplaintZH == "" {
		t.Fatalf("doctor read: %d %s", status, body)
	}
	if sum := got.Turn.Summary; sum.Department == nil || sum.Department.Code != got.Turn.Recommendation.Departments[0].Code ||
		sum.Acuity != got.Turn.Acuity || sum.Origin.Engine != triage.EngineEmbedded || len(sum.Positives()) == 0 || len(sum.Negatives()) == 0 {
		t.Errorf("summary %+v", sum)
	}
	other, _, _ := tf.tokens.Issue("kiosk:other", api.RoleKiosk, "", time.Hour)
	if status, _ := tf.do(t, "GET", "/v1/triage/sessions/"+sess.ID, other, nil); status != http.StatusNotFound {
		t.Errorf("other kiosk read: %d, want 404", status)
	}
	if status, _ := tf.do(t, "GET", "/v1/triage/sessions/"+sess.ID, tf.token(t, api.RoleQC), nil); status != http.StatusForbidden {
		t.Errorf("qc read: %d, want 403", status)
	}
	entries, err := tf.store.AuditEntries(t.Context(), store.AuditFilter{Subject: "triage:" + sess.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if bytes.Contains(e.Detail, []byte("肚子")) {
			t.Errorf("audit detail holds patient text: %s", e.Detail)
		}
	}
	if strings.Join(actions, ",") != "triage.recommendation,triage.read" {
		t.Errorf("audit actions %v", actions)
	}
}

func TestTriageEscalationAndBadInput(t *testing.T) {
	tf := newTriageFixture(t)
	kiosk := tf.token(t, api.RoleKiosk)
	status, body := tf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "胸口压着痛，出冷汗，左臂发麻", Age: triagePtr(62), Sex: clinic.SexMale})
	sess := decode[api.TriageSessionResponse](t, body)
	if status != http.StatusCreated || sess.Turn.Kind != triage.TurnEscalation || sess.Turn.Escalation.Code != "chest_pain_center" || sess.Turn.Acuity != clinic.AcuityII {
		t.Fatalf("escalation: %d %s", status, body)
	}
	for name, tc := range map[string]struct {
		body any
		want int
	}{
		"unknown field": {`{"text":"头痛","colour":"red"}`, http.StatusBadRequest},
		"bad age":       {`{"text":"头痛","age":-1}`, http.StatusBadRequest},
		"bad sex":       {`{"text":"头痛","sex":"Q"}`, http.StatusBadRequest},
		"too large":     {`{"text":"` + strings.Repeat("痛", 30000) + `"}`, http.StatusRequestEntityTooLarge},
		"emoji only":    {`{"text":"😀😀😀"}`, http.StatusCreated},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := tf.do(t, "POST", "/v1/triage/sessions", kiosk, tc.body)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %.200s", status, tc.want, body)
			}
			if status == http.StatusCreated {
				s := decode[api.TriageSessionResponse](t, body)
				if s.Turn.Kind != triage.TurnQuestion || s.Turn.Question.ID != triage.QuestionRephrase {
					t.Errorf("emoji-only: %+v, want a rephrase request", s.Turn)
				}
			}
		})
	}
	if status, _ := tf.do(t, "POST", "/v1/triage/sessions", "", triage.Intake{Text: "头痛"}); status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", status)
	}
	// The OpenAPI document describes the triage routes.
	status, body = tf.do(t, "GET", "/openapi.json", "", nil)
	if status != http.StatusOK || !bytes.Contains(body, []byte("/v1/triage/sessions/{id}/messages")) {
		t.Errorf("openapi: %d, triage routes missing", status)
	}
}

func TestTriageSessionsExpire(t *testing.T) {
	tf := newTriageFixture(t)
	kiosk := tf.token(t, api.RoleKiosk)
	_, body := tf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "头痛三天", Age: triagePtr(30)})
	sess := decode[api.TriageSessionResponse](t, body)
	tf.advance(9 * time.Minute)
	if status, _ := tf.do(t, "GET", "/v1/triage/sessions/"+sess.ID, kiosk, nil); status != http.StatusOK {
		t.Fatalf("before expiry: %d", status)
	}
	tf.advance(2 * time.Minute)
	if status, _ := tf.do(t, "GET", "/v1/triage/sessions/"+sess.ID, kiosk, nil); status != http.StatusNotFound {
		t.Errorf("after expiry: %d, want 404", status)
	}
	if n, err := tf.tri.Sessions(t.Context()); err != nil || n != 1 {
		t.Fatalf("%d sessions stored before the purge (err %v), want 1", n, err)
	}
	if n, err := tf.tri.Purge(t.Context()); err != nil || n != 1 {
		t.Errorf("purge deleted %d (err %v), want 1", n, err)
	}
	if n, err := tf.tri.Sessions(t.Context()); err != nil || n != 0 {
		t.Errorf("%d sessions stored after the purge (err %v), want 0", n, err)
	}
	// Abandoned sessions are also purged without a call to Purge: a new
	// session started a minute or more after the last purge removes them.
	tf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "头痛三天", Age: triagePtr(30)})
	tf.advance(11 * time.Minute)
	if status, _ := tf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "咳嗽两天", Age: triagePtr(30)}); status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	if n, err := tf.tri.Sessions(t.Context()); err != nil || n != 1 {
		t.Errorf("%d sessions stored after the automatic purge (err %v), want 1 (the new one)", n, err)
	}
}

func triagePtr[T any](v T) *T { return &v }

// BenchmarkTriageHTTP runs 200 concurrent kiosk sessions over HTTP on
// loopback — create, then answer every question "no" until the end — and
// reports per-request latency percentiles. "closed" sends the next request
// as soon as the last answer arrives (a stress test: latency is then
// concurrency divided by throughput); "think" staggers the session starts
// over one second and waits one second between turns, as a patient
// reading the screen would.
func BenchmarkTriageHTTP(b *testing.B) {
	for _, mode := range []struct {
		name  string
		think time.Duration
	}{{"closed", 0}, {"think", time.Second}} {
		b.Run(mode.name, func(b *testing.B) { benchTriageHTTP(b, mode.think) })
	}
}

func benchTriageHTTP(b *testing.B, think time.Duration) {
	eng, err := triage.New(triage.Config{})
	if err != nil {
		b.Fatal(err)
	}
	tokens, srv := benchServer(b, eng)
	tok, _, err := tokens.Issue("kiosk:bench", api.RoleKiosk, "", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	texts := []string{"肚子痛两天", "咳嗽三天，有黄痰", "头痛，失眠一个月", "膝盖疼", "胃胀反酸", "I have a rash on my arm"}
	post := func(path string, body any) (*http.Response, time.Duration, error) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		// The latency includes reading the whole body (the SSE event).
		body2, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body2))
		return resp, time.Since(start), err
	}
	const sessions = 200
	var lat []time.Duration
	var mu sync.Mutex
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range sessions {
			wg.Go(func() {
				if think > 0 {
					time.Sleep(time.Duration(i) * think / sessions)
				}
				var mine []time.Duration
				resp, d, err := post("/v1/triage/sessions", triage.Intake{Text: texts[i%len(texts)], Age: triagePtr(30 + i%40)})
				if err != nil {
					b.Error(err)
					return
				}
				var sess api.TriageSessionResponse
				_ = json.NewDecoder(resp.Body).Decode(&sess)
				mine = append(mine, d)
				turn := sess.Turn
				for turn.Kind == triage.TurnQuestion && len(mine) < 8 {
					time.Sleep(think)
					a := triage.Answer{QuestionID: turn.Question.ID, Choice: triage.ChoiceNo}
					if turn.Question.ID == triage.QuestionRephrase {
						a = triage.Answer{QuestionID: triage.QuestionRephrase, Text: "头痛"}
					}
					resp, d, err := post("/v1/triage/sessions/"+sess.ID+"/messages", a)
					if err != nil {
						b.Error(err)
						return
					}
					sc := bufio.NewScanner(resp.Body)
					sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
					for sc.Scan() {
						if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
							turn = triage.Turn{}
							_ = json.Unmarshal([]byte(v), &turn)
						}
					}
					mine = append(mine, d)
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/float64(b.N), "requests/op")
}

func benchServer(b *testing.B, eng *triage.Engine) (*api.Tokens, string) {
	b.Helper()
	st, tokens := openStore(b), testTokens(b)
	tri, err := api.NewTriage(api.TriageConfig{Engine: eng, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.Config{Store: st, Tokens: tokens, Version: "bench", Features: []api.Feature{tri}})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	return tokens, ts.URL
}

// A session is persisted before it is answered, so another replica (a
// second server over the same store) continues it.
func TestTriageSessionContinuesOnAnotherReplica(t *testing.T) {
	tf := newTriageFixture(t)
	kiosk := tf.token(t, api.RoleKiosk)
	status, body := tf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "咳嗽一周", Age: triagePtr(40)})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	sess := decode[api.TriageSessionResponse](t, body)
	if sess.Turn.Kind != triage.TurnQuestion {
		t.Fatalf("first turn %q, want a question", sess.Turn.Kind)
	}
	eng, err := triage.New(triage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tri2, err := api.NewTriage(api.TriageConfig{Engine: eng, Store: tf.store, Now: tf.clock, SessionTTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv2, err := api.New(api.Config{Store: tf.store, Tokens: tf.tokens, Features: []api.Feature{tri2}})
	if err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(srv2.Handler())
	defer ts2.Close()
	replica := &triageFixture{fixture: &fixture{srv: srv2, ts: ts2, store: tf.store, tokens: tf.tokens}, tri: tri2}
	status, event, turn := replica.sse(t, sess.ID, kiosk, triage.Answer{QuestionID: sess.Turn.Question.ID, Choice: triage.ChoiceNo})
	if status != http.StatusOK || event == "" || turn.Kind == "" {
		t.Fatalf("answer on the second replica: status %d event %q", status, event)
	}
	// The first replica sees the turn the second one saved.
	_, body = tf.do(t, "GET", "/v1/triage/sessions/"+sess.ID, kiosk, nil)
	if got := decode[api.TriageSessionResponse](t, body); got.UpdatedAt.Before(sess.UpdatedAt) || got.Turn.Kind != turn.Kind {
		t.Fatalf("first replica sees %+v, want the turn saved by the second", got.Turn.Kind)
	}
}

// With a model configured, the final turn says whether the LLM path
// produced it or fell back, in the SSE event, the stored session and the
// audit entry.
func TestTriageLLMOverHTTP(t *testing.T) {
	good := `{"departments":[{"code":"GI","reason_zh":"腹痛","reason_en":"abdominal pain"}],"acuity":4,"red_flags":[],` +
		`"reason_zh":"腹痛两天，建议消化科","reason_en":"Two days of abdominal pain: gastroenterology"}`
	for _, tc := range []struct {
		name     string
		reply    llmtest.Reply
		engine   string
		fallback string
	}{
		{"llm", llmtest.Text(good), triage.EngineLLM, ""},
		{"invalid output", llmtest.Text("去消化科吧"), triage.EngineEmbedded, agents.ReasonInvalidOutput},
		{"server error", llmtest.Error(503, "busy"), triage.EngineEmbedded, agents.ReasonUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.WithReplies(tc.reply))
			m, err := provider.NewModel(provider.Config{Kind: provider.KindOpenAI, BaseURL: srv.OpenAIBaseURL(), Model: "qwen-test"})
			if err != nil {
				t.Fatal(err)
			}
			r, err := agents.New(agents.Config{Model: m, ModelName: "qwen-test", Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			eng, err := triage.New(triage.Config{})
			if err != nil {
				t.Fatal(err)
			}
			agent, err := triage.NewAgent(triage.AgentConfig{Engine: eng, Runner: r})
			if err != nil {
				t.Fatal(err)
			}
			tf := &triageFixture{now: time.Now()}
			tf.fixture = newFixture(t, func(cfg *api.Config) {
				tri, err := api.NewTriage(api.TriageConfig{Engine: agent, Store: cfg.Store, Now: tf.clock})
				if err != nil {
					t.Fatal(err)
				}
				cfg.Features = append(cfg.Features, tri)
			})
			kiosk := tf.token(t, api.RoleKiosk)
			_, body := tf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "肚子痛两天", Age: triagePtr(35), Sex: clinic.SexFemale})
			sess := decode[api.TriageSessionResponse](t, body)
			turn := sess.Turn
			for i := 0; turn.Kind == triage.TurnQuestion; i++ {
				if i > 6 {
					t.Fatal("session does not end")
				}
				_, _, turn = tf.sse(t, sess.ID, kiosk, triage.Answer{QuestionID: turn.Question.ID, Choice: triage.ChoiceNo})
			}
			if turn.Kind != triage.TurnRecommendation || turn.Origin.Engine != tc.engine || turn.Origin.Fallback != (tc.fallback != "") ||
				turn.Origin.Reason != tc.fallback || turn.Summary == nil || turn.Summary.Origin.Engine != tc.engine {
				t.Fatalf("final turn %s origin %+v", turn.Kind, turn.Origin)
			}
			_, body = tf.do(t, "GET", "/v1/triage/sessions/"+sess.ID, kiosk, nil)
			if got := decode[api.TriageSessionResponse](t, body); got.Turn.Origin.Fallback != (tc.fallback != "") || got.Turn.Summary.Origin.Engine != tc.engine {
				t.Errorf("stored origin %+v", got.Turn.Origin)
			}
			entries, err := tf.store.AuditEntries(t.Context(), store.AuditFilter{Subject: "triage:" + sess.ID})
			if err != nil || len(entries) != 1 {
				t.Fatalf("%d audit entries (err %v)", len(entries), err)
			}
			var detail map[string]any
			if err := json.Unmarshal(entries[0].Detail, &detail); err != nil {
				t.Fatal(err)
			}
			if detail["engine"] != tc.engine || detail["model"] != "qwen-test" || (tc.fallback != "" && detail["fallback_reason"] != tc.fallback) {
				t.Errorf("audit detail %v", detail)
			}
		})
	}
}

// The pre-consultation summary of a finished session outlives the session:
// after the session is purged the doctor still drafts from it, until the
// summary's own retention ends.
func TestTriageSummarySurvivesSessionPurge(t *testing.T) {
	eng, err := triage.New(triage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	seng, err := scribe.New(scribe.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tf := &triageFixture{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	tf.fixture = newFixture(t, func(cfg *api.Config) {
		tri, err := api.NewTriage(api.TriageConfig{Engine: eng, Store: cfg.Store, Now: tf.clock,
			SessionTTL: 10 * time.Minute, SummaryTTL: 48 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := api.NewScribe(api.ScribeConfig{Engine: seng, Store: cfg.Store, Now: tf.clock})
		if err != nil {
			t.Fatal(err)
		}
		tf.tri = tri
		cfg.Features = append(cfg.Features, tri, sc)
	})
	sf := &scribeFixture{fixture: tf.fixture, watched: tf.ts}
	doc, kiosk := tf.token(t, api.RoleDoctor), tf.token(t, api.RoleKiosk)

	code, body := tf.do(t, "POST", "/v1/triage/sessions", kiosk, triage.Intake{Text: "咳嗽三天，发烧", Age: triagePtr(40), Sex: clinic.SexMale})
	if code != http.StatusCreated {
		t.Fatalf("triage: %d %s", code, body)
	}
	sess := decode[api.TriageSessionResponse](t, body)
	var final triage.Turn
	for turn, i := sess.Turn, 0; ; i++ {
		if turn.Kind != triage.TurnQuestion {
			final = turn
			break
		}
		if i > 8 {
			t.Fatal("triage session does not end")
		}
		var st int
		st, _, turn = tf.sse(t, sess.ID, kiosk, triage.Answer{QuestionID: turn.Question.ID, Choice: triage.ChoiceNo})
		if st != http.StatusOK {
			t.Fatalf("triage answer: %d", st)
		}
	}
	if final.Summary == nil {
		t.Fatalf("the finished session has no summary: %+v", final)
	}

	// The patient waits past the session's lifetime; the purge removes the
	// session.
	tf.advance(3 * time.Hour)
	if n, err := tf.tri.Purge(t.Context()); err != nil || n != 1 {
		t.Fatalf("purge deleted %d records (err %v), want the one session", n, err)
	}
	if n, err := tf.tri.Sessions(t.Context()); err != nil || n != 0 {
		t.Fatalf("%d sessions after the purge (err %v)", n, err)
	}
	if status, _ := tf.do(t, "GET", "/v1/triage/sessions/"+sess.ID, doc, nil); status != http.StatusNotFound {
		t.Fatalf("purged session: %d, want 404", status)
	}

	encID := sf.encounter(t, doc, visit...)
	_, res := sf.drafted(t, encID, doc, api.DraftRequest{Type: clinic.NoteOutpatient, TriageSessionID: sess.ID})
	if res.Summary == nil || res.TriageSessionID != sess.ID {
		t.Fatalf("draft after the purge did not read the summary: %+v", res.DraftInfo)
	}
	if diff := cmp.Diff(final.Summary, res.Summary); diff != "" {
		t.Errorf("summary read after the purge differs from the one the session ended with (-want +got):\n%s", diff)
	}
	if !citesTriageSummary(res.Note) {
		t.Errorf("no statement cites the triage summary: %+v", res.Note.Sections)
	}

	// Past its own retention the summary is purged too; the draft made
	// from it keeps its copy.
	tf.advance(48 * time.Hour)
	// Expired but not yet purged (purging runs only now and then): never
	// served.
	if code, _, body := sf.draft(t, encID, doc, api.DraftRequest{Type: clinic.NoteOutpatient, TriageSessionID: sess.ID}); code != http.StatusNotFound {
		t.Errorf("draft after the summary's retention, before the purge: %d %s, want 404", code, body)
	}
	if n, err := tf.tri.Purge(t.Context()); err != nil || n != 1 {
		t.Fatalf("second purge deleted %d records (err %v), want the summary", n, err)
	}
	if code, _, body := sf.draft(t, encID, doc, api.DraftRequest{Type: clinic.NoteOutpatient, TriageSessionID: sess.ID}); code != http.StatusNotFound {
		t.Errorf("draft after the summary's retention: %d %s, want 404", code, body)
	}
	code, body = tf.do(t, "GET", "/v1/notes/"+res.Note.ID+"/draft", doc, nil)
	if code != http.StatusOK {
		t.Fatalf("draft info: %d %s", code, body)
	}
	if info := decode[api.DraftInfo](t, body); info.Summary == nil || info.Summary.ChiefComplaintZH != final.Summary.ChiefComplaintZH {
		t.Errorf("the stored draft lost its copy of the summary: %+v", info.Summary)
	}
}
