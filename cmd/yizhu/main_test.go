package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad addr", map[string]string{"YIZHU_ADDR": "nonsense"}, nil, "YIZHU_ADDR"},
		{"bad port", map[string]string{"YIZHU_ADDR": "127.0.0.1:99999"}, nil, "YIZHU_ADDR"},
		{"bad db", map[string]string{"YIZHU_DB": "mysql://x"}, nil, "YIZHU_DB"},
		{"empty sqlite path", map[string]string{"YIZHU_DB": "sqlite:"}, nil, "YIZHU_DB"},
		{"unknown llm", map[string]string{"YIZHU_LLM": "gpt"}, nil, "YIZHU_LLM"},
		{"openai without url", map[string]string{"YIZHU_LLM": "openai", "YIZHU_LLM_MODEL": "m"}, nil, "YIZHU_LLM_BASE_URL"},
		{"openai without model", map[string]string{"YIZHU_LLM": "openai", "YIZHU_LLM_BASE_URL": "http://h/v1"}, nil, "YIZHU_LLM_MODEL"},
		{"bad llm url", map[string]string{"YIZHU_LLM": "ollama", "YIZHU_LLM_MODEL": "m", "YIZHU_LLM_BASE_URL": "ftp://x"}, nil, "YIZHU_LLM_BASE_URL"},
		{"bad timeout", map[string]string{"YIZHU_LLM_TIMEOUT": "soon"}, nil, "YIZHU_LLM_TIMEOUT"},
		{"bad session ttl", map[string]string{"YIZHU_TRIAGE_SESSION_TTL": "10s"}, nil, "YIZHU_TRIAGE_SESSION_TTL"},
		{"bad summary ttl", map[string]string{"YIZHU_TRIAGE_SUMMARY_TTL": "forever"}, nil, "YIZHU_TRIAGE_SUMMARY_TTL"},
		{"bad phi", map[string]string{"YIZHU_LLM_PHI": "yes"}, nil, "YIZHU_LLM_PHI"},
		{"bad embedder", map[string]string{"YIZHU_EMBEDDER": "bert"}, nil, "YIZHU_EMBEDDER"},
		{"remote embedder without model", map[string]string{"YIZHU_EMBEDDER": "ollama"}, nil, "YIZHU_EMBED_MODEL"},
		{"bad nats", map[string]string{"YIZHU_NATS_URL": "http://x"}, nil, "YIZHU_NATS_URL"},
		{"remote embedder without dim", map[string]string{"YIZHU_EMBEDDER": "ollama", "YIZHU_EMBED_MODEL": "bge-m3"}, nil, "YIZHU_EMBED_DIM"},
		{"bad embed dim", map[string]string{"YIZHU_EMBEDDER": "ollama", "YIZHU_EMBED_MODEL": "bge-m3", "YIZHU_EMBED_DIM": "-3"}, nil, "YIZHU_EMBED_DIM"},
		{"bad webhook", map[string]string{"YIZHU_ALERT_WEBHOOKS": "https://ok.example/h, mailto:x@y"}, nil, "YIZHU_ALERT_WEBHOOKS"},
		{"short secret", map[string]string{"YIZHU_AUTH_SECRET": "short"}, nil, "YIZHU_AUTH_SECRET"},
		{"bad log level", map[string]string{"YIZHU_LOG_LEVEL": "loud"}, nil, "YIZHU_LOG_LEVEL"},
		{"flag overrides env", map[string]string{"YIZHU_LLM": "none"}, []string{"--llm", "magic"}, "YIZHU_LLM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig("serve", tc.args, env(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
	t.Run("defaults are valid", func(t *testing.T) {
		c, err := loadConfig("serve", nil, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.DB != "sqlite:./data/yizhu.db" || c.LLM != "none" || c.Embedder != "builtin" || c.LLMTimeout != 20*time.Second {
			t.Fatalf("defaults: %+v", c)
		}
	})
}

func TestConfigLogRedactsSecrets(t *testing.T) {
	c, err := loadConfig("serve", nil, env(map[string]string{
		"YIZHU_LLM": "openai", "YIZHU_LLM_BASE_URL": "http://h/v1", "YIZHU_LLM_MODEL": "m",
		"YIZHU_LLM_API_KEY": "sk-secret-key", "YIZHU_AUTH_SECRET": strings.Repeat("s", 40),
		"YIZHU_DB": "postgres://u:hunter2@db:5432/y",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := c.LogValue().String()
	for _, leak := range []string{"sk-secret-key", "hunter2", strings.Repeat("s", 40)} {
		if strings.Contains(s, leak) {
			t.Errorf("logged config contains a secret %q: %s", leak, s)
		}
	}
}

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range envVars {
		if !bytes.Contains(b, []byte("`"+v.name+"`")) {
			t.Errorf("README.md does not document %s", v.name)
		}
	}
}

func TestServeStartsOnEmbeddedDefaultsAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	e := env(map[string]string{"YIZHU_ADDR": "127.0.0.1:0", "YIZHU_DATA_DIR": dir,
		"YIZHU_DB": "sqlite:" + filepath.Join(dir, "y.db"), "YIZHU_LOG_LEVEL": "warn"})
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- cmdServe(ctx, nil, e, io.Discard, io.Discard, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	}
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json", "/"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/readyz" {
			var r struct{ Status string }
			if err := json.Unmarshal(body, &r); err != nil || r.Status != "ready" {
				t.Fatalf("readyz: %s", body)
			}
		}
	}
	// The generated secret signs tokens that `yizhu token` can reproduce.
	var out bytes.Buffer
	if err := run(t.Context(), []string{"token", "--role", "admin", "--data-dir", dir}, env(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/audit/verify", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(out.String()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("token from `yizhu token` rejected: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("graceful shutdown: %v", err)
		}
	case <-time.After(time.Minute): // well past the 15 s shutdown grace
		t.Fatal("serve did not stop after its context ended")
	}
}

func TestServeFailsClearlyOnUnreachablePostgres(t *testing.T) {
	e := env(map[string]string{"YIZHU_ADDR": "127.0.0.1:0", "YIZHU_DATA_DIR": t.TempDir(),
		"YIZHU_DB": "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"})
	err := cmdServe(t.Context(), nil, e, io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "YIZHU_DB") {
		t.Fatalf("error %v, want one naming YIZHU_DB", err)
	}
}

func TestRunRejectsUnknownCommands(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"frobnicate"}, env(nil), nil, io.Discard, &stderr); err == nil {
		t.Fatal("unknown command accepted")
	}
	if !strings.Contains(stderr.String(), "usage") {
		t.Fatalf("no usage printed: %q", stderr.String())
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"version"}, env(nil), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "yizhu") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}
