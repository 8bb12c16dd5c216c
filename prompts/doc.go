// Package prompts holds every prompt Yizhu sends to a language model, as
// versioned template files embedded in the binary, and renders them into
// role-tagged messages without calling a model.
//
// Prompts are data: one file per prompt, reviewed like code and pinned by a
// golden test, so a reader can open one file and see the complete text a
// model receives. Nothing outside this package builds prompt text.
//
// # File format
//
// A prompt file is named <id>.prompt and starts with YAML front matter
// between two lines holding only "---", followed by the body:
//
//	---
//	id: triage_followup
//	version: 1
//	description: Ask the next follow-up question at the kiosk.
//	inputs: [complaint, age, sex]
//	output: triage.FollowUp
//	---
//	--- system ---
//	You are a triage nurse. Reply with one JSON object.
//	--- user ---
//	Complaint: {{.complaint}}
//
// Front matter keys, all required: id (lowercase letters, digits and
// underscores; equal to the file name without ".prompt"), version (an
// integer ≥ 1; bump it whenever the text changes), description, inputs (the
// top-level names the body may use) and output (the Go type the reply is
// decoded into, or JSON schema text the model must follow). Any other key is
// an error that names the file and line.
//
// The body is split into messages by marker lines that hold only
// "--- system ---", "--- user ---" or "--- assistant ---". Each part is a
// text/template executed with missingkey=error; its result is trimmed of
// surrounding blank space. Templates may use the functions json (compact
// JSON of a value) and join (strings.Join). A template may only refer to the
// declared inputs at top level (.name or $.name); that is checked at load.
//
// The template sees the JSON form of the input: Render marshals whatever
// the agent passes (usually its own input struct) and decodes it into a
// map, so names are JSON field names and numbers print exactly as in JSON.
// Templates should print and loop, not compute; decisions belong in Go.
//
// # Adding a prompt
//
//  1. Write prompts/<id>.prompt as above. Prefix the id with your agent's
//     name (triage_…, scribe_…, qcreview_…). If the reply is parsed as JSON,
//     say "JSON" in the text: OpenAI-compatible servers refuse JSON mode
//     otherwise.
//  2. Write prompts/testdata/<id>.input.json: a JSON object with every
//     declared input — the JSON form of what your agent passes — realistic
//     but free of real patient data.
//  3. Run `go test ./prompts -update` to write prompts/testdata/<id>.golden,
//     read it, and commit all three files. The test fails for a prompt
//     without a golden file, and for any change in rendered text, so a text
//     change is always reviewed together with its version bump.
//
// Load checks every file at start-up (strict front matter, template parse,
// inputs), so a broken prompt stops the binary rather than a request.
package prompts
