package datasets

import (
	"io"
	"strings"
)

// DepartmentQuestion is one row of the Chinese department CSV
// (Toyhom Chinese-medical-dialogue-data; columns department, title, ask,
// answer): a patient's question labelled with the sub-department that
// answered it.
type DepartmentQuestion struct {
	Department string `json:"department"`
	Title      string `json:"title"`
	Ask        string `json:"ask"`
	Answer     string `json:"answer,omitempty"`
	Line       int    `json:"line"`
}

// Text returns the title and the question joined, the text a kiosk would
// see from the patient.
func (q DepartmentQuestion) Text() string {
	switch {
	case q.Title == "":
		return q.Ask
	case q.Ask == "":
		return q.Title
	}
	return q.Title + "\n" + q.Ask
}

// ScanDepartmentCSV streams a department CSV. Rows need a department and
// a title or question.
func ScanDepartmentCSV(r io.Reader, name string, lim Limits, fn func(DepartmentQuestion) error) error {
	return scanCSV(r, name, lim, []string{"department", "title", "ask"}, func(row csvRow) error {
		q := DepartmentQuestion{
			Department: strings.TrimSpace(row.get("department")),
			Title:      strings.TrimSpace(row.get("title")),
			Ask:        strings.TrimSpace(row.get("ask")),
			Answer:     row.get("answer"),
			Line:       row.line,
		}
		if q.Department == "" {
			return badLine(name, row.line, "empty department")
		}
		if q.Title == "" && q.Ask == "" {
			return badLine(name, row.line, "empty title and ask")
		}
		return fn(q)
	})
}

// KUAKEQICLabels are the 11 intent labels of KUAKE-QIC (CBLUE, Zhang et
// al., ACL 2022).
var KUAKEQICLabels = []string{"治疗方案", "其他", "病情诊断", "注意事项", "疾病表述", "就医建议", "功效作用", "后果表述", "医疗费用", "病因分析", "指标解读"}

// IntentQuery is one KUAKE-QIC search query with its intent label (empty
// in the unlabelled test split).
type IntentQuery struct {
	ID    string `json:"id"`
	Query string `json:"query"`
	Label string `json:"label,omitempty"`
}

// ScanKUAKEQIC streams a KUAKE-QIC JSON file (a list of {id, query,
// label}). A present label must be one of KUAKEQICLabels.
func ScanKUAKEQIC(r io.Reader, name string, lim Limits, fn func(IntentQuery) error) error {
	known := make(map[string]bool, len(KUAKEQICLabels))
	for _, l := range KUAKEQICLabels {
		known[l] = true
	}
	return scanJSONArray(r, name, lim, func(off int64, q *IntentQuery) error {
		if strings.TrimSpace(q.ID) == "" || strings.TrimSpace(q.Query) == "" {
			return badOffset(name, max(off, 1), "item needs a non-empty id and query")
		}
		if q.Label != "" && !known[q.Label] {
			return badOffset(name, max(off, 1), "item %s: unknown label %q", truncate(q.ID, 20), truncate(q.Label, 20))
		}
		return fn(*q)
	})
}

// Vignette is one clinical case vignette of the medask benchmarks: the
// Avey symptom-checker set (demographics, complaints, presentation, …,
// correct_diagnosis) or the Semigran et al. (BMJ 2015) triage set
// (case_description, correct_diagnosis and urgency_level em/ne/sc).
type Vignette struct {
	CorrectDiagnosis string `json:"correct_diagnosis"`
	Demographics     string `json:"demographics,omitempty"`
	ChiefComplaints  string `json:"chief_complaints,omitempty"`
	Presentation     string `json:"presentation,omitempty"`
	AbsentFindings   string `json:"absent_findings,omitempty"`
	PhysicalHistory  string `json:"physical_history,omitempty"`
	FamilyHistory    string `json:"family_history,omitempty"`
	SocialHistory    string `json:"social_history,omitempty"`
	CaseDescription  string `json:"case_description,omitempty"`
	// UrgencyLevel is em (emergency), ne (non-emergent care) or sc
	// (self-care); empty in the Avey set.
	UrgencyLevel string `json:"urgency_level,omitempty"`
	Line         int    `json:"line"`
}

// ScanVignettes streams a vignette JSON-lines file. Each needs a
// correct_diagnosis and a presentation or case_description; a present
// urgency_level must be em, ne or sc.
func ScanVignettes(r io.Reader, name string, lim Limits, fn func(Vignette) error) error {
	return scanJSONLines(r, name, lim, false, func(line int, v *Vignette) error {
		v.Line = line
		if strings.TrimSpace(v.CorrectDiagnosis) == "" {
			return badLine(name, line, "empty correct_diagnosis")
		}
		if strings.TrimSpace(v.Presentation) == "" && strings.TrimSpace(v.CaseDescription) == "" {
			return badLine(name, line, "empty presentation and case_description")
		}
		switch v.UrgencyLevel {
		case "", "em", "ne", "sc":
		default:
			return badLine(name, line, "urgency_level %q, want em, ne or sc", truncate(v.UrgencyLevel, 10))
		}
		return fn(*v)
	})
}
