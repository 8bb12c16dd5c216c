package llmtest

import (
	"testing"

	"github.com/tmc/langchaingo/llms"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/provider"
)

// Model returns the real langchaingo OpenAI-compatible client, built by
// agents/provider exactly as production builds it, pointed at s. Agent
// tests pass it to agents.New.
func (s *Server) Model(t testing.TB) llms.Model {
	t.Helper()
	return s.model(t, provider.KindOpenAI, s.OpenAIBaseURL())
}

// OllamaModel is Model with langchaingo's Ollama client.
func (s *Server) OllamaModel(t testing.TB) llms.Model {
	t.Helper()
	return s.model(t, provider.KindOllama, s.URL())
}

// Runner returns an agents.Runner built from cfg with its Model set to
// [Server.Model]; the other settings (ModelName, Timeout, …) are cfg's.
// An invalid cfg fails the test.
func (s *Server) Runner(t testing.TB, cfg agents.Config) *agents.Runner {
	t.Helper()
	cfg.Model = s.Model(t)
	r, err := agents.New(cfg)
	if err != nil {
		t.Fatalf("llmtest: runner: %v", err)
	}
	return r
}

func (s *Server) model(t testing.TB, kind, base string) llms.Model {
	t.Helper()
	m, err := provider.NewModel(provider.Config{Kind: kind, BaseURL: base, Model: s.models[0], HTTPClient: s.client})
	if err != nil {
		t.Fatalf("llmtest: %s model: %v", kind, err)
	}
	return m
}
