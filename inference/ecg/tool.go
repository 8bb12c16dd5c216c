package ecg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/go-playground/validator/v10"

	"github.com/yizhu-health/yizhu/clinic"
)

// AnalyzeToolName is the name of the analysis tool.
const AnalyzeToolName = "ecg.analyze"

// Tool bounds. A 10 s 12-lead record at 500 Hz is 60,000 numbers (about
// 500 KB of JSON); the tool takes up to 60 s per lead and 8 MiB of
// arguments, and returns at most maxToolItems rhythms, findings and
// alerts, which keeps its result well under the agents runtime's 32 KiB.
const (
	maxToolArgs        = 8 << 20
	MaxToolSeconds     = 60
	maxToolItems       = 20
	maxToolDetailRunes = 300
)

// ToolArgs are the arguments of ecg.analyze:
//
//	rate_hz    sampling rate in Hz, 125–1000 (required)
//	leads      1–16 leads, each {"name": "II", "samples_mv": [...]} with the
//	           same number of samples (at most 60 s), in millivolts
//	sex        "M" or "F" (optional; selects the V2–V3 STEMI threshold)
//	age_years  0–150 (optional; with sex, selects the V2–V3 threshold)
//	mains_hz   50 (default) or 60, the powerline frequency to suppress
type ToolArgs struct {
	RateHz   float64    `json:"rate_hz" validate:"gte=125,lte=1000"`
	Leads    []ToolLead `json:"leads" validate:"min=1,max=16,dive"`
	Sex      string     `json:"sex,omitempty" validate:"omitempty,oneof=M F U"`
	AgeYears *int       `json:"age_years,omitempty" validate:"omitempty,gte=0,lte=150"`
	MainsHz  float64    `json:"mains_hz,omitempty" validate:"omitempty,gte=50,lte=60"` // New rejects other than 50 or 60
}

// ToolLead is one lead of ToolArgs.
type ToolLead struct {
	Name      string    `json:"name" validate:"required,max=16"`
	SamplesMV []float32 `json:"samples_mv" validate:"min=1"`
}

// ToolResult is what ecg.analyze returns: a bounded summary of the Report
// with times in seconds. It is a machine pre-read for the reading doctor.
type ToolResult struct {
	DurationS    float64         `json:"duration_s"`
	Leads        []string        `json:"leads"`
	BeatCounts   map[Label]int   `json:"beat_counts"`
	Measurements *Measurements   `json:"measurements,omitempty"`
	Rhythms      []ToolRhythm    `json:"rhythms"`
	Findings     []ToolFinding   `json:"findings"`
	Alerts       []ToolAlert     `json:"alerts"`
	Critical     bool            `json:"critical"`
	Truncated    bool            `json:"truncated,omitempty"`
	Draft        bool            `json:"draft"`
	Note         string          `json:"note"`
	Quality      map[string]bool `json:"lead_quality_ok"`
}

