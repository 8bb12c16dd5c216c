// Package triage is the "triage" eval suite: it scores the embedded triage
// engine of agents/triage on department routing (the knowledge base alone,
// and the trainable router under k-fold cross-validation) over the
// cn-internal-medicine registrations, and on acuity and red flags over the
// built-in red-flag vignette set, with the engine's per-turn latency.
//
// # Data
//
// Routing reads <data>/triage/cn-internal-medicine/dev.csv (columns
// department,title,ask,…; see ../shared/data/triage/cn-internal-medicine/
// SOURCE.md). A missing file is a not_found error naming the path. The
// vignettes are triage.DefaultVignettes unless Config.Vignettes is set.
//
// # Metrics
//
// Routing fractions are kb.labels_only.top1/top3 (ranking only the
// departments that occur as labels), kb.all.top1/top3 (the whole catalog),
// cv.router.top1/top3 (the n-gram router, pooled over the folds) and
// cv.blended.top1/top3 (KB blended with each fold's router). Vignette
// metrics are prefixed vignettes.: exact_rate, under_triage_count,
// under_triage_high_count (gold I/II given a less urgent level; the gate
// requires 0), over_triage_count, high_acuity_recall, red_flag_recall and
// false_red_flag_count, plus the standard triage_accuracy,
// under_triage_rate, over_triage_rate and mean_abs_level_error. The
// confusion matrix is gold against assigned acuity; latency is per engine
// turn, in process.
package triage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/metrics"
)

// Name is the suite's registered name.
const Name = "triage"

// RoutingFile is the routing data set, relative to the data root.
var RoutingFile = filepath.Join("triage", "cn-internal-medicine", "dev.csv")

// Bounds.
const (
	maxTurns      = 10 // per vignette session (the engine asks at most 5)
	maxMissNotes  = 20 // misses named in the notes
	defaultFolds  = 5
	defaultSeed   = 1
	maxRoutingCSV = 256 << 20
)

// Config configures the suite.
type Config struct {
	// Engine is the engine under test; nil builds the embedded default
	// (no router: the KB alone).
	Engine *triage.Engine
	// Vignettes replaces the built-in red-flag vignette set when non-nil.
	Vignettes []triage.Vignette
	// Folds and Seed fix the cross-validation split (defaults 5 and 1).
	Folds int
	Seed  uint64
	// Router sets the router's hyper-parameters (zero: its defaults).
	Router triage.RouterConfig
}

// Suite is the triage eval suite.
type Suite struct {
	cfg Config
}

// New returns the suite.
func New(cfg Config) *Suite {
	if cfg.Folds == 0 {
		cfg.Folds = defaultFolds
	}
	if cfg.Seed == 0 {
		cfg.Seed = defaultSeed
	}
	return &Suite{cfg: cfg}
}

// Name implements eval.Suite.
func (s *Suite) Name() string { return Name }

var _ eval.Suite = (*Suite)(nil)

