package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole service configuration. It is read from YIZHU_*
// environment variables, then overridden by flags, then validated as a
// whole; any problem names the variable.
type Config struct {
	Addr        string
	DB          string // sqlite:PATH or postgres://…
	DataDir     string // where the embedded database and the auth secret live
	LLM         string // none | openai | ollama
	LLMBaseURL  string
	LLMModel    string
	LLMAPIKey   string
	LLMTimeout  time.Duration
	LLMPHI      string // deidentify | allow
	Embedder    string // builtin | openai | ollama
	EmbedModel  string
	EmbedURL    string
	EmbedDim    int
	NATSURL     string
	AuthSecret  string
	CORSOrigins []string
	// AlertWebhooks receive every critical ECG alert as a JSON POST.
	AlertWebhooks []string
	LogLevel      slog.Level
	WebDir        string // serve pages from this directory instead of the embedded ones (development)
	TriageModel   string // optional router model file
	// TriageSessionTTL is how long an untouched kiosk session lives;
	// TriageSummaryTTL how long a finished session's summary is kept for
	// drafting.
	TriageSessionTTL, TriageSummaryTTL time.Duration
}

// envVars lists every variable with its default and meaning; it drives the
// flags, the README table and `yizhu serve -h`.
var envVars = []struct {
	name, flag, def, usage string
}{
	{"YIZHU_ADDR", "addr", "127.0.0.1:8080", "listen address host:port"},
	{"YIZHU_DB", "db", "sqlite:./data/yizhu.db", "database: sqlite:PATH (embedded) or postgres://USER@HOST:PORT/DB"},
	{"YIZHU_DATA_DIR", "data-dir", "./data", "directory for the embedded database and the generated auth secret"},
	{"YIZHU_LLM", "llm", "none", "LLM provider: none | openai (any OpenAI-compatible server: vLLM, DeepSeek, Qwen) | ollama"},
	{"YIZHU_LLM_BASE_URL", "llm-base-url", "", "LLM server base URL, e.g. http://127.0.0.1:8000/v1 or http://127.0.0.1:11434"},
	{"YIZHU_LLM_MODEL", "llm-model", "", "LLM model name"},
	{"YIZHU_LLM_API_KEY", "llm-api-key", "", "LLM API key (if the server needs one)"},
	{"YIZHU_LLM_TIMEOUT", "llm-timeout", "20s", "per-call LLM timeout; on timeout the built-in engine answers, flagged as fallback"},
	{"YIZHU_LLM_PHI", "llm-phi", "deidentify", "patient data sent to the LLM: deidentify | allow (on-premises models only)"},
	{"YIZHU_EMBEDDER", "embedder", "builtin", "embedder: builtin (offline) | openai | ollama"},
	{"YIZHU_EMBED_MODEL", "embed-model", "", "remote embedding model name"},
	{"YIZHU_EMBED_DIM", "embed-dim", "", "vector length the remote embedding model returns (required with a remote embedder; every vector is checked)"},
	{"YIZHU_EMBED_BASE_URL", "embed-base-url", "", "remote embedding server base URL (defaults to YIZHU_LLM_BASE_URL)"},
	{"YIZHU_NATS_URL", "nats-url", "", "NATS JetStream URL for ECG streams and alerts (optional)"},
	{"YIZHU_ALERT_WEBHOOKS", "alert-webhooks", "", "comma-separated http(s) URLs that receive every critical ECG alert as a JSON POST (retried with backoff; Idempotency-Key = alert ID)"},
	{"YIZHU_AUTH_SECRET", "auth-secret", "", "HS256 token secret, ≥ 32 bytes; empty = generated once into DATA_DIR/auth.secret"},
	{"YIZHU_CORS_ORIGINS", "cors-origins", "", "comma-separated origins allowed by CORS; empty = CORS off"},
	{"YIZHU_LOG_LEVEL", "log-level", "info", "debug | info | warn | error"},
	{"YIZHU_TRIAGE_MODEL", "triage-model", "", "department router model trained with `yizhu triage train` (optional; blended with the knowledge base)"},
	{"YIZHU_TRIAGE_SESSION_TTL", "triage-session-ttl", "30m", "an untouched kiosk triage session is purged after this long (1m to 24h)"},
	{"YIZHU_TRIAGE_SUMMARY_TTL", "triage-summary-ttl", "168h", "a finished session's pre-consultation summary is kept this long for record drafting (1h to 8760h)"},
	{"YIZHU_WEB_DIR", "web-dir", "", "serve the web pages from this directory instead of the embedded copy"},
}

