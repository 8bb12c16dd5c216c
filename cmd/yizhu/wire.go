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

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/provider"
	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/api/web"
	"github.com/yizhu-health/yizhu/eval"
	datasetsuite "github.com/yizhu-health/yizhu/eval/suites/datasets"
	ecgsuite "github.com/yizhu-health/yizhu/eval/suites/ecg"
	qcsuite "github.com/yizhu-health/yizhu/eval/suites/qc"
	ragsuite "github.com/yizhu-health/yizhu/eval/suites/rag"
	scribesuite "github.com/yizhu-health/yizhu/eval/suites/scribe"
	triagesuite "github.com/yizhu-health/yizhu/eval/suites/triage"
	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/corpus"
	"github.com/yizhu-health/yizhu/rag/embed"
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

// deps are the shared components every feature builder may use. They are
// built once by wire, in dependency order.
type deps struct {
	cfg    Config
	log    *slog.Logger
	store  store.Store
	runner *agents.Runner // always set; it has no model when YIZHU_LLM=none
	rag    *rag.Retriever
	ingest *rag.Ingester
	// tools are the agent tools shared by the agents (rag.search, and
	// ecg.analyze once the ECG core is wired), by name.
	tools map[string]agents.Tool
	// signHooks run when a doctor signs a note (QC scoring, for one); a
	// feature builder appends its own.
	signHooks []api.SignHook
	// checks are readiness probes a feature adds (NATS, for one).
	checks []api.Check
	// closers run in reverse order when the service stops.
	closers *[]func() error
}

// onClose registers fn to run when the service stops.
func (d *deps) onClose(fn func() error) { *d.closers = append(*d.closers, fn) }

// tool returns the named shared tool; ok is false when it is not wired.
func (d *deps) tool(name string) (agents.Tool, bool) {
	t, ok := d.tools[name]
	return t, ok
}

// featureBuilder builds one capability's routes from the shared deps. Each
// capability has its own wire_<name>.go; the list in wire is the only
// place that names them all.
type featureBuilder func(ctx context.Context, d *deps) (api.Feature, error)

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

	d := &deps{cfg: cfg, log: log, store: st, tools: map[string]agents.Tool{}, closers: &a.closers}
	if d.runner, err = newRunner(cfg, log); err != nil {
		return nil, err
	}
	emb, err := newEmbedder(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := wireRAG(ctx, d, emb); err != nil {
		return nil, err
	}

	var features []api.Feature
	for _, build := range []featureBuilder{
		wireECG,
		wireTriage,
		wireQC,
		wireRAGFeature,
		wireScribe,
	} {
		f, err := build(ctx, d)
		if err != nil {
			return nil, err
		}
		features = append(features, f)
	}

	srv, err := api.New(api.Config{
		Store: st, Tokens: tokens, Logger: log, Registry: reg, Web: webFS, Features: features,
		SignHooks: d.signHooks, CORSOrigins: cfg.CORSOrigins, Version: version,
		Checks: append([]api.Check{
			{Name: "llm", Detail: llmDetail(cfg), Check: func(ctx context.Context) error {
				return provider.Probe(ctx, llmConfig(cfg))
			}},
			{Name: "embedder", Required: true, Detail: emb.Name(), Check: func(ctx context.Context) error {
				_, err := emb.EmbedQuery(ctx, "就绪检查 readiness")
				return err
			}},
		}, d.checks...),
	})
	if err != nil {
		return nil, err
	}
	a.handler = srv.Handler()
	ok = true
	return a, nil
}

// llmConfig is the provider configuration cfg describes.
func llmConfig(cfg Config) provider.Config {
	return provider.Config{Kind: cfg.LLM, BaseURL: cfg.LLMBaseURL, Model: cfg.LLMModel, APIKey: cfg.LLMAPIKey}
}

