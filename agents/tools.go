package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/tmc/langchaingo/llms"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/prompts"
)

// Tool-loop bounds.
const (
	MaxToolSteps      = 16       // model calls per RunTools
	MaxToolsPerCall   = 32       // tools offered at once
	MaxCallsPerStep   = 8        // tool calls executed per model answer; more get an error result
	MaxToolArgsBytes  = 64 << 10 // arguments longer than this are refused
	MaxToolResultSize = 32 << 10 // a larger result is replaced by an error
	maxSchemaDepth    = 32
)

// Tool is a function the model may call (the one tool type of the
// module, defined in clinic so that rag and the ECG core can offer tools
// without importing this package). Parameters is the JSON schema of its
// arguments (an object schema); RunTools checks arguments against it —
// type, properties, required, additionalProperties: false, enum, items —
// before calling Call. Call's result is sent back to the model as JSON.
type Tool = clinic.Tool

// NewTool builds a Tool whose arguments are decoded strictly into A (no
// unknown fields) and, for struct types, checked with the runner's
// validator before fn runs.
func NewTool[A any](name, description string, parameters map[string]any,
	fn func(ctx context.Context, args A) (any, error)) Tool {
	return Tool{
		Name: name, Description: description, Parameters: parameters,
		Call: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var a A
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&a); err != nil {
				return nil, fmt.Errorf("invalid arguments: %w", err)
			}
			if v, ok := ctx.Value(validatorKey{}).(*validator.Validate); ok && isStruct(a) {
				if err := v.Struct(a); err != nil {
					var parts []string
					for _, f := range FieldReasons(err) {
						parts = append(parts, f.Field+" "+f.ReasonEN)
					}
					if len(parts) == 0 {
						parts = append(parts, err.Error())
					}
					return nil, fmt.Errorf("invalid arguments: %s", strings.Join(parts, "; "))
				}
			}
			return fn(ctx, a)
		},
	}
}

type validatorKey struct{}

// ToolCall records one executed call.
type ToolCall struct {
	ID     string          `json:"id"`
	Name   string          `json:"name"`
	Args   json.RawMessage `json:"args"`
	Result string          `json:"result"`          // JSON sent back to the model
	Err    string          `json:"error,omitempty"` // why the call failed, if it did
}

// ToolRun is the result of RunTools.
type ToolRun struct {
	Answer string     // the model's final text
	Calls  []ToolCall // every call, in order
	Meta   Meta       // Attempts counts model calls
}

var toolName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// WireName is the name a tool is offered to the model under. Yizhu's tools
// are named like "rag.search", but OpenAI-compatible servers accept only
// letters, digits, '_' and '-' in function names, so dots become '_'.
// RunTools maps the model's calls back to the tool.
func WireName(name string) string { return strings.ReplaceAll(name, ".", "_") }

