package provider_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tmc/langchaingo/llms"

	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/provider"
	"github.com/yizhu-health/yizhu/clinic"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name      string
		cfg       provider.Config
		wantField string // "" means valid
	}{
		{name: "none", cfg: provider.Config{Kind: "none"}},
		{name: "empty kind is none", cfg: provider.Config{}},
		{name: "openai ok", cfg: provider.Config{Kind: "openai", BaseURL: "http://localhost:8000/v1", Model: "qwen"}},
		{name: "ollama ok", cfg: provider.Config{Kind: "ollama", BaseURL: "http://localhost:11434", Model: "qwen2.5"}},
		{name: "unknown kind", cfg: provider.Config{Kind: "gemini", BaseURL: "http://x", Model: "m"}, wantField: "kind"},
		{name: "missing base url", cfg: provider.Config{Kind: "openai", Model: "m"}, wantField: "base_url"},
		{name: "relative base url", cfg: provider.Config{Kind: "ollama", BaseURL: "localhost:11434", Model: "m"}, wantField: "base_url"},
		{name: "bad scheme", cfg: provider.Config{Kind: "openai", BaseURL: "ftp://x/v1", Model: "m"}, wantField: "base_url"},
		{name: "credentials in url", cfg: provider.Config{Kind: "openai", BaseURL: "http://u:p@x/v1", Model: "m"}, wantField: "base_url"},
		{name: "unparseable url", cfg: provider.Config{Kind: "ollama", BaseURL: "http://[::1", Model: "m"}, wantField: "base_url"},
		{name: "missing model", cfg: provider.Config{Kind: "openai", BaseURL: "http://x/v1"}, wantField: "model"},
		{name: "negative timeout", cfg: provider.Config{Kind: "openai", BaseURL: "http://x/v1", Model: "m", Timeout: -1}, wantField: "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := provider.NewModel(tc.cfg)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("NewModel: %v", err)
				}
				if (tc.cfg.Kind == "" || tc.cfg.Kind == "none") != (m == nil) {
					t.Errorf("model = %v for kind %q", m, tc.cfg.Kind)
				}
				return
			}
			ce, ok := errors.AsType[*clinic.Error](err)
			if !ok || ce.Code != clinic.CodeInvalid || ce.Field != tc.wantField {
				t.Fatalf("err = %#v, want invalid error on field %q", err, tc.wantField)
			}
			if ce.MessageZH == "" {
				t.Error("no Chinese message")
			}
		})
	}
}

func TestEmbedderConfigValidate(t *testing.T) {
	ok := provider.EmbedderConfig{Kind: "openai", BaseURL: "http://x/v1", Model: "bge-m3", Dim: 1024}
	tests := []struct {
		name      string
		edit      func(*provider.EmbedderConfig)
		wantField string
	}{
		{name: "ok", edit: func(*provider.EmbedderConfig) {}},
		{name: "none kind", edit: func(c *provider.EmbedderConfig) { c.Kind = "none" }, wantField: "kind"},
		{name: "no model", edit: func(c *provider.EmbedderConfig) { c.Model = " " }, wantField: "model"},
		{name: "no dim", edit: func(c *provider.EmbedderConfig) { c.Dim = 0 }, wantField: "dim"},
		{name: "huge dim", edit: func(c *provider.EmbedderConfig) { c.Dim = provider.MaxDim + 1 }, wantField: "dim"},
		{name: "huge batch", edit: func(c *provider.EmbedderConfig) { c.BatchSize = provider.MaxBatchSize + 1 }, wantField: "batch_size"},
		{name: "negative retries", edit: func(c *provider.EmbedderConfig) { c.MaxRetries = -1 }, wantField: "max_retries"},
		{name: "no base url", edit: func(c *provider.EmbedderConfig) { c.BaseURL = "" }, wantField: "base_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			_, err := provider.NewEmbedder(cfg)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("NewEmbedder: %v", err)
				}
				return
			}
			ce, isCE := errors.AsType[*clinic.Error](err)
			if !isCE || ce.Code != clinic.CodeInvalid || ce.Field != tc.wantField {
				t.Fatalf("err = %#v, want invalid error on field %q", err, tc.wantField)
			}
		})
	}
}

