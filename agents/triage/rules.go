package triage

import (
	"fmt"
	"io"
	"slices"

	"github.com/yizhu-health/yizhu/clinic"
)

// Vitals are the measurements taken at the kiosk or written by the
// patient. A zero field was not measured.
type Vitals struct {
	HeartRateBPM   float64 `json:"hr_bpm,omitempty" yaml:"hr_bpm" validate:"omitempty,min=10,max=350"`
	SystolicMMHg   float64 `json:"sbp_mmhg,omitempty" yaml:"sbp_mmhg" validate:"omitempty,min=20,max=350"`
	DiastolicMMHg  float64 `json:"dbp_mmhg,omitempty" yaml:"dbp_mmhg" validate:"omitempty,min=10,max=250"`
	SpO2Pct        float64 `json:"spo2_pct,omitempty" yaml:"spo2_pct" validate:"omitempty,min=30,max=100"`
	TempC          float64 `json:"temp_c,omitempty" yaml:"temp_c" validate:"omitempty,min=25,max=46"`
	RespRatePerMin float64 `json:"rr_per_min,omitempty" yaml:"rr_per_min" validate:"omitempty,min=1,max=100"`
	// GCS is the Glasgow Coma Scale total, 3–15.
	GCS int `json:"gcs,omitempty" yaml:"gcs" validate:"omitempty,min=3,max=15"`
	// AVPU is the consciousness level: A(lert), V(oice), P(ain), U(nresponsive).
	AVPU string `json:"avpu,omitempty" yaml:"avpu" validate:"omitempty,oneof=A V P U"`
}

// merge fills the zero fields of v from w.
func (v Vitals) merge(w Vitals) Vitals {
	if v.HeartRateBPM == 0 {
		v.HeartRateBPM = w.HeartRateBPM
	}
	if v.SystolicMMHg == 0 {
		v.SystolicMMHg, v.DiastolicMMHg = w.SystolicMMHg, w.DiastolicMMHg
	}
	if v.SpO2Pct == 0 {
		v.SpO2Pct = w.SpO2Pct
	}
	if v.TempC == 0 {
		v.TempC = w.TempC
	}
	if v.RespRatePerMin == 0 {
		v.RespRatePerMin = w.RespRatePerMin
	}
	if v.GCS == 0 {
		v.GCS = w.GCS
	}
	if v.AVPU == "" {
		v.AVPU = w.AVPU
	}
	return v
}

// value returns the named vital and whether it was measured. AVPU reads as
// 1 (A) … 4 (U).
func (v Vitals) value(name string) (float64, bool) {
	var x float64
	switch name {
	case "hr":
		x = v.HeartRateBPM
	case "sbp":
		x = v.SystolicMMHg
	case "dbp":
		x = v.DiastolicMMHg
	case "spo2":
		x = v.SpO2Pct
	case "temp":
		x = v.TempC
	case "rr":
		x = v.RespRatePerMin
	case "gcs":
		x = float64(v.GCS)
	case "avpu":
		x = float64(slices.Index([]string{"A", "V", "P", "U"}, v.AVPU) + 1)
	}
	return x, x > 0
}

// Escalation is where a patient with a red flag goes now.
type Escalation struct {
	Code          string `yaml:"code" json:"code" validate:"required,max=64"`
	NameZH        string `yaml:"name_zh" json:"name_zh" validate:"required,max=64"`
	NameEN        string `yaml:"name_en" json:"name_en" validate:"required,max=128"`
	Department    string `yaml:"department" json:"department" validate:"required,max=32"`
	Location      string `yaml:"location" json:"location" validate:"max=256"`
	InstructionZH string `yaml:"instruction_zh" json:"instruction_zh" validate:"required,max=300"`
	InstructionEN string `yaml:"instruction_en" json:"instruction_en" validate:"required,max=500"`
}

// VitalCond is a threshold on one vital sign.
type VitalCond struct {
	Vital string  `yaml:"vital" json:"vital" validate:"oneof=hr sbp dbp spo2 temp rr gcs avpu"`
	Op    string  `yaml:"op" json:"op" validate:"oneof=< <= > >="`
	Value float64 `yaml:"value" json:"value"`
}

