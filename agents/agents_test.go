package agents_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/provider"
	"github.com/yizhu-health/yizhu/prompts"
)

const recoPrompt = `---
id: reco
version: 3
description: Test recommendation.
inputs: [complaint]
output: '{"department": string, "acuity": 1-4, "reasons": [string]}'
---
--- system ---
You are a triage nurse. Reply with one JSON object.
--- user ---
Complaint: {{.complaint}}
`

type reco struct {
	Department string   `json:"department" validate:"required"`
	Acuity     int      `json:"acuity" validate:"min=1,max=4"`
	Reasons    []string `json:"reasons" validate:"max=3"`
}

var goodReco = reco{Department: "胸痛中心", Acuity: 1, Reasons: []string{"胸痛伴出汗"}}

// testPrompts is the embedded set (for json_repair) plus the test prompt.
func testPrompts(t *testing.T) *prompts.Set { return testPromptsTB(t) }

func testPromptsTB(t testing.TB) *prompts.Set {
	t.Helper()
	repair, err := fs.ReadFile(prompts.Embedded(), agents.RepairPromptID+".prompt")
	if err != nil {
		t.Fatal(err)
	}
	set, err := prompts.Load(fstest.MapFS{
		"reco.prompt":        {Data: []byte(recoPrompt)},
		"json_repair.prompt": {Data: repair},
	})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// logSink records log records for assertions.
type logSink struct {
	mu   sync.Mutex
	recs []map[string]any
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	m := map[string]any{"msg": r.Message, "level": r.Level.String()}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.Any(); return true })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, m)
	return nil
}

func (s *logSink) warnings() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, r := range s.recs {
		if r["level"] == "WARN" {
			out = append(out, r)
		}
	}
	return out
}

type setup struct {
	srv  *llmtest.Server
	r    *agents.Runner
	logs *logSink
}

