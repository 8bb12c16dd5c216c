package llmtest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tmc/langchaingo/llms"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
)

func post(t *testing.T, url string, body any) *http.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestStreamFraming reads the SSE stream by hand and checks it has the
// shape OpenAI clients expect.
func TestStreamFraming(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithReplies(llmtest.Reply{
		Text:      "胸痛中心",
		ChunkSize: 1,
		ToolCalls: []llmtest.ToolCall{{Name: "ecg", Args: `{"patient_id":"p-1","leads":["II"]}`}},
	}))
	resp := post(t, srv.OpenAIBaseURL()+"/chat/completions", map[string]any{
		"model": "m", "stream": true,
		"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "hi"}}}},
	})
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	var content, args, name, id, finish string
	var done, usage bool
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q is not an SSE data line", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		if done {
			t.Fatal("data after [DONE]")
		}
		var ev struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct{} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		usage = usage || ev.Usage != nil
		for _, c := range ev.Choices {
			content += c.Delta.Content
			for _, tc := range c.Delta.ToolCalls {
				args += tc.Function.Arguments
				name += tc.Function.Name
				id += tc.ID
			}
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	if content != "胸痛中心" || args != `{"patient_id":"p-1","leads":["II"]}` || name != "ecg" || id != "call_1" ||
		finish != "tool_calls" || !done || !usage {
		t.Errorf("content=%q args=%q name=%q id=%q finish=%q done=%v usage=%v", content, args, name, id, finish, done, usage)
	}
	got := srv.Requests()
	want := []llmtest.Request{{Path: "/v1/chat/completions", Model: "m", Stream: true, Authorization: "Bearer k",
		Messages: []llmtest.Message{{Role: "user", Content: "hi"}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded (-want +got):\n%s", diff)
	}
}

func TestModelsAndLegacyEmbeddings(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithModels("qwen", "bge"), llmtest.WithEmbeddingDim(4))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.OpenAIBaseURL()+"/models", nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 2 || list.Data[0].ID != "qwen" || list.Data[1].ID != "bge" {
		t.Errorf("models = %+v", list)
	}

	er := post(t, srv.URL()+"/api/embeddings", map[string]any{"model": "bge", "prompt": "胸痛"})
	var emb struct {
		Embedding []float32 `json:"embedding"`
	}
	if err := json.NewDecoder(er.Body).Decode(&emb); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(llmtest.Vector("胸痛", 4), emb.Embedding); diff != "" {
		t.Errorf("embedding (-want +got):\n%s", diff)
	}
}

func TestVector(t *testing.T) {
	a, b := llmtest.Vector("胸痛", 64), llmtest.Vector("胸痛", 64)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("not deterministic:\n%s", diff)
	}
	if c := llmtest.Vector("腹痛", 64); cmp.Equal(a, c) {
		t.Error("different texts gave the same vector")
	}
	for i, x := range a {
		if x < -1 || x >= 1 {
			t.Errorf("a[%d] = %v outside [-1, 1)", i, x)
		}
	}
}

// recTB captures Errorf so the unscripted-request failure can be observed.
type recTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestUnscriptedRequestFailsTest(t *testing.T) {
	rec := &recTB{TB: t}
	srv := llmtest.NewServer(rec)
	resp := post(t, srv.OpenAIBaseURL()+"/chat/completions", map[string]any{"model": "m", "messages": []any{}})
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.StatusCode)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "unscripted") {
		t.Errorf("errors reported = %q", rec.errs)
	}
}

func TestBadRequestJSON(t *testing.T) {
	srv := llmtest.NewServer(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+"/api/chat", strings.NewReader("{"))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
	if srv.Pending() != 0 || len(srv.Requests()) != 0 {
		t.Error("a malformed request was recorded")
	}
}

func TestModelHelpers(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithModels("qwen"), llmtest.WithReplies(llmtest.Text("a"), llmtest.Text("b")))
	for i, m := range []llms.Model{srv.Model(t), srv.OllamaModel(t)} {
		out, err := llms.GenerateFromSinglePrompt(t.Context(), m, "hi")
		if err != nil {
			t.Fatalf("model %d: %v", i, err)
		}
		if want := string(rune('a' + i)); out != want {
			t.Errorf("model %d answered %q, want %q", i, out, want)
		}
	}
	var paths []string
	for _, r := range srv.Requests() {
		paths = append(paths, r.Path+" "+r.Model)
	}
	if diff := cmp.Diff([]string{"/v1/chat/completions qwen", "/api/chat qwen"}, paths); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// FuzzRequestBodies posts arbitrary bodies to every POST endpoint: the
// server must answer 200 or 400, never crash or hang.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
		`{"model":"m","input":["a","b"]}`, `{"input":"a"}`, `{"prompt":"p"}`, `{`, `null`, `[]`,
	} {
		f.Add(s)
	}
	srv := llmtest.NewServer(f, llmtest.WithHandler(func(llmtest.Request) llmtest.Reply { return llmtest.Text("ok") }))
	paths := []string{"/v1/chat/completions", "/v1/embeddings", "/api/chat", "/api/embed", "/api/embeddings"}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+p, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.HTTPClient().Do(req)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: status %d for %q", p, resp.StatusCode, body)
			}
		}
	})
}

// TestChatErrors checks both chat APIs answer an unscripted request and a
// scripted HTTP error in their own error shape.
func TestChatErrors(t *testing.T) {
	body := map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	tests := []struct {
		name       string
		path       string
		replies    []llmtest.Reply
		wantStatus int
		wantBody   string
		wantErrs   int
	}{
		{"openai unscripted", "/v1/chat/completions", nil, http.StatusInternalServerError,
			`{"error":{"message":"llmtest: no scripted reply","type":"server_error"}}`, 1},
		{"openai error", "/v1/chat/completions", []llmtest.Reply{llmtest.Error(http.StatusTooManyRequests, "busy")},
			http.StatusTooManyRequests, `{"error":{"message":"busy","type":"server_error"}}`, 0},
		{"ollama unscripted", "/api/chat", nil, http.StatusInternalServerError,
			`{"error":"llmtest: no scripted reply"}`, 1},
		{"ollama error", "/api/chat", []llmtest.Reply{llmtest.Error(http.StatusServiceUnavailable, "down")},
			http.StatusServiceUnavailable, `{"error":"down"}`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recTB{TB: t}
			srv := llmtest.NewServer(rec, llmtest.WithReplies(tc.replies...))
			resp := post(t, srv.URL()+tc.path, body)
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(resp.Body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus || strings.TrimSpace(buf.String()) != tc.wantBody {
				t.Errorf("status %d body %q, want %d %q", resp.StatusCode, buf.String(), tc.wantStatus, tc.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.errs) != tc.wantErrs {
				t.Errorf("errors reported = %q, want %d", rec.errs, tc.wantErrs)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("%d requests recorded, want 1", n)
			}
		})
	}
}

func TestRunner(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithModels("qwen"))
	r := srv.Runner(t, agents.Config{ModelName: "reported", Timeout: time.Minute})
	if !r.HasModel() || r.ModelName() != "reported" {
		t.Errorf("runner has model %v, name %q", r.HasModel(), r.ModelName())
	}
}
