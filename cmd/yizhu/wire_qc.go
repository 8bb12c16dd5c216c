package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/yizhu-health/yizhu/agents/qcreview"
	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/qc/icd"
)

// QC files a hospital may place under YIZHU_DATA_DIR/qc: a rule override
// (disable, re-weight, add rules) and the ICD-10 standard name list that
// the diagnosis-coding rules need (the chip-cdn ICD-10 Beijing clinical
// v6.01 .xlsx, or code<TAB>name lines).
var (
	qcOverrideFile = filepath.Join("qc", "rules.yaml")
	qcICDFiles     = []string{filepath.Join("qc", "icd10.xlsx"), filepath.Join("qc", "icd10.tsv")}
)

// wireQC builds the record QC feature: the rule engine (defaults plus the
// hospital override), the QC review agent (built-in heuristics, the LLM
// when configured, guideline citations from the RAG store), the QC routes
// and the sign hook that scores every note as it is signed. The rules are
// strict at start (a bad override stops the service with file, line and
// rule); a reload skips bad rules and reports them.
func wireQC(_ context.Context, d *deps) (api.Feature, error) {
	base := qc.Config{Logger: d.log}
	for _, name := range qcICDFiles {
		p := filepath.Join(d.cfg.DataDir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		l, err := icd.Open(p)
		if err != nil {
			return nil, fmt.Errorf("qc: ICD-10 list %s: %w", p, err)
		}
		base.ICD = l
		break
	}
	if base.ICD == nil {
		d.log.Info("qc: no ICD-10 list; diagnosis coding rules are skipped", "looked_for", qcICDFiles, "data_dir", d.cfg.DataDir)
	}
	override := filepath.Join(d.cfg.DataDir, qcOverrideFile)
	build := func(skipBad bool) (*qc.Engine, error) {
		cfg := base
		cfg.SkipInvalidRules = skipBad
		path := override
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			path = ""
		}
		return qc.NewFromFiles(cfg, path)
	}
	e, err := build(false)
	if err != nil {
		return nil, fmt.Errorf("qc rules: %w", err)
	}
	rc := qcreview.Config{Runner: d.runner, Logger: d.log}
	if d.rag != nil {
		rc.Search = d.rag
	}
	reviewer, err := qcreview.New(rc)
	if err != nil {
		return nil, err
	}
	f, err := api.NewQC(api.QCConfig{
		Engine: e, Store: d.store, Reviewer: reviewer, Logger: d.log,
		Reload: func(context.Context) (*qc.Engine, error) { return build(true) },
	})
	if err != nil {
		return nil, err
	}
	d.signHooks = append(d.signHooks, f.SignHook())
	return f, nil
}
