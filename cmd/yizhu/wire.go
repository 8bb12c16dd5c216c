package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/api/web"
	"github.com/yizhu-health/yizhu/eval"
	datasetsuite "github.com/yizhu-health/yizhu/eval/suites/datasets"
	triagesuite "github.com/yizhu-health/yizhu/eval/suites/triage"
	"github.com/yizhu-health/yizhu/store"
	"github.com/yizhu-health/yizhu/store/postgres"
	"github.com/yizhu-health/yizhu/store/sqlite"
)

// app is the wired service.
type app struct {
	handler http.Handler
	closers []func() error
}

func (a *app) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// wire builds every component from cfg. This is the only place that picks
// adapters and vendor clients.
func wire(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	a := &app{}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, st.Close)

	secret, err := authSecret(cfg, true)
	if err != nil {
		return nil, err
	}
	tokens, err := api.NewTokens(secret, nil)
	if err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	webFS, err := web.FS(cfg.WebDir)
	if err != nil {
		return nil, &configError{"YIZHU_WEB_DIR", err.Error()}
	}
	var features []api.Feature
	tri, err := wireTriage(cfg, st, log)
	if err != nil {
		return nil, err
	}
	features = append(features, tri)

	srv, err := api.New(api.Config{
		Store: st, Tokens: tokens, Logger: log, Registry: reg, Web: webFS, Features: features,
		CORSOrigins: cfg.CORSOrigins, Version: version,
		Checks: []api.Check{
			{Name: "llm", Detail: llmDetail(cfg), Check: func(context.Context) error { return nil }},
			{Name: "embedder", Detail: cfg.Embedder, Check: func(context.Context) error { return nil }},
		},
	})
	if err != nil {
		return nil, err
	}
	a.handler = srv.Handler()
	ok = true
	return a, nil
}

// wireTriage builds the kiosk triage feature: the embedded engine, blended
// with a trained department router when YIZHU_TRIAGE_MODEL names one.
func wireTriage(cfg Config, st store.Store, log *slog.Logger) (*api.Triage, error) {
	tc := triage.Config{Logger: log}
	if cfg.TriageModel != "" {
		f, err := os.Open(cfg.TriageModel)
		if err != nil {
			return nil, &configError{"YIZHU_TRIAGE_MODEL", err.Error()}
		}
		defer f.Close()
		if tc.Router, err = triage.LoadRouter(f); err != nil {
			return nil, &configError{"YIZHU_TRIAGE_MODEL", err.Error()}
		}
	}
	eng, err := triage.New(tc)
	if err != nil {
		return nil, err
	}
	return api.NewTriage(api.TriageConfig{Engine: eng, Store: st, Logger: log})
}

// openStore opens the configured database, applying migrations. An
// unreachable PostgreSQL is an error within 10 seconds.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if path, ok := strings.CutPrefix(cfg.DB, "sqlite:"); ok {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, &configError{"YIZHU_DB", err.Error()}
		}
		db, err := sqlite.Open(ctx, sqlite.Config{Path: path, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("YIZHU_DB %s: %w", cfg.DB, err)
		}
		return db, nil
	}
	db, err := postgres.Open(ctx, postgres.Config{DSN: cfg.DB, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("YIZHU_DB %s: %w", redactURL(cfg.DB), err)
	}
	return db, nil
}

func llmDetail(cfg Config) string {
	if cfg.LLM == "none" {
		return "none (built-in engines)"
	}
	return cfg.LLM + " " + cfg.LLMModel
}

// evalSuites builds the registry of eval suites. Each capability adds its
// suite here (and its thresholds to eval/thresholds.yaml in the same change).
func evalSuites() (*eval.Registry, error) {
	reg := eval.NewRegistry(eval.Deps{})
	for _, s := range []eval.Suite{
		datasetsuite.New(datasetsuite.Config{}),
		triagesuite.New(triagesuite.Config{}),
	} {
		if err := reg.Register(s); err != nil {
			return nil, err
		}
	}
	return reg, nil
}