// ToolRhythm is a rhythm episode in seconds.
type ToolRhythm struct {
	Type   Rhythm  `json:"type"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
}

// ToolFinding is a finding in seconds.
type ToolFinding struct {
	Code     string          `json:"code"`
	Title    string          `json:"title"`
	TitleZH  string          `json:"title_zh"`
	Severity clinic.Severity `json:"severity"`
	StartS   float64         `json:"start_s"`
	EndS     float64         `json:"end_s"`
	Leads    []string        `json:"leads,omitempty"`
	Value    float64         `json:"value,omitempty"`
	Unit     string          `json:"unit,omitempty"`
}

// ToolAlert is a critical value with its evidence.
type ToolAlert struct {
	RuleID  clinic.RuleID      `json:"rule_id"`
	Title   string             `json:"title"`
	StartS  float64            `json:"start_s"`
	EndS    float64            `json:"end_s"`
	Leads   []string           `json:"leads,omitempty"`
	Values  map[string]float64 `json:"values,omitempty"`
	Details string             `json:"details"`
	Source  string             `json:"source"`
}

// AnalyzeTool returns the agent tool "ecg.analyze": it analyses an ECG
// given as sample arrays (see ToolArgs) and returns a ToolResult. Bad
// arguments give invalid *clinic.Error values the runtime can show to the
// model; it never panics on input.
func AnalyzeTool() clinic.Tool {
	v := validator.New(validator.WithRequiredStructEnabled())
	return clinic.Tool{
		Name: AnalyzeToolName,
		Description: "Analyse an ECG (1–16 leads, 125–1000 Hz, up to 60 s, samples in mV): beats, rhythm, " +
			"HR/PR/QRS/QT/QTc, ST levels and critical values (危急值: STEMI, VT, VF, asystole/pause ≥3 s, " +
			"HR <40 or >180, long QTc with R-on-T). The result is a draft pre-read for the doctor. " +
			"分析心电图并给出预读结果与危急值。",
		Parameters: map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"required":             []string{"rate_hz", "leads"},
			"properties": map[string]any{
				"rate_hz": map[string]any{"type": "number", "minimum": MinRateHz, "maximum": MaxRateHz,
					"description": "sampling rate in Hz"},
				"leads": map[string]any{"type": "array", "minItems": 1, "maxItems": MaxLeads,
					"description": "leads of equal length, e.g. I, II, III, aVR, aVL, aVF, V1–V6",
					"items": map[string]any{
						"type": "object", "additionalProperties": false, "required": []string{"name", "samples_mv"},
						"properties": map[string]any{
							"name":       map[string]any{"type": "string", "minLength": 1, "maxLength": 16},
							"samples_mv": map[string]any{"type": "array", "items": map[string]any{"type": "number"}, "minItems": 1},
						},
					}},
				"sex":       map[string]any{"type": "string", "enum": []string{"M", "F", "U"}},
				"age_years": map[string]any{"type": "integer", "minimum": 0, "maximum": 150},
				"mains_hz":  map[string]any{"type": "number", "enum": []float64{50, 60}, "default": 50},
			},
		},
		Call: func(ctx context.Context, raw json.RawMessage) (any, error) {
			a, err := decodeToolArgs(v, raw)
			if err != nil {
				return nil, err
			}
			rec := Record{ID: AnalyzeToolName, RateHz: a.RateHz, Sex: clinic.Sex(a.Sex), AgeYears: -1}
			if a.AgeYears != nil {
				rec.AgeYears = *a.AgeYears
			}
			for _, l := range a.Leads {
				rec.Leads = append(rec.Leads, Lead{Name: l.Name, Samples: l.SamplesMV})
			}
			rep, err := AnalyzeWith(ctx, rec, Config{MainsHz: a.MainsHz})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", AnalyzeToolName, err)
			}
			return ToolSummary(rep), nil
		},
	}
}

// decodeToolArgs decodes, validates and bounds the arguments.
func decodeToolArgs(v *validator.Validate, raw json.RawMessage) (ToolArgs, error) {
	var a ToolArgs
	if len(raw) > maxToolArgs {
		return a, clinic.NewError(clinic.CodeTooLarge, "arguments", "tool arguments too large (at most 8 MiB)", "工具参数过大(最多 8 MiB)")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, clinic.Wrap(err, clinic.CodeInvalid,
			"arguments must be a JSON object {rate_hz, leads: [{name, samples_mv}], sex, age_years, mains_hz}",
			"参数必须是 JSON 对象 {rate_hz, leads: [{name, samples_mv}], sex, age_years, mains_hz}")
	}
	if err := v.Struct(a); err != nil {
		field := "arguments"
		var ve validator.ValidationErrors
		if errors.As(err, &ve) && len(ve) > 0 {
			field = ve[0].Namespace()
		}
		return a, clinic.Wrap(err, clinic.CodeInvalid, "invalid ECG arguments: "+field+" (rate 125–1000 Hz, 1–16 named leads, sex M/F, age 0–150, mains 50/60)",
			"心电参数无效："+field+"(采样率 125–1000 Hz,1–16 个有名称的导联,性别 M/F,年龄 0–150,工频 50/60)")
	}
	n := len(a.Leads[0].SamplesMV)
	if float64(n) > MaxToolSeconds*a.RateHz {
		return a, clinic.NewError(clinic.CodeTooLarge, "leads", "at most 60 s of samples per lead", "每个导联最多 60 秒数据")
	}
	for _, l := range a.Leads {
		if len(l.SamplesMV) != n {
			return a, clinic.NewError(clinic.CodeInvalid, "leads", "all leads must have the same length", "各导联长度须一致")
		}
	}
	return a, nil
}

// ToolSummary turns a report into the bounded tool result.
func ToolSummary(rep Report) ToolResult {
	fs := rep.RateHz
	sec := func(s int64) float64 { return math.Round(float64(s)/fs*1000) / 1000 }
	out := ToolResult{
		DurationS:    sec(int64(rep.Samples)),
		Leads:        rep.Leads,
		BeatCounts:   map[Label]int{LabelNormal: 0, LabelSupraventricular: 0, LabelVentricular: 0, LabelUnclassifiable: 0},
		Measurements: rep.Measurements,
		Rhythms:      []ToolRhythm{},
		Findings:     []ToolFinding{},
		Alerts:       []ToolAlert{},
		Critical:     rep.Critical,
		Draft:        true,
		Note:         "Machine pre-read; a doctor must read and sign the ECG. 机器预读结果,须由医生阅读确认。",
		Quality:      map[string]bool{},
	}
	for _, b := range rep.Beats {
		out.BeatCounts[b.Label]++
	}
	for _, l := range rep.Leads {
		out.Quality[l] = true
	}
	for _, f := range rep.Findings {
		if f.Code == "signal_quality" {
			for _, l := range f.Leads {
				out.Quality[l] = false
			}
		}
	}
	for _, e := range rep.Rhythms {
		if len(out.Rhythms) == maxToolItems {
			out.Truncated = true
			break
		}
		out.Rhythms = append(out.Rhythms, ToolRhythm{Type: e.Type, StartS: sec(e.Start), EndS: sec(e.End)})
	}
	for _, f := range rep.Findings {
		if len(out.Findings) == maxToolItems {
			out.Truncated = true
			break
		}
		out.Findings = append(out.Findings, ToolFinding{Code: f.Code, Title: f.Title, TitleZH: f.TitleZH, Severity: f.Severity,
			StartS: sec(f.Start), EndS: sec(f.End), Leads: f.Leads, Value: f.Value, Unit: f.Unit})
	}
	for _, a := range rep.Alerts {
		if len(out.Alerts) == maxToolItems {
			out.Truncated = true
			break
		}
		out.Alerts = append(out.Alerts, ToolAlert{RuleID: a.RuleID, Title: a.Title, StartS: sec(a.Start), EndS: sec(a.End),
			Leads: a.Leads, Values: a.Values, Details: clipRunes(a.Details, maxToolDetailRunes), Source: clipRunes(a.Source, maxToolDetailRunes)})
	}
	return out
}

// clipRunes cuts s to at most n runes, marking the cut with "…".
func clipRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}