// RunTools converses with the model, offering tools on every call (passed
// per call with llms.WithTools, never bound to the shared model). When the
// model asks for tool calls, each is checked against its schema, executed,
// and its result appended as a tool message; the loop ends at the first
// answer without tool calls, or fails with ErrModelOutput after maxSteps
// model calls. A bad call (unknown tool, invalid arguments, tool error) is
// reported back to the model as {"error": …} so it can correct itself.
func RunTools(ctx context.Context, r *Runner, messages []prompts.Message, tools []Tool, maxSteps int,
	opts ...Option) (ToolRun, error) {
	co := collect(opts)
	run := ToolRun{Meta: Meta{Model: r.modelName}}
	if r.model == nil {
		return run, &UnavailableError{Reason: ReasonNoLLM, Err: ErrNoModel}
	}
	if maxSteps < 1 || maxSteps > MaxToolSteps {
		return run, clinic.NewError(clinic.CodeInvalid, "max_steps",
			fmt.Sprintf("max steps %d must be between 1 and %d", maxSteps, MaxToolSteps),
			fmt.Sprintf("最大步数 %d 必须在 1 到 %d 之间", maxSteps, MaxToolSteps))
	}
	byName, defs, err := toolDefs(tools)
	if err != nil {
		return run, err
	}
	if len(messages) == 0 {
		return run, clinic.NewError(clinic.CodeInvalid, "messages", "no messages to send", "没有可发送的消息")
	}
	ctx = context.WithValue(ctx, validatorKey{}, r.validate)
	conv := toLLM(messages)
	start := r.now()
	for step := 1; step <= maxSteps; step++ {
		run.Meta.Attempts = step
		choice, err := r.generate(ctx, "", conv, co, defs, false)
		run.Meta.Latency = r.now().Sub(start)
		if err != nil {
			return run, err
		}
		if len(choice.ToolCalls) == 0 {
			run.Answer = choice.Content
			r.log.DebugContext(ctx, "tool loop finished", slog.String("agent", co.agent),
				slog.String("model", r.modelName), slog.Int("steps", step), slog.Int("tool_calls", len(run.Calls)),
				slog.Int64("latency_ms", run.Meta.Latency.Milliseconds()))
			return run, nil
		}
		ai := llms.MessageContent{Role: llms.ChatMessageTypeAI}
		if choice.Content != "" {
			ai.Parts = append(ai.Parts, llms.TextPart(choice.Content))
		}
		for i := range choice.ToolCalls {
			tc := &choice.ToolCalls[i]
			if tc.ID == "" { // some servers omit IDs; results must still pair with calls
				tc.ID = fmt.Sprintf("call_%d_%d", step, i+1)
			}
			if tc.Type == "" {
				tc.Type = "function"
			}
			ai.Parts = append(ai.Parts, *tc)
		}
		conv = append(conv, ai)
		for i, tc := range choice.ToolCalls {
			var rec ToolCall
			if i >= MaxCallsPerStep {
				rec = failedCall(tc, fmt.Sprintf("more than %d tool calls in one answer", MaxCallsPerStep))
			} else {
				rec = r.callTool(ctx, byName, tc)
			}
			run.Calls = append(run.Calls, rec)
			conv = append(conv, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
				llms.ToolCallResponse{ToolCallID: tc.ID, Name: rec.Name, Content: rec.Result},
			}})
		}
	}
	return run, &OutputError{Attempts: maxSteps,
		Problems: []string{fmt.Sprintf("no final answer after %d steps", maxSteps)}}
}