// isolateEnv points every variable langchaingo might read at a dead
// address, so a test passes only if NewModel sets everything explicitly.
func isolateEnv(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_API_BASE", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_MODEL", "env-model")
	t.Setenv("OPENAI_ORGANIZATION", "env-org")
	t.Setenv("OLLAMA_HOST", "127.0.0.1:1")
}

func newModel(t *testing.T, kind string, srv *llmtest.Server, key string) llms.Model {
	t.Helper()
	base := srv.OpenAIBaseURL()
	if kind == provider.KindOllama {
		base = srv.URL()
	}
	m, err := provider.NewModel(provider.Config{Kind: kind, BaseURL: base, Model: "qwen-test", APIKey: key})
	if err != nil {
		t.Fatalf("NewModel: %v", err)
	}
	return m
}

func human(text string) []llms.MessageContent {
	return []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "be brief"),
		llms.TextParts(llms.ChatMessageTypeHuman, text),
	}
}

func TestModelChat(t *testing.T) {
	isolateEnv(t)
	for _, kind := range []string{provider.KindOpenAI, provider.KindOllama} {
		for _, stream := range []bool{false, true} {
			name := kind
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				srv := llmtest.NewServer(t, llmtest.WithReplies(llmtest.Text("胸痛伴出汗，建议胸痛中心。")))
				m := newModel(t, kind, srv, "")
				var streamed strings.Builder
				opts := []llms.CallOption{llms.WithJSONMode()}
				if stream {
					opts = append(opts, llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error {
						streamed.Write(chunk)
						return nil
					}))
				}
				resp, err := m.GenerateContent(t.Context(), human("胸痛"), opts...)
				if err != nil {
					t.Fatalf("GenerateContent: %v", err)
				}
				if got := resp.Choices[0].Content; got != "胸痛伴出汗，建议胸痛中心。" {
					t.Errorf("content = %q", got)
				}
				if stream && streamed.String() != "胸痛伴出汗，建议胸痛中心。" {
					t.Errorf("streamed = %q", streamed.String())
				}
				reqs := srv.Requests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				r := reqs[0]
				want := []llmtest.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "胸痛"}}
				if diff := cmp.Diff(want, r.Messages); diff != "" {
					t.Errorf("messages (-want +got):\n%s", diff)
				}
				if r.Model != "qwen-test" || r.Stream != stream || !r.JSONMode {
					t.Errorf("request model=%q stream=%v json=%v", r.Model, r.Stream, r.JSONMode)
				}
				if kind == provider.KindOpenAI && r.Authorization != "Bearer none" {
					t.Errorf("Authorization = %q, want the placeholder token, not the environment's", r.Authorization)
				}
			})
		}
	}
}

func TestModelAPIKey(t *testing.T) {
	isolateEnv(t)
	srv := llmtest.NewServer(t, llmtest.WithReplies(llmtest.Text("ok")))
	m := newModel(t, provider.KindOpenAI, srv, "sk-configured")
	if _, err := m.GenerateContent(t.Context(), human("hi")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests()[0].Authorization; got != "Bearer sk-configured" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestModelToolCall(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "stream"}[stream], func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.WithReplies(
				llmtest.Tool("ecg_latest", map[string]any{"patient_id": "p-1", "leads": []string{"II", "V2"}})))
			m := newModel(t, provider.KindOpenAI, srv, "")
			tools := []llms.Tool{{Type: "function", Function: &llms.FunctionDefinition{
				Name: "ecg_latest", Description: "latest ECG",
				Parameters: map[string]any{"type": "object", "properties": map[string]any{"patient_id": map[string]any{"type": "string"}}},
			}}}
			opts := []llms.CallOption{llms.WithTools(tools)}
			if stream {
				opts = append(opts, llms.WithStreamingFunc(func(context.Context, []byte) error { return nil }))
			}
			resp, err := m.GenerateContent(t.Context(), human("check ECG"), opts...)
			if err != nil {
				t.Fatalf("GenerateContent: %v", err)
			}
			calls := resp.Choices[0].ToolCalls
			if len(calls) != 1 || calls[0].FunctionCall.Name != "ecg_latest" ||
				calls[0].FunctionCall.Arguments != `{"leads":["II","V2"],"patient_id":"p-1"}` || calls[0].ID == "" {
				t.Fatalf("tool calls = %+v", calls)
			}
			got := srv.Requests()[0].Tools
			if len(got) != 1 || got[0].Name != "ecg_latest" || !strings.Contains(string(got[0].Parameters), "patient_id") {
				t.Errorf("tools sent = %+v", got)
			}
		})
	}
}

