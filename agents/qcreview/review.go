package qcreview

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/rag"
)

// PromptID is the prompt of the LLM path.
const PromptID = "qcreview_content"

// Check is one content check; its ID is the RuleID of its findings.
type Check string

// Checks. IDs are append-only.
const (
	CheckComplaintUnexplained Check = "QCR-001"
	CheckDiagnosisUnsupported Check = "QCR-002"
	CheckPlanMissing          Check = "QCR-003"
)

type checkInfo struct {
	name             string // the name the prompt uses
	titleZH, titleEN string
	query            string // guideline search text
	descriptionZHEN  string
	defaultBasis     string
	severity         clinic.Severity
}

var checks = map[Check]checkInfo{
	CheckComplaintUnexplained: {name: "complaint_unexplained", titleZH: "现病史未围绕主诉", titleEN: "Present illness does not explain the chief complaint",
		query: "现病史 围绕主诉 发病情况 主要症状特点及其发展变化情况", descriptionZHEN: "现病史未围绕主诉书写 / the present illness does not explain the chief complaint",
		defaultBasis: "病历书写基本规范 第十九条（三）现病史", severity: clinic.SeverityMinor},
	CheckDiagnosisUnsupported: {name: "diagnosis_unsupported", titleZH: "诊断缺乏依据", titleEN: "Diagnosis without supporting findings",
		query: "首次病程记录 诊断依据 病例特点 鉴别诊断", descriptionZHEN: "诊断缺乏病史、查体或检查依据 / a diagnosis without supporting findings",
		defaultBasis: "病历书写基本规范 第二十二条（一）诊断依据", severity: clinic.SeverityMinor},
	CheckPlanMissing: {name: "plan_missing", titleZH: "异常结果未见处理", titleEN: "Abnormal result without a plan",
		query: "日常病程记录 异常 检查结果 分析 处理意见", descriptionZHEN: "异常检查结果未见分析处理 / an abnormal result with no plan",
		defaultBasis: "病历书写基本规范 第二十二条（二）日常病程记录", severity: clinic.SeverityMinor},
}

func checkByName(name string) (Check, bool) {
	for c, ci := range checks {
		if ci.name == name {
			return c, true
		}
	}
	return "", false
}

// Searcher finds guideline passages; *rag.Retriever implements it.
type Searcher interface {
	Search(ctx context.Context, q rag.Query) ([]rag.Hit, error)
}

// Config holds a Reviewer's dependencies.
type Config struct {
	// Runner calls the model; nil (or a runner without a model) runs the
	// built-in heuristics only.
	Runner *agents.Runner
	// Search cites guideline chunks; nil leaves findings without
	// guideline sources (and says so in Review.Notes).
	Search Searcher
	// Collection restricts citations to one guideline collection ("" = all).
	Collection string
	// K is how many chunks each finding cites (default 2, at most 5).
	K      int
	Logger *slog.Logger
}

// Reviewer runs the content checks. It is immutable and safe for
// concurrent use.
type Reviewer struct {
	cfg Config
	kb  *kb
	log *slog.Logger
}