// Run implements eval.Suite.
func (s *Suite) Run(ctx context.Context, env eval.Env) (*eval.Report, error) {
	if err := eval.CheckDataDir(env.DataDir); err != nil {
		return nil, err
	}
	e := s.cfg.Engine
	if e == nil {
		var err error
		if e, err = triage.New(triage.Config{Logger: env.Logger, Clock: env.Clock}); err != nil {
			return nil, fmt.Errorf("triage suite: %w", err)
		}
	}
	rows, err := readRows(filepath.Join(env.DataDir, RoutingFile))
	if err != nil {
		return nil, err
	}
	rep := &eval.Report{
		Suite:   Name,
		Dataset: filepath.ToSlash(RoutingFile) + " (routing) + built-in red-flag vignettes (acuity)",
		Metrics: map[string]float64{},
		Config: map[string]string{
			"data_dir":     env.DataDir,
			"routing_file": filepath.ToSlash(RoutingFile),
			"routing_rows": strconv.Itoa(len(rows)),
			"cv_folds":     strconv.Itoa(s.cfg.Folds),
			"cv_seed":      strconv.FormatUint(s.cfg.Seed, 10),
			"engine":       "embedded (knowledge base + rules, no LLM)",
			"model":        env.ModelName,
		},
	}
	if err := s.routing(ctx, e, rows, rep); err != nil {
		return nil, err
	}
	vs := s.cfg.Vignettes
	if vs == nil {
		vs = triage.DefaultVignettes()
		rep.Config["vignettes"] = "built-in (agents/triage/evaldata/redflag_vignettes.jsonl)"
	} else {
		rep.Config["vignettes"] = "from Config.Vignettes"
	}
	if err := s.vignettes(ctx, env, e, vs, rep); err != nil {
		return nil, err
	}
	rep.N = len(rows) + len(vs)
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("N counts %d routing rows and %d vignettes.", len(rows), len(vs)),
		"Latency is one engine turn (Start or Answer) in process over the vignette sessions; the HTTP p99 target under 200 concurrent sessions is measured by the load test, not here.",
		"No LLM is used: the numbers are the embedded engine's.")
	return rep, nil
}