func (c VitalCond) holds(v Vitals) bool {
	x, ok := v.value(c.Vital)
	if !ok {
		return false
	}
	switch c.Op {
	case "<":
		return x < c.Value
	case "<=":
		return x <= c.Value
	case ">":
		return x > c.Value
	case ">=":
		return x >= c.Value
	}
	return false
}

// Rule is one deterministic acuity rule: a vital-sign threshold or a
// red-flag pattern of findings. Every condition given must hold. Rule IDs
// are append-only.
type Rule struct {
	ID         clinic.RuleID `yaml:"id" json:"id" validate:"required,max=64"`
	TitleZH    string        `yaml:"title_zh" json:"title_zh" validate:"required,max=128"`
	TitleEN    string        `yaml:"title_en" json:"title_en" validate:"required,max=256"`
	Acuity     clinic.Acuity `yaml:"acuity" json:"acuity" validate:"min=1,max=4"`
	Escalation string        `yaml:"escalation" json:"escalation,omitempty" validate:"max=64"`
	Source     string        `yaml:"source" json:"source" validate:"required,max=400"`
	// All lists findings that must all be present; each group of Any needs
	// at least one present finding.
	All []string   `yaml:"all" json:"all,omitempty" validate:"max=8,dive,required"`
	Any [][]string `yaml:"any" json:"any,omitempty" validate:"max=4,dive,min=1,max=40,dive,required"`
	// Severe and Sudden list findings that must be present with that
	// modifier ("剧烈头痛", "突然胸痛").
	Severe []string `yaml:"severe" json:"severe,omitempty" validate:"max=8,dive,required"`
	Sudden []string `yaml:"sudden" json:"sudden,omitempty" validate:"max=8,dive,required"`
	// Vitals are thresholds that must all hold (an unmeasured vital does
	// not hold).
	Vitals []VitalCond `yaml:"vitals" json:"vitals,omitempty" validate:"max=4,dive"`
	// MinAge and MaxAge (inclusive years) skip the rule only when the age
	// is known and outside; Child requires a child (age < 14, or unknown
	// age and the text speaks of a child).
	MinAge int  `yaml:"min_age" json:"min_age,omitempty" validate:"min=0,max=150"`
	MaxAge int  `yaml:"max_age" json:"max_age,omitempty" validate:"min=0,max=150"`
	Child  bool `yaml:"child" json:"child,omitempty"`
	// Infant requires a known age under one year.
	Infant bool       `yaml:"infant" json:"infant,omitempty"`
	Sex    clinic.Sex `yaml:"sex" json:"sex,omitempty" validate:"omitempty,oneof=M F"`
}

type rulesFile struct {
	Version     int          `yaml:"version" validate:"eq=1"`
	ChildAge    int          `yaml:"child_age" validate:"min=1,max=18"`
	ChildCode   string       `yaml:"child_finding" validate:"required"`
	Escalations []Escalation `yaml:"escalations" validate:"min=1,max=64,dive"`
	Rules       []Rule       `yaml:"rules" validate:"min=1,max=1000,dive"`
}

// Rules is the acuity rule set: vital-sign thresholds and red flags, each
// with its source. It is immutable and safe for concurrent use.
type Rules struct {
	childAge    int
	childCode   string
	escalations map[string]Escalation
	rules       []Rule
}