// New returns a Reviewer with the embedded vocabulary.
func New(cfg Config) (*Reviewer, error) {
	k, err := loadKB(contentYAML)
	if err != nil {
		return nil, err
	}
	if cfg.K <= 0 {
		cfg.K = 2
	}
	if cfg.K > 5 {
		return nil, clinic.NewError(clinic.CodeInvalid, "k", "qcreview: K must be at most 5", "引用条数不能超过 5")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reviewer{cfg: cfg, kb: k, log: log}, nil
}

// Engine names what produced a review.
const (
	EngineEmbedded = "embedded"
	EngineLLM      = "llm"
)

// Review is the agent's answer for one record. Findings are suggestions:
// Suggestion is set, Points and Veto are zero.
type Review struct {
	RecordID string           `json:"record_id"`
	Findings []clinic.Finding `json:"findings"`
	// Engine is "llm" or "embedded"; Fallback is set when an LLM was
	// configured but the built-in engine answered, with the reason.
	Engine         string   `json:"engine"`
	Fallback       bool     `json:"fallback,omitempty"`
	FallbackReason string   `json:"fallback_reason,omitempty"`
	Model          string   `json:"model,omitempty"`
	Prompt         string   `json:"prompt,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

// maxRecordRunes bounds the text sent to the model.
const maxRecordRunes = 12000

// Review checks rec. It fails only when ctx ends; a model failure falls
// back to the heuristics and a search failure leaves findings uncited.
func (r *Reviewer) Review(ctx context.Context, rec *qc.Record) (Review, error) {
	out := Review{RecordID: rec.ID, Engine: EngineEmbedded}
	builtin := func(context.Context) ([]draft, error) { return r.heuristics(rec), nil }
	var drafts []draft
	if r.cfg.Runner != nil && r.cfg.Runner.HasModel() {
		info, _ := r.cfg.Runner.Prompts().Info(PromptID)
		out.Model, out.Prompt = r.cfg.Runner.ModelName(), fmt.Sprintf("%s@%d", PromptID, info.Version)
		ds, oc, err := agents.WithFallback(ctx, r.cfg.Runner, func(ctx context.Context) ([]draft, error) { return r.llm(ctx, rec) },
			builtin, agents.WithAgent("qcreview"))
		if err != nil {
			return Review{}, clinic.Wrap(err, clinic.CodeUnavailable, "qc review cancelled", "质控审查已取消")
		}
		drafts = ds
		if oc.Fallback {
			out.Fallback, out.FallbackReason = true, oc.Reason
		} else {
			out.Engine = EngineLLM
		}
	} else {
		if err := ctx.Err(); err != nil {
			return Review{}, clinic.Wrap(err, clinic.CodeUnavailable, "qc review cancelled", "质控审查已取消")
		}
		drafts, _ = builtin(ctx)
	}
	out.Findings = make([]clinic.Finding, 0, len(drafts))
	cache := map[Check][]clinic.Source{}
	uncited := false
	for _, d := range drafts {
		ci := checks[d.check]
		srcs, ok := cache[d.check]
		if !ok {
			var err error
			srcs, err = r.cite(ctx, ci.query)
			if err != nil {
				r.log.WarnContext(ctx, "qcreview: guideline search failed", "err", err)
			}
			cache[d.check] = srcs
		}
		if len(srcs) == 0 {
			uncited = true
		}
		basis := d.basis
		if basis == "" {
			basis = ci.defaultBasis
		}
		f := clinic.Finding{
			RuleID: clinic.RuleID(d.check), Title: ci.titleZH + " / " + ci.titleEN, Severity: ci.severity,
			Message:    d.messageZH + " / " + d.messageEN,
			Location:   d.loc,
			Sources:    append([]clinic.Source{{Kind: clinic.SourceRule, ID: string(d.check), Quote: basis}}, srcs...),
			Suggestion: true,
		}
		out.Findings = append(out.Findings, f)
	}
	if uncited {
		out.Notes = append(out.Notes, "部分建议未检索到指南依据 / some suggestions have no guideline passage (search unavailable or no match)")
	}
	return out, nil
}

// cite searches the guideline store and returns up to K chunk sources.
func (r *Reviewer) cite(ctx context.Context, query string) ([]clinic.Source, error) {
	if r.cfg.Search == nil {
		return nil, nil
	}
	hits, err := r.cfg.Search.Search(ctx, rag.Query{Text: query, Collection: r.cfg.Collection, K: r.cfg.K})
	if err != nil {
		return nil, err
	}
	out := make([]clinic.Source, 0, len(hits))
	for _, h := range hits[:min(len(hits), r.cfg.K)] {
		out = append(out, clinic.Source{Kind: clinic.SourceGuideline, ID: h.ChunkID, Quote: h.Citation() + "：" + clip(h.Text, 160)})
	}
	return out, nil
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// heuristics runs the built-in checks.
func (r *Reviewer) heuristics(rec *qc.Record) []draft {
	var out []draft
	out = append(out, r.kb.complaintUnexplained(rec)...)
	out = append(out, r.kb.diagnosisUnsupported(rec)...)
	out = append(out, r.kb.planMissing(rec)...)
	return out
}

// promptSection is one section as the prompt shows it.
type promptSection struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

type promptCheck struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type promptInput struct {
	RecordType string          `json:"record_type"`
	Sections   []promptSection `json:"sections"`
	Checks     []promptCheck   `json:"checks"`
}

// LLMFinding is one finding of the model's reply.
type LLMFinding struct {
	Check     string `json:"check" validate:"required,oneof=complaint_unexplained diagnosis_unsupported plan_missing"`
	Section   string `json:"section" validate:"required,max=64"`
	Quote     string `json:"quote" validate:"required,max=200"`
	MessageZH string `json:"message_zh" validate:"required,max=400"`
	MessageEN string `json:"message_en" validate:"required,max=400"`
}

// LLMOutput is the structured output of prompt qcreview_content.
type LLMOutput struct {
	Findings []LLMFinding `json:"findings" validate:"max=20,dive"`
}

// sectionsFor lists the record's sections in the qc order, progress notes
// as "progress_notes/i", bounded in total length.
func sectionsFor(rec *qc.Record) []promptSection {
	var out []promptSection
	budget := maxRecordRunes
	add := func(key, title, text string) {
		if strings.TrimSpace(text) == "" || budget <= 0 {
			return
		}
		text = clip(text, budget)
		budget -= utf8.RuneCountInString(text)
		out = append(out, promptSection{Key: key, Title: title, Text: text})
	}
	for _, s := range qc.KnownSections() {
		add(s.Key, s.TitleZH, rec.Sections[s.Key])
	}
	for i, n := range rec.ProgressNotes {
		add(fmt.Sprintf("%s/%d", qc.ProgressSection, i), fmt.Sprintf("病程记录 %d", i+1), n.Text)
	}
	return out
}

// llm asks the model and checks its reply against the record: every
// finding must name a section it was shown and quote that section's text
// exactly. Anything else is invalid output (the fallback then answers).
func (r *Reviewer) llm(ctx context.Context, rec *qc.Record) ([]draft, error) {
	secs := sectionsFor(rec)
	in := promptInput{RecordType: string(rec.Type), Sections: secs}
	for _, c := range []Check{CheckComplaintUnexplained, CheckDiagnosisUnsupported, CheckPlanMissing} {
		in.Checks = append(in.Checks, promptCheck{Name: checks[c].name, Description: checks[c].descriptionZHEN})
	}
	reply, _, err := agents.Decode[LLMOutput](ctx, r.cfg.Runner, PromptID, in, agents.WithAgent("qcreview"))
	if err != nil {
		return nil, err
	}
	var out []draft
	var problems []string
	for i, f := range reply.Findings {
		c, _ := checkByName(f.Check) // oneof validated
		j := slices.IndexFunc(secs, func(s promptSection) bool { return s.Key == f.Section })
		if j < 0 {
			problems = append(problems, fmt.Sprintf("findings[%d].section %q is not a section of the record", i, f.Section))
			continue
		}
		text := rec.Sections[f.Section]
		if strings.HasPrefix(f.Section, qc.ProgressSection+"/") {
			text = secs[j].Text
		}
		at := strings.Index(text, f.Quote)
		if at < 0 {
			problems = append(problems, fmt.Sprintf("findings[%d].quote is not in section %s", i, f.Section))
			continue
		}
		out = append(out, draft{check: c, loc: runeLoc(f.Section, text, at, at+len(f.Quote)), messageZH: f.MessageZH, messageEN: f.MessageEN})
	}
	if len(problems) > 0 {
		return nil, &agents.OutputError{PromptID: PromptID, Attempts: 1, Problems: problems}
	}
	return out, nil
}
