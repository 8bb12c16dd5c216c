package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/yizhu-health/yizhu/clinic"
)

// Embedder limits and defaults.
const (
	DefaultBatchSize    = 64
	MaxBatchSize        = 2048
	MaxDim              = 16384
	MaxTexts            = 1 << 16 // texts per EmbedDocuments call
	DefaultMaxRetries   = 3
	MaxRetries          = 10
	DefaultRetryBase    = 200 * time.Millisecond
	maxBackoff          = 5 * time.Second
	DefaultEmbedTimeout = 30 * time.Second
)

// EmbedderConfig selects and configures a remote embedder.
type EmbedderConfig struct {
	Kind       string        // "openai" or "ollama"
	BaseURL    string        // as for Config
	Model      string        // embedding model name
	APIKey     string        // bearer token; empty for local servers
	HTTPClient *http.Client  // nil: a client of our own
	BatchSize  int           // texts per request; 0 means DefaultBatchSize
	Dim        int           // required vector length; every vector is checked against it
	Timeout    time.Duration // per attempt; 0 means DefaultEmbedTimeout
	MaxRetries int           // retries after the first attempt on 5xx, 429, transport errors and timeouts; 0 means DefaultMaxRetries
	RetryBase  time.Duration // first backoff, doubled per retry (capped at 5s); 0 means DefaultRetryBase
	Logger     *slog.Logger  // nil discards
}

// Validate reports the first problem in c as a *clinic.Error with code
// invalid naming the field.
func (c EmbedderConfig) Validate() error {
	switch c.Kind {
	case KindOpenAI, KindOllama:
	default:
		return invalid("kind", fmt.Sprintf("unknown embedder kind %q (want openai or ollama)", c.Kind),
			fmt.Sprintf("未知的向量模型类型 %q（应为 openai 或 ollama）", c.Kind))
	}
	if err := checkBaseURL(c.BaseURL); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(c.Model) == "":
		return invalid("model", "embedding model name is required", "必须指定向量模型名称")
	case c.Dim <= 0 || c.Dim > MaxDim:
		return invalid("dim", fmt.Sprintf("dim %d must be between 1 and %d", c.Dim, MaxDim),
			fmt.Sprintf("向量维度 %d 必须在 1 到 %d 之间", c.Dim, MaxDim))
	case c.BatchSize < 0 || c.BatchSize > MaxBatchSize:
		return invalid("batch_size", fmt.Sprintf("batch size %d must be between 1 and %d", c.BatchSize, MaxBatchSize),
			fmt.Sprintf("批大小 %d 必须在 1 到 %d 之间", c.BatchSize, MaxBatchSize))
	case c.MaxRetries < 0 || c.MaxRetries > MaxRetries:
		return invalid("max_retries", fmt.Sprintf("max retries %d must be between 0 and %d", c.MaxRetries, MaxRetries),
			fmt.Sprintf("重试次数 %d 必须在 0 到 %d 之间", c.MaxRetries, MaxRetries))
	case c.Timeout < 0 || c.RetryBase < 0:
		return invalid("timeout", "timeouts must not be negative", "超时时间不能为负数")
	}
	return nil
}

// embedClient is what both langchaingo clients offer for embeddings.
type embedClient interface {
	CreateEmbedding(ctx context.Context, texts []string) ([][]float32, error)
}

// Embedder turns texts into unit-length vectors of a fixed dimension using a
// remote model. It is safe for concurrent use.
type Embedder struct {
	client  embedClient
	name    string
	dim     int
	batch   int
	timeout time.Duration
	retries int
	base    time.Duration
	log     *slog.Logger
}

// Interface guard: usable wherever langchaingo expects an embedder.
var _ embeddings.Embedder = (*Embedder)(nil)