func toolDefs(tools []Tool) (map[string]Tool, []llms.Tool, error) {
	if len(tools) > MaxToolsPerCall {
		return nil, nil, clinic.NewError(clinic.CodeTooLarge, "tools",
			fmt.Sprintf("%d tools exceed the limit of %d", len(tools), MaxToolsPerCall),
			fmt.Sprintf("工具数 %d 超过上限 %d", len(tools), MaxToolsPerCall))
	}
	byName := make(map[string]Tool, len(tools))
	defs := make([]llms.Tool, 0, len(tools))
	for _, t := range tools {
		switch {
		case !toolName.MatchString(t.Name):
			return nil, nil, clinic.NewError(clinic.CodeInvalid, "tools",
				fmt.Sprintf("tool name %q must be 1–64 letters, digits, '.', '_' or '-'", t.Name),
				fmt.Sprintf("工具名 %q 只能包含 1 到 64 个字母、数字、'.'、'_' 或 '-'", t.Name))
		case t.Call == nil:
			return nil, nil, clinic.NewError(clinic.CodeInvalid, "tools",
				fmt.Sprintf("tool %q has no Call function", t.Name), fmt.Sprintf("工具 %q 缺少调用函数", t.Name))
		}
		wire := WireName(t.Name)
		if _, dup := byName[wire]; dup {
			return nil, nil, clinic.NewError(clinic.CodeInvalid, "tools",
				fmt.Sprintf("tool %q given twice", t.Name), fmt.Sprintf("工具 %q 重复", t.Name))
		}
		params := t.Parameters
		if params == nil {
			params = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		byName[wire] = t
		defs = append(defs, llms.Tool{Type: "function", Function: &llms.FunctionDefinition{
			Name: wire, Description: t.Description, Parameters: params,
		}})
	}
	return byName, defs, nil
}

func failedCall(tc llms.ToolCall, msg string) ToolCall {
	rec := ToolCall{ID: tc.ID, Err: msg}
	if tc.FunctionCall != nil {
		rec.Name = tc.FunctionCall.Name
		if len(tc.FunctionCall.Arguments) <= MaxToolArgsBytes && json.Valid([]byte(tc.FunctionCall.Arguments)) {
			rec.Args = json.RawMessage(tc.FunctionCall.Arguments)
		}
	}
	b, _ := json.Marshal(map[string]string{"error": msg}) // a map of strings always marshals
	rec.Result = string(b)
	return rec
}

func (r *Runner) callTool(ctx context.Context, byName map[string]Tool, tc llms.ToolCall) ToolCall {
	if tc.FunctionCall == nil {
		return failedCall(tc, "tool call has no function")
	}
	t, ok := byName[WireName(tc.FunctionCall.Name)]
	if !ok {
		return failedCall(tc, fmt.Sprintf("unknown tool %q", tc.FunctionCall.Name))
	}
	args := strings.TrimSpace(tc.FunctionCall.Arguments)
	if args == "" {
		args = "{}"
	}
	if len(args) > MaxToolArgsBytes {
		return failedCall(tc, fmt.Sprintf("arguments longer than %d bytes", MaxToolArgsBytes))
	}
	if err := CheckArgs(t.Parameters, []byte(args)); err != nil {
		return failedCall(tc, "invalid arguments: "+err.Error())
	}
	res, err := t.Call(ctx, json.RawMessage(args))
	if err != nil {
		rec := failedCall(tc, err.Error())
		rec.Args = json.RawMessage(args)
		return rec
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return failedCall(tc, "tool result is not JSON: "+err.Error())
	}
	if b.Len() > MaxToolResultSize {
		return failedCall(tc, fmt.Sprintf("tool result larger than %d bytes", MaxToolResultSize))
	}
	return ToolCall{ID: tc.ID, Name: t.Name, Args: json.RawMessage(args), Result: strings.TrimSuffix(b.String(), "\n")}
}

// CheckArgs checks JSON arguments against a tool's parameter schema. It
// supports the subset of JSON Schema tools use: type (one or a list),
// properties, required, additionalProperties: false, enum and items. A nil
// schema accepts any JSON object.
func CheckArgs(schema map[string]any, args []byte) error {
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return errors.New("text after the JSON value")
	}
	if _, ok := v.(map[string]any); !ok {
		return errors.New("arguments must be a JSON object")
	}
	if schema == nil {
		return nil
	}
	return checkValue(schema, v, "", 0)
}

func checkValue(schema map[string]any, v any, path string, depth int) error {
	if depth > maxSchemaDepth {
		return fmt.Errorf("%s: nested too deeply", orRoot(path))
	}
	if types := schemaTypes(schema["type"]); len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return hasType(v, t) }) {
		return fmt.Errorf("%s: want %s, got %s", orRoot(path), strings.Join(types, " or "), jsonType(v))
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return sameJSON(e, v) }) {
		return fmt.Errorf("%s: not one of the allowed values", orRoot(path))
	}
	if enum, ok := schema["enum"].([]string); ok {
		s, isStr := v.(string)
		if !isStr || !slices.Contains(enum, s) {
			return fmt.Errorf("%s: must be one of %s", orRoot(path), strings.Join(enum, ", "))
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, req := range stringList(schema["required"]) {
			if _, ok := x[req]; !ok {
				return fmt.Errorf("%s: missing required field %q", orRoot(path), req)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, known := props[k].(map[string]any)
			if !known {
				if ap, ok := schema["additionalProperties"].(bool); ok && !ap {
					return fmt.Errorf("%s: unknown field %q", orRoot(path), k)
				}
				continue
			}
			if err := checkValue(sub, x[k], join(path, k), depth+1); err != nil {
				return err
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range x {
				if err := checkValue(items, e, fmt.Sprintf("%s[%d]", orRoot(path), i), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func orRoot(path string) string {
	if path == "" {
		return "arguments"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func schemaTypes(t any) []string {
	switch x := t.(type) {
	case string:
		return []string{x}
	default:
		return stringList(t)
	}
}

func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func hasType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		if _, err := n.Int64(); err == nil {
			return true
		}
		f, err := n.Float64()
		return err == nil && f == float64(int64(f))
	}
	return true // an unknown type keyword constrains nothing
}

func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// sameJSON compares a schema enum value (from Go code) with a decoded value.
func sameJSON(a, b any) bool {
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ab, bb)
}
