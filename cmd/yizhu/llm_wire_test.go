package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/agents/llmtest"
)

// readyz fetches /readyz from a running server.
func readyz(t *testing.T, base string) (int, struct {
	Status string
	Checks map[string]struct {
		OK     bool
		Detail string
		Error  string
	}
}) {
	t.Helper()
	var r struct {
		Status string
		Checks map[string]struct {
			OK     bool
			Detail string
			Error  string
		}
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("readyz %d: %s", resp.StatusCode, body)
	}
	return resp.StatusCode, r
}

// TestServeWithOpenAICompatibleLLM starts the service against an
// in-process OpenAI-compatible server (the real langchaingo clients over
// HTTP) for both the chat model and the embedder, and checks that /readyz
// probes them: ready while the server lists the model, degraded (still 200,
// built-in engines answer) when it does not.
func TestServeWithOpenAICompatibleLLM(t *testing.T) {
	tests := []struct {
		name       string
		models     []string
		wantStatus string
		wantLLMOK  bool
	}{
		{"model served", []string{"qwen-test", "embed-test"}, "ready", true},
		{"model missing", []string{"embed-test"}, "degraded", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.WithModels(tc.models...), llmtest.WithEmbeddingDim(64))
			base, _ := startServer(t, map[string]string{
				"YIZHU_LLM": "openai", "YIZHU_LLM_BASE_URL": srv.OpenAIBaseURL(), "YIZHU_LLM_MODEL": "qwen-test",
				"YIZHU_EMBEDDER": "openai", "YIZHU_EMBED_MODEL": "embed-test", "YIZHU_EMBED_DIM": "64",
			})
			// A probe can time out on a loaded machine (readyz gives its
			// checks 3 s); a service that is ready says so on a later
			// probe, so ask again for a while before failing.
			code, r := readyz(t, base)
			for deadline := time.Now().Add(time.Minute); r.Status != tc.wantStatus && time.Now().Before(deadline); {
				time.Sleep(200 * time.Millisecond)
				code, r = readyz(t, base)
			}
			if code != http.StatusOK || r.Status != tc.wantStatus {
				t.Fatalf("readyz = %d %q, want 200 %q: %+v", code, r.Status, tc.wantStatus, r.Checks)
			}
			if got := r.Checks["llm"].OK; got != tc.wantLLMOK {
				t.Errorf("llm check ok = %v, want %v (%+v)", got, tc.wantLLMOK, r.Checks["llm"])
			}
			if !r.Checks["embedder"].OK {
				t.Errorf("embedder check failed: %+v", r.Checks["embedder"])
			}
		})
	}
}

// TestServeFailsOnWrongEmbeddingDimension: a remote embedder that returns
// vectors of another length than configured stops the start (the starter
// corpus cannot be embedded), with an error naming the mismatch.
func TestServeFailsOnWrongEmbeddingDimension(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithModels("embed-test"), llmtest.WithEmbeddingDim(32))
	dir := t.TempDir()
	e := env(map[string]string{"YIZHU_ADDR": "127.0.0.1:0", "YIZHU_DATA_DIR": dir, "YIZHU_DB": "sqlite:" + dir + "/y.db",
		"YIZHU_EMBEDDER": "openai", "YIZHU_EMBED_BASE_URL": srv.OpenAIBaseURL(), "YIZHU_EMBED_MODEL": "embed-test",
		"YIZHU_EMBED_DIM": "64", "YIZHU_LOG_LEVEL": "error"})
	err := cmdServe(t.Context(), nil, e, io.Discard, io.Discard, nil)
	if err == nil {
		t.Fatal("serve started with an embedder of the wrong dimension")
	}
	t.Log(err)
}
