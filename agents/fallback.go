package agents

import (
	"context"
	"fmt"
	"log/slog"
)

// Outcome says how a WithFallback result was produced.
type Outcome struct {
	Fallback bool   `json:"fallback"`         // the built-in engine produced the result
	Reason   string `json:"reason,omitempty"` // why (a Reason constant), when Fallback
}

// WithFallback runs primary (the LLM path) and, if it fails or no model is
// configured, fallback (the built-in engine) — principle 2 of DESIGN.md.
// Without a model, primary is not called and the reason is "no_llm". When
// primary fails, the failure is logged at Warn with agent, prompt_id,
// fallback, reason and latency_ms, and fallback's result is returned with
// the reason. If the caller's context has ended, fallback is not run and
// the context's error is returned. An error from fallback itself is
// returned with the Outcome still describing the attempt.
func WithFallback[T any](ctx context.Context, r *Runner, primary, fallback func(context.Context) (T, error),
	opts ...Option) (T, Outcome, error) {
	co := collect(opts)
	if r.model == nil {
		out := Outcome{Fallback: true, Reason: ReasonNoLLM}
		v, err := fallback(ctx)
		if err != nil {
			return v, out, fmt.Errorf("agents: %s fallback: %w", co.agent, err)
		}
		return v, out, nil
	}
	start := r.now()
	v, err := primary(ctx)
	if err == nil {
		return v, Outcome{}, nil
	}
	if ctx.Err() != nil {
		var zero T
		return zero, Outcome{}, fmt.Errorf("agents: %s: %w", co.agent, ctx.Err())
	}
	out := Outcome{Fallback: true, Reason: Reason(err)}
	r.log.WarnContext(ctx, "llm path failed, using fallback",
		slog.String("agent", co.agent), slog.String("prompt_id", promptIDOf(err)),
		slog.Bool("fallback", true), slog.String("reason", out.Reason),
		slog.Int64("latency_ms", r.now().Sub(start).Milliseconds()),
		slog.String("model", r.modelName), slog.String("error", err.Error()))
	v, ferr := fallback(ctx)
	if ferr != nil {
		return v, out, fmt.Errorf("agents: %s fallback after %s: %w", co.agent, out.Reason, ferr)
	}
	return v, out, nil
}