// NewEmbedder validates cfg and builds the embedder.
func NewEmbedder(cfg EmbedderConfig) (*Embedder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Embedder{
		name:    cfg.Kind + ":" + cfg.Model,
		dim:     cfg.Dim,
		batch:   cmp(cfg.BatchSize, DefaultBatchSize),
		timeout: cmp(cfg.Timeout, DefaultEmbedTimeout),
		retries: cmp(cfg.MaxRetries, DefaultMaxRetries),
		base:    cmp(cfg.RetryBase, DefaultRetryBase),
		log:     cfg.Logger,
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	// Per-attempt deadlines come from the context; the client timeout is a
	// backstop.
	hc := httpClient(cfg.HTTPClient, 2*e.timeout)
	switch cfg.Kind {
	case KindOpenAI:
		m, err := openai.New(openAIOptions(cfg.BaseURL, cfg.APIKey, hc,
			openai.WithModel(cfg.Model), openai.WithEmbeddingModel(cfg.Model))...)
		if err != nil {
			return nil, fmt.Errorf("provider: openai embedder: %w", err)
		}
		e.client = m
	case KindOllama:
		m, err := ollama.New(ollama.WithServerURL(cfg.BaseURL), ollama.WithModel(cfg.Model), ollama.WithHTTPClient(hc))
		if err != nil {
			return nil, fmt.Errorf("provider: ollama embedder: %w", err)
		}
		e.client = m
	}
	return e, nil
}

// cmp returns v, or def when v is zero.
func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Dim is the length of every vector the embedder returns.
func (e *Embedder) Dim() int { return e.dim }

// Name identifies the embedder ("kind:model"), for index metadata and logs.
func (e *Embedder) Name() string { return e.name }

// EmbedQuery embeds one text.
func (e *Embedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	vs, err := e.EmbedDocuments(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

// EmbedDocuments embeds texts in batches, retrying transient failures with
// exponential backoff, and returns one L2-normalised vector per text in
// order. A vector of the wrong length, or one that is zero or not finite,
// is an invalid error; a remote failure is unavailable.
func (e *Embedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) > MaxTexts {
		return nil, clinic.NewError(clinic.CodeTooLarge, "texts",
			fmt.Sprintf("%d texts exceed the limit of %d per call", len(texts), MaxTexts),
			fmt.Sprintf("文本数 %d 超过单次上限 %d", len(texts), MaxTexts))
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.batch {
		batch := texts[start:min(start+e.batch, len(texts))]
		vs, err := e.embedBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		if len(vs) != len(batch) {
			return nil, clinic.NewError(clinic.CodeInvalid, "embedding",
				fmt.Sprintf("embedder %s returned %d vectors for %d texts", e.name, len(vs), len(batch)),
				fmt.Sprintf("向量模型 %s 对 %d 条文本返回了 %d 个向量", e.name, len(batch), len(vs)))
		}
		for i, v := range vs {
			if err := e.normalise(v, start+i); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

func (e *Embedder) normalise(v []float32, idx int) error {
	if len(v) != e.dim {
		return clinic.NewError(clinic.CodeInvalid, "dim",
			fmt.Sprintf("embedder %s returned %d dimensions for text %d, configured %d", e.name, len(v), idx, e.dim),
			fmt.Sprintf("向量模型 %s 对第 %d 条文本返回 %d 维，配置为 %d 维", e.name, idx, len(v), e.dim))
	}
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	n := math.Sqrt(sum)
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return clinic.NewError(clinic.CodeInvalid, "embedding",
			fmt.Sprintf("embedder %s returned a zero or non-finite vector for text %d", e.name, idx),
			fmt.Sprintf("向量模型 %s 对第 %d 条文本返回了零向量或非有限值", e.name, idx))
	}
	for i, x := range v {
		v[i] = float32(float64(x) / n)
	}
	return nil
}

func (e *Embedder) embedBatch(ctx context.Context, batch []string) ([][]float32, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, e.timeout)
		vs, err := e.client.CreateEmbedding(actx, batch)
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			return vs, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("provider: embed: %w", ctx.Err())
		}
		lastErr = err
		if !(timedOut || retryable(err)) {
			return nil, clinic.Wrap(err, clinic.CodeUnavailable,
				fmt.Sprintf("embedder %s refused the request", e.name),
				fmt.Sprintf("向量模型 %s 拒绝了请求", e.name))
		}
		if attempt >= e.retries {
			break
		}
		wait := e.base << attempt
		if wait <= 0 || wait > maxBackoff {
			wait = maxBackoff
		}
		e.log.WarnContext(ctx, "embedding request failed, retrying",
			slog.String("model", e.name), slog.Int("attempt", attempt+1), slog.Any("err", err))
		tm := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			tm.Stop()
			return nil, fmt.Errorf("provider: embed: %w", ctx.Err())
		case <-tm.C:
		}
	}
	return nil, clinic.Wrap(lastErr, clinic.CodeUnavailable,
		fmt.Sprintf("embedder %s unavailable after %d attempts", e.name, e.retries+1),
		fmt.Sprintf("向量模型 %s 在 %d 次尝试后仍不可用", e.name, e.retries+1))
}

// retryable reports a failure worth another try: 5xx, 429 and transport
// errors.
func retryable(err error) bool {
	le, ok := errors.AsType[*llms.Error](err)
	return ok && (le.Code == llms.ErrCodeProviderUnavailable || le.Code == llms.ErrCodeRateLimit)
}
