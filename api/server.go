package api

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// Feature is a capability that adds routes (ECG, RAG, triage, …). It is
// built by cmd/yizhu with its own dependencies.
type Feature interface {
	Routes() []Route
}

// SignHook checks a note as it is signed. Run gets the signing
// transaction, so whatever it stores commits or rolls back with the
// signature; its result is returned to the signer under checks[Name].
type SignHook struct {
	Name string
	Run  func(ctx context.Context, tx store.Store, n clinic.Note) (any, error)
}

// Check is a readiness probe of one dependency. A failing Required check
// makes /readyz answer 503; an optional one (the LLM) only reports degraded,
// because the service falls back to its built-in engines.
type Check struct {
	Name     string
	Required bool
	// Detail describes the configuration (provider, model), never secrets.
	Detail string
	Check  func(ctx context.Context) error
}

// Config holds the server's dependencies and limits.
type Config struct {
	Store  store.Store // required
	Tokens *Tokens     // required
	Logger *slog.Logger
	Now    func() time.Time
	// Registry receives the HTTP metrics; nil makes a new one. /metrics
	// serves this registry.
	Registry *prometheus.Registry
	Checks   []Check
	Features []Feature
	// SignHooks run, in order, inside the transaction that signs a note
	// (QC scoring at signing, for one); a hook error aborts the signing.
	SignHooks []SignHook
	// Web holds static pages served at /; nil serves none.
	Web fs.FS
	// BodyLimit bounds request bodies in bytes (default 1 MiB); a Route may
	// set its own.
	BodyLimit int64
	// RequestTimeout bounds non-streaming requests (default 30 s).
	RequestTimeout time.Duration
	// CORSOrigins enables CORS for these origins; empty means CORS is off.
	CORSOrigins []string
	// KioskTokenTTL is the lifetime of anonymous kiosk tokens (default 15 min).
	KioskTokenTTL time.Duration
	// KioskTokensPerMinute rate-limits anonymous kiosk tokens per client IP
	// (default 30).
	KioskTokensPerMinute int
	Version              string
}

// Server is the HTTP API. Create it with New; serve Handler().
type Server struct {
	cfg    Config
	echo   *echo.Echo
	log    *slog.Logger
	now    func() time.Time
	routes []Route
	spec   []byte
	reqs   *prometheus.CounterVec
	dur    *prometheus.HistogramVec
}

// New builds the server and its routes. It fails if a dependency is missing
// or two routes collide.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Tokens == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "api.New: Store and Tokens are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.KioskTokenTTL <= 0 {
		cfg.KioskTokenTTL = 15 * time.Minute
	}
	if cfg.KioskTokensPerMinute <= 0 {
		cfg.KioskTokensPerMinute = 30
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "yizhu_http_requests_total", Help: "HTTP requests by method, route and status.",
	}, []string{"method", "route", "status"})
	s.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "yizhu_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route"})
	for _, c := range []prometheus.Collector{s.reqs, s.dur} {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, "metrics registry already has the HTTP metrics", "指标注册冲突")
		}
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Validator = echoValidator{v: NewValidator()}
	e.HTTPErrorHandler = errorHandler(s.log)
	e.Use(middleware.RequestID())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.ErrorContext(c.Request().Context(), "panic recovered",
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Path(),
				"err", err, "stack", string(stack))
			return clinic.Wrap(err, clinic.CodeInternal, "internal error", "内部错误")
		},
	}))
	e.Use(s.accessLog())
	if len(cfg.CORSOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins: cfg.CORSOrigins,
			AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType},
		}))
	}
	s.echo = e

	s.routes = s.coreRoutes()
	for _, f := range cfg.Features {
		s.routes = append(s.routes, f.Routes()...)
	}
	if err := s.register(); err != nil {
		return nil, err
	}
	spec, err := buildOpenAPI(s.routes, cfg.Version)
	if err != nil {
		return nil, err
	}
	s.spec = spec
	if cfg.Web != nil {
		// HEAD too: the start page checks which pages exist.
		e.Match([]string{http.MethodGet, http.MethodHead}, "/*", echo.WrapHandler(http.FileServerFS(cfg.Web)))
	}
	return s, nil
}

// Handler returns the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Routes returns the registered routes (for documentation and tests).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// OpenAPI returns the OpenAPI 3 document served at /openapi.json.
func (s *Server) OpenAPI() []byte { return append([]byte(nil), s.spec...) }

func (s *Server) register() error {
	seen := map[string]bool{}
	for _, r := range s.routes {
		key := r.Method + " " + r.Path
		if seen[key] {
			return clinic.Errorf(clinic.CodeInvalid, "api: route %s registered twice", key)
		}
		seen[key] = true
		if r.Handler == nil {
			return clinic.Errorf(clinic.CodeInvalid, "api: route %s has no handler", key)
		}
		var mws []echo.MiddlewareFunc
		limit := r.BodyLimit
		if limit <= 0 {
			limit = s.cfg.BodyLimit
		}
		mws = append(mws, bodyLimit(limit))
		if !r.Stream {
			mws = append(mws, middleware.ContextTimeout(s.cfg.RequestTimeout))
		}
		if len(r.Roles) > 0 {
			mws = append(mws, requireRoles(s.cfg.Tokens, r.Roles))
		}
		mws = append(mws, r.Middleware...)
		s.echo.Add(r.Method, r.Path, r.Handler, mws...)
	}
	return nil
}

// bodyLimit rejects bodies over limit bytes with 413, by Content-Length up
// front and by counting while reading.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: strconv.FormatInt(limit, 10) + "B"})
}

// accessLog logs one line per request and records the HTTP metrics.
func (s *Server) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogRoutePath: true, LogLatency: true,
		LogRequestID: true, LogRemoteIP: true, LogError: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			route := v.RoutePath
			if route == "" || strings.HasSuffix(route, "/*") && v.Status == http.StatusNotFound {
				route = "unmatched"
			}
			s.reqs.WithLabelValues(v.Method, route, strconv.Itoa(v.Status)).Inc()
			s.dur.WithLabelValues(v.Method, route).Observe(v.Latency.Seconds())
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("route", route), slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Int64("latency_ms", v.Latency.Milliseconds()), slog.String("remote_ip", v.RemoteIP),
			}
			if cl := ClaimsFrom(c); cl != nil {
				attrs = append(attrs, slog.String("role", string(cl.Role)))
			}
			s.log.LogAttrs(c.Request().Context(), level, "http request", attrs...)
			return nil
		},
	})
}

func (s *Server) metricsHandler() echo.HandlerFunc {
	h := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
	return echo.WrapHandler(h)
}