func TestModelErrors(t *testing.T) {
	tests := []struct {
		name  string
		kind  string
		reply llmtest.Reply
		want  llms.ErrorCode // "" means a non-llms error
	}{
		{name: "openai 500", kind: "openai", reply: llmtest.Error(500, "boom"), want: llms.ErrCodeProviderUnavailable},
		{name: "openai 503", kind: "openai", reply: llmtest.Error(503, "busy"), want: llms.ErrCodeProviderUnavailable},
		{name: "openai 429", kind: "openai", reply: llmtest.Error(429, "slow down"), want: llms.ErrCodeRateLimit},
		{name: "openai 401", kind: "openai", reply: llmtest.Error(401, "who"), want: llms.ErrCodeAuthentication},
		{name: "openai 404", kind: "openai", reply: llmtest.Error(404, "no model"), want: llms.ErrCodeResourceNotFound},
		{name: "openai 400", kind: "openai", reply: llmtest.Error(400, "bad"), want: llms.ErrCodeInvalidRequest},
		{name: "openai malformed", kind: "openai", reply: llmtest.Malformed()},
		{name: "ollama 500", kind: "ollama", reply: llmtest.Error(500, "boom"), want: llms.ErrCodeProviderUnavailable},
		{name: "ollama 404", kind: "ollama", reply: llmtest.Error(404, "pull it"), want: llms.ErrCodeResourceNotFound},
		{name: "ollama malformed", kind: "ollama", reply: llmtest.Malformed()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.WithReplies(tc.reply))
			m := newModel(t, tc.kind, srv, "")
			_, err := m.GenerateContent(t.Context(), human("x"))
			if err == nil {
				t.Fatal("GenerateContent succeeded")
			}
			le, ok := errors.AsType[*llms.Error](err)
			if tc.want == "" {
				if ok {
					t.Errorf("err = %v, want a non-llms error", err)
				}
				return
			}
			if !ok || le.Code != tc.want {
				t.Fatalf("err = %v (%T), want llms code %s", err, err, tc.want)
			}
			if tc.reply.Text != "" && !strings.Contains(le.Message, tc.reply.Text) {
				t.Errorf("message %q lacks server text %q", le.Message, tc.reply.Text)
			}
		})
	}
}

func TestModelTransportError(t *testing.T) {
	for _, kind := range []string{provider.KindOpenAI, provider.KindOllama} {
		t.Run(kind, func(t *testing.T) {
			// Port 1 on loopback: nobody listens, the dial is refused.
			m, err := provider.NewModel(provider.Config{Kind: kind, BaseURL: "http://127.0.0.1:1/v1", Model: "x"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.GenerateContent(t.Context(), human("x"))
			le, ok := errors.AsType[*llms.Error](err)
			if !ok || le.Code != llms.ErrCodeProviderUnavailable {
				t.Fatalf("err = %v, want provider_unavailable", err)
			}
		})
	}
}

func TestModelDeadline(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithReplies(llmtest.Text("late").After(time.Minute)))
	m := newModel(t, provider.KindOllama, srv, "")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := m.GenerateContent(ctx, human("x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded passed through", err)
	}
	if _, ok := errors.AsType[*llms.Error](err); ok {
		t.Errorf("a context error must not be turned into an llms.Error: %v", err)
	}
}

func newEmbedder(t *testing.T, srv *llmtest.Server, kind string, dim, batch, retries int) *provider.Embedder {
	t.Helper()
	base := srv.OpenAIBaseURL()
	if kind == provider.KindOllama {
		base = srv.URL()
	}
	e, err := provider.NewEmbedder(provider.EmbedderConfig{Kind: kind, BaseURL: base, Model: "bge-test",
		Dim: dim, BatchSize: batch, MaxRetries: retries, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatalf("NewEmbedder: %v", err)
	}
	return e
}

func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := math.Sqrt(s)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / n)
	}
	return out
}

