// Package api is Yizhu's HTTP surface: an Echo server with request IDs,
// structured access logs, body limits, timeouts, panic recovery, bearer-token
// auth with roles, Prometheus metrics and an OpenAPI 3 document generated from
// the route table, so the document cannot drift from the code.
//
// # Routes
//
// Every endpoint is a [Route] value: method, path, handler, the roles allowed
// to call it, and the Go types of its request and response (used for the
// OpenAPI schemas). The core routes (health, auth, encounters, notes, audit)
// are listed in routes.go. A capability (ECG, RAG, triage, …) is a [Feature]:
// a value built by cmd/yizhu with its own dependencies whose Routes method
// returns its routes; it lives in its own file (api/ecg.go, api/rag.go, …)
// and is passed in [Config.Features]. Nothing registers itself.
//
// # Conventions for handlers
//
//   - Decode bodies with [Bind]: strict JSON (unknown fields are a 400),
//     then validator/v10 struct tags; errors come back as 400 with one
//     {field, reason_zh, reason_en} entry per field.
//   - Return *clinic.Error values (or wrap them); errors.go is the only
//     code→status table. Internal causes are logged, never shown.
//   - Read the caller with [ClaimsFrom]; the route's Roles are already
//     enforced before the handler runs (403 and no data otherwise).
//   - Write an audit entry (through the store's Audit port) for every AI
//     output, edit, signature and PHI read.
//   - Streams (SSE, NDJSON) set Route.Stream so the request timeout does not
//     cut them; they must stop when the request context ends.
package api
