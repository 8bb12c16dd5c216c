package inject

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
)

// KindScore is the score of one check kind.
type KindScore struct {
	Kind string `json:"kind"`
	// Cases is the number of injected cases of this kind.
	Cases int `json:"cases"`
	TP    int `json:"tp"`
	FP    int `json:"fp"`
	FN    int `json:"fn"`
	// Precision = TP/(TP+FP) and Recall = TP/(TP+FN); 1 when undefined.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// LocationAccuracy is the share of true positives whose finding has
	// the gold section and, where the gold gives a rune span, overlaps it.
	LocationAccuracy float64 `json:"location_accuracy"`
	// CleanFindings counts defect findings of this kind on clean records.
	CleanFindings int `json:"clean_findings"`
	locOK         int
}

// Report is the outcome of Evaluate.
type Report struct {
	Records      int         `json:"records"`       // clean + defective records scanned
	CleanRecords int         `json:"clean_records"` // clean records scanned
	Cases        int         `json:"cases"`
	Kinds        []KindScore `json:"kinds"` // sorted by kind
	// CleanFindings is the number of defect findings on clean records;
	// the target is zero.
	CleanFindings int `json:"clean_findings"`
	// EngineErrors counts engine_error findings over all records.
	EngineErrors int `json:"engine_errors"`
	// Examples lists up to 20 misses and false alarms for debugging.
	Examples []string `json:"examples,omitempty"`
}

// Kind returns the score of a kind.
func (r *Report) Kind(kind string) (KindScore, bool) {
	for _, k := range r.Kinds {
		if k.Kind == kind {
			return k, true
		}
	}
	return KindScore{}, false
}

// Evaluate scans the clean records and the defective record of every case
// and scores the engine per check kind. A rule firing on a defective record
// counts as a true positive when it is gold, else a false positive (for the
// kind of the rule that fired); a gold rule that does not fire is a false
// negative. Any defect finding on a clean record is a false positive too.
// Info findings (a check that could not run) are not defects.
func Evaluate(ctx context.Context, e *qc.Engine, clean []qc.Record, cases []Case) (Report, error) {
	s := NewScorer(e)
	if err := s.Add(ctx, clean, cases); err != nil {
		return Report{}, err
	}
	return s.Report(), nil
}

// EvaluateYidu is the `qc` eval suite in one call: it reads the Yidu-S4K
// passages under dataDir (limit 0 = all), builds the clean records and
// defect cases passage by passage (so memory stays bounded) and scores e.
// icd should be the list the engine uses; nil skips the coding rules.
func EvaluateYidu(ctx context.Context, e *qc.Engine, icd qc.Normaliser, dataDir string, limit int, seed uint64) (Report, error) {
	passages, err := ReadYidu(dataDir, limit)
	if err != nil {
		return Report{}, err
	}
	g, err := New(Config{Rules: e.Rules(), ICD: icd, Seed: seed})
	if err != nil {
		return Report{}, err
	}
	s := NewScorer(e)
	for i := range passages {
		clean, cases := g.Cases(passages[i : i+1])
		if err := s.Add(ctx, clean, cases); err != nil {
			return Report{}, err
		}
	}
	return s.Report(), nil
}

// Scorer accumulates the scores of Evaluate over several batches.
type Scorer struct {
	e      *qc.Engine
	kindOf map[clinic.RuleID]string
	scores map[string]*KindScore
	rep    Report
}

// NewScorer returns an empty Scorer for e.
func NewScorer(e *qc.Engine) *Scorer {
	s := &Scorer{e: e, kindOf: map[clinic.RuleID]string{}, scores: map[string]*KindScore{}}
	for _, r := range e.Rules() {
		s.kindOf[r.ID] = r.Check.Kind
	}
	return s
}

func (s *Scorer) get(k string) *KindScore {
	ks, ok := s.scores[k]
	if !ok {
		ks = &KindScore{Kind: k}
		s.scores[k] = ks
	}
	return ks
}

func (s *Scorer) example(format string, args ...any) {
	if len(s.rep.Examples) < 20 {
		s.rep.Examples = append(s.rep.Examples, fmt.Sprintf(format, args...))
	}
}

// Add scans one batch of clean records and cases.
func (s *Scorer) Add(ctx context.Context, clean []qc.Record, cases []Case) error {
	for i := range clean {
		res, err := s.e.Scan(ctx, &clean[i])
		if err != nil {
			return fmt.Errorf("inject.Evaluate: %w", err)
		}
		s.rep.Records++
		s.rep.CleanRecords++
		for _, f := range res.Findings {
			if f.Title == qc.EngineErrorTitle {
				s.rep.EngineErrors++
			}
			if !qc.IsDefect(f) {
				continue
			}
			ks := s.get(s.kindOf[f.RuleID])
			ks.FP++
			ks.CleanFindings++
			s.rep.CleanFindings++
			s.example("clean %s: %s fired at %s: %s", clean[i].ID, f.RuleID, f.Location.Section, f.Message)
		}
	}
	for i := range cases {
		c := &cases[i]
		res, err := s.e.Scan(ctx, &c.Defective)
		if err != nil {
			return fmt.Errorf("inject.Evaluate: %w", err)
		}
		s.rep.Records++
		s.rep.Cases++
		s.get(c.Kind).Cases++
		fired := map[clinic.RuleID][]clinic.Finding{}
		for _, f := range res.Findings {
			if f.Title == qc.EngineErrorTitle {
				s.rep.EngineErrors++
			}
			if qc.IsDefect(f) {
				fired[f.RuleID] = append(fired[f.RuleID], f)
			}
		}
		for _, g := range c.Defective.Defects {
			ks := s.get(s.kindOf[g])
			fs, ok := fired[g]
			if !ok {
				ks.FN++
				s.example("miss %s: %s (%s) at %v", c.Defective.ID, g, s.kindOf[g], c.Location)
				continue
			}
			ks.TP++
			if g != c.Rule || slices.ContainsFunc(fs, func(f clinic.Finding) bool { return sameLocation(c.Location, f.Location) }) {
				ks.locOK++
			} else {
				s.example("location %s: %s want %v got %v", c.Defective.ID, g, c.Location, fs[0].Location)
			}
		}
		for id, fs := range fired {
			if slices.Contains(c.Defective.Defects, id) {
				continue
			}
			s.get(s.kindOf[id]).FP++
			s.example("false alarm %s (injected %s): %s fired at %s: %s", c.Defective.ID, c.Rule, id, fs[0].Location.Section, fs[0].Message)
		}
	}
	return nil
}

// Report returns the scores so far.
func (s *Scorer) Report() Report {
	rep := s.rep
	rep.Examples = slices.Clone(s.rep.Examples)
	rep.Kinds = nil
	for _, ks := range s.scores {
		k := *ks
		k.Precision = ratio(k.TP, k.TP+k.FP)
		k.Recall = ratio(k.TP, k.TP+k.FN)
		k.LocationAccuracy = ratio(k.locOK, k.TP)
		rep.Kinds = append(rep.Kinds, k)
	}
	slices.SortFunc(rep.Kinds, func(a, b KindScore) int { return strings.Compare(a.Kind, b.Kind) })
	return rep
}

// sameLocation compares sections, and when the gold has a span, requires
// the finding's span to overlap it.
func sameLocation(gold, got clinic.Location) bool {
	if gold.Section != got.Section {
		return false
	}
	if gold.Start == 0 && gold.End == 0 {
		return true
	}
	return got.Start < gold.End && gold.Start < got.End
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