// defaultOllamaURL is where Ollama listens unless told otherwise.
const defaultOllamaURL = "http://127.0.0.1:11434"

// configError names the variable (and flag) that is wrong.
type configError struct{ name, msg string }

func (e *configError) Error() string { return fmt.Sprintf("config: %s: %s", e.name, e.msg) }

// loadConfig reads env, then flags in args, validates, and returns the config.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals := map[string]*string{}
	for _, v := range envVars {
		def := v.def
		if e := getenv(v.name); e != "" {
			def = e
		}
		vals[v.name] = fs.String(v.flag, def, v.usage+" ($"+v.name+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, &configError{"arguments", fmt.Sprintf("unexpected %q", fs.Args())}
	}
	get := func(n string) string { return strings.TrimSpace(*vals[n]) }
	c := Config{
		Addr: get("YIZHU_ADDR"), DB: get("YIZHU_DB"), DataDir: get("YIZHU_DATA_DIR"),
		LLM: strings.ToLower(get("YIZHU_LLM")), LLMBaseURL: get("YIZHU_LLM_BASE_URL"),
		LLMModel: get("YIZHU_LLM_MODEL"), LLMAPIKey: get("YIZHU_LLM_API_KEY"), LLMPHI: get("YIZHU_LLM_PHI"),
		Embedder: strings.ToLower(get("YIZHU_EMBEDDER")), EmbedModel: get("YIZHU_EMBED_MODEL"),
		EmbedURL: get("YIZHU_EMBED_BASE_URL"), NATSURL: get("YIZHU_NATS_URL"),
		AuthSecret: *vals["YIZHU_AUTH_SECRET"], WebDir: get("YIZHU_WEB_DIR"), TriageModel: get("YIZHU_TRIAGE_MODEL"),
	}
	if o := get("YIZHU_CORS_ORIGINS"); o != "" {
		for _, s := range strings.Split(o, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.CORSOrigins = append(c.CORSOrigins, s)
			}
		}
	}
	for _, u := range strings.Split(get("YIZHU_ALERT_WEBHOOKS"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.AlertWebhooks = append(c.AlertWebhooks, u)
		}
	}
	return c, c.validate(get)
}

