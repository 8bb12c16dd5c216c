package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/tmc/langchaingo/llms"

	"github.com/yizhu-health/yizhu/prompts"
)

// Decode renders prompt promptID with input, asks the model for a JSON
// object (JSON response format unless Config.PlainOutput), and decodes the
// reply into T strictly: the reply must be one JSON object, optionally in a
// ```json fence, with no unknown fields, and T must pass the validator. If
// any of that fails, Decode sends the problems back once with the
// json_repair prompt and tries again.
//
// Errors: *UnavailableError (errors.Is ErrModelUnavailable) when the model
// gives no answer — no model, timeout, 5xx, transport; *OutputError
// (errors.Is ErrModelOutput) when both answers are unusable, with the
// validation failures listed by field. A prompt that cannot be rendered is
// returned as the prompts package's *clinic.Error.
func Decode[T any](ctx context.Context, r *Runner, promptID string, input any, opts ...Option) (T, Meta, error) {
	var zero T
	co := collect(opts)
	meta := Meta{Prompt: promptMeta(r, promptID), Model: r.modelName}
	if r.model == nil {
		return zero, meta, &UnavailableError{PromptID: promptID, Reason: ReasonNoLLM, Err: ErrNoModel}
	}
	msgs, pm, err := r.prompts.Render(promptID, input)
	if err != nil {
		return zero, meta, fmt.Errorf("agents: decode %s: %w", promptID, err)
	}
	meta.Prompt = pm
	info, _ := r.prompts.Info(promptID)
	conv := toLLM(msgs)
	start := r.now()
	defer func() {
		// meta is returned by value below; the deferred log sees the final one.
		r.log.DebugContext(ctx, "model call finished", slog.String("agent", co.agent),
			slog.String("prompt_id", pm.ID), slog.Int("prompt_version", pm.Version),
			slog.String("model", r.modelName), slog.Int("attempts", meta.Attempts),
			slog.Int64("latency_ms", meta.Latency.Milliseconds()))
	}()
	for attempt := 1; ; attempt++ {
		meta.Attempts = attempt
		choice, err := r.generate(ctx, promptID, conv, co, nil, true)
		meta.Latency = r.now().Sub(start)
		if err != nil {
			return zero, meta, err
		}
		v, err := ParseJSON[T](choice.Content, r.validate)
		if err == nil {
			return v, meta, nil
		}
		oe, ok := errors.AsType[*OutputError](err)
		if !ok {
			return zero, meta, fmt.Errorf("agents: decode %s: %w", promptID, err)
		}
		oe.PromptID, oe.Attempts = promptID, attempt
		if attempt >= repairAttempts {
			return zero, meta, oe
		}
		repair, _, rerr := r.prompts.Render(RepairPromptID, map[string]any{"problems": oe.Problems, "output": info.Output})
		if rerr != nil {
			return zero, meta, fmt.Errorf("agents: decode %s: %w", promptID, rerr)
		}
		conv = append(conv, llms.TextParts(llms.ChatMessageTypeAI, clipReply(choice.Content)))
		conv = append(conv, toLLM(repair)...)
	}
}

func promptMeta(r *Runner, id string) prompts.Meta {
	m := prompts.Meta{ID: id}
	if info, ok := r.prompts.Info(id); ok {
		m.Version = info.Version
	}
	return m
}

// clipReply bounds the bad reply echoed back in the repair turn.
func clipReply(s string) string {
	const max = 16 << 10
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// ParseJSON decodes a model reply into T the way Decode does: trim blank
// space, accept an optional ``` or ```json fence, require exactly one JSON
// object with no unknown fields and nothing after it, then run v.Struct on
// struct values (v may be nil to skip validation). A failure is an
// *OutputError listing the problems.
func ParseJSON[T any](reply string, v *validator.Validate) (T, error) {
	var out T
	fail := func(fields []FieldReason, problems ...string) (T, error) {
		var zero T
		return zero, &OutputError{Problems: problems, Fields: fields}
	}
	if len(reply) > MaxReplyBytes {
		return fail(nil, fmt.Sprintf("reply is longer than %d bytes", MaxReplyBytes))
	}
	body, err := extractJSON(reply)
	if err != nil {
		return fail(nil, err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return fail(nil, "reply does not match the output: "+strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail(nil, "reply has text after the JSON object")
	}
	if v != nil && isStruct(out) {
		if err := v.Struct(out); err != nil {
			fields := FieldReasons(err)
			if len(fields) == 0 {
				return fail(nil, "validation failed: "+err.Error())
			}
			problems := make([]string, len(fields))
			for i, f := range fields {
				problems[i] = fmt.Sprintf("field %q %s", f.Field, f.ReasonEN)
			}
			return fail(fields, problems...)
		}
	}
	return out, nil
}

func isStruct(v any) bool {
	t := reflect.TypeOf(v)
	if t == nil {
		return false
	}
	if t.Kind() == reflect.Pointer {
		rv := reflect.ValueOf(v)
		if rv.IsNil() {
			return false
		}
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// extractJSON strips blank space and one optional code fence (``` or
// ```json) and checks that what remains starts like a JSON object. It never
// searches free text for braces.
func extractJSON(reply string) ([]byte, error) {
	s := strings.TrimSpace(reply)
	if s == "" {
		return nil, errors.New("reply is empty")
	}
	if strings.HasPrefix(s, "```") {
		nl := strings.IndexByte(s, '\n')
		if nl < 0 {
			return nil, errors.New("reply has an unterminated code fence")
		}
		if lang := strings.TrimSpace(s[3:nl]); lang != "" && !strings.EqualFold(lang, "json") {
			return nil, fmt.Errorf("reply is fenced as %q, not JSON", clipProblem(lang))
		}
		s = strings.TrimSpace(s[nl+1:])
		if !strings.HasSuffix(s, "```") {
			return nil, errors.New("reply has an unterminated code fence")
		}
		s = strings.TrimSpace(strings.TrimSuffix(s, "```"))
	}
	if !strings.HasPrefix(s, "{") {
		return nil, errors.New("reply is not a JSON object (it must start with '{')")
	}
	return []byte(s), nil
}

func clipProblem(s string) string {
	if len(s) > 32 {
		return s[:32]
	}
	return s
}
