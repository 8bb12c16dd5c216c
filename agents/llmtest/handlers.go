package llmtest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// ---- OpenAI-compatible API ----

type oaToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		Name       string          `json:"name"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []oaToolCall    `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	Stream         bool `json:"stream"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

// contentText reads an OpenAI message content: a string, null, or a list
// of parts whose text parts are joined.
func contentText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return string(raw)
}

func (s *Server) openAIChat(w http.ResponseWriter, r *http.Request) {
	var in oaRequest
	if !readJSON(w, r, &in) {
		return
	}
	req := Request{Path: r.URL.Path, Model: in.Model, Stream: in.Stream, Authorization: authOf(r),
		JSONMode: in.ResponseFormat != nil && in.ResponseFormat.Type == "json_object"}
	for _, m := range in.Messages {
		msg := Message{Role: m.Role, Content: contentText(m.Content), Name: m.Name, ToolCallID: m.ToolCallID}
		for _, c := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: c.ID, Name: c.Function.Name, Args: c.Function.Arguments})
		}
		req.Messages = append(req.Messages, msg)
	}
	for _, t := range in.Tools {
		req.Tools = append(req.Tools, ToolDef{Name: t.Function.Name, Description: t.Function.Description,
			Parameters: t.Function.Parameters})
	}
	rep, ok := s.chatReply(w, r, req, writeOAError)
	if !ok {
		return
	}
	switch {
	case rep.Raw != "":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(rep.Raw))
	case in.Stream:
		streamOpenAI(w, in.Model, rep)
	default:
		writeOpenAI(w, in.Model, rep)
	}
}

// chatReply records a chat request and picks its scripted reply, waiting
// out the reply's Delay. It reports false when the handler has nothing
// more to write: the request was unscripted (the test fails and the
// client gets a 500), the client went away during the delay, or the reply
// is an HTTP error (Status 400 or more), already written. writeErr writes
// an error in the API's own shape.
func (s *Server) chatReply(w http.ResponseWriter, r *http.Request, req Request,
	writeErr func(w http.ResponseWriter, status int, msg string)) (Reply, bool) {
	s.record(req)
	rep, ok := s.next(req)
	if !ok {
		s.t.Errorf("llmtest: unscripted chat request to %s (model %q)", r.URL.Path, req.Model)
		writeErr(w, http.StatusInternalServerError, "llmtest: no scripted reply")
		return Reply{}, false
	}
	if !wait(r, rep.Delay) {
		return Reply{}, false
	}
	if rep.Status >= 400 {
		writeErr(w, rep.Status, rep.Text)
		return Reply{}, false
	}
	return rep, true
}

func writeOAError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeJSON(w, map[string]any{"error": map[string]any{"message": msg, "type": "server_error"}})
}

func finishReason(rep Reply) string {
	if len(rep.ToolCalls) > 0 {
		return "tool_calls"
	}
	return "stop"
}

func usage(rep Reply) map[string]int {
	n := len([]rune(rep.Text))
	return map[string]int{"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n}
}

func writeOpenAI(w http.ResponseWriter, model string, rep Reply) {
	msg := map[string]any{"role": "assistant", "content": rep.Text}
	if len(rep.ToolCalls) > 0 {
		var calls []oaToolCall
		for _, c := range rep.ToolCalls {
			tc := oaToolCall{ID: c.ID, Type: "function"}
			tc.Function.Name = c.Name
			tc.Function.Arguments = c.Args
			calls = append(calls, tc)
		}
		msg["tool_calls"] = calls
	}
	w.Header().Set("Content-Type", "application/json")
	writeJSON(w, map[string]any{
		"id": "chatcmpl-llmtest", "object": "chat.completion", "created": 0, "model": model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finishReason(rep)}},
		"usage":   usage(rep),
	})
}

// streamOpenAI sends rep as server-sent events the way OpenAI does: a role
// chunk, content chunks, tool-call chunks (name first, then argument
// pieces), a finish chunk, a usage chunk and [DONE].
func streamOpenAI(w http.ResponseWriter, model string, rep Reply) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	send := func(choices []any, extra map[string]any) {
		ev := map[string]any{"id": "chatcmpl-llmtest", "object": "chat.completion.chunk", "created": 0,
			"model": model, "choices": choices}
		for k, v := range extra {
			ev[k] = v
		}
		b, _ := json.Marshal(ev)
		_, _ = w.Write([]byte("data: " + string(b) + "\n\n"))
		if fl != nil {
			fl.Flush()
		}
	}
	delta := func(d map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "finish_reason": finish}}
	}
	send(delta(map[string]any{"role": "assistant", "content": ""}, nil), nil)
	for _, c := range chunks(rep.Text, rep.ChunkSize) {
		send(delta(map[string]any{"content": c}, nil), nil)
	}
	for i, c := range rep.ToolCalls {
		idx := i
		head := oaToolCall{Index: &idx, ID: c.ID, Type: "function"}
		head.Function.Name = c.Name
		send(delta(map[string]any{"tool_calls": []oaToolCall{head}}, nil), nil)
		for _, piece := range chunks(c.Args, 8) {
			more := oaToolCall{Index: &idx}
			more.Function.Arguments = piece
			send(delta(map[string]any{"tool_calls": []oaToolCall{more}}, nil), nil)
		}
	}
	send(delta(map[string]any{}, finishReason(rep)), nil)
	send([]any{}, map[string]any{"usage": usage(rep)})
	_, _ = w.Write([]byte("data: [DONE]\n\n"))
	if fl != nil {
		fl.Flush()
	}
}

func (s *Server) openAIEmbed(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	texts := inputTexts(in.Input)
	s.record(Request{Path: r.URL.Path, Model: in.Model, Input: texts, Authorization: authOf(r)})
	if st := s.nextEmbedFailure(); st != 0 {
		writeOAError(w, st, "llmtest: scripted embedding failure")
		return
	}
	dim := s.embedDim()
	data := make([]any, len(texts))
	for i, t := range texts {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": Vector(t, dim)}
	}
	w.Header().Set("Content-Type", "application/json")
	writeJSON(w, map[string]any{"object": "list", "data": data, "model": in.Model,
		"usage": map[string]int{"prompt_tokens": len(texts), "total_tokens": len(texts)}})
}

func inputTexts(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

func (s *Server) openAIModels(w http.ResponseWriter, r *http.Request) {
	s.record(Request{Path: r.URL.Path, Authorization: authOf(r)})
	data := make([]any, len(s.models))
	for i, m := range s.models {
		data[i] = map[string]any{"id": m, "object": "model", "created": 0, "owned_by": "llmtest"}
	}
	w.Header().Set("Content-Type", "application/json")
	writeJSON(w, map[string]any{"object": "list", "data": data})
}

// ---- Ollama API ----

func (s *Server) ollamaTags(w http.ResponseWriter, r *http.Request) {
	s.record(Request{Path: r.URL.Path, Authorization: authOf(r)})
	models := make([]any, len(s.models))
	for i, m := range s.models {
		models[i] = map[string]any{"name": m, "model": m, "modified_at": ollamaTime, "size": 0}
	}
	w.Header().Set("Content-Type", "application/json")
	writeJSON(w, map[string]any{"models": models})
}

const ollamaTime = "2026-01-01T00:00:00Z"

func (s *Server) ollamaChat(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		Stream bool   `json:"stream"`
		Format string `json:"format"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	req := Request{Path: r.URL.Path, Model: in.Model, Stream: in.Stream, JSONMode: in.Format == "json",
		Authorization: authOf(r)}
	for _, m := range in.Messages {
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: m.Content})
	}
	rep, ok := s.chatReply(w, r, req, writeOllamaError)
	if !ok {
		return
	}
	if rep.Raw != "" {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = w.Write([]byte(rep.Raw + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	fl, _ := w.(http.Flusher)
	line := func(content string, done bool) {
		v := map[string]any{"model": in.Model, "created_at": ollamaTime,
			"message": map[string]any{"role": "assistant", "content": content}, "done": done}
		if done {
			v["done_reason"] = "stop"
			v["prompt_eval_count"] = 10
			v["eval_count"] = len([]rune(rep.Text))
		}
		writeJSON(w, v)
		if fl != nil {
			fl.Flush()
		}
	}
	if !in.Stream {
		line(rep.Text, true)
		return
	}
	for _, c := range chunks(rep.Text, rep.ChunkSize) {
		line(c, false)
	}
	line("", true)
}

func writeOllamaError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeJSON(w, map[string]any{"error": msg})
}

func (s *Server) ollamaEmbed(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Model  string          `json:"model"`
		Input  json.RawMessage `json:"input"`
		Prompt string          `json:"prompt"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	legacy := r.URL.Path == "/api/embeddings"
	texts := inputTexts(in.Input)
	if legacy {
		texts = []string{in.Prompt}
	}
	s.record(Request{Path: r.URL.Path, Model: in.Model, Input: texts, Authorization: authOf(r)})
	if st := s.nextEmbedFailure(); st != 0 {
		writeOllamaError(w, st, "llmtest: scripted embedding failure")
		return
	}
	dim := s.embedDim()
	w.Header().Set("Content-Type", "application/json")
	if legacy {
		writeJSON(w, map[string]any{"embedding": Vector(in.Prompt, dim)})
		return
	}
	vecs := make([][]float32, len(texts))
	for i, t := range texts {
		vecs[i] = Vector(t, dim)
	}
	writeJSON(w, map[string]any{"model": in.Model, "embeddings": vecs})
}
