// Package browsertest runs Yizhu's page tests: Node scripts in tests/browser
// that drive Debian's Chromium through npm playwright-core against a server
// the Go test started. A missing browser or playwright-core skips the test
// and names the fix, unless YIZHU_REQUIRE_BROWSER=1 (set by make test and
// CI), which makes it fail.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Root returns the module root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("browsertest: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ShotDir is where screenshots go: $YIZHU_SCREENSHOT_DIR (make screenshots
// sets it to docs/screenshots) or a temporary directory.
func ShotDir(t testing.TB) string {
	if d := os.Getenv("YIZHU_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(d)
		return abs
	}
	return t.TempDir()
}

// Run runs tests/browser/<script> with BASE_URL=baseURL, SHOT_DIR and env,
// failing the test if the script exits non-zero.
func Run(t *testing.T, script, baseURL string, env map[string]string) {
	t.Helper()
	root := Root(t)
	dir := filepath.Join(root, "tests", "browser")
	chromium := os.Getenv("YIZHU_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "tests/browser/node_modules/playwright-core")
	}
	if len(missing) > 0 {
		msg := "browser test needs " + joinComma(missing) + " (run `make deps-test`)"
		if os.Getenv("YIZHU_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; YIZHU_REQUIRE_BROWSER=1")
		}
		t.Skip(msg + "; set YIZHU_REQUIRE_BROWSER=1 to make this a failure")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASE_URL="+baseURL, "SHOT_DIR="+ShotDir(t), "CHROMIUM="+chromium)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if out.Len() > 0 {
		t.Logf("%s output:\n%s", script, out.String())
	}
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
}

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x)
	}
	return b.String()
}
