package qc

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc/icd"
)

// Grade is the record grade of the scoring sheet.
type Grade string

// Grades: 甲 ≥ 90 points, 乙 75–89, 丙 < 75 or any veto item.
const (
	GradeA Grade = "甲"
	GradeB Grade = "乙"
	GradeC Grade = "丙"
)

// EngineErrorTitle is the Title of a finding that reports a check which
// failed at run time; it deducts nothing.
const EngineErrorTitle = "engine_error"

// Config configures an Engine.
type Config struct {
	// Logger receives engine errors; nil discards.
	Logger *slog.Logger
	// Rules is the rule set; nil means DefaultRules.
	Rules *RuleSet
	// ICD normalises diagnosis wording. When nil and DataDir is set, the
	// list at DataDir/records/chip-cdn/… is loaded; when neither is set,
	// icd_normalisable rules give an info finding and are skipped.
	ICD     Normaliser
	DataDir string
	// SkipInvalidRules leaves out a rule that does not compile (unknown
	// check kind, unknown section, bad params) instead of failing New; its
	// error, naming the file, line and rule, is kept in Engine.Problems and
	// logged, and every other rule still runs.
	SkipInvalidRules bool
}

// Engine scans records against a compiled rule set. It is immutable after
// New and safe for concurrent use.
type Engine struct {
	log      *slog.Logger
	rules    []compiled
	problems []error
}

type compiled struct {
	rule  Rule
	check checker
	types map[clinic.NoteType]bool
}

// New compiles the rule set. Any rule with an unknown kind, unknown section
// or bad params is an error naming the file, line and rule.
func New(cfg Config) (*Engine, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rs := cfg.Rules
	if rs == nil {
		var err error
		if rs, err = DefaultRules(); err != nil {
			return nil, fmt.Errorf("qc.New: %w", err)
		}
	}
	norm := cfg.ICD
	if norm == nil && cfg.DataDir != "" {
		l, err := icd.Open(filepath.Join(cfg.DataDir, filepath.FromSlash(icd.DefaultPath)))
		if err != nil {
			return nil, fmt.Errorf("qc.New: %w", err)
		}
		norm = l
	}
	env := &compileEnv{sections: newSectionIndex(), drugs: rs.DrugClasses, icd: norm}
	ks := kinds()
	e := &Engine{log: log}
	for _, r := range rs.Rules {
		c, err := compileRule(r, ks, env)
		if err != nil {
			if !cfg.SkipInvalidRules {
				return nil, err
			}
			log.Error("qc rule left out", "rule_id", string(r.ID), "err", err)
			e.problems = append(e.problems, err)
			continue
		}
		cr := compiled{rule: *r, check: c, types: map[clinic.NoteType]bool{}}
		for _, t := range r.Types {
			nt, _ := ParseNoteType(string(t))
			cr.types[nt] = true
		}
		e.rules = append(e.rules, cr)
	}
	return e, nil
}

func compileRule(r *Rule, ks map[string]kindCompiler, env *compileEnv) (checker, error) {
	comp, ok := ks[r.Check.Kind]
	if !ok {
		return nil, loadErr(r.file, r.line, r.ID, "unknown check kind %q (known: %v)", r.Check.Kind, Kinds())
	}
	params := &r.Check.Params
	c, err := comp(params, env)
	if err != nil {
		line := r.line
		if params.Line > 0 {
			line = params.Line
		}
		return nil, loadErr(r.file, line, r.ID, "check %s: %v", r.Check.Kind, err)
	}
	return c, nil
}

// Problems returns the errors of the rules New left out because
// Config.SkipInvalidRules was set (and of override entries skipped by
// NewFromFiles in that mode); empty when every rule compiled.
func (e *Engine) Problems() []error { return append([]error(nil), e.problems...) }

// NewFromFiles builds an engine from the default rules with an optional
// override file applied (path "" = none). With cfg.SkipInvalidRules a bad
// rule in the override is left out and reported by Problems, not fatal.
func NewFromFiles(cfg Config, overridePath string) (*Engine, error) {
	rs := cfg.Rules
	if rs == nil {
		var err error
		if rs, err = DefaultRules(); err != nil {
			return nil, err
		}
	} else {
		rs = rs.Clone()
	}
	if overridePath != "" {
		b, err := os.ReadFile(overridePath)
		if err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot read rule override "+overridePath, "无法读取规则覆盖文件")
		}
		if cfg.SkipInvalidRules {
			skipped, err := rs.ApplyOverrideSkipping(overridePath, b)
			if err != nil {
				return nil, err
			}
			cfg.Rules = rs
			e, err := New(cfg)
			if err != nil {
				return nil, err
			}
			e.problems = append(skipped, e.problems...)
			return e, nil
		}
		if err := rs.ApplyOverride(overridePath, b); err != nil {
			return nil, err
		}
	}
	cfg.Rules = rs
	return New(cfg)
}

