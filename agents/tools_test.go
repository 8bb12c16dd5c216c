package agents_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/provider"
	"github.com/yizhu-health/yizhu/prompts"
)

type ecgArgs struct {
	PatientID string `json:"patient_id" validate:"required,max=32"`
	Lead      string `json:"lead" validate:"omitempty,oneof=I II III V1 V2"`
}

var ecgSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"patient_id": map[string]any{"type": "string"},
		"lead":       map[string]any{"type": "string", "enum": []any{"I", "II", "III", "V1", "V2"}},
	},
	"required":             []string{"patient_id"},
	"additionalProperties": false,
}

// ecgTool returns a typed tool and a pointer to the arguments it saw.
func ecgTool(seen *[]ecgArgs) agents.Tool {
	return agents.NewTool("ecg_latest", "Latest ECG pre-read for a patient.", ecgSchema,
		func(_ context.Context, a ecgArgs) (any, error) {
			*seen = append(*seen, a)
			return map[string]any{"rhythm": "窦性心律", "st_elevation_mm": 2.5, "lead": a.Lead}, nil
		})
}

var toolMsgs = []prompts.Message{
	{Role: prompts.RoleSystem, Text: "Use tools when needed."},
	{Role: prompts.RoleUser, Text: "患者 p-1 胸痛，心电图如何？"},
}

func TestRunTools(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "stream"}[stream], func(t *testing.T) {
			s := newSetup(t, provider.KindOpenAI, time.Minute, llmtest.WithReplies(
				llmtest.Tool("ecg_latest", map[string]any{"patient_id": "p-1", "lead": "V2"}),
				llmtest.Text("V2 导联 ST 段抬高 2.5 mm，建议立即胸痛中心。"),
			))
			var seen []ecgArgs
			var opts []agents.Option
			if stream {
				opts = append(opts, agents.WithStream(func(context.Context, []byte) error { return nil }))
			}
			run, err := agents.RunTools(t.Context(), s.r, toolMsgs, []agents.Tool{ecgTool(&seen)}, 4, opts...)
			if err != nil {
				t.Fatalf("RunTools: %v", err)
			}
			if run.Answer != "V2 导联 ST 段抬高 2.5 mm，建议立即胸痛中心。" || run.Meta.Attempts != 2 {
				t.Errorf("answer %q after %d steps", run.Answer, run.Meta.Attempts)
			}
			if diff := cmp.Diff([]ecgArgs{{PatientID: "p-1", Lead: "V2"}}, seen); diff != "" {
				t.Errorf("tool args (-want +got):\n%s", diff)
			}
			wantResult := `{"lead":"V2","rhythm":"窦性心律","st_elevation_mm":2.5}`
			if len(run.Calls) != 1 || run.Calls[0].Result != wantResult || run.Calls[0].Err != "" {
				t.Errorf("calls = %+v", run.Calls)
			}
			reqs := s.srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			for i, r := range reqs {
				if len(r.Tools) != 1 || r.Tools[0].Name != "ecg_latest" || r.JSONMode {
					t.Errorf("request %d: tools %+v json=%v", i, r.Tools, r.JSONMode)
				}
			}
			msgs := reqs[1].Messages
			if len(msgs) != 4 {
				t.Fatalf("second request has %d messages: %+v", len(msgs), msgs)
			}
			call := msgs[2]
			if call.Role != "assistant" || len(call.ToolCalls) != 1 || call.ToolCalls[0].Name != "ecg_latest" {
				t.Errorf("assistant tool-call message = %+v", call)
			}
			res := msgs[3]
			if res.Role != "tool" || res.ToolCallID != call.ToolCalls[0].ID || res.Content != wantResult {
				t.Errorf("tool result message = %+v", res)
			}
			// Tools are per call: a later Decode on the same runner offers none.
			s.srv.Enqueue(llmtest.JSON(goodReco))
			if _, _, err := agents.Decode[reco](t.Context(), s.r, "reco", map[string]any{"complaint": "x"}); err != nil {
				t.Fatal(err)
			}
			if last := s.srv.Requests()[2]; len(last.Tools) != 0 {
				t.Errorf("tools leaked into a later call: %+v", last.Tools)
			}
		})
	}
}

