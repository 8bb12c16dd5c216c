package clinic

import "time"

// Department is a clinical department a patient can be routed to.
type Department struct {
	Code     string `json:"code"`
	NameZH   string `json:"name_zh"`
	NameEN   string `json:"name_en"`
	Location string `json:"location,omitempty"`
	// MinAgeYears and MaxAgeYears bound the patients it sees (0 = no bound).
	MinAgeYears int `json:"min_age_years,omitempty"`
	MaxAgeYears int `json:"max_age_years,omitempty"`
	// Sex limits the department to one sex ("" = any).
	Sex Sex `json:"sex,omitempty"`
}

// RuleID names a deterministic rule (QC, triage red flag, ECG critical
// value). Rule IDs are append-only data: a retired rule keeps its ID.
type RuleID string

// Severity grades a finding.
type Severity string

// Severities.
const (
	SeverityInfo     Severity = "info"
	SeverityMinor    Severity = "minor"
	SeverityMajor    Severity = "major"
	SeverityCritical Severity = "critical"
)

// Location points into a note: a section key and a character span of its
// text (rune offsets, end exclusive). Start=End=0 means the whole section.
type Location struct {
	Section string `json:"section"`
	Start   int    `json:"start,omitempty"`
	End     int    `json:"end,omitempty"`
}

// Finding is a defect or observation raised by a rule or an agent, with its
// evidence. Findings from agents (not rules) are suggestions.
type Finding struct {
	RuleID   RuleID   `json:"rule_id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Location Location `json:"location,omitzero"`
	Sources  []Source `json:"sources,omitempty"`
	// Points deducted on the scoring sheet; Veto forces the lowest grade.
	Points float64 `json:"points,omitempty"`
	Veto   bool    `json:"veto,omitempty"`
	// Suggestion marks findings from an agent rather than a rule.
	Suggestion bool `json:"suggestion,omitempty"`
}

// Alert is a critical value (危急值) or escalation that must reach a person
// now, with the evidence that raised it.
type Alert struct {
	ID       string    `json:"id"`
	RuleID   RuleID    `json:"rule_id"`
	Kind     string    `json:"kind"` // "ecg_critical", "triage_red_flag", …
	Title    string    `json:"title"`
	Subject  string    `json:"subject"` // stream, record or session ID
	Severity Severity  `json:"severity"`
	Evidence []Source  `json:"evidence,omitempty"`
	Details  string    `json:"details,omitempty"`
	RaisedAt time.Time `json:"raised_at"`
	AckedBy  string    `json:"acked_by,omitempty"`
	AckedAt  time.Time `json:"acked_at,omitzero"`
}
