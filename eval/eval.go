package eval

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval/metrics"
	"github.com/yizhu-health/yizhu/store"
)

// Suite evaluates one capability on the data under Env.DataDir and
// reports what it measured. Run must be deterministic: the same data and
// dependencies give the same Report numbers (latencies and durations
// aside). Run may write extra artefacts under Env.OutDir; the harness
// writes report.json and report.html there itself.
type Suite interface {
	// Name is the suite's stable name: lower-case letters, digits and
	// dashes ("ecg", "triage", "datasets"). It names the output folder and
	// the suite's section of thresholds.yaml.
	Name() string
	// Run evaluates every record the suite finds under env.DataDir.
	Run(ctx context.Context, env Env) (*Report, error)
}

// Env is what the harness hands a suite: where the data is, where to
// write, and the optional dependencies the binary built. A nil dependency
// means "not configured": a suite that can run without it (on the
// built-in engines) does so and says so in its report; one that cannot
// returns an error naming what is missing.
type Env struct {
	// DataDir is the data root, laid out like ../shared/data.
	DataDir string
	// OutDir is this suite's own output folder (<--out>/<suite>); it exists.
	OutDir string
	// Logger is never nil.
	Logger *slog.Logger
	// Clock is never nil; suites measure latency with it.
	Clock func() time.Time
	// Model is the configured LLM, or nil for the built-in engines.
	Model llms.Model
	// ModelName names Model for report configs ("qwen2.5-7b", "none").
	ModelName string
	// Store is a persistence port for suites that need one, or nil.
	Store store.Store
}

// Now returns env.Clock(), or time.Now() for a zero Env.
func (env Env) Now() time.Time {
	if env.Clock == nil {
		return time.Now()
	}
	return env.Clock()
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Deps are the optional dependencies cmd/yizhu hands every suite through
// Env. The zero value means none are configured.
type Deps struct {
	// Model is the configured LLM, or nil for the built-in engines.
	Model llms.Model
	// ModelName names Model in report configs; "none" when empty.
	ModelName string
	// Store is a persistence port, or nil.
	Store store.Store
}

// Registry holds the suites a binary knows and the dependencies they may
// use. It is built by cmd/yizhu (no init-time registration) and is not
// safe for concurrent Register calls; lookups after registration are.
type Registry struct {
	suites map[string]Suite
	deps   Deps
}

// NewRegistry returns an empty registry whose suites will get deps.
func NewRegistry(deps Deps) *Registry {
	if deps.ModelName == "" {
		deps.ModelName = "none"
	}
	return &Registry{suites: make(map[string]Suite), deps: deps}
}

// Deps returns the dependencies given to NewRegistry.
func (r *Registry) Deps() Deps { return r.deps }

// Register adds s. It returns an invalid error for a nil suite or a
// malformed name and a conflict error for a name already registered.
func (r *Registry) Register(s Suite) error {
	if s == nil {
		return clinic.Errorf(clinic.CodeInvalid, "eval: nil suite")
	}
	name := s.Name()
	if !nameRE.MatchString(name) || name == "all" {
		return clinic.Errorf(clinic.CodeInvalid, "eval: suite name %q: want lower-case letters, digits and dashes, not \"all\"", name)
	}
	if _, dup := r.suites[name]; dup {
		return clinic.Errorf(clinic.CodeConflict, "eval: suite %q registered twice", name)
	}
	r.suites[name] = s
	return nil
}

// Get returns the suite with the given name.
func (r *Registry) Get(name string) (Suite, bool) {
	s, ok := r.suites[name]
	return s, ok
}

// Names returns the registered suite names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.suites))
	for n := range r.suites {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Resolve turns a --suite value into suite names: "all" or "" gives every
// registered suite; otherwise a comma-separated list of registered names.
// An unknown name is a not_found error listing the registered ones.
func (r *Registry) Resolve(spec string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "all" {
		return r.Names(), nil
	}
	var out []string
	for n := range strings.SplitSeq(spec, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := r.suites[n]; !ok {
			return nil, clinic.NewError(clinic.CodeNotFound, "suite",
				fmt.Sprintf("unknown suite %q; registered: %s", n, strings.Join(r.Names(), ", ")),
				fmt.Sprintf("未知的评测套件 %q；已注册：%s", n, strings.Join(r.Names(), ", ")))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Report is what a suite measured: machine-readable in report.json and
// drawn in report.html. Metric values are fractions (0–1) unless the name
// says otherwise (…_ms, …_count, n_…).
type Report struct {
	Suite   string `json:"suite"`
	Dataset string `json:"dataset"`
	// N is the number of records evaluated.
	N       int                `json:"n"`
	Metrics map[string]float64 `json:"metrics"`
	// PerRecord has one row per record (ECG record, data file, …).
	PerRecord *Table `json:"per_record,omitempty"`
	// PerClass has one row per class label.
	PerClass  *Table                `json:"per_class,omitempty"`
	Confusion *metrics.Confusion    `json:"confusion,omitempty"`
	Latency   *metrics.LatencyStats `json:"latency,omitempty"`
	// LatencyLabel says what Latency timed ("per-record analysis", …).
	LatencyLabel string `json:"latency_label,omitempty"`
	// Config records the settings the numbers depend on (model, window,
	// data folders, …).
	Config    map[string]string `json:"config,omitempty"`
	GitCommit string            `json:"git_commit"`
	StartedAt time.Time         `json:"started_at,omitzero"`
	Duration  time.Duration     `json:"duration_ns"`
	// Notes say in words what was and was not measured.
	Notes []string `json:"notes,omitempty"`
}

// Table is a table of numbers: one row per key, one value per column.
type Table struct {
	Title   string   `json:"title,omitempty"`
	Columns []string `json:"columns"`
	Rows    []Row    `json:"rows"`
	// Chart names the column drawn in the report's bar chart; empty
	// means the first column.
	Chart string `json:"chart,omitempty"`
}

// Row is one table row.
type Row struct {
	Key    string    `json:"key"`
	Values []float64 `json:"values"`
}

// ChartColumn returns the index of the charted column.
func (t *Table) ChartColumn() int {
	if i := slices.Index(t.Columns, t.Chart); i >= 0 {
		return i
	}
	return 0
}

// Validate checks that r can be written and compared: a suite name, no
// NaN or infinite metric (JSON cannot carry them), and table rows as wide
// as their columns.
func (r *Report) Validate() error {
	if r.Suite == "" {
		return clinic.Errorf(clinic.CodeInvalid, "eval: report without a suite name")
	}
	for k, v := range r.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return clinic.Errorf(clinic.CodeInvalid, "eval: suite %s: metric %s is %v", r.Suite, k, v)
		}
	}
	for _, t := range []*Table{r.PerRecord, r.PerClass} {
		if t == nil {
			continue
		}
		for _, row := range t.Rows {
			if len(row.Values) != len(t.Columns) {
				return clinic.Errorf(clinic.CodeInvalid, "eval: suite %s: table row %q has %d values for %d columns", r.Suite, row.Key, len(row.Values), len(t.Columns))
			}
			for _, v := range row.Values {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return clinic.Errorf(clinic.CodeInvalid, "eval: suite %s: table row %q holds %v", r.Suite, row.Key, v)
				}
			}
		}
	}
	return nil
}

// normalize sorts what a suite may have left unsorted so that the same
// numbers always serialise the same way: table rows by key. (Maps are
// written with sorted keys by encoding/json.)
func (r *Report) normalize() {
	for _, t := range []*Table{r.PerRecord, r.PerClass} {
		if t != nil {
			slices.SortStableFunc(t.Rows, func(a, b Row) int { return cmp.Compare(a.Key, b.Key) })
		}
	}
	if r.Metrics == nil {
		r.Metrics = map[string]float64{}
	}
}

// Config configures a Runner.
type Config struct {
	Registry *Registry
	DataDir  string
	OutDir   string
	// GitCommit is stamped on every report ("unknown" if empty).
	GitCommit string
	Logger    *slog.Logger
	Clock     func() time.Time
}

// Runner runs suites and writes their reports.
type Runner struct {
	cfg Config
}

// New returns a Runner. The data directory must exist.
func New(cfg Config) (*Runner, error) {
	if cfg.Registry == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "eval.New: no suite registry")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.GitCommit == "" {
		cfg.GitCommit = "unknown"
	}
	if cfg.OutDir == "" {
		return nil, clinic.Errorf(clinic.CodeInvalid, "eval.New: no output directory")
	}
	if err := CheckDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	return &Runner{cfg: cfg}, nil
}

// CheckDataDir returns a not_found error naming dir when it is not an
// existing directory.
func CheckDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && fi.IsDir() {
		return nil
	}
	abs, aerr := filepath.Abs(dir)
	if aerr != nil {
		abs = dir
	}
	return clinic.NewError(clinic.CodeNotFound, "data",
		fmt.Sprintf("eval data directory %s does not exist or is not a directory (set --data or YIZHU_DATA to a folder laid out like ../shared/data)", abs),
		fmt.Sprintf("评测数据目录 %s 不存在或不是目录（请用 --data 或 YIZHU_DATA 指定与 ../shared/data 同样布局的目录）", abs))
}