// newSetup wires the real langchaingo client (through agents/provider) to
// a scripted server (one on a loopback socket, or in memory with
// llmtest.InMemory).
func newSetup(t *testing.T, kind string, timeout time.Duration, opts ...llmtest.Option) setup {
	t.Helper()
	srv := llmtest.NewServer(t, opts...)
	base := srv.OpenAIBaseURL()
	if kind == provider.KindOllama {
		base = srv.URL()
	}
	m, err := provider.NewModel(provider.Config{Kind: kind, BaseURL: base, Model: "qwen-test", HTTPClient: srv.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logSink{}
	r, err := agents.New(agents.Config{Model: m, ModelName: "qwen-test", Prompts: testPrompts(t),
		Timeout: timeout, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	return setup{srv: srv, r: r, logs: logs}
}

// timeoutFor gives cases that expect a timeout a short per-call deadline
// (the scripted reply waits a minute); every other case gets a minute, so a
// loaded machine cannot turn a success into a timeout.
func timeoutFor(reason string) time.Duration {
	if reason == agents.ReasonTimeout {
		return 100 * time.Millisecond
	}
	return time.Minute
}

func TestNewConfig(t *testing.T) {
	if _, err := agents.New(agents.Config{Timeout: -time.Second}); err == nil {
		t.Error("negative timeout accepted")
	}
	noRepair, err := prompts.Load(fstest.MapFS{"reco.prompt": {Data: []byte(recoPrompt)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := agents.New(agents.Config{Prompts: noRepair}); err == nil {
		t.Error("a prompt set without json_repair accepted")
	}
	r, err := agents.New(agents.Config{})
	if err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	if r.HasModel() || r.ModelName() != "" {
		t.Errorf("default runner has a model")
	}
}

func TestDecodeSuccess(t *testing.T) {
	tests := []struct {
		name   string
		kind   string
		reply  llmtest.Reply
		stream bool
	}{
		{name: "openai", kind: provider.KindOpenAI, reply: llmtest.JSON(goodReco)},
		{name: "openai stream", kind: provider.KindOpenAI, reply: llmtest.JSON(goodReco), stream: true},
		{name: "ollama", kind: provider.KindOllama, reply: llmtest.JSON(goodReco)},
		{name: "ollama stream", kind: provider.KindOllama, reply: llmtest.JSON(goodReco), stream: true},
		{name: "json fence", kind: provider.KindOpenAI,
			reply: llmtest.Text("```json\n{\"department\":\"胸痛中心\",\"acuity\":1,\"reasons\":[\"胸痛伴出汗\"]}\n```")},
		{name: "bare fence", kind: provider.KindOpenAI,
			reply: llmtest.Text("  ```\n{\"department\":\"胸痛中心\",\"acuity\":1,\"reasons\":[\"胸痛伴出汗\"]}```  ")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, tc.kind, time.Minute, llmtest.WithReplies(tc.reply))
			var opts []agents.Option
			var streamed strings.Builder
			if tc.stream {
				opts = append(opts, agents.WithStream(func(_ context.Context, b []byte) error {
					streamed.Write(b)
					return nil
				}))
			}
			got, meta, err := agents.Decode[reco](t.Context(), s.r, "reco", map[string]any{"complaint": "胸痛出汗"}, opts...)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(goodReco, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if meta.Prompt != (prompts.Meta{ID: "reco", Version: 3}) || meta.Model != "qwen-test" || meta.Attempts != 1 {
				t.Errorf("meta = %+v", meta)
			}
			if tc.stream && streamed.String() != tc.reply.Text {
				t.Errorf("streamed %q, want %q", streamed.String(), tc.reply.Text)
			}
			reqs := s.srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			want := []llmtest.Message{
				{Role: "system", Content: "You are a triage nurse. Reply with one JSON object."},
				{Role: "user", Content: "Complaint: 胸痛出汗"},
			}
			if diff := cmp.Diff(want, reqs[0].Messages); diff != "" {
				t.Errorf("messages sent (-want +got):\n%s", diff)
			}
			if !reqs[0].JSONMode || reqs[0].Stream != tc.stream || len(reqs[0].Tools) != 0 {
				t.Errorf("request json=%v stream=%v tools=%d", reqs[0].JSONMode, reqs[0].Stream, len(reqs[0].Tools))
			}
		})
	}
}

func TestDecodePlainOutput(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithReplies(llmtest.JSON(goodReco)))
	m, err := provider.NewModel(provider.Config{Kind: "openai", BaseURL: srv.OpenAIBaseURL(), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := agents.New(agents.Config{Model: m, Prompts: testPrompts(t), PlainOutput: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := agents.Decode[reco](t.Context(), r, "reco", map[string]any{"complaint": "x"}); err != nil {
		t.Fatal(err)
	}
	if srv.Requests()[0].JSONMode {
		t.Error("PlainOutput runner asked for the JSON response format")
	}
}

func TestDecodeRepair(t *testing.T) {
	tests := []struct {
		name        string
		first       llmtest.Reply
		wantProblem string
	}{
		{name: "invalid JSON", first: llmtest.Text("建议去急诊。"), wantProblem: "not a JSON object"},
		{name: "truncated JSON", first: llmtest.Text(`{"department": "胸痛中心", "acuity": `), wantProblem: "does not match the output"},
		{name: "unknown field", first: llmtest.Text(`{"department":"胸痛中心","acuity":1,"reasons":[],"dose":"5mg"}`),
			wantProblem: `unknown field "dose"`},
		{name: "validation failure", first: llmtest.JSON(reco{Acuity: 7}),
			wantProblem: `field "department" is required`},
		{name: "text after object", first: llmtest.Text(`{"department":"a","acuity":1} and more`),
			wantProblem: "text after the JSON object"},
		{name: "other fence", first: llmtest.Text("```yaml\ndepartment: a\n```"), wantProblem: `fenced as "yaml"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, provider.KindOpenAI, time.Minute, llmtest.WithReplies(tc.first, llmtest.JSON(goodReco)))
			got, meta, err := agents.Decode[reco](t.Context(), s.r, "reco", map[string]any{"complaint": "胸痛"})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(goodReco, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if meta.Attempts != 2 {
				t.Errorf("attempts = %d, want 2", meta.Attempts)
			}
			reqs := s.srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			second := reqs[1].Messages
			if len(second) != 4 {
				t.Fatalf("repair request has %d messages, want 4: %+v", len(second), second)
			}
			if second[2].Role != "assistant" || second[2].Content != tc.first.Text {
				t.Errorf("bad reply not echoed as assistant message: %+v", second[2])
			}
			if second[3].Role != "user" || !strings.Contains(second[3].Content, tc.wantProblem) ||
				!strings.Contains(second[3].Content, `"acuity": 1-4`) {
				t.Errorf("repair message lacks the problem %q or the output description:\n%s", tc.wantProblem, second[3].Content)
			}
		})
	}
}

func TestDecodeInvalidTwice(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute,
		llmtest.WithReplies(llmtest.Text("not json"), llmtest.JSON(reco{Acuity: 9, Reasons: []string{"a", "b", "c", "d"}})))
	_, meta, err := agents.Decode[reco](t.Context(), s.r, "reco", map[string]any{"complaint": "x"})
	if !errors.Is(err, agents.ErrModelOutput) || errors.Is(err, agents.ErrModelUnavailable) {
		t.Fatalf("err = %v, want ErrModelOutput only", err)
	}
	oe, ok := errors.AsType[*agents.OutputError](err)
	if !ok {
		t.Fatalf("err is %T, want *OutputError", err)
	}
	want := []agents.FieldReason{
		{Field: "department", ReasonZH: "为必填项", ReasonEN: "is required"},
		{Field: "acuity", ReasonZH: "不能大于 4", ReasonEN: "must be at most 4"},
		{Field: "reasons", ReasonZH: "最多 3 项", ReasonEN: "must have at most 3 items"},
	}
	if diff := cmp.Diff(want, oe.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, agents.FieldReasons(err)); diff != "" {
		t.Errorf("FieldReasons (-want +got):\n%s", diff)
	}
	if oe.PromptID != "reco" || oe.Attempts != 2 || meta.Attempts != 2 {
		t.Errorf("prompt %q attempts %d/%d", oe.PromptID, oe.Attempts, meta.Attempts)
	}
	if n := len(s.srv.Requests()); n != 2 {
		t.Errorf("%d requests, want exactly one repair", n)
	}
}

func TestDecodeUnavailable(t *testing.T) {
	tests := []struct {
		name       string
		kind       string
		reply      llmtest.Reply
		wantReason string
	}{
		{name: "500", kind: "openai", reply: llmtest.Error(500, "overloaded"), wantReason: agents.ReasonUnavailable},
		{name: "ollama 500", kind: "ollama", reply: llmtest.Error(500, "overloaded"), wantReason: agents.ReasonUnavailable},
		{name: "timeout", kind: "openai", reply: llmtest.JSON(goodReco).After(time.Minute), wantReason: agents.ReasonTimeout},
		{name: "ollama timeout", kind: "ollama", reply: llmtest.JSON(goodReco).After(time.Minute), wantReason: agents.ReasonTimeout},
		{name: "stream timeout", kind: "openai", reply: llmtest.JSON(goodReco).After(time.Minute), wantReason: agents.ReasonTimeout},
		{name: "429", kind: "openai", reply: llmtest.Error(429, "slow down"), wantReason: agents.ReasonRateLimited},
		{name: "401", kind: "openai", reply: llmtest.Error(401, "bad key"), wantReason: agents.ReasonRejected},
		{name: "malformed body", kind: "openai", reply: llmtest.Malformed(), wantReason: agents.ReasonModelError},
	}
	check := func(t *testing.T, name, kind string, reply llmtest.Reply, wantReason string, serverOpts ...llmtest.Option) {
		s := newSetup(t, kind, timeoutFor(wantReason), append(serverOpts, llmtest.WithReplies(reply))...)
		var opts []agents.Option
		if strings.Contains(name, "stream") {
			opts = append(opts, agents.WithStream(func(context.Context, []byte) error { return nil }))
		}
		_, meta, err := agents.Decode[reco](t.Context(), s.r, "reco", map[string]any{"complaint": "x"}, opts...)
		if !errors.Is(err, agents.ErrModelUnavailable) || errors.Is(err, agents.ErrModelOutput) {
			t.Fatalf("err = %v, want ErrModelUnavailable only", err)
		}
		if got := agents.Reason(err); got != wantReason {
			t.Errorf("reason = %q, want %q (err %v)", got, wantReason, err)
		}
		if meta.Attempts != 1 || len(s.srv.Requests()) != 1 {
			t.Errorf("attempts %d, requests %d: an unavailable model must not be asked to repair",
				meta.Attempts, len(s.srv.Requests()))
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantReason != agents.ReasonTimeout {
				check(t, tc.name, tc.kind, tc.reply, tc.wantReason)
				return
			}
			// The short deadline runs on the fake clock of a synctest
			// bubble, against an in-memory server: on a real clock a
			// loaded machine could let it pass before the request reaches
			// the server, and the request count would be 0.
			synctest.Test(t, func(t *testing.T) {
				check(t, tc.name, tc.kind, tc.reply, tc.wantReason, llmtest.InMemory())
			})
		})
	}
}

func TestDecodeNoModel(t *testing.T) {
	r, err := agents.New(agents.Config{Prompts: testPrompts(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, meta, err := agents.Decode[reco](t.Context(), r, "reco", map[string]any{"complaint": "x"})
	if !errors.Is(err, agents.ErrNoModel) || !errors.Is(err, agents.ErrModelUnavailable) || agents.Reason(err) != agents.ReasonNoLLM {
		t.Fatalf("err = %v", err)
	}
	if meta.Prompt.ID != "reco" || meta.Prompt.Version != 3 {
		t.Errorf("meta = %+v", meta)
	}
}

func TestDecodeRenderError(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute)
	_, _, err := agents.Decode[reco](t.Context(), s.r, "reco", map[string]any{"wrong": "x"})
	if err == nil || errors.Is(err, agents.ErrModelUnavailable) || errors.Is(err, agents.ErrModelOutput) {
		t.Fatalf("err = %v, want a render error", err)
	}
	if len(s.srv.Requests()) != 0 {
		t.Error("a request was sent for a prompt that failed to render")
	}
}

func TestDecodeConcurrent(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute, llmtest.WithHandler(func(req llmtest.Request) llmtest.Reply {
		c := req.Messages[len(req.Messages)-1].Content
		return llmtest.JSON(reco{Department: strings.TrimPrefix(c, "Complaint: "), Acuity: 2})
	}))
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			name := string(rune('A' + i))
			got, _, err := agents.Decode[reco](t.Context(), s.r, "reco", map[string]any{"complaint": name})
			if err == nil && got.Department != name {
				err = errors.New("reply crossed: got " + got.Department + ", want " + name)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
}

func TestWithFallback(t *testing.T) {
	tests := []struct {
		name         string
		noModel      bool
		replies      []llmtest.Reply
		wantFallback bool
		wantReason   string
		wantDept     string
	}{
		{name: "llm ok", replies: []llmtest.Reply{llmtest.JSON(goodReco)}, wantDept: "胸痛中心"},
		{name: "no llm", noModel: true, wantFallback: true, wantReason: agents.ReasonNoLLM, wantDept: "急诊科"},
		{name: "500", replies: []llmtest.Reply{llmtest.Error(500, "down")}, wantFallback: true,
			wantReason: agents.ReasonUnavailable, wantDept: "急诊科"},
		{name: "timeout", replies: []llmtest.Reply{llmtest.JSON(goodReco).After(time.Minute)}, wantFallback: true,
			wantReason: agents.ReasonTimeout, wantDept: "急诊科"},
		{name: "invalid twice", replies: []llmtest.Reply{llmtest.Text("x"), llmtest.Text("y")}, wantFallback: true,
			wantReason: agents.ReasonInvalidOutput, wantDept: "急诊科"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, provider.KindOpenAI, timeoutFor(tc.wantReason), llmtest.WithReplies(tc.replies...))
			r := s.r
			if tc.noModel {
				var err error
				r, err = agents.New(agents.Config{Prompts: testPrompts(t), Logger: slog.New(s.logs)})
				if err != nil {
					t.Fatal(err)
				}
			}
			primaryCalls := 0
			primary := func(ctx context.Context) (reco, error) {
				primaryCalls++
				v, _, err := agents.Decode[reco](ctx, r, "reco", map[string]any{"complaint": "胸痛"})
				return v, err
			}
			fallback := func(context.Context) (reco, error) { return reco{Department: "急诊科", Acuity: 2}, nil }
			got, out, err := agents.WithFallback(t.Context(), r, primary, fallback, agents.WithAgent("triage"))
			if err != nil {
				t.Fatalf("WithFallback: %v", err)
			}
			if got.Department != tc.wantDept {
				t.Errorf("department = %q, want %q", got.Department, tc.wantDept)
			}
			if diff := cmp.Diff(agents.Outcome{Fallback: tc.wantFallback, Reason: tc.wantReason}, out); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if tc.noModel && primaryCalls != 0 {
				t.Error("primary ran without a model")
			}
			warns := s.logs.warnings()
			if !tc.wantFallback || tc.noModel {
				if len(warns) != 0 {
					t.Errorf("unexpected warnings: %v", warns)
				}
				return
			}
			if len(warns) != 1 {
				t.Fatalf("%d warnings, want 1: %v", len(warns), warns)
			}
			w := warns[0]
			if w["agent"] != "triage" || w["prompt_id"] != "reco" || w["fallback"] != true || w["reason"] != tc.wantReason {
				t.Errorf("log attrs = %v", w)
			}
			if _, ok := w["latency_ms"].(int64); !ok {
				t.Errorf("latency_ms missing: %v", w)
			}
		})
	}
}

func TestWithFallbackErrors(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute)
	boom := errors.New("kb missing")
	primary := func(context.Context) (int, error) { return 0, errors.New("llm broke") }
	_, out, err := agents.WithFallback(t.Context(), s.r, primary, func(context.Context) (int, error) { return 0, boom })
	if !errors.Is(err, boom) || !out.Fallback || out.Reason != agents.ReasonError {
		t.Errorf("fallback failure: err=%v out=%+v", err, out)
	}

	ctx, cancel := context.WithCancel(t.Context())
	fallbackRan := false
	_, _, err = agents.WithFallback(ctx, s.r,
		func(context.Context) (int, error) { cancel(); return 0, errors.New("cut off") },
		func(context.Context) (int, error) { fallbackRan = true; return 1, nil })
	if !errors.Is(err, context.Canceled) || fallbackRan {
		t.Errorf("canceled caller: err=%v fallbackRan=%v", err, fallbackRan)
	}
}
