package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yizhu-health/yizhu/api"
)

// cmdServe starts the service and blocks until ctx ends, then shuts down
// gracefully. When ready is non-nil the bound address is sent on it once the
// listener is up (tests listen on port 0).
func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	cfg, err := loadConfig("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	log.Info("starting", "version", version, "config", cfg)

	app, err := wire(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("YIZHU_ADDR %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	log.Info("listening", "addr", addr, "url", "http://"+addr+"/")
	fmt.Fprintf(stdout, "Yizhu %s listening on http://%s/\n", version, addr)
	if ready != nil {
		ready <- addr
	}

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// authSecret returns the configured secret, or the one generated into
// DATA_DIR/auth.secret on first start (0600).
func authSecret(cfg Config, create bool) ([]byte, error) {
	if cfg.AuthSecret != "" {
		return []byte(cfg.AuthSecret), nil
	}
	path := filepath.Join(cfg.DataDir, "auth.secret")
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, &configError{"YIZHU_AUTH_SECRET", path + " holds fewer than 32 bytes"}
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, &configError{"YIZHU_AUTH_SECRET", "unset, and " + path + " cannot be read: " + err.Error()}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(raw)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, &configError{"YIZHU_DATA_DIR", err.Error()}
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, &configError{"YIZHU_DATA_DIR", err.Error()}
	}
	return []byte(s), nil
}

// cmdToken prints a bearer token signed with the service's secret.
func cmdToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "role: kiosk | doctor | qc | ecg | admin")
	subject := fs.String("subject", "", "user or device ID (default: the role name)")
	name := fs.String("name", "", "display name")
	ttl := fs.Duration("ttl", 12*time.Hour, "token lifetime")
	dataDir := fs.String("data-dir", "", "data directory holding auth.secret (default $YIZHU_DATA_DIR or ./data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *subject == "" {
		*subject = *role
	}
	cfg := Config{AuthSecret: getenv("YIZHU_AUTH_SECRET"), DataDir: *dataDir}
	if cfg.DataDir == "" {
		cfg.DataDir = getenv("YIZHU_DATA_DIR")
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "./data"
	}
	secret, err := authSecret(cfg, true)
	if err != nil {
		return err
	}
	tokens, err := api.NewTokens(secret, nil)
	if err != nil {
		return err
	}
	tok, _, err := tokens.Issue(*subject, api.Role(*role), *name, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