// readRows reads the routing CSV at path; a missing file is a not_found
// error naming it.
func readRows(path string) ([]triage.Row, error) {
	f, err := os.Open(path)
	if err != nil {
		abs, aerr := filepath.Abs(path)
		if aerr != nil {
			abs = path
		}
		return nil, clinic.Wrap(err, clinic.CodeNotFound,
			"triage suite: routing data "+abs+" cannot be opened (set --data to a folder laid out like ../shared/data)",
			"分诊评测：无法打开分科数据 "+abs+"（请用 --data 指定与 ../shared/data 同样布局的目录）")
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxRoutingCSV {
		return nil, clinic.Errorf(clinic.CodeTooLarge, "triage suite: %s is larger than %d bytes", path, maxRoutingCSV)
	}
	rows, err := triage.ReadRoutingCSV(f)
	if err != nil {
		return nil, fmt.Errorf("triage suite: read %s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, clinic.Errorf(clinic.CodeInvalid, "triage suite: %s holds no labelled rows", path)
	}
	return rows, nil
}

// routing scores the KB alone and the cross-validated router.
func (s *Suite) routing(ctx context.Context, e *triage.Engine, rows []triage.Row, rep *eval.Report) error {
	kbAll, err := triage.EvalRouting(ctx, e, rows, triage.RoutingOptions{})
	if err != nil {
		return fmt.Errorf("triage suite: %w", err)
	}
	kbLab, err := triage.EvalRouting(ctx, e, rows, triage.RoutingOptions{LabelsOnly: true})
	if err != nil {
		return fmt.Errorf("triage suite: %w", err)
	}
	cv, err := triage.CrossValidate(ctx, rows, triage.CVConfig{Folds: s.cfg.Folds, Seed: s.cfg.Seed, Router: s.cfg.Router, Engine: e})
	if err != nil {
		return fmt.Errorf("triage suite: cross-validation: %w", err)
	}
	m := rep.Metrics
	m["kb.all.top1"], m["kb.all.top3"] = kbAll.Top1, kbAll.Top3
	m["kb.labels_only.top1"], m["kb.labels_only.top3"] = kbLab.Top1, kbLab.Top3
	m["kb.unmapped_count"] = float64(kbAll.Unmapped)
	m["cv.router.top1"], m["cv.router.top3"] = cv.Router.Top1, cv.Router.Top3
	if cv.Blended != nil {
		m["cv.blended.top1"], m["cv.blended.top3"] = cv.Blended.Top1, cv.Blended.Top3
	}
	m["n_routing_rows"] = float64(len(rows))

	t := &eval.Table{
		Title:   "Routing per department label (dev.csv): rows and top-1/top-3 of the KB (labels only) and of the 5-fold router",
		Columns: []string{"n", "kb_top1", "kb_top3", "cv_top1", "cv_top3"},
		Chart:   "cv_top1",
	}
	frac := func(k, n int) float64 {
		if n == 0 {
			return 0
		}
		return float64(k) / float64(n)
	}
	labels := make([]string, 0, len(kbLab.ByLabel))
	for l := range kbLab.ByLabel {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for _, l := range labels {
		k, c := kbLab.ByLabel[l], cv.Router.ByLabel[l]
		t.Rows = append(t.Rows, eval.Row{Key: l, Values: []float64{float64(k.N),
			frac(k.Top1, k.N), frac(k.Top3, k.N), frac(c.Top1, c.N), frac(c.Top3, c.N)}})
	}
	rep.PerRecord = t
	if kbAll.Unmapped > 0 {
		var un []string
		for _, l := range labels {
			if _, ok := e.Catalog().Lookup(l); !ok {
				un = append(un, l)
			}
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d rows carry labels that are not catalog departments (%s); the KB counts them as misses.", kbAll.Unmapped, strings.Join(un, ", ")))
	}
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("Routing: one-shot ranking of the patient text (title and question joined), no follow-up questions; KB labels-only ranks the %d departments that occur as labels, KB all ranks the whole catalog (%d departments).", len(labels), e.Catalog().Len()),
		fmt.Sprintf("Router: character 1–3-gram naive Bayes, %d-fold cross-validation with seed %d, results pooled over the held-out folds; blended = KB and router mixed 50/50, labels only.", s.cfg.Folds, s.cfg.Seed))
	return nil
}

// acuityLabel names a level for the confusion matrix ("II 危重").
func acuityLabel(a clinic.Acuity) string {
	if !a.Valid() {
		return "none"
	}
	return a.String() + " " + a.NameZH()
}

// vignettes scores acuity and red flags and times every engine turn.
func (s *Suite) vignettes(ctx context.Context, env eval.Env, e *triage.Engine, vs []triage.Vignette, rep *eval.Report) error {
	res, err := triage.EvalVignettes(ctx, e, vs)
	if err != nil {
		return fmt.Errorf("triage suite: %w", err)
	}
	// EvalVignettes counts the outcomes; replay runs the same sessions to
	// time each turn and to keep the per-case levels for the standard
	// rates and the confusion matrix. The two must agree.
	lat, got, err := replay(ctx, env, e, vs)
	if err != nil {
		return err
	}
	gold := make([]int, len(vs))
	goldL, gotL := make([]string, len(vs)), make([]string, len(vs))
	highN, highOK := 0, 0
	for i, v := range vs {
		gold[i] = int(v.Acuity)
		goldL[i], gotL[i] = acuityLabel(v.Acuity), acuityLabel(got[i])
		if v.Acuity <= clinic.AcuityII {
			highN++
			if got[i].Valid() && got[i] <= v.Acuity {
				highOK++
			}
		}
	}
	pred := make([]int, len(got))
	for i, a := range got {
		pred[i] = int(a)
	}
	rates, err := metrics.Triage(gold, pred)
	if err != nil {
		return fmt.Errorf("triage suite: %w", err)
	}
	if rates.Exact != res.Exact || rates.Under != res.UnderTriage || rates.Over != res.OverTriage {
		return clinic.Errorf(clinic.CodeInternal, "triage suite: replayed sessions disagree with EvalVignettes (exact %d/%d, under %d/%d, over %d/%d)",
			rates.Exact, res.Exact, rates.Under, res.UnderTriage, rates.Over, res.OverTriage)
	}
	rep.AddTriage(rates)
	// AddClassification fills the confusion matrix and the per-level
	// table; its unprefixed averages are renamed so they cannot be read as
	// routing accuracy.
	var cls eval.Report
	if err := cls.AddClassification(goldL, gotL); err != nil {
		return fmt.Errorf("triage suite: %w", err)
	}
	for k, v := range cls.Metrics {
		rep.Metrics["vignettes.acuity_"+k] = v
	}
	rep.Confusion = cls.Confusion
	rep.PerClass = cls.PerClass
	rep.PerClass.Title = "Acuity per gold level (vignettes)"

	ratio := func(k, n int) float64 {
		if n == 0 {
			return 1 // nothing to miss
		}
		return float64(k) / float64(n)
	}
	m := rep.Metrics
	m["n_vignettes"] = float64(res.N)
	m["vignettes.exact_rate"] = ratio(res.Exact, res.N)
	m["vignettes.under_triage_count"] = float64(res.UnderTriage)
	m["vignettes.under_triage_high_count"] = float64(res.UnderTriageHigh)
	m["vignettes.over_triage_count"] = float64(res.OverTriage)
	m["vignettes.over_triage_rate"] = ratio(res.OverTriage, res.N)
	m["vignettes.high_acuity_recall"] = ratio(highOK, highN)
	m["vignettes.red_flag_recall"] = ratio(res.RedFlagHits, res.RedFlagCases)
	m["vignettes.false_red_flag_count"] = float64(res.FalseRedFlags)
	rep.AddLatencies("one engine turn (Start or Answer), in process, over the vignette sessions", lat)

	langs := make([]string, 0, len(res.ByLang))
	for l, n := range res.ByLang {
		langs = append(langs, fmt.Sprintf("%s %d", l, n))
	}
	slices.Sort(langs)
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("Vignettes: %d cases (%s), %d of gold level I/II, %d with a gold red flag; each runs as a kiosk session with every follow-up question answered \"unsure\".", res.N, strings.Join(langs, ", "), highN, res.RedFlagCases),
		fmt.Sprintf("Acuity: %d exact, %d under-triaged (%d of gold I/II), %d over-triaged; red flags found %d of %d; %d level I/II rules fired on cases without a gold red flag.",
			res.Exact, res.UnderTriage, res.UnderTriageHigh, res.OverTriage, res.RedFlagHits, res.RedFlagCases, res.FalseRedFlags))
	for i, o := range res.Misses {
		if i == maxMissNotes {
			rep.Notes = append(rep.Notes, fmt.Sprintf("… and %d more misses (see the confusion matrix).", len(res.Misses)-maxMissNotes))
			break
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("miss %s: gold %s, got %s, red flag %q, fired [%s]",
			o.ID, acuityLabel(o.Gold), acuityLabel(o.Got), o.RedFlag, strings.Join(o.Fired, " ")))
	}
	return nil
}

// replay runs each vignette as EvalVignettes does, timing every turn with
// env's clock, and returns the latencies and the final acuity per case.
func replay(ctx context.Context, env eval.Env, e *triage.Engine, vs []triage.Vignette) ([]time.Duration, []clinic.Acuity, error) {
	var lat []time.Duration
	got := make([]clinic.Acuity, len(vs))
	for i, v := range vs {
		start := env.Now()
		turn, err := e.Start(ctx, triage.Intake{Text: v.Text, Age: v.Age, Sex: v.Sex, Vitals: v.Vitals})
		lat = append(lat, env.Now().Sub(start))
		if err != nil {
			return nil, nil, fmt.Errorf("triage suite: vignette %s: %w", v.ID, err)
		}
		for turns := 1; turn.Kind == triage.TurnQuestion && turns < maxTurns; turns++ {
			a := triage.Answer{QuestionID: turn.Question.ID, Choice: triage.ChoiceUnsure}
			if turn.Question.ID == triage.QuestionRephrase {
				a = triage.Answer{QuestionID: triage.QuestionRephrase, Text: v.Text}
			}
			start := env.Now()
			turn, err = e.Answer(ctx, turn.State, a)
			lat = append(lat, env.Now().Sub(start))
			if err != nil {
				return nil, nil, fmt.Errorf("triage suite: vignette %s: %w", v.ID, err)
			}
		}
		got[i] = turn.Acuity
	}
	return lat, got, nil
}
