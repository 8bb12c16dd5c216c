// Package provider builds the remote model clients Yizhu talks to: a chat
// model ([NewModel]) and an embedder ([NewEmbedder]) for any
// OpenAI-compatible server (vLLM, DeepSeek, Qwen, OpenAI) or for Ollama. It
// is the only package that imports langchaingo's llms/openai, llms/ollama
// and embeddings; agents see only the llms.Model port.
//
// # Explicit configuration
//
// langchaingo falls back to OPENAI_API_KEY, OPENAI_BASE_URL, OLLAMA_HOST and
// http.DefaultClient when options are left out. NewModel and NewEmbedder
// always pass the token, base URL, model and an HTTP client of their own, so
// nothing here reads the environment; cmd/yizhu fills [Config] from flags and
// YIZHU_* variables. A local OpenAI-compatible server needs no key: an empty
// APIKey is sent as the token "none".
//
// # Errors
//
// Every HTTP status ≥ 400 and every transport failure is turned into an
// *llms.Error with a code (provider_unavailable for 5xx and network errors,
// rate_limit for 429, authentication for 401/403, resource_not_found for
// 404, invalid_request for other 4xx) before the langchaingo client sees it,
// so callers can classify failures with errors.As instead of parsing
// messages. A cancelled or expired context is passed through unchanged.
//
// # Ollama and tools
//
// langchaingo's Ollama client (v0.1.14) sends neither tools nor tool
// results; use Kind "openai" with Ollama's OpenAI-compatible endpoint
// (http://host:11434/v1) for agents that call tools.
package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/yizhu-health/yizhu/clinic"
)

// Kinds of provider.
const (
	KindNone   = "none"
	KindOpenAI = "openai"
	KindOllama = "ollama"
)

// DefaultTimeout bounds one HTTP exchange (including a streamed body) when
// Config.Timeout is zero. Callers set tighter per-call deadlines through
// the context.
const DefaultTimeout = 2 * time.Minute

// noKey is the token sent to OpenAI-compatible servers that need none; the
// langchaingo client refuses an empty token.
const noKey = "none"

// Config selects and configures a chat model.
type Config struct {
	Kind       string        // "none" (or ""), "openai" or "ollama"
	BaseURL    string        // e.g. http://localhost:8000/v1 (openai) or http://localhost:11434 (ollama)
	Model      string        // model name the server knows
	APIKey     string        // bearer token; empty for local servers
	HTTPClient *http.Client  // nil: a client of our own with Timeout
	Timeout    time.Duration // overall HTTP timeout for a client built here; 0 means DefaultTimeout
}

// Validate reports the first problem in c as a *clinic.Error with code
// invalid naming the field.
func (c Config) Validate() error {
	switch c.Kind {
	case "", KindNone:
		return nil
	case KindOpenAI, KindOllama:
	default:
		return invalid("kind", fmt.Sprintf("unknown LLM kind %q (want none, openai or ollama)", c.Kind),
			fmt.Sprintf("未知的大模型类型 %q（应为 none、openai 或 ollama）", c.Kind))
	}
	if err := checkBaseURL(c.BaseURL); err != nil {
		return err
	}
	if strings.TrimSpace(c.Model) == "" {
		return invalid("model", "model name is required", "必须指定模型名称")
	}
	if c.Timeout < 0 {
		return invalid("timeout", "timeout must not be negative", "超时时间不能为负数")
	}
	return nil
}

func invalid(field, en, zh string) error {
	return clinic.NewError(clinic.CodeInvalid, field, en, zh)
}

func checkBaseURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return invalid("base_url", "base URL is required", "必须指定服务地址（base URL）")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("base_url", fmt.Sprintf("base URL %q must be an absolute http(s) URL", raw),
			fmt.Sprintf("服务地址 %q 必须是完整的 http(s) 地址", raw))
	}
	if u.User != nil {
		return invalid("base_url", "base URL must not carry credentials; use the API key setting",
			"服务地址中不能包含凭据，请使用 API key 配置")
	}
	return nil
}

// NewModel returns the chat model cfg describes, or nil (and no error) for
// kind "none". The model is safe for concurrent use; pass tools and other
// per-call options to each GenerateContent call, never to the shared model.
func NewModel(cfg Config) (llms.Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hc := httpClient(cfg.HTTPClient, cfg.Timeout)
	switch cfg.Kind {
	case KindOpenAI:
		m, err := openai.New(openAIOptions(cfg.BaseURL, cfg.APIKey, hc, openai.WithModel(cfg.Model))...)
		if err != nil {
			return nil, fmt.Errorf("provider: openai client: %w", err)
		}
		return m, nil
	case KindOllama:
		m, err := ollama.New(
			ollama.WithServerURL(cfg.BaseURL), // validated above; the option exits the process on a bad URL
			ollama.WithModel(cfg.Model),
			ollama.WithHTTPClient(hc),
		)
		if err != nil {
			return nil, fmt.Errorf("provider: ollama client: %w", err)
		}
		return m, nil
	}
	return nil, nil
}

// openAIOptions sets every option langchaingo would otherwise take from the
// environment.
func openAIOptions(baseURL, apiKey string, hc *http.Client, extra ...openai.Option) []openai.Option {
	token := apiKey
	if token == "" {
		token = noKey
	}
	opts := []openai.Option{
		openai.WithToken(token),
		openai.WithBaseURL(strings.TrimSuffix(baseURL, "/")),
		openai.WithOrganization(""),
		openai.WithAPIType(openai.APITypeOpenAI),
		openai.WithHTTPClient(doer{hc}),
	}
	return append(opts, extra...)
}