// LoadRules reads an acuity rule set (see kb/acuity.yaml) and checks it
// against the lexicon (every finding named must exist) and the catalog
// (every escalation department must exist).
func LoadRules(r io.Reader, lex *Lexicon, cat *Catalog) (*Rules, error) {
	const what = "acuity rules"
	var f rulesFile
	if err := decodeStrict(r, what, &f); err != nil {
		return nil, err
	}
	rs := &Rules{childAge: f.ChildAge, childCode: f.ChildCode, escalations: map[string]Escalation{}}
	if _, ok := lex.Finding(f.ChildCode); !ok {
		return nil, invalid(what, "child_finding", "unknown finding %q", f.ChildCode)
	}
	for _, e := range f.Escalations {
		if _, dup := rs.escalations[e.Code]; dup {
			return nil, invalid(what, e.Code, "duplicate escalation %q", e.Code)
		}
		if _, ok := cat.Get(e.Department); !ok {
			return nil, invalid(what, e.Code, "unknown department %q", e.Department)
		}
		rs.escalations[e.Code] = e
	}
	ids := map[clinic.RuleID]bool{}
	for _, ru := range f.Rules {
		if ids[ru.ID] {
			return nil, invalid(what, string(ru.ID), "duplicate rule id")
		}
		ids[ru.ID] = true
		if ru.Escalation != "" {
			if _, ok := rs.escalations[ru.Escalation]; !ok {
				return nil, invalid(what, string(ru.ID), "unknown escalation %q", ru.Escalation)
			}
		}
		if ru.Acuity <= clinic.AcuityII && ru.Escalation == "" {
			return nil, invalid(what, string(ru.ID), "a level I or II rule needs an escalation")
		}
		if len(ru.All)+len(ru.Any)+len(ru.Vitals)+len(ru.Severe)+len(ru.Sudden) == 0 {
			return nil, invalid(what, string(ru.ID), "rule has no condition")
		}
		if ru.MaxAge > 0 && ru.MaxAge < ru.MinAge {
			return nil, invalid(what, string(ru.ID), "max_age < min_age")
		}
		codes := slices.Concat(ru.All, ru.Severe, ru.Sudden)
		for _, g := range ru.Any {
			codes = append(codes, g...)
		}
		for _, c := range codes {
			if _, ok := lex.Finding(c); !ok {
				return nil, invalid(what, string(ru.ID), "unknown finding %q", c)
			}
		}
		rs.rules = append(rs.rules, ru)
	}
	return rs, nil
}

// DefaultRules returns the built-in rule set checked against the default
// lexicon and catalog.
func DefaultRules() *Rules { return defaultRules(DefaultLexicon(), DefaultCatalog()) }

func defaultRules(lex *Lexicon, cat *Catalog) *Rules {
	r, err := LoadRules(mustEmbedded("kb/acuity.yaml"), lex, cat)
	if err != nil {
		panic("triage: embedded rules: " + err.Error())
	}
	return r
}

// Rules returns a copy of the rules in file order.
func (rs *Rules) Rules() []Rule { return slices.Clone(rs.rules) }

// Escalation returns the escalation with the given code.
func (rs *Rules) Escalation(code string) (Escalation, bool) {
	e, ok := rs.escalations[code]
	return e, ok
}

// Patient is what the rules look at.
type Patient struct {
	Age    *int
	Sex    clinic.Sex
	Vitals Vitals
	// Findings are the present (not negated) findings with their
	// modifiers, keyed by code.
	Findings map[string]Mention
}

// RedFlag is a fired rule with its evidence.
type RedFlag struct {
	RuleID     clinic.RuleID `json:"rule_id"`
	TitleZH    string        `json:"title_zh"`
	TitleEN    string        `json:"title_en"`
	Acuity     clinic.Acuity `json:"acuity"`
	Escalation string        `json:"escalation,omitempty"`
	Source     string        `json:"source"`
	// Evidence lists the findings and vitals that made the rule fire
	// ("chest_pain", "spo2=86").
	Evidence []string `json:"evidence,omitempty"`
}

// Assessment is the rules' verdict.
type Assessment struct {
	// Acuity is the floor: the most urgent level of any fired rule, or IV.
	Acuity   clinic.Acuity `json:"acuity"`
	RedFlags []RedFlag     `json:"red_flags,omitempty"`
	// Escalation is where to go now (nil when no fired rule names one);
	// it belongs to the most urgent fired rule, the first in file order
	// on ties.
	Escalation *Escalation `json:"escalation,omitempty"`
}

// IsChild reports whether the rules treat the patient as a child.
func (rs *Rules) IsChild(p Patient) bool {
	if p.Age != nil {
		return *p.Age < rs.childAge
	}
	_, ok := p.Findings[rs.childCode]
	return ok
}

