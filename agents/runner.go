package agents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/tmc/langchaingo/llms"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/prompts"
)

// RepairPromptID is the prompt Decode sends, once, after an unusable reply.
const RepairPromptID = "json_repair"

// Bounds.
const (
	DefaultTimeout = 30 * time.Second // per model call when Config.Timeout is zero
	MaxReplyBytes  = 256 << 10        // a longer reply is rejected as unusable
	repairAttempts = 2                // the first call plus one repair
)

// Sentinel errors. Use errors.Is; the concrete errors are *OutputError and
// *UnavailableError.
var (
	// ErrModelOutput: the model answered, but the answer could not be used
	// (not JSON, wrong shape, failed validation, no final answer).
	ErrModelOutput = errors.New("agents: model output unusable")
	// ErrModelUnavailable: no answer (no model, timeout, 5xx, transport error,
	// refused request, garbled response).
	ErrModelUnavailable = errors.New("agents: model unavailable")
	// ErrNoModel: the runner has no model configured (embedded default).
	ErrNoModel = fmt.Errorf("%w: no model configured", ErrModelUnavailable)
)

// Fallback reasons, as reported in Outcome.Reason and logs.
const (
	ReasonNoLLM         = "no_llm"         // no model configured
	ReasonTimeout       = "timeout"        // the per-call deadline passed
	ReasonUnavailable   = "unavailable"    // 5xx or transport failure
	ReasonRateLimited   = "rate_limited"   // HTTP 429
	ReasonRejected      = "rejected"       // the server refused the request (401, 403, 404, other 4xx)
	ReasonModelError    = "model_error"    // any other failure of the model call (garbled response, no choices)
	ReasonInvalidOutput = "invalid_output" // ErrModelOutput
	ReasonCanceled      = "canceled"       // the caller's context ended
	ReasonError         = "error"          // a failure outside the model call
)

// Config holds a Runner's dependencies.
type Config struct {
	// Model is the chat model; nil means no LLM, and every WithFallback call
	// goes straight to its fallback.
	Model llms.Model
	// ModelName is reported in Meta and logs.
	ModelName string
	// Prompts is the prompt set; nil means prompts.Default(). It must hold
	// RepairPromptID.
	Prompts *prompts.Set
	// Validate checks decoded values; nil means NewValidator().
	Validate *validator.Validate
	// Timeout bounds each model call; 0 means DefaultTimeout.
	Timeout time.Duration
	// PlainOutput stops Decode from asking for the JSON response format, for
	// servers that reject it. Prompts still ask for JSON in words.
	PlainOutput bool
	// Logger receives call and fallback logs; nil discards.
	Logger *slog.Logger
	// Now is the clock for latencies; nil means time.Now.
	Now func() time.Time
}

// Runner calls a model on behalf of agents: it renders prompts, bounds each
// call with a deadline, decodes and validates structured output, runs tool
// loops and falls back when the model fails. A Runner is immutable and safe
// for concurrent use; per-call settings travel as options, never as state.
type Runner struct {
	model     llms.Model
	modelName string
	prompts   *prompts.Set
	validate  *validator.Validate
	timeout   time.Duration
	plain     bool
	log       *slog.Logger
	now       func() time.Time
}

