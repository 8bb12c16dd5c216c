package datasets

import (
	"fmt"
	"io"
	"strings"
)

// PromptItem is one PromptCBLUE item (Zhu et al., PromptCBLUE; one JSON
// object per line): a Chinese prompt, its gold target and the CBLUE task
// it comes from. Test items have an empty target.
type PromptItem struct {
	SampleID      string   `json:"sample_id"`
	TaskDataset   string   `json:"task_dataset"`
	TaskType      string   `json:"task_type"`
	Input         string   `json:"input"`
	Target        string   `json:"target"`
	AnswerChoices []string `json:"answer_choices,omitempty"`
	Line          int      `json:"line"`
}

// TaskMRG is the task_dataset of IMCS-V2 medical report generation items.
const TaskMRG = "IMCS-V2-MRG"

// MRGSections are the six sections of an IMCS-21 medical report, in order
// (imcs21-cblue README).
var MRGSections = []string{"主诉", "现病史", "辅助检查", "既往史", "诊断", "建议"}

// ScanPromptCBLUE streams a PromptCBLUE JSON-lines file. Items need a
// sample_id, task_dataset and input.
func ScanPromptCBLUE(r io.Reader, name string, lim Limits, fn func(PromptItem) error) error {
	type raw struct {
		Input         string   `json:"input"`
		Target        string   `json:"target"`
		AnswerChoices []string `json:"answer_choices"`
		TaskType      string   `json:"task_type"`
		TaskDataset   string   `json:"task_dataset"`
		SampleID      string   `json:"sample_id"`
	}
	return scanJSONLines(r, name, lim, false, func(line int, v *raw) error {
		if err := requireText(name, line, "sample_id", v.SampleID, "task_dataset", v.TaskDataset, "input", v.Input); err != nil {
			return err
		}
		return fn(PromptItem{
			SampleID: v.SampleID, TaskDataset: v.TaskDataset, TaskType: v.TaskType,
			Input: v.Input, Target: v.Target, AnswerChoices: v.AnswerChoices, Line: line,
		})
	})
}

// MRGExample is an IMCS-V2 report-generation item taken apart: the
// dialogue turns of its prompt and the sections of its gold report.
type MRGExample struct {
	SampleID string            `json:"sample_id"`
	Turns    []Turn            `json:"turns"`
	Report   map[string]string `json:"report,omitempty"`
}

// MRG takes an IMCS-V2-MRG item apart. The prompt holds the dialogue as
// "患者：…"/"医生：…" lines between the "问诊对话历史：" line and the
// instruction lines ("根据上述对话…", "说明：…", "答："); the target holds
// one "section：text" line per section after a lead line. A test item has
// no report. It returns an error for another task or a malformed item.
func (p PromptItem) MRG() (MRGExample, error) {
	if p.TaskDataset != TaskMRG {
		return MRGExample{}, fmt.Errorf("item %s is task %s, not %s", p.SampleID, p.TaskDataset, TaskMRG)
	}
	ex := MRGExample{SampleID: p.SampleID}
	body := p.Input
	if _, after, ok := strings.Cut(body, "问诊对话历史：\n"); ok {
		body = after
	}
	var lines []string
	for l := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(l, "根据上述对话") || strings.HasPrefix(l, "说明：") || strings.HasPrefix(l, "答：") {
			break
		}
		lines = append(lines, l)
	}
	ex.Turns = SplitTurns(strings.Join(lines, "\n"))
	if len(ex.Turns) == 0 {
		return MRGExample{}, fmt.Errorf("item %s: no dialogue turns in the prompt", p.SampleID)
	}
	if strings.TrimSpace(p.Target) == "" {
		return ex, nil
	}
	ex.Report = make(map[string]string)
	for l := range strings.SplitSeq(p.Target, "\n") {
		for _, sec := range MRGSections {
			if text, ok := strings.CutPrefix(l, sec+"："); ok {
				ex.Report[sec] = strings.TrimSpace(text)
			}
		}
	}
	if len(ex.Report) == 0 {
		return MRGExample{}, fmt.Errorf("item %s: target has no report sections", p.SampleID)
	}
	return ex, nil
}