// Run runs the named suites in order and writes <OutDir>/<suite>/report.json
// and report.html for each. A failing suite does not stop the others; the
// reports of the suites that succeeded are returned with the joined errors
// of those that failed.
func (rn *Runner) Run(ctx context.Context, names []string) ([]*Report, error) {
	var reports []*Report
	var errs []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		rep, err := rn.runOne(ctx, name)
		if err != nil {
			rn.cfg.Logger.Error("eval suite failed", "suite", name, "err", err)
			errs = append(errs, fmt.Errorf("suite %s: %w", name, err))
			continue
		}
		reports = append(reports, rep)
	}
	return reports, errors.Join(errs...)
}

func (rn *Runner) runOne(ctx context.Context, name string) (*Report, error) {
	s, ok := rn.cfg.Registry.Get(name)
	if !ok {
		_, err := rn.cfg.Registry.Resolve(name)
		return nil, err
	}
	out := filepath.Join(rn.cfg.OutDir, name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("eval: create %s: %w", out, err)
	}
	env := Env{
		DataDir:   rn.cfg.DataDir,
		OutDir:    out,
		Logger:    rn.cfg.Logger.With("suite", name),
		Clock:     rn.cfg.Clock,
		Model:     rn.cfg.Registry.deps.Model,
		ModelName: rn.cfg.Registry.deps.ModelName,
		Store:     rn.cfg.Registry.deps.Store,
	}
	start := rn.cfg.Clock()
	rep, err := s.Run(ctx, env)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		return nil, clinic.Errorf(clinic.CodeInternal, "eval: suite %s returned no report", name)
	}
	if rep.Suite == "" {
		rep.Suite = name
	}
	rep.GitCommit = rn.cfg.GitCommit
	rep.StartedAt = start.UTC()
	rep.Duration = rn.cfg.Clock().Sub(start)
	rep.normalize()
	if err := rep.Validate(); err != nil {
		return nil, err
	}
	if err := WriteReport(out, rep); err != nil {
		return nil, err
	}
	rn.cfg.Logger.Info("eval suite done", "suite", name, "n", rep.N, "latency_ms", rep.Duration.Milliseconds())
	return rep, nil
}