// New checks cfg and returns a Runner.
func New(cfg Config) (*Runner, error) {
	r := &Runner{
		model:     cfg.Model,
		modelName: cfg.ModelName,
		prompts:   cfg.Prompts,
		validate:  cfg.Validate,
		timeout:   cfg.Timeout,
		plain:     cfg.PlainOutput,
		log:       cfg.Logger,
		now:       cfg.Now,
	}
	if r.timeout < 0 {
		return nil, clinic.NewError(clinic.CodeInvalid, "timeout", "LLM timeout must not be negative", "大模型超时时间不能为负数")
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if r.prompts == nil {
		set, err := prompts.Default()
		if err != nil {
			return nil, fmt.Errorf("agents: load prompts: %w", err)
		}
		r.prompts = set
	}
	if _, ok := r.prompts.Info(RepairPromptID); !ok {
		return nil, clinic.NewError(clinic.CodeInvalid, "prompts",
			fmt.Sprintf("prompt set lacks %q, which structured output needs", RepairPromptID),
			fmt.Sprintf("提示词集合缺少结构化输出所需的 %q", RepairPromptID))
	}
	if r.validate == nil {
		r.validate = NewValidator()
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.modelName == "" && r.model != nil {
		r.modelName = "unnamed"
	}
	return r, nil
}

// HasModel reports whether a model is configured.
func (r *Runner) HasModel() bool { return r.model != nil }

// ModelName is the configured model's name ("" without a model).
func (r *Runner) ModelName() string { return r.modelName }

// Prompts is the runner's prompt set, for agents that render messages for
// RunTools.
func (r *Runner) Prompts() *prompts.Set { return r.prompts }

// Meta describes one Decode or RunTools call, for audit records and logs.
type Meta struct {
	Prompt   prompts.Meta  // ID and version of the prompt used ("" for RunTools)
	Model    string        // model name
	Attempts int           // model calls made (Decode: 1 or 2; RunTools: steps)
	Latency  time.Duration // from the first call to the last answer
}

// Option adjusts one call.
type Option func(*callOptions)

type callOptions struct {
	agent   string
	llmOpts []llms.CallOption
	stream  func(ctx context.Context, chunk []byte) error
}

// WithAgent names the calling agent in logs ("triage", "scribe", …).
func WithAgent(name string) Option { return func(o *callOptions) { o.agent = name } }

// WithLLMOptions passes sampling options (temperature, max tokens, seed)
// to every model call. Tools belong in RunTools, not here.
func WithLLMOptions(opts ...llms.CallOption) Option {
	return func(o *callOptions) { o.llmOpts = append(o.llmOpts, opts...) }
}

// WithStream receives the reply as it is generated (for SSE to a kiosk).
// For Decode, a repair attempt streams again from the start.
func WithStream(fn func(ctx context.Context, chunk []byte) error) Option {
	return func(o *callOptions) { o.stream = fn }
}

func collect(opts []Option) callOptions {
	var co callOptions
	for _, o := range opts {
		o(&co)
	}
	return co
}

// OutputError reports a reply that could not be used.
type OutputError struct {
	PromptID string
	Attempts int
	Problems []string      // English descriptions from the last attempt
	Fields   []FieldReason // validation failures by field, from the last attempt
}

func (e *OutputError) Error() string {
	s := "agents: model output unusable"
	if e.PromptID != "" {
		s = fmt.Sprintf("agents: prompt %s: model output unusable after %d attempt(s)", e.PromptID, e.Attempts)
	}
	for i, p := range e.Problems {
		if i == 0 {
			s += ": " + p
		} else {
			s += "; " + p
		}
	}
	return s
}

// Unwrap makes errors.Is(err, ErrModelOutput) true.
func (e *OutputError) Unwrap() error { return ErrModelOutput }

// UnavailableError reports a model call that produced no answer.
type UnavailableError struct {
	PromptID string
	Reason   string // one of the Reason constants
	Err      error
}

func (e *UnavailableError) Error() string {
	s := "agents: model unavailable (" + e.Reason + ")"
	if e.PromptID != "" {
		s = "agents: prompt " + e.PromptID + ": model unavailable (" + e.Reason + ")"
	}
	if e.Err != nil && !errors.Is(e.Err, ErrNoModel) {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap makes errors.Is true for ErrModelUnavailable and for the cause.
func (e *UnavailableError) Unwrap() []error { return []error{ErrModelUnavailable, e.Err} }

// Reason returns the fallback reason for err: the Reason of an
// *UnavailableError, ReasonInvalidOutput for ErrModelOutput, ReasonError
// otherwise, "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if ue, ok := errors.AsType[*UnavailableError](err); ok {
		return ue.Reason
	}
	if errors.Is(err, ErrModelOutput) {
		return ReasonInvalidOutput
	}
	if errors.Is(err, context.Canceled) {
		return ReasonCanceled
	}
	return ReasonError
}

func promptIDOf(err error) string {
	if ue, ok := errors.AsType[*UnavailableError](err); ok {
		return ue.PromptID
	}
	if oe, ok := errors.AsType[*OutputError](err); ok {
		return oe.PromptID
	}
	return ""
}

// generate makes one model call under the per-call deadline and returns
// the first choice.
func (r *Runner) generate(ctx context.Context, promptID string, msgs []llms.MessageContent, co callOptions,
	tools []llms.Tool, jsonMode bool) (*llms.ContentChoice, error) {
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	opts := make([]llms.CallOption, 0, len(co.llmOpts)+3)
	opts = append(opts, co.llmOpts...)
	if jsonMode && !r.plain {
		opts = append(opts, llms.WithJSONMode())
	}
	if len(tools) > 0 {
		opts = append(opts, llms.WithTools(tools))
	}
	if co.stream != nil {
		opts = append(opts, llms.WithStreamingFunc(co.stream))
	}
	resp, err := r.model.GenerateContent(cctx, msgs, opts...)
	if err != nil {
		return nil, &UnavailableError{PromptID: promptID, Reason: classify(ctx, cctx, err), Err: err}
	}
	if resp == nil || len(resp.Choices) == 0 || resp.Choices[0] == nil {
		return nil, &UnavailableError{PromptID: promptID, Reason: ReasonModelError, Err: errors.New("response has no choices")}
	}
	return resp.Choices[0], nil
}

// classify names why a model call failed. langchaingo's OpenAI client
// replaces context errors with plain strings, so the deadline is read from
// the call's own context.
func classify(parent, call context.Context, err error) string {
	switch {
	case parent.Err() != nil:
		return ReasonCanceled
	case errors.Is(call.Err(), context.DeadlineExceeded):
		return ReasonTimeout
	}
	if le, ok := errors.AsType[*llms.Error](err); ok {
		switch le.Code {
		case llms.ErrCodeProviderUnavailable:
			return ReasonUnavailable
		case llms.ErrCodeRateLimit, llms.ErrCodeQuotaExceeded:
			return ReasonRateLimited
		case llms.ErrCodeTimeout:
			return ReasonTimeout
		case llms.ErrCodeAuthentication, llms.ErrCodeInvalidRequest, llms.ErrCodeResourceNotFound,
			llms.ErrCodeTokenLimit, llms.ErrCodeContentFilter, llms.ErrCodeNotImplemented:
			return ReasonRejected
		}
	}
	return ReasonModelError
}

func toLLM(msgs []prompts.Message) []llms.MessageContent {
	out := make([]llms.MessageContent, 0, len(msgs))
	for _, m := range msgs {
		role := llms.ChatMessageTypeHuman
		switch m.Role {
		case prompts.RoleSystem:
			role = llms.ChatMessageTypeSystem
		case prompts.RoleAssistant:
			role = llms.ChatMessageTypeAI
		}
		out = append(out, llms.TextParts(role, m.Text))
	}
	return out
}