func TestRunToolsBadCalls(t *testing.T) {
	tests := []struct {
		name    string
		call    llmtest.Reply
		wantErr string
	}{
		{name: "unknown tool", call: llmtest.Tool("lab_results", map[string]any{}), wantErr: `unknown tool \"lab_results\"`},
		{name: "missing required", call: llmtest.Tool("ecg_latest", map[string]any{"lead": "II"}),
			wantErr: `missing required field \"patient_id\"`},
		{name: "wrong type", call: llmtest.Tool("ecg_latest", map[string]any{"patient_id": 7}),
			wantErr: "patient_id: want string, got number"},
		{name: "unknown field", call: llmtest.Tool("ecg_latest", map[string]any{"patient_id": "p", "dose": 1}),
			wantErr: `unknown field \"dose\"`},
		{name: "enum", call: llmtest.Tool("ecg_latest", map[string]any{"patient_id": "p", "lead": "V9"}),
			wantErr: "lead: not one of the allowed values"},
		{name: "not json", call: llmtest.Tool("ecg_latest", "{patient_id: p}"), wantErr: "not JSON"},
		{name: "validator tag", call: llmtest.Tool("ecg_latest", map[string]any{"patient_id": strings.Repeat("p", 40)}),
			wantErr: "patient_id must be at most 32 characters long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, provider.KindOpenAI, time.Minute, llmtest.WithReplies(tc.call, llmtest.Text("done")))
			var seen []ecgArgs
			run, err := agents.RunTools(t.Context(), s.r, toolMsgs, []agents.Tool{ecgTool(&seen)}, 3)
			if err != nil {
				t.Fatalf("RunTools: %v", err)
			}
			if len(seen) != 0 {
				t.Errorf("tool ran with bad arguments: %+v", seen)
			}
			if len(run.Calls) != 1 || run.Calls[0].Err == "" {
				t.Fatalf("calls = %+v, want one failed call", run.Calls)
			}
			back := s.srv.Requests()[1].Messages[3]
			if back.Role != "tool" || !strings.Contains(back.Content, tc.wantErr) {
				t.Errorf("error sent back = %q, want it to contain %q", back.Content, tc.wantErr)
			}
			if run.Answer != "done" {
				t.Errorf("answer = %q", run.Answer)
			}
		})
	}
}

func TestRunToolsMaxSteps(t *testing.T) {
	loop := llmtest.Tool("ecg_latest", map[string]any{"patient_id": "p-1"})
	s := newSetup(t, provider.KindOpenAI, time.Minute, llmtest.WithReplies(loop, loop, loop))
	var seen []ecgArgs
	run, err := agents.RunTools(t.Context(), s.r, toolMsgs, []agents.Tool{ecgTool(&seen)}, 3)
	if !errors.Is(err, agents.ErrModelOutput) {
		t.Fatalf("err = %v, want ErrModelOutput", err)
	}
	if len(seen) != 3 || run.Meta.Attempts != 3 || len(s.srv.Requests()) != 3 {
		t.Errorf("tool ran %d times over %d steps and %d requests, want 3", len(seen), run.Meta.Attempts, len(s.srv.Requests()))
	}
}

func TestRunToolsToolError(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute,
		llmtest.WithReplies(llmtest.Tool("flaky", map[string]any{}), llmtest.Text("sorry")))
	flaky := agents.Tool{Name: "flaky", Call: func(context.Context, json.RawMessage) (any, error) {
		return nil, errors.New("ecg core offline")
	}}
	run, err := agents.RunTools(t.Context(), s.r, toolMsgs, []agents.Tool{flaky}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if run.Calls[0].Err != "ecg core offline" || run.Calls[0].Result != `{"error":"ecg core offline"}` {
		t.Errorf("call = %+v", run.Calls[0])
	}
}

func TestRunToolsUnavailable(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute, llmtest.WithReplies(llmtest.Error(503, "busy")))
	_, err := agents.RunTools(t.Context(), s.r, toolMsgs, nil, 2)
	if !errors.Is(err, agents.ErrModelUnavailable) || agents.Reason(err) != agents.ReasonUnavailable {
		t.Fatalf("err = %v", err)
	}
}

func TestRunToolsConfig(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute)
	noop := func(context.Context, json.RawMessage) (any, error) { return nil, nil }
	tests := []struct {
		name  string
		tools []agents.Tool
		steps int
		msgs  []prompts.Message
	}{
		{name: "zero steps", steps: 0, msgs: toolMsgs},
		{name: "too many steps", steps: agents.MaxToolSteps + 1, msgs: toolMsgs},
		{name: "bad name", steps: 1, msgs: toolMsgs, tools: []agents.Tool{{Name: "ecg latest", Call: noop}}},
		{name: "no call", steps: 1, msgs: toolMsgs, tools: []agents.Tool{{Name: "x"}}},
		{name: "duplicate", steps: 1, msgs: toolMsgs, tools: []agents.Tool{{Name: "x", Call: noop}, {Name: "x", Call: noop}}},
		{name: "no messages", steps: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := agents.RunTools(t.Context(), s.r, tc.msgs, tc.tools, tc.steps); err == nil {
				t.Error("RunTools accepted a bad configuration")
			}
		})
	}
	if n := len(s.srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for bad configurations", n)
	}
}

