// Package llmtest runs an in-process HTTP server that speaks the parts of
// the OpenAI chat-completions API and the Ollama API that Yizhu uses, and
// answers with scripted replies. Tests point the real langchaingo clients
// (built by agents/provider) at it, so the whole client path — request
// encoding, HTTP, SSE and NDJSON streaming, tool calls, error mapping — runs
// over loopback without a live model.
//
// # Endpoints
//
//   - POST /v1/chat/completions: plain or streamed (SSE) replies, tool calls
//   - POST /v1/embeddings: deterministic vectors (see [Vector])
//   - GET /v1/models: the configured model names
//   - GET /api/tags: the configured model names, Ollama style
//   - POST /api/chat: Ollama chat, plain or NDJSON-streamed
//   - POST /api/embed and /api/embeddings: Ollama embeddings
//
// # Scripting
//
// Chat replies come from a queue ([WithReplies], [Server.Enqueue]) or from a
// handler ([WithHandler]) that sees each decoded [Request]. A [Reply] is
// text, JSON, tool calls, an HTTP error, a malformed body or a slow answer.
// An unscripted chat request fails the test. Every request is recorded for
// assertions ([Server.Requests]). [Server.Model] and [Server.OllamaModel]
// return the production clients (from agents/provider) already pointed at
// the server, for agent tests.
//
// # Fake time
//
// With [InMemory] the server listens on in-memory pipes; created inside a
// testing/synctest bubble, deadlines and scripted delays then run on the
// bubble's clock, so timeouts are tested at their real size without
// waiting.
package llmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// MaxRequestBody bounds a request body the server will read.
const MaxRequestBody = 8 << 20

// ToolCall is a function call the scripted model makes. Args is the JSON
// text of the arguments. ID is assigned ("call_1", "call_2", …) when empty.
type ToolCall struct {
	ID   string
	Name string
	Args string
}

// Reply is one scripted answer to a chat request.
type Reply struct {
	Text      string        // assistant content (or the error message when Status ≥ 400)
	ToolCalls []ToolCall    // function calls; finish_reason becomes "tool_calls"
	Status    int           // HTTP status; 0 means 200
	Raw       string        // when set, sent verbatim as a 200 body instead of a well-formed reply
	Delay     time.Duration // wait this long (or until the client gives up) before answering
	ChunkSize int           // runes per streamed content chunk; 0 means 4
}

// Text returns a reply whose content is s.
func Text(s string) Reply { return Reply{Text: s} }

// JSON returns a reply whose content is v marshalled as JSON. A value that
// cannot be marshalled becomes an HTTP 500 reply naming the problem.
func JSON(v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		return Reply{Status: http.StatusInternalServerError, Text: "llmtest: JSON: " + err.Error()}
	}
	return Reply{Text: string(b)}
}

// Tool returns a reply that calls function name with args (marshalled as
// JSON unless it is already a string or json.RawMessage).
func Tool(name string, args any) Reply {
	var s string
	switch a := args.(type) {
	case string:
		s = a
	case json.RawMessage:
		s = string(a)
	default:
		b, err := json.Marshal(a)
		if err != nil {
			return Reply{Status: http.StatusInternalServerError, Text: "llmtest: tool args: " + err.Error()}
		}
		s = string(b)
	}
	return Reply{ToolCalls: []ToolCall{{Name: name, Args: s}}}
}

// Error returns a reply with HTTP status and message msg.
func Error(status int, msg string) Reply { return Reply{Status: status, Text: msg} }

// Malformed returns a 200 reply whose body is not valid JSON.
func Malformed() Reply { return Reply{Raw: `{"id": "x", "choices": [`} }

// After returns r delayed by d.
func (r Reply) After(d time.Duration) Reply { r.Delay = d; return r }

// Message is one chat message as the server received it.
type Message struct {
	Role       string
	Content    string
	ToolCalls  []ToolCall
	ToolCallID string
	Name       string
}

// ToolDef is a tool offered to the model in a request.
type ToolDef struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// Request is a decoded request, as recorded and as passed to a handler.
type Request struct {
	Path          string
	Model         string
	Messages      []Message
	Tools         []ToolDef
	Stream        bool
	JSONMode      bool // response_format json_object (OpenAI) or format "json" (Ollama)
	Authorization string
	Input         []string // texts of an embeddings request
}

// Server is the scripted model server. It is safe for concurrent use.
type Server struct {
	t       testing.TB
	url     string
	client  *http.Client
	memory  bool
	mu      sync.Mutex
	queue   []Reply
	handler func(Request) Reply
	reqs    []Request
	dim     int
	models  []string
	embFail []int
	nextID  int
}

// Option configures a Server.
type Option func(*Server)

// WithReplies queues chat replies, answered in order.
func WithReplies(rs ...Reply) Option { return func(s *Server) { s.queue = append(s.queue, rs...) } }

// WithHandler answers every chat request with h; the queue is then unused.
func WithHandler(h func(Request) Reply) Option { return func(s *Server) { s.handler = h } }

// WithEmbeddingDim sets the length of returned embedding vectors (default 8).
func WithEmbeddingDim(n int) Option { return func(s *Server) { s.dim = n } }