func (c *Config) validate(get func(string) string) error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		return &configError{"YIZHU_ADDR", fmt.Sprintf("%q is not host:port", c.Addr)}
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return &configError{"YIZHU_ADDR", fmt.Sprintf("port %q is not a number from 0 to 65535", port)}
	}
	switch {
	case strings.HasPrefix(c.DB, "sqlite:"):
		if strings.TrimPrefix(c.DB, "sqlite:") == "" {
			return &configError{"YIZHU_DB", "sqlite: needs a file path, e.g. sqlite:./data/yizhu.db"}
		}
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		if _, err := url.Parse(c.DB); err != nil {
			return &configError{"YIZHU_DB", "not a valid postgres URL"}
		}
	default:
		return &configError{"YIZHU_DB", fmt.Sprintf("%q: want sqlite:PATH or postgres://…", redactURL(c.DB))}
	}
	if c.DataDir == "" {
		return &configError{"YIZHU_DATA_DIR", "must not be empty"}
	}
	if c.LLM == "ollama" && c.LLMBaseURL == "" {
		c.LLMBaseURL = defaultOllamaURL
	}
	switch c.LLM {
	case "none":
	case "openai", "ollama":
		if c.LLMBaseURL == "" && c.LLM == "openai" {
			return &configError{"YIZHU_LLM_BASE_URL", "required when YIZHU_LLM=openai (e.g. http://127.0.0.1:8000/v1)"}
		}
		if c.LLMModel == "" {
			return &configError{"YIZHU_LLM_MODEL", "required when YIZHU_LLM is " + c.LLM}
		}
	default:
		return &configError{"YIZHU_LLM", fmt.Sprintf("%q: want none, openai or ollama", c.LLM)}
	}
	if c.LLMBaseURL != "" {
		if u, err := url.Parse(c.LLMBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &configError{"YIZHU_LLM_BASE_URL", fmt.Sprintf("%q is not an http(s) URL", c.LLMBaseURL)}
		}
	}
	d, err := time.ParseDuration(get("YIZHU_LLM_TIMEOUT"))
	if err != nil || d <= 0 || d > 10*time.Minute {
		return &configError{"YIZHU_LLM_TIMEOUT", fmt.Sprintf("%q: want a duration from 1ms to 10m, e.g. 20s", get("YIZHU_LLM_TIMEOUT"))}
	}
	c.LLMTimeout = d
	for _, b := range []struct {
		name     string
		dst      *time.Duration
		min, max time.Duration
	}{
		{"YIZHU_TRIAGE_SESSION_TTL", &c.TriageSessionTTL, time.Minute, 24 * time.Hour},
		{"YIZHU_TRIAGE_SUMMARY_TTL", &c.TriageSummaryTTL, time.Hour, 365 * 24 * time.Hour},
	} {
		d, err := time.ParseDuration(get(b.name))
		if err != nil || d < b.min || d > b.max {
			return &configError{b.name, fmt.Sprintf("%q: want a duration from %v to %v", get(b.name), b.min, b.max)}
		}
		*b.dst = d
	}
	switch c.LLMPHI {
	case "deidentify", "allow":
	default:
		return &configError{"YIZHU_LLM_PHI", fmt.Sprintf("%q: want deidentify or allow", c.LLMPHI)}
	}
	switch c.Embedder {
	case "builtin":
	case "openai", "ollama":
		if c.EmbedModel == "" {
			return &configError{"YIZHU_EMBED_MODEL", "required when YIZHU_EMBEDDER is " + c.Embedder}
		}
		if c.EmbedURL == "" {
			c.EmbedURL = c.LLMBaseURL
		}
		if c.EmbedURL == "" && c.Embedder == "ollama" {
			c.EmbedURL = defaultOllamaURL
		}
		if c.EmbedURL == "" && c.Embedder == "openai" {
			return &configError{"YIZHU_EMBED_BASE_URL", "required when YIZHU_EMBEDDER=openai"}
		}
		n, err := strconv.Atoi(get("YIZHU_EMBED_DIM"))
		if err != nil || n < 1 || n > 16384 {
			return &configError{"YIZHU_EMBED_DIM", fmt.Sprintf("%q: want the model's vector length, 1 to 16384 (e.g. 1024)", get("YIZHU_EMBED_DIM"))}
		}
		c.EmbedDim = n
	default:
		return &configError{"YIZHU_EMBEDDER", fmt.Sprintf("%q: want builtin, openai or ollama", c.Embedder)}
	}
	if c.NATSURL != "" {
		if u, err := url.Parse(c.NATSURL); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") {
			return &configError{"YIZHU_NATS_URL", fmt.Sprintf("%q: want nats://host:port", c.NATSURL)}
		}
	}
	for _, w := range c.AlertWebhooks {
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &configError{"YIZHU_ALERT_WEBHOOKS", fmt.Sprintf("%q is not an http(s) URL", redactURL(w))}
		}
	}
	if c.AuthSecret != "" && len(c.AuthSecret) < 32 {
		return &configError{"YIZHU_AUTH_SECRET", "must be at least 32 bytes (or empty to generate one)"}
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("YIZHU_LOG_LEVEL"))); err != nil {
		return &configError{"YIZHU_LOG_LEVEL", fmt.Sprintf("%q: want debug, info, warn or error", get("YIZHU_LOG_LEVEL"))}
	}
	return nil
}

// LogValue logs the configuration with secrets redacted.
func (c Config) LogValue() slog.Value {
	secret := func(s string) string {
		if s == "" {
			return ""
		}
		return "[redacted]"
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr), slog.String("db", redactURL(c.DB)), slog.String("data_dir", c.DataDir),
		slog.String("llm", c.LLM), slog.String("llm_base_url", c.LLMBaseURL), slog.String("llm_model", c.LLMModel),
		slog.String("llm_api_key", secret(c.LLMAPIKey)), slog.Duration("llm_timeout", c.LLMTimeout),
		slog.String("llm_phi", c.LLMPHI), slog.String("embedder", c.Embedder), slog.String("embed_model", c.EmbedModel),
		slog.String("nats_url", redactURL(c.NATSURL)), slog.String("auth_secret", secret(c.AuthSecret)),
		slog.Any("cors_origins", c.CORSOrigins),
	)
}

// redactURL hides a password in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