func TestCheckArgs(t *testing.T) {
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"n":     map[string]any{"type": "integer"},
			"x":     map[string]any{"type": []any{"number", "null"}},
			"tags":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"kind":  map[string]any{"enum": []string{"a", "b"}},
			"inner": map[string]any{"type": "object", "required": []any{"ok"}, "properties": map[string]any{"ok": map[string]any{"type": "boolean"}}},
		},
	}
	tests := []struct {
		args    string
		wantErr string
	}{
		{args: `{}`},
		{args: `{"n": 3, "x": null, "tags": ["a"], "kind": "b", "inner": {"ok": true}, "extra": 1}`},
		{args: `{"n": 3.0}`},
		{args: `{"n": 3.5}`, wantErr: "n: want integer"},
		{args: `{"x": "1"}`, wantErr: "x: want number or null, got string"},
		{args: `{"tags": ["a", 2]}`, wantErr: "tags[1]: want string"},
		{args: `{"kind": "c"}`, wantErr: "kind: must be one of a, b"},
		{args: `{"inner": {}}`, wantErr: `inner: missing required field "ok"`},
		{args: `[1]`, wantErr: "must be a JSON object"},
		{args: `{} {}`, wantErr: "text after"},
		{args: ``, wantErr: "not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.args, func(t *testing.T) {
			err := agents.CheckArgs(schema, []byte(tc.args))
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("CheckArgs: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzCheckArgs: arbitrary arguments never panic, and anything accepted is
// a JSON object.
func FuzzCheckArgs(f *testing.F) {
	for _, s := range []string{`{}`, `{"patient_id":"p","lead":"II"}`, `{"lead":1}`, `[]`, `{"a":{"b":[1,2,{"c":null}]}}`, `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		if err := agents.CheckArgs(ecgSchema, []byte(args)); err == nil {
			var m map[string]any
			if json.Unmarshal([]byte(args), &m) != nil || m == nil {
				t.Fatalf("accepted non-object %q", args)
			}
			if _, ok := m["patient_id"].(string); !ok {
				t.Fatalf("accepted %q without a string patient_id", args)
			}
		}
	})
}

func TestRunToolsMissingCallID(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute, llmtest.WithHandler(func(req llmtest.Request) llmtest.Reply {
		if len(req.Messages) == 2 {
			// A server that omits the call ID; llmtest would otherwise assign one.
			return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: " ", Name: "ecg_latest", Args: `{"patient_id":"p"}`}}}
		}
		return llmtest.Text("done")
	}))
	var seen []ecgArgs
	if _, err := agents.RunTools(t.Context(), s.r, toolMsgs, []agents.Tool{ecgTool(&seen)}, 2); err != nil {
		t.Fatal(err)
	}
	msgs := s.srv.Requests()[1].Messages
	if msgs[2].ToolCalls[0].ID != msgs[3].ToolCallID || msgs[3].ToolCallID == "" {
		t.Errorf("call ID %q and result ID %q do not pair", msgs[2].ToolCalls[0].ID, msgs[3].ToolCallID)
	}
}

// TestRunToolsDottedNames: Yizhu's tools are named "ecg.analyze" and
// "rag.search", which OpenAI-compatible servers refuse as function names;
// they are offered as "ecg_analyze" and the model's call maps back.
func TestRunToolsDottedNames(t *testing.T) {
	s := newSetup(t, provider.KindOpenAI, time.Minute, llmtest.WithReplies(
		llmtest.Tool("ecg_analyze", map[string]any{"patient_id": "p-1", "lead": "II"}),
		llmtest.Text("窦性心律。"),
	))
	var seen []ecgArgs
	tool := ecgTool(&seen)
	tool.Name = "ecg.analyze"
	run, err := agents.RunTools(t.Context(), s.r, toolMsgs, []agents.Tool{tool}, 4)
	if err != nil {
		t.Fatalf("RunTools: %v", err)
	}
	if got := s.srv.Requests()[0].Tools; len(got) != 1 || got[0].Name != "ecg_analyze" {
		t.Errorf("offered tools = %+v, want one named ecg_analyze", got)
	}
	if len(run.Calls) != 1 || run.Calls[0].Name != "ecg.analyze" || run.Calls[0].Err != "" || len(seen) != 1 {
		t.Errorf("calls = %+v, seen = %+v", run.Calls, seen)
	}
	if got := agents.WireName("rag.search"); got != "rag_search" {
		t.Errorf("WireName(rag.search) = %q", got)
	}
}
