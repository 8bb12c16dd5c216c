package datasets

import (
	"io"
	"strings"
	"unicode/utf8"
)

// DiagnosisNorm is one CHIP-CDN pair (CBLUE): a diagnosis as a doctor
// wrote it and its standard names from the ICD-10 Beijing clinical
// edition v6.01 ("std1##std2" in the file).
type DiagnosisNorm struct {
	Text       string   `json:"text"`
	Normalized []string `json:"normalized"`
}

// ScanCHIPCDN streams a CHIP-CDN JSON file (a list of {text,
// normalized_result}). The unlabelled test split has no
// normalized_result and gives an empty Normalized.
func ScanCHIPCDN(r io.Reader, name string, lim Limits, fn func(DiagnosisNorm) error) error {
	type raw struct {
		Text       string `json:"text"`
		Normalized string `json:"normalized_result"`
	}
	return scanJSONArray(r, name, lim, func(off int64, v *raw) error {
		if strings.TrimSpace(v.Text) == "" {
			return badOffset(name, max(off, 1), "item with empty text")
		}
		d := DiagnosisNorm{Text: v.Text}
		for s := range strings.SplitSeq(v.Normalized, "##") {
			if s = strings.TrimSpace(s); s != "" {
				d.Normalized = append(d.Normalized, s)
			}
		}
		return fn(d)
	})
}

// EntitySpan is an annotated span of a Yidu-S4K passage: rune offsets into
// the text, end exclusive.
type EntitySpan struct {
	Label string `json:"label"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// EMRPassage is one Yidu-S4K (CCKS 2019 task 1) de-identified Chinese EMR
// passage with its entity spans (疾病和诊断, 影像检查, 实验室检验, 手术,
// 药物, 解剖部位).
type EMRPassage struct {
	Text     string       `json:"text"`
	Entities []EntitySpan `json:"entities"`
	Line     int          `json:"line"`
}

// ScanYiduS4K streams a Yidu-S4K JSON-lines file ({"originalText",
// "entities":[{"label_type","start_pos","end_pos"}]}, UTF-8 with a
// byte-order mark). Every span must lie inside its text.
func ScanYiduS4K(r io.Reader, name string, lim Limits, fn func(EMRPassage) error) error {
	type raw struct {
		OriginalText string `json:"originalText"`
		Entities     []struct {
			LabelType string `json:"label_type"`
			StartPos  int    `json:"start_pos"`
			EndPos    int    `json:"end_pos"`
		} `json:"entities"`
	}
	return scanJSONLines(r, name, lim, false, func(line int, v *raw) error {
		if strings.TrimSpace(v.OriginalText) == "" {
			return badLine(name, line, "empty originalText")
		}
		n := utf8.RuneCountInString(v.OriginalText)
		p := EMRPassage{Text: v.OriginalText, Line: line}
		for i, e := range v.Entities {
			if e.LabelType == "" || e.StartPos < 0 || e.EndPos <= e.StartPos || e.EndPos > n {
				return badLine(name, line, "entity %d: span [%d,%d) label %q outside a %d-character text", i, e.StartPos, e.EndPos, truncate(e.LabelType, 10), n)
			}
			p.Entities = append(p.Entities, EntitySpan{Label: e.LabelType, Start: e.StartPos, End: e.EndPos})
		}
		return fn(p)
	})
}