// admits reports whether ru's patient criteria other than Infant allow it
// for p: the age range (checked only when the age is known), Child, and
// Sex (checked only when p's sex is male or female).
func (rs *Rules) admits(ru *Rule, p Patient) bool {
	if p.Age != nil && (*p.Age < ru.MinAge || (ru.MaxAge > 0 && *p.Age > ru.MaxAge)) {
		return false
	}
	if ru.Child && !rs.IsChild(p) {
		return false
	}
	if ru.Sex != "" && (p.Sex == clinic.SexMale || p.Sex == clinic.SexFemale) && p.Sex != ru.Sex {
		return false
	}
	return true
}

// hasAll reports whether every one of codes is a present finding of p.
func (p Patient) hasAll(codes []string) bool {
	for _, c := range codes {
		if _, ok := p.Findings[c]; !ok {
			return false
		}
	}
	return true
}

// firstPresent returns the first of codes that is a present finding of p.
func (p Patient) firstPresent(codes []string) (string, bool) {
	for _, c := range codes {
		if _, ok := p.Findings[c]; ok {
			return c, true
		}
	}
	return "", false
}

// applies reports whether ru fires for p and its evidence.
func (rs *Rules) applies(ru *Rule, p Patient) ([]string, bool) {
	if !rs.admits(ru, p) {
		return nil, false
	}
	if ru.Infant && (p.Age == nil || *p.Age > 0) {
		return nil, false
	}
	if !p.hasAll(ru.All) {
		return nil, false
	}
	ev := append([]string(nil), ru.All...)
	for _, g := range ru.Any {
		c, ok := p.firstPresent(g)
		if !ok {
			return nil, false
		}
		ev = append(ev, c)
	}
	for _, c := range ru.Severe {
		if m, ok := p.Findings[c]; !ok || m.Severity != SeveritySevere {
			return nil, false
		}
		ev = append(ev, c+":severe")
	}
	for _, c := range ru.Sudden {
		if m, ok := p.Findings[c]; !ok || !m.Sudden {
			return nil, false
		}
		ev = append(ev, c+":sudden")
	}
	for _, vc := range ru.Vitals {
		if !vc.holds(p.Vitals) {
			return nil, false
		}
		x, _ := p.Vitals.value(vc.Vital)
		ev = append(ev, fmt.Sprintf("%s=%g", vc.Vital, x))
	}
	return ev, true
}

// Assess applies every rule to p. It is deterministic: the same patient
// always yields the same assessment, red flags in file order.
func (rs *Rules) Assess(p Patient) Assessment {
	a := Assessment{Acuity: clinic.AcuityIV}
	var esc *Rule
	for i := range rs.rules {
		ru := &rs.rules[i]
		ev, ok := rs.applies(ru, p)
		if !ok {
			continue
		}
		a.Acuity = a.Acuity.Raise(ru.Acuity)
		a.RedFlags = append(a.RedFlags, RedFlag{
			RuleID: ru.ID, TitleZH: ru.TitleZH, TitleEN: ru.TitleEN, Acuity: ru.Acuity,
			Escalation: ru.Escalation, Source: ru.Source, Evidence: ev,
		})
		if ru.Escalation != "" && (esc == nil || ru.Acuity < esc.Acuity) {
			esc = ru
		}
	}
	if esc != nil {
		e := rs.escalations[esc.Escalation]
		a.Escalation = &e
	}
	return a
}

// screening returns, for a patient, the findings whose answer could make a
// rule more urgent than the current floor fire: the missing members of
// partly satisfied rules, most urgent rule first. Only findings not in
// skip are returned.
func (rs *Rules) screening(p Patient, floor clinic.Acuity, skip func(string) bool) []string {
	var out []string
	for lvl := clinic.AcuityI; lvl < floor; lvl++ {
		for i := range rs.rules {
			ru := &rs.rules[i]
			if ru.Acuity != lvl || len(ru.Vitals) > 0 || len(ru.All) == 0 {
				continue
			}
			if !rs.admits(ru, p) || !p.hasAll(ru.All) || len(ru.Severe)+len(ru.Sudden) > 0 {
				continue
			}
			for _, g := range ru.Any {
				if _, hit := p.firstPresent(g); hit {
					continue
				}
				for _, c := range g {
					if !skip(c) && !slices.Contains(out, c) {
						out = append(out, c)
					}
				}
			}
		}
	}
	return out
}