func TestEmbedderBatches(t *testing.T) {
	texts := []string{"胸痛", "发热三天", "头晕", "腹痛", "咳嗽", "心悸", "气短", "皮疹", "乏力", "恶心"}
	for _, kind := range []string{provider.KindOpenAI, provider.KindOllama} {
		t.Run(kind, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.WithEmbeddingDim(16))
			e := newEmbedder(t, srv, kind, 16, 4, 0)
			got, err := e.EmbedDocuments(t.Context(), texts)
			if err != nil {
				t.Fatalf("EmbedDocuments: %v", err)
			}
			want := make([][]float32, len(texts))
			for i, s := range texts {
				want[i] = unit(llmtest.Vector(s, 16))
			}
			const tol = 1e-6
			if diff := cmp.Diff(want, got, cmpApprox(tol)); diff != "" {
				t.Errorf("vectors (-want +got):\n%s", diff)
			}
			var sizes []int
			for _, r := range srv.Requests() {
				sizes = append(sizes, len(r.Input))
			}
			wantSizes := []int{4, 4, 2}
			if kind == provider.KindOllama { // langchaingo's Ollama client sends one text per request
				wantSizes = []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
			}
			if diff := cmp.Diff(wantSizes, sizes); diff != "" {
				t.Errorf("batch sizes (-want +got):\n%s", diff)
			}
			q, err := e.EmbedQuery(t.Context(), "胸痛")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[0], q, cmpApprox(tol)); diff != "" {
				t.Errorf("query vector (-want +got):\n%s", diff)
			}
			if e.Dim() != 16 || e.Name() != kind+":bge-test" {
				t.Errorf("Dim, Name = %d, %q", e.Dim(), e.Name())
			}
		})
	}
}

func cmpApprox(tol float64) cmp.Option {
	return cmp.Comparer(func(a, b float32) bool { return math.Abs(float64(a)-float64(b)) <= tol })
}

func TestEmbedderEmptyInput(t *testing.T) {
	srv := llmtest.NewServer(t)
	e := newEmbedder(t, srv, provider.KindOpenAI, 8, 4, 0)
	got, err := e.EmbedDocuments(t.Context(), nil)
	if err != nil || len(got) != 0 || len(srv.Requests()) != 0 {
		t.Errorf("got %v, %v with %d requests; want nothing sent", got, err, len(srv.Requests()))
	}
}

func TestEmbedderDimensionMismatch(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithEmbeddingDim(8))
	e := newEmbedder(t, srv, provider.KindOpenAI, 16, 4, 0)
	_, err := e.EmbedDocuments(t.Context(), []string{"a", "b"})
	ce, ok := errors.AsType[*clinic.Error](err)
	if !ok || ce.Code != clinic.CodeInvalid || ce.Field != "dim" {
		t.Fatalf("err = %v, want invalid on dim", err)
	}
	if !strings.Contains(ce.Message, "returned 8 dimensions") {
		t.Errorf("message = %q", ce.Message)
	}
}

