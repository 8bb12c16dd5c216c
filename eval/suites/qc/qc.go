// Package qc is the "qc" eval suite: it measures the record QC engine of
// package qc on defects injected into realistic records. Records of every
// type (outpatient, admission, first course, progress, discharge,
// operation, rescue) are built around the Chinese EMR passages of
// Yidu-S4K by qc/inject; for each applicable rule one defective copy is
// made with the defect at a known location, and the engine scans the clean
// and the defective versions.
//
// # Data
//
// Passages come from <data>/records/yidu-s4k (inject.YiduFiles) and the
// ICD-10 list from <data>/records/chip-cdn (icd.DefaultPath, or
// Config.ICDPath). Missing files are not_found errors naming the path.
//
// # Metrics
//
// Per check kind K (section_required, length, pattern, time_limit,
// event_required, signature, consistency, icd_normalisable, copy_paste,
// contradiction, note_interval): recall.K, precision.K and
// location_accuracy.K (true positives reported at the gold section and
// overlapping the gold span). recall_min and precision_min are the worst
// kind. clean_findings_count is every defect finding on a clean record
// (the target is 0), engine_errors_count every check that failed at run
// time, n_cases and n_clean_records the sizes. The per-class table has one
// row per kind.
package qc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/qc/icd"
	"github.com/yizhu-health/yizhu/qc/inject"
)

// Name is the suite's registered name.
const Name = "qc"

// Config configures the suite.
type Config struct {
	// ICDPath is the ICD-10 list relative to the data directory (default
	// icd.DefaultPath).
	ICDPath string
	// Limit caps the passages read (0 = all).
	Limit int
	// Seed fixes the generator (default 1).
	Seed uint64
	// Rules replaces the default rule set when non-nil.
	Rules *qc.RuleSet
}

// Suite is the qc eval suite.
type Suite struct{ cfg Config }

// New returns the suite.
func New(cfg Config) *Suite {
	if cfg.ICDPath == "" {
		cfg.ICDPath = icd.DefaultPath
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
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
	icdPath := filepath.Join(env.DataDir, filepath.FromSlash(s.cfg.ICDPath))
	if _, err := os.Stat(icdPath); err != nil {
		return nil, clinic.NewError(clinic.CodeNotFound, "data",
			"qc suite: the ICD-10 list is missing: "+icdPath+" (see records/chip-cdn in the data README)",
			"qc 评测：缺少 ICD-10 标准诊断列表："+icdPath)
	}
	list, err := icd.Open(icdPath)
	if err != nil {
		return nil, fmt.Errorf("qc suite: %w", err)
	}
	e, err := qc.New(qc.Config{Logger: env.Logger, Rules: s.cfg.Rules, ICD: list})
	if err != nil {
		return nil, fmt.Errorf("qc suite: %w", err)
	}
	start := env.Now()
	r, err := inject.EvaluateYidu(ctx, e, list, env.DataDir, s.cfg.Limit, s.cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("qc suite: %w", err)
	}
	elapsed := env.Now().Sub(start)
	rep := &eval.Report{
		Suite:   Name,
		Dataset: "records/yidu-s4k passages → generated records with injected defects (qc/inject); ICD-10 list " + filepath.ToSlash(s.cfg.ICDPath),
		N:       r.Records,
		Metrics: map[string]float64{
			"clean_findings_count": float64(r.CleanFindings),
			"engine_errors_count":  float64(r.EngineErrors),
			"n_cases":              float64(r.Cases),
			"n_clean_records":      float64(r.CleanRecords),
		},
		PerClass: &eval.Table{
			Title:   "Injected defects per check kind",
			Columns: []string{"recall", "precision", "location_accuracy", "cases", "tp", "fp", "fn", "clean_findings"},
			Chart:   "recall",
		},
		Config: map[string]string{
			"data_dir":   env.DataDir,
			"icd_list":   filepath.ToSlash(s.cfg.ICDPath),
			"icd_names":  strconv.Itoa(list.Len()),
			"seed":       strconv.FormatUint(s.cfg.Seed, 10),
			"limit":      strconv.Itoa(s.cfg.Limit),
			"rules":      strconv.Itoa(len(e.Rules())),
			"check_kind": fmt.Sprint(qc.Kinds()),
			"engine":     "rule engine (no LLM)",
		},
	}
	if s.cfg.Rules != nil {
		rep.Config["rule_set"] = "from Config.Rules"
	} else {
		rep.Config["rule_set"] = "default (qc/rules/*.yaml)"
	}
	if len(r.Kinds) == 0 {
		return nil, fmt.Errorf("qc suite: no cases were generated from %s (no usable passages)", env.DataDir)
	}
	recallMin, precisionMin := 1.0, 1.0
	for _, k := range r.Kinds {
		rep.Metrics["recall."+k.Kind] = k.Recall
		rep.Metrics["precision."+k.Kind] = k.Precision
		rep.Metrics["location_accuracy."+k.Kind] = k.LocationAccuracy
		recallMin, precisionMin = min(recallMin, k.Recall), min(precisionMin, k.Precision)
		rep.PerClass.Rows = append(rep.PerClass.Rows, eval.Row{Key: k.Kind, Values: []float64{
			k.Recall, k.Precision, k.LocationAccuracy, float64(k.Cases), float64(k.TP), float64(k.FP), float64(k.FN), float64(k.CleanFindings)}})
	}
	rep.Metrics["recall_min"] = recallMin
	rep.Metrics["precision_min"] = precisionMin
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("%d clean records and %d defective records (one injected defect each; a trainee-only signature also counts the missing qualified signature) scanned in %.1f s.", r.CleanRecords, r.Cases, elapsed.Seconds()),
		"A finding counts as a true positive when its rule is gold for the record; any other defect finding is a false positive of its rule's kind. Info findings (a check that could not run) are not defects.",
		"Location accuracy: the finding names the gold section (or event, signature, drug, progress note) and overlaps the gold rune span when there is one.")
	for _, ex := range r.Examples {
		rep.Notes = append(rep.Notes, "example: "+ex)
	}
	return rep, nil
}
