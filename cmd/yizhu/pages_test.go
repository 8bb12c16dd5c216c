package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
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
		case <-time.After(time.Minute): // well past the 15 s shutdown grace
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
	base, dir := startServer(t, nil)
	// TOKEN_KIOSK, TOKEN_DOCTOR, … for the scripts, signed like `yizhu token`.
	tokens := map[string]string{}
	for _, role := range []string{"kiosk", "doctor", "qc", "ecg", "admin"} {
		var out strings.Builder
		if err := cmdToken([]string{"--role", role, "--subject", "test." + role, "--name", "Test " + role,
			"--data-dir", dir}, env(nil), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		tokens["TOKEN_"+strings.ToUpper(role)] = strings.TrimSpace(out.String())
	}
	// Every page script in tests/browser runs against one server.
	scripts, err := filepath.Glob(filepath.Join("..", "..", "tests", "browser", "*.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range scripts {
		script := filepath.Base(path)
		if script == "lib.mjs" {
			continue
		}
		n++
		t.Run(script, func(t *testing.T) {
			browsertest.Run(t, script, base, tokens)
		})
	}
	if n == 0 {
		t.Fatal("no page scripts found in tests/browser")
	}
}