func TestEmbedderRetries(t *testing.T) {
	tests := []struct {
		name         string
		kind         string
		fail         []int
		retries      int
		wantRequests int
		wantCode     clinic.Code // "" means success
	}{
		{name: "5xx then success", kind: "openai", fail: []int{500, 503}, retries: 3, wantRequests: 3},
		{name: "429 then success", kind: "openai", fail: []int{429}, retries: 1, wantRequests: 2},
		{name: "ollama 502 then success", kind: "ollama", fail: []int{502}, retries: 2, wantRequests: 2},
		{name: "gives up", kind: "openai", fail: []int{500, 500, 500, 500}, retries: 2, wantRequests: 3, wantCode: clinic.CodeUnavailable},
		{name: "4xx is not retried", kind: "openai", fail: []int{400}, retries: 3, wantRequests: 1, wantCode: clinic.CodeUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.FailEmbeddings(tc.fail...)
			e := newEmbedder(t, srv, tc.kind, 8, 8, tc.retries)
			got, err := e.EmbedDocuments(t.Context(), []string{"胸痛"})
			if n := len(srv.Requests()); n != tc.wantRequests {
				t.Errorf("%d requests, want %d", n, tc.wantRequests)
			}
			if tc.wantCode != "" {
				if clinic.ErrorCode(err) != tc.wantCode {
					t.Fatalf("err = %v, want code %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || len(got) != 1 {
				t.Fatalf("EmbedDocuments = %v, %v", got, err)
			}
		})
	}
}

func TestEmbedderCanceled(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.FailEmbeddings(500, 500, 500)
	e := newEmbedder(t, srv, provider.KindOpenAI, 8, 8, 3)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.EmbedDocuments(ctx, []string{"x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestCustomHTTPClientKept(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithReplies(llmtest.Text("ok")))
	var seen bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	m, err := provider.NewModel(provider.Config{Kind: "openai", BaseURL: srv.OpenAIBaseURL(), Model: "m", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.GenerateContent(t.Context(), human("x")); err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Error("the configured HTTP client's transport was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestProbe(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithModels("qwen2.5:latest", "bge-m3"))
	tests := []struct {
		name     string
		cfg      provider.Config
		wantCode clinic.Code
	}{
		{name: "none", cfg: provider.Config{Kind: "none"}},
		{name: "openai listed", cfg: provider.Config{Kind: "openai", BaseURL: srv.OpenAIBaseURL(), Model: "bge-m3"}},
		{name: "openai not listed", cfg: provider.Config{Kind: "openai", BaseURL: srv.OpenAIBaseURL(), Model: "gpt-x"},
			wantCode: clinic.CodeUnavailable},
		{name: "ollama implicit latest", cfg: provider.Config{Kind: "ollama", BaseURL: srv.URL(), Model: "qwen2.5"}},
		{name: "ollama not listed", cfg: provider.Config{Kind: "ollama", BaseURL: srv.URL(), Model: "llama3"},
			wantCode: clinic.CodeUnavailable},
		{name: "down", cfg: provider.Config{Kind: "openai", BaseURL: "http://127.0.0.1:1/v1", Model: "m"},
			wantCode: clinic.CodeUnavailable},
		{name: "bad config", cfg: provider.Config{Kind: "openai", Model: "m"}, wantCode: clinic.CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := provider.Probe(t.Context(), tc.cfg)
			if got := clinic.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("err = %v, want code %q", err, tc.wantCode)
			}
		})
	}
	for _, r := range srv.Requests() {
		if r.Path == "/v1/models" && r.Authorization != "Bearer none" {
			t.Errorf("probe Authorization = %q", r.Authorization)
		}
	}
}

func BenchmarkEmbedDocuments(b *testing.B) {
	srv := llmtest.NewServer(b, llmtest.WithEmbeddingDim(768))
	e, err := provider.NewEmbedder(provider.EmbedderConfig{Kind: "openai", BaseURL: srv.OpenAIBaseURL(),
		Model: "bge", Dim: 768, BatchSize: 32})
	if err != nil {
		b.Fatal(err)
	}
	texts := make([]string, 128)
	for i := range texts {
		texts[i] = strings.Repeat("胸痛伴出汗", 1+i%5)
	}
	for b.Loop() {
		if _, err := e.EmbedDocuments(b.Context(), texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
}