// Rules returns the engine's rules (copies), enabled or not.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.rules))
	for i, c := range e.rules {
		out[i] = c.rule
	}
	return out
}

// Rule returns the rule with the given ID.
func (e *Engine) Rule(id clinic.RuleID) (Rule, bool) {
	for _, c := range e.rules {
		if c.rule.ID == id {
			return c.rule, true
		}
	}
	return Rule{}, false
}

// Result is the QC outcome for one record.
type Result struct {
	ID       string           `json:"id"`
	Type     clinic.NoteType  `json:"type"`
	Score    float64          `json:"score"`
	Grade    Grade            `json:"grade"`
	Veto     bool             `json:"veto,omitempty"`
	Findings []clinic.Finding `json:"findings"`
}

// Scan runs every enabled rule for the record's type. A check that fails
// (returns an error or panics) gives an engine_error finding for its rule
// and the others still run. Scan returns an error when ctx is done, and an
// invalid error for a record type it does not know.
func (e *Engine) Scan(ctx context.Context, rec *Record) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("qc.Scan(%s): %w", rec.ID, err)
	}
	if _, ok := ParseNoteType(string(rec.Type)); !ok {
		return Result{}, invalid("type", fmt.Sprintf("record %s: unknown record type %q", rec.ID, rec.Type), fmt.Sprintf("记录 %s：未知的病历类型 %q", rec.ID, rec.Type))
	}
	res := Result{ID: rec.ID, Type: rec.Type, Findings: []clinic.Finding{}}
	var deducted float64
	for i := range e.rules {
		c := &e.rules[i]
		r := &c.rule
		if !r.IsEnabled() || !c.types[rec.Type] || !applies(r.When, rec.Patient) {
			continue
		}
		hits, err := runCheck(c.check, rec)
		if err != nil {
			e.log.Error("qc check failed", "rule_id", string(r.ID), "record_id", rec.ID, "err", err)
			res.Findings = append(res.Findings, clinic.Finding{
				RuleID: r.ID, Title: EngineErrorTitle, Severity: clinic.SeverityInfo,
				Message: fmt.Sprintf("规则运行出错，未能核查 / check failed: %v", err),
				Sources: []clinic.Source{{Kind: clinic.SourceRule, ID: string(r.ID), Quote: r.Source}},
			})
			continue
		}
		capPts := r.MaxPoints
		if capPts == 0 {
			capPts = r.Points
		}
		var ruleDeducted float64
		for _, h := range hits {
			f := clinic.Finding{
				RuleID: r.ID, Title: r.TitleZH + " / " + r.TitleEN, Severity: r.Severity, Message: h.msg,
				Location: h.loc,
				Sources:  []clinic.Source{{Kind: clinic.SourceRule, ID: string(r.ID), Quote: r.Source}},
			}
			if h.info {
				f.Severity = clinic.SeverityInfo
			} else {
				pts := min(r.Points, capPts-ruleDeducted)
				if pts > 0 {
					f.Points = pts
					ruleDeducted += pts
				}
				if r.Veto {
					f.Veto = true
					res.Veto = true
				}
			}
			res.Findings = append(res.Findings, f)
		}
		deducted += ruleDeducted
	}
	res.Score = max(0, 100-deducted)
	res.Grade = GradeFor(res.Score, res.Veto)
	return res, nil
}

// GradeFor maps a score to a grade: 甲 ≥ 90, 乙 ≥ 75, else 丙; a veto item
// forces 丙.
func GradeFor(score float64, veto bool) Grade {
	switch {
	case veto || score < 75:
		return GradeC
	case score < 90:
		return GradeB
	default:
		return GradeA
	}
}

func runCheck(c checker, rec *Record) (hits []hit, err error) {
	defer func() {
		if p := recover(); p != nil {
			hits, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return c.check(rec)
}

func applies(w When, p Patient) bool {
	if w.Sex != "" && p.Sex != w.Sex {
		return false
	}
	if w.MinAgeYears != nil || w.MaxAgeYears != nil {
		if p.AgeYears == nil {
			return false
		}
		if w.MinAgeYears != nil && *p.AgeYears < *w.MinAgeYears {
			return false
		}
		if w.MaxAgeYears != nil && *p.AgeYears > *w.MaxAgeYears {
			return false
		}
	}
	return true
}

// IsDefect reports whether f is a rule defect (not an info observation or
// an engine error).
func IsDefect(f clinic.Finding) bool {
	return f.Severity != clinic.SeverityInfo && f.Title != EngineErrorTitle && !f.Suggestion
}
