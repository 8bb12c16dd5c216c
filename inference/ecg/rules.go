package ecg

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/yizhu-health/yizhu/clinic"
)

//go:embed rules.json
var defaultRules []byte

// Rule is one critical-value (危急值) rule: what it detects (Kind, which
// the engine implements), its thresholds (Params) and where they come from
// (Source).
type Rule struct {
	ID      clinic.RuleID      `json:"id"`
	Kind    string             `json:"kind"`
	Title   string             `json:"title"`
	TitleZH string             `json:"title_zh"`
	Source  string             `json:"source"`
	Params  map[string]float64 `json:"params"`
}

// Rules is a validated rule set.
type Rules struct {
	Version int    `json:"version"`
	Rules   []Rule `json:"rules"`
	byKind  map[string]*Rule
}

// ruleParams lists, per kind the engine implements, the params it needs.
var ruleParams = map[string][]string{
	"st_elevation":  {"default_mm", "v2v3_male_40_plus_mm", "v2v3_male_under_40_mm", "v2v3_female_mm", "v2v3_unknown_mm", "min_contiguous_leads", "discordant_st_s_ratio", "wide_qrs_v1v3_depression_mm"},
	"vt_sustained":  {"min_rate_bpm", "min_duration_s"},
	"vf":            {"min_duration_s"},
	"pause":         {"min_pause_s"},
	"hr_low":        {"below_bpm", "min_duration_s"},
	"hr_high":       {"above_bpm", "min_duration_s"},
	"long_qtc_ront": {"min_qtc_ms", "min_measurements"},
	"av_block_3":    {"max_ventricular_rate_bpm", "min_atrial_ventricular_ratio", "min_pr_range_ms", "min_beats", "min_p_mv", "min_p_snr"},
}

// DefaultRules returns the embedded rule set (rules.json). It is parsed
// once; the result is shared and must not be modified.
func DefaultRules() (*Rules, error) { return defaultParsed() }

var defaultParsed = sync.OnceValues(func() (*Rules, error) { return ParseRules(defaultRules) })

// ParseRules decodes and validates a rule set strictly: unknown fields,
// unknown kinds, duplicate IDs or kinds, missing params or sources and
// non-positive thresholds are invalid *clinic.Error values.
func ParseRules(data []byte) (*Rules, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rs Rules
	if err := dec.Decode(&rs); err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "ECG rule set is not valid JSON", "心电危急值规则格式错误")
	}
	rs.byKind = map[string]*Rule{}
	ids := map[clinic.RuleID]bool{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		need, ok := ruleParams[r.Kind]
		bad := func(why string) error {
			return clinic.Wrap(fmt.Errorf("rule %q: %s", r.ID, why), clinic.CodeInvalid, "invalid ECG rule "+string(r.ID)+": "+why, "心电危急值规则无效")
		}
		switch {
		case r.ID == "" || ids[r.ID]:
			return nil, bad("missing or duplicate id")
		case !ok:
			return nil, bad("unknown kind " + r.Kind)
		case rs.byKind[r.Kind] != nil:
			return nil, bad("duplicate kind " + r.Kind)
		case r.Source == "" || r.Title == "" || r.TitleZH == "":
			return nil, bad("title, title_zh and source are required")
		}
		for _, p := range need {
			if v, ok := r.Params[p]; !ok || !(v > 0) {
				return nil, bad("param " + p + " missing or not positive")
			}
		}
		ids[r.ID] = true
		rs.byKind[r.Kind] = r
	}
	return &rs, nil
}

// rule returns the rule of kind k, or nil when the set leaves it out.
func (rs *Rules) rule(k string) *Rule {
	if rs == nil {
		return nil
	}
	return rs.byKind[k]
}
