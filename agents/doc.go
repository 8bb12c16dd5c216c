// Package agents is the runtime every Yizhu agent (triage, scribe,
// qcreview) uses to talk to a language model. It owns the LLM port — a
// langchaingo llms.Model, built elsewhere by agents/provider and passed in
// — and the rules for using it: prompts come from the prompts package,
// every call has a deadline, structured output is decoded strictly and
// validated, tools are passed per call, and any failure falls back to the
// built-in engine with a flag (principles 1 and 2 of DESIGN.md).
//
// # Structured output
//
// [Decode] renders a prompt, asks for JSON, and decodes the reply into a Go
// type with unknown fields rejected, then runs validator v10 on it. If the
// reply is not usable, the problems are sent back once through the
// json_repair prompt. The result is the value, a [Meta] (prompt id and
// version, model, attempts, latency) for the audit record, or an error:
// [ErrModelUnavailable] when no answer came (no model, timeout, 5xx,
// transport) and [ErrModelOutput] when the answers were unusable.
//
// # Fallback
//
// [WithFallback] runs an LLM path and a built-in path: without a model it
// goes straight to the built-in one (reason "no_llm"); when the LLM path
// fails it logs the reason and uses the built-in one. The [Outcome] says
// which produced the result, so the API can label it.
//
// # Tools
//
// A [Tool] is a Go function with a JSON schema. [RunTools] offers tools on
// each call (never binding them to the shared model), checks the model's
// arguments against the schema, runs the calls, feeds the results back and
// stops at a final answer or a step limit.
//
// # Validation messages
//
// [FieldReasons] turns validator errors into bilingual per-field reasons;
// the API uses the same function for its 400 responses, and
// [NewValidator] names fields by their JSON names.
//
// # Testing
//
// agents/llmtest serves scripted replies over HTTP to the real langchaingo
// clients; the tests of this package run every path through it.
package agents
