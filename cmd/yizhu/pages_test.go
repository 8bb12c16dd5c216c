package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/internal/browsertest"
)

// startServer runs `yizhu serve` on embedded defaults in a temp dir and
// returns its base URL and data dir; it stops when the test ends.
func startServer(t *testing.T, extra map[string]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	m := map[string]string{"YIZHU_ADDR": "127.0.0.1:0", "YIZHU_DATA_DIR": dir,
		"YIZHU_DB": "sqlite:" + filepath.Join(dir, "y.db"), "YIZHU_LOG_LEVEL": "warn"}
	for k, v := range extra {
		m[k] = v
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- cmdServe(ctx, nil, env(m), io.Discard, io.Discard, ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr, dir
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	}
	return "", ""
}

func TestPages(t *testing.T) {
	base, _ := startServer(t, nil)
	tests := []struct{ script string }{
		{"index.mjs"},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			browsertest.Run(t, tc.script, base, nil)
		})
	}
}
