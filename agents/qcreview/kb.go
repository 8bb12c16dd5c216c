package qcreview

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
)

//go:embed kb/content.yaml
var contentYAML []byte

// evidenceRow is a diagnosis family with the findings that support it.
type evidenceRow struct {
	Diagnosis []string `yaml:"diagnosis"`
	Evidence  []string `yaml:"evidence"`
	Source    string   `yaml:"source"`
}

// kb is the vocabulary of the built-in checks (kb/content.yaml).
type kb struct {
	Symptoms            []string                     `yaml:"symptoms"`
	ComplaintStopwords  []string                     `yaml:"complaint_stopwords"`
	EvidenceSections    []string                     `yaml:"evidence_sections"`
	DiagnosisSections   []string                     `yaml:"diagnosis_sections"`
	DiagnosisQualifiers []string                     `yaml:"diagnosis_qualifiers"`
	Evidence            []evidenceRow                `yaml:"evidence"`
	AbnormalMarkers     []string                     `yaml:"abnormal_markers"`
	ResultSections      []string                     `yaml:"result_sections"`
	Negations           []string                     `yaml:"negations"`
	PlanSections        map[clinic.NoteType][]string `yaml:"plan_sections"`
	PlanWords           []string                     `yaml:"plan_words"`
}

// loadKB decodes and checks the vocabulary: every section it names must be
// a qc section key, and every list must be non-empty.
func loadKB(b []byte) (*kb, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var k kb
	if err := dec.Decode(&k); err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "qcreview: bad kb/content.yaml", "质控审查知识库格式错误")
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, clinic.NewError(clinic.CodeInvalid, "kb", "qcreview: kb/content.yaml holds more than one document", "知识库文件包含多个文档")
	}
	if len(k.Symptoms) == 0 || len(k.EvidenceSections) == 0 || len(k.DiagnosisSections) == 0 || len(k.AbnormalMarkers) == 0 ||
		len(k.ResultSections) == 0 || len(k.PlanSections) == 0 || len(k.PlanWords) == 0 || len(k.Evidence) == 0 {
		return nil, clinic.NewError(clinic.CodeInvalid, "kb", "qcreview: kb/content.yaml lacks a table", "质控审查知识库缺少词表")
	}
	known := map[string]bool{qc.ProgressSection: true}
	for _, s := range qc.KnownSections() {
		known[s.Key] = true
	}
	check := func(list []string) error {
		for _, s := range list {
			if !known[s] {
				return clinic.NewError(clinic.CodeInvalid, "kb", fmt.Sprintf("qcreview: kb names unknown section %q", s), fmt.Sprintf("知识库引用了未知章节 %q", s))
			}
		}
		return nil
	}
	for _, l := range [][]string{k.EvidenceSections, k.DiagnosisSections, k.ResultSections} {
		if err := check(l); err != nil {
			return nil, err
		}
	}
	for t, l := range k.PlanSections {
		if _, ok := qc.ParseNoteType(string(t)); !ok {
			return nil, clinic.NewError(clinic.CodeInvalid, "kb", fmt.Sprintf("qcreview: kb names unknown record type %q", t), "知识库引用了未知病历类型")
		}
		if err := check(l); err != nil {
			return nil, err
		}
	}
	for i, r := range k.Evidence {
		if len(r.Diagnosis) == 0 || len(r.Evidence) == 0 || r.Source == "" {
			return nil, clinic.NewError(clinic.CodeInvalid, "kb", fmt.Sprintf("qcreview: evidence row %d needs diagnosis, evidence and source", i), "知识库依据条目不完整")
		}
	}
	k.Symptoms = longestFirst(k.Symptoms)
	k.ComplaintStopwords = longestFirst(k.ComplaintStopwords)
	k.AbnormalMarkers = longestFirst(k.AbnormalMarkers)
	k.DiagnosisQualifiers = longestFirst(k.DiagnosisQualifiers)
	return &k, nil
}

func longestFirst(in []string) []string {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	return out
}