// newRunner builds the agents runtime with the configured model (none by
// default: every agent then answers with its built-in engine).
func newRunner(cfg Config, log *slog.Logger) (*agents.Runner, error) {
	m, err := provider.NewModel(llmConfig(cfg))
	if err != nil {
		return nil, &configError{"YIZHU_LLM", err.Error()}
	}
	name := ""
	if m != nil {
		name = cfg.LLM + ":" + cfg.LLMModel
	}
	r, err := agents.New(agents.Config{Model: m, ModelName: name, Timeout: cfg.LLMTimeout, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("agents runtime: %w", err)
	}
	return r, nil
}

// newEmbedder builds the configured embedder: the built-in offline one by
// default, or a remote one through langchaingo.
func newEmbedder(cfg Config, log *slog.Logger) (rag.Embedder, error) {
	if cfg.Embedder == "builtin" {
		e, err := embed.New(embed.Config{})
		if err != nil {
			return nil, fmt.Errorf("built-in embedder: %w", err)
		}
		return e, nil
	}
	e, err := provider.NewEmbedder(provider.EmbedderConfig{
		Kind: cfg.Embedder, BaseURL: cfg.EmbedURL, Model: cfg.EmbedModel, APIKey: cfg.LLMAPIKey,
		Dim: cfg.EmbedDim, Logger: log,
	})
	if err != nil {
		return nil, &configError{"YIZHU_EMBEDDER", err.Error()}
	}
	return e, nil
}

// wireRAG builds the guideline store's retriever and ingester, ingests the
// starter corpus (unchanged documents are skipped, so this is cheap after
// the first start) and registers the rag.search tool.
func wireRAG(ctx context.Context, d *deps, emb rag.Embedder) error {
	r, err := rag.New(rag.Config{Store: d.store, Embedder: emb, Logger: d.log})
	if err != nil {
		return fmt.Errorf("rag: %w", err)
	}
	ing, err := rag.NewIngester(rag.IngesterConfig{Store: d.store, Embedder: emb, Retriever: r, Logger: d.log})
	if err != nil {
		return fmt.Errorf("rag: %w", err)
	}
	res, err := ing.IngestFS(ctx, corpus.FS(), rag.DefaultCollection)
	if err != nil {
		return fmt.Errorf("rag: ingest the starter corpus: %w", err)
	}
	for _, x := range res {
		if x.Err != nil {
			return fmt.Errorf("rag: starter corpus %s: %w", x.DocumentID, x.Err)
		}
	}
	d.rag, d.ingest = r, ing
	tool := rag.SearchTool(r)
	d.tools[tool.Name] = tool
	return nil
}

// wireTriage builds the kiosk triage feature: the embedded engine, blended
// with a trained department router when YIZHU_TRIAGE_MODEL names one.
func wireTriage(_ context.Context, d *deps) (api.Feature, error) {
	cfg, st, log := d.cfg, d.store, d.log
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
	// With a model configured, finished sessions are reviewed by the LLM
	// under the rules; it may call the guideline search and the ECG
	// pre-read when those are wired (tools registered by builders listed
	// before this one). Without a model the agent is the engine alone.
	var tools []agents.Tool
	for _, name := range []string{"rag.search", "ecg.analyze"} {
		if t, ok := d.tool(name); ok {
			tools = append(tools, t)
		}
	}
	agent, err := triage.NewAgent(triage.AgentConfig{Engine: eng, Runner: d.runner, Tools: tools, Logger: log})
	if err != nil {
		return nil, err
	}
	if agent.LLM() {
		log.Info("triage: LLM review enabled", "model", d.runner.ModelName(), "tools", len(tools))
	}
	return api.NewTriage(api.TriageConfig{Engine: agent, Store: st, Logger: log,
		SessionTTL: cfg.TriageSessionTTL, SummaryTTL: cfg.TriageSummaryTTL})
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
func evalSuites(deps eval.Deps) (*eval.Registry, error) {
	reg := eval.NewRegistry(deps)
	for _, s := range []eval.Suite{
		datasetsuite.New(datasetsuite.Config{}),
		triagesuite.New(triagesuite.Config{}),
		qcsuite.New(qcsuite.Config{}),
		ecgsuite.New(ecgsuite.Config{}),
		ragsuite.New(ragsuite.Config{}),
		scribesuite.New(scribesuite.Config{}),
	} {
		if err := reg.Register(s); err != nil {
			return nil, err
		}
	}
	return reg, nil
}