// WithModels sets the names listed by /v1/models and /api/tags (default
// "test-model"); the first is the model [Server.Model] asks for.
func WithModels(names ...string) Option {
	return func(s *Server) {
		if len(names) > 0 {
			s.models = names
		}
	}
}

// InMemory serves over in-memory pipes (net.Pipe) instead of a loopback
// socket. Only the client from [Server.HTTPClient] can reach such a server.
// Created inside a testing/synctest bubble, the server, the client and
// scripted delays all run on the bubble's fake clock, so a test can use
// realistic timeouts (30 s) and still finish at once.
func InMemory() Option { return func(s *Server) { s.memory = true } }

// NewServer starts a server on a loopback port (or in memory, see
// [InMemory]); it is closed when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, dim: 8, models: []string{"test-model"}}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.openAIChat)
	mux.HandleFunc("POST /v1/embeddings", s.openAIEmbed)
	mux.HandleFunc("GET /v1/models", s.openAIModels)
	mux.HandleFunc("GET /api/tags", s.ollamaTags)
	mux.HandleFunc("POST /api/chat", s.ollamaChat)
	mux.HandleFunc("POST /api/embed", s.ollamaEmbed)
	mux.HandleFunc("POST /api/embeddings", s.ollamaEmbed)
	if s.memory {
		s.startInMemory(t, mux)
		return s
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.url, s.client = srv.URL, srv.Client()
	return s
}

func (s *Server) startInMemory(t testing.TB, h http.Handler) {
	l := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	hs := &http.Server{Handler: h}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(l) // returns when the listener closes
	}()
	tr := &http.Transport{DialContext: l.dial}
	s.url = "http://llmtest.internal"
	s.client = &http.Client{Transport: tr}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = hs.Close() // closes the listener and every connection
		<-served
	})
}

// pipeListener hands out the server ends of in-memory connections.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "llmtest.internal" }

// URL is the server's root URL, the base URL for an Ollama client.
func (s *Server) URL() string { return s.url }

// OpenAIBaseURL is the base URL for an OpenAI-compatible client ("…/v1").
func (s *Server) OpenAIBaseURL() string { return s.url + "/v1" }

// HTTPClient returns a client that reaches the server; required for an
// [InMemory] server, optional otherwise.
func (s *Server) HTTPClient() *http.Client { return s.client }

// Enqueue appends chat replies to the queue.
func (s *Server) Enqueue(rs ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, rs...)
}

// FailEmbeddings makes the next len(statuses) embedding requests fail with
// these HTTP statuses, in order.
func (s *Server) FailEmbeddings(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.embFail = append(s.embFail, statuses...)
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	copy(out, s.reqs)
	return out
}

// Pending returns how many queued replies are still unused.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
}

// next picks the reply for a chat request and assigns tool-call IDs.
func (s *Server) next(req Request) (Reply, bool) {
	s.mu.Lock()
	h := s.handler
	var rep Reply
	ok := true
	if h == nil {
		if len(s.queue) == 0 {
			ok = false
		} else {
			rep = s.queue[0]
			s.queue = s.queue[1:]
		}
	}
	s.mu.Unlock()
	if h != nil {
		rep = h(req)
	}
	if !ok {
		return Reply{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := make([]ToolCall, len(rep.ToolCalls))
	for i, c := range rep.ToolCalls {
		if c.ID == "" {
			s.nextID++
			c.ID = fmt.Sprintf("call_%d", s.nextID)
		}
		calls[i] = c
	}
	rep.ToolCalls = calls
	return rep, true
}

func (s *Server) nextEmbedFailure() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.embFail) == 0 {
		return 0
	}
	st := s.embFail[0]
	s.embFail = s.embFail[1:]
	return st
}

func (s *Server) embedDim() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dim
}

// wait sleeps for d or until the client goes away; it reports whether the
// client is still there.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBody))
	if err != nil {
		http.Error(w, `{"error":{"message":"llmtest: read body"}}`, http.StatusRequestEntityTooLarge)
		return false
	}
	if err := json.Unmarshal(body, dst); err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"error": map[string]any{"message": "llmtest: bad request JSON: " + err.Error()}})
		return false
	}
	return true
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client reading it is the test's subject
}

// chunks splits s into pieces of n runes.
func chunks(s string, n int) []string {
	if n <= 0 {
		n = 4
	}
	var out []string
	r := []rune(s)
	for len(r) > 0 {
		k := min(n, len(r))
		out = append(out, string(r[:k]))
		r = r[k:]
	}
	return out
}

// Vector is the deterministic embedding the server returns for text: dim
// values in [-1, 1) drawn from a splitmix64 sequence seeded by the FNV-1a
// hash of the text. It is not normalised.
func Vector(text string, dim int) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(text)) // hash.Hash never fails
	x := h.Sum64()
	v := make([]float32, dim)
	for i := range v {
		// splitmix64 (Steele, Lea & Flood, "Fast splittable pseudorandom
		// number generators", OOPSLA 2014).
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		v[i] = float32(float64(z>>11)/float64(1<<53)*2 - 1)
	}
	return v
}

func authOf(r *http.Request) string { return strings.TrimSpace(r.Header.Get("Authorization")) }
