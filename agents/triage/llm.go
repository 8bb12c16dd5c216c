package triage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/clinic"
)

// PromptReview is the prompt the LLM path uses (prompts/triage_review.prompt).
const PromptReview = "triage_review"

// LLM path bounds and defaults.
const (
	DefaultReviewTimeout = 20 * time.Second // whole review, tool calls included
	DefaultReviewSteps   = 4                // model calls per review
	// minSupport is the least knowledge-base probability a department the
	// model proposes must have (unless the engine ranked it itself): the
	// model may reorder and explain, not send a cough to dermatology.
	minSupport = 0.02
)

// AgentConfig configures an Agent.
type AgentConfig struct {
	// Engine is the embedded engine: it asks the questions, sets the
	// acuity floor and red flags, and answers whenever the LLM path fails.
	// Required.
	Engine *Engine
	// Runner calls the model. Nil, or a runner without a model, makes the
	// Agent answer exactly as Engine does (the embedded default).
	Runner *agents.Runner
	// Tools are offered to the model on every review, e.g. rag.search and
	// ecg.analyze; the set is fixed here and nothing a patient writes
	// changes it. Names with a '.' are offered with '_' instead (OpenAI
	// function names allow only letters, digits, '_' and '-').
	Tools []agents.Tool
	// Timeout bounds one review, tool calls included (default
	// DefaultReviewTimeout); a late review falls back to the engine.
	Timeout time.Duration
	// MaxSteps bounds the model calls of one review (default
	// DefaultReviewSteps, at most agents.MaxToolSteps).
	MaxSteps int
	Logger   *slog.Logger
}

// Agent is the triage agent: the embedded engine, plus — when a model is
// configured — an LLM review of each finished session under the rules:
// the acuity can only go up ([clinic.Acuity.Raise]), red flags found by the
// rules are always kept and escalated, departments must come from the
// catalog, admit the patient and have knowledge-base support, and a
// failed, invalid or late review returns the engine's answer with
// Origin.Fallback set. Escalations (acuity I–II red flags) never wait for
// the model. Patient text reaches the model only as quoted data.
//
// An Agent is immutable and safe for concurrent use; like the Engine it
// keeps no per-session state.
type Agent struct {
	eng      *Engine
	runner   *agents.Runner
	tools    []agents.Tool
	names    map[string]string // offered name → configured name
	timeout  time.Duration
	maxSteps int
	valid    *validator.Validate
	log      *slog.Logger
}

// NewAgent returns an Agent for cfg.
func NewAgent(cfg AgentConfig) (*Agent, error) {
	if cfg.Engine == nil {
		return nil, clinic.NewError(clinic.CodeInvalid, "engine", "triage.NewAgent: Engine is required", "分诊智能体缺少规则引擎")
	}
	a := &Agent{eng: cfg.Engine, runner: cfg.Runner, timeout: cfg.Timeout, maxSteps: cfg.MaxSteps,
		valid: agents.NewValidator(), log: cfg.Logger, names: map[string]string{}}
	if a.timeout <= 0 {
		a.timeout = DefaultReviewTimeout
	}
	if a.maxSteps <= 0 {
		a.maxSteps = DefaultReviewSteps
	}
	if a.maxSteps > agents.MaxToolSteps {
		a.maxSteps = agents.MaxToolSteps
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for _, t := range cfg.Tools {
		offered := strings.ReplaceAll(t.Name, ".", "_")
		if _, dup := a.names[offered]; dup {
			return nil, clinic.NewError(clinic.CodeInvalid, "tools", fmt.Sprintf("tool %q given twice", t.Name), "工具"+t.Name+"重复")
		}
		a.names[offered] = t.Name
		t.Name = offered
		a.tools = append(a.tools, t)
	}
	if a.runner != nil && a.runner.HasModel() {
		if _, ok := a.runner.Prompts().Info(PromptReview); !ok {
			return nil, clinic.NewError(clinic.CodeInvalid, "prompts", "the prompt set lacks "+PromptReview, "提示词集合缺少"+PromptReview)
		}
	}
	return a, nil
}

// Engine returns the agent's embedded engine.
func (a *Agent) Engine() *Engine { return a.eng }

// LLM reports whether the agent reviews sessions with a model.
func (a *Agent) LLM() bool { return a.runner != nil && a.runner.HasModel() }

// Start begins a session (see [Engine.Start]); a session that ends at once
// with a recommendation is reviewed.
func (a *Agent) Start(ctx context.Context, in Intake) (Turn, error) {
	t, err := a.eng.Start(ctx, in)
	if err != nil {
		return t, err
	}
	return a.review(ctx, t)
}

// Answer continues a session (see [Engine.Answer]); the final
// recommendation is reviewed.
func (a *Agent) Answer(ctx context.Context, st State, ans Answer) (Turn, error) {
	t, err := a.eng.Answer(ctx, st, ans)
	if err != nil {
		return t, err
	}
	return a.review(ctx, t)
}

// review runs the LLM path on a final recommendation and falls back to
// base. Questions and escalations are returned as they are.
func (a *Agent) review(ctx context.Context, base Turn) (Turn, error) {
	if !a.LLM() || base.Kind != TurnRecommendation || !a.eng.medical(&base.State) {
		return base, nil
	}
	out, oc, err := agents.WithFallback(ctx, a.runner,
		func(ctx context.Context) (Turn, error) { return a.llmTurn(ctx, base) },
		func(context.Context) (Turn, error) { return base, nil },
		agents.WithAgent("triage"))
	if err != nil {
		return Turn{}, clinic.Wrap(err, clinic.CodeUnavailable, "request cancelled", "请求已取消")
	}
	if oc.Fallback {
		out.Origin = Origin{Engine: EngineEmbedded, Fallback: true, Reason: oc.Reason, Model: a.runner.ModelName(),
			Prompt: a.promptRef()}
		if out.Summary != nil {
			s := *out.Summary
			s.Origin = out.Origin
			out.Summary = &s
		}
	}
	return out, nil
}

func (a *Agent) promptRef() string {
	info, _ := a.runner.Prompts().Info(PromptReview)
	return fmt.Sprintf("%s@%d", PromptReview, info.Version)
}

// Review is the model's structured proposal (the output of prompt
// triage_review). It is decoded strictly and validated; the rules then
// decide what of it is used.
type Review struct {
	Departments []ReviewDepartment `json:"departments" validate:"required,min=1,max=3,dive"`
	Acuity      int                `json:"acuity" validate:"required,min=1,max=4"`
	// RedFlags are the rule IDs the model agrees fired.
	RedFlags []string `json:"red_flags" validate:"max=16,dive,required,max=64"`
	ReasonZH string   `json:"reason_zh" validate:"required,max=400"`
	ReasonEN string   `json:"reason_en" validate:"required,max=800"`
}

// ReviewDepartment is one department the model proposes.
type ReviewDepartment struct {
	Code     string `json:"code" validate:"required,max=32"`
	ReasonZH string `json:"reason_zh" validate:"required,max=200"`
	ReasonEN string `json:"reason_en" validate:"required,max=400"`
}

// reviewInput is what the prompt sees (its JSON form).
type reviewInput struct {
	Patient           reviewPatient  `json:"patient"`
	Findings          []reviewFind   `json:"findings"`
	Rules             reviewRules    `json:"rules"`
	EngineDepartments []reviewChoice `json:"engine_departments"`
	Departments       []reviewDept   `json:"departments"`
	Tools             []string       `json:"tools"`
}

type reviewPatient struct {
	Text   string     `json:"text"`
	Age    *int       `json:"age,omitempty"`
	Sex    clinic.Sex `json:"sex,omitempty"`
	Vitals Vitals     `json:"vitals,omitzero"`
}

type reviewFind struct {
	Code         string   `json:"code"`
	NameZH       string   `json:"name_zh"`
	NameEN       string   `json:"name_en"`
	Present      bool     `json:"present"`
	DurationText string   `json:"duration_text"`
	Severity     Severity `json:"severity"`
}

type reviewRules struct {
	Acuity   clinic.Acuity `json:"acuity"`
	RedFlags []reviewFlag  `json:"red_flags"`
}

type reviewFlag struct {
	RuleID  clinic.RuleID `json:"rule_id"`
	TitleZH string        `json:"title_zh"`
	TitleEN string        `json:"title_en"`
	Acuity  clinic.Acuity `json:"acuity"`
}

type reviewChoice struct {
	Code   string  `json:"code"`
	NameZH string  `json:"name_zh"`
	NameEN string  `json:"name_en"`
	P      float64 `json:"p"`
}

type reviewDept struct {
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
}

// quoteData keeps patient text from closing the prompt's data block: angle
// brackets become their full-width forms.
var quoteData = strings.NewReplacer("<", "＜", ">", "＞")

// llmTurn asks the model to review base and applies the rules to its
// proposal.
func (a *Agent) llmTurn(ctx context.Context, base Turn) (Turn, error) {
	e := a.eng
	st := base.State
	p, ev := e.patient(&st)
	as := e.rules.Assess(p)

	in := reviewInput{Patient: reviewPatient{Text: quoteData.Replace(st.Text), Age: st.Age, Sex: st.Sex, Vitals: st.Vitals},
		Rules: reviewRules{Acuity: as.Acuity, RedFlags: []reviewFlag{}}, Findings: []reviewFind{}, Tools: []string{},
		EngineDepartments: []reviewChoice{}, Departments: []reviewDept{}}
	if base.Summary != nil {
		for _, s := range base.Summary.Symptoms {
			in.Findings = append(in.Findings, reviewFind{Code: s.Code, NameZH: s.NameZH, NameEN: s.NameEN,
				Present: s.Present, DurationText: quoteData.Replace(s.DurationText), Severity: s.Severity})
		}
	}
	for _, rf := range as.RedFlags {
		in.Rules.RedFlags = append(in.Rules.RedFlags, reviewFlag{RuleID: rf.RuleID, TitleZH: rf.TitleZH, TitleEN: rf.TitleEN, Acuity: rf.Acuity})
	}
	if base.Recommendation != nil {
		for _, d := range base.Recommendation.Departments {
			in.EngineDepartments = append(in.EngineDepartments, reviewChoice{Code: d.Code, NameZH: d.NameZH, NameEN: d.NameEN,
				P: float64(int(d.P*1000+0.5)) / 1000})
		}
	}
	for _, d := range e.cat.depts {
		if d.Admits(st.Age, st.Sex) && (!d.Emergency || as.Acuity.Emergency()) {
			in.Departments = append(in.Departments, reviewDept{Code: d.Code, NameZH: d.NameZH, NameEN: d.NameEN})
		}
	}
	for _, t := range a.tools {
		in.Tools = append(in.Tools, t.Name)
	}

	msgs, pm, err := a.runner.Prompts().Render(PromptReview, in)
	if err != nil {
		return Turn{}, fmt.Errorf("triage review: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	run, err := agents.RunTools(cctx, a.runner, msgs, a.tools, a.maxSteps, agents.WithAgent("triage"))
	if err != nil {
		if ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return Turn{}, &agents.UnavailableError{PromptID: PromptReview, Reason: agents.ReasonTimeout, Err: err}
		}
		return Turn{}, err
	}
	rv, err := agents.ParseJSON[Review](run.Answer, a.valid)
	if err != nil {
		if oe, ok := errors.AsType[*agents.OutputError](err); ok {
			oe.PromptID, oe.Attempts = PromptReview, run.Meta.Attempts
		}
		return Turn{}, err
	}
	turn, overrides, err := a.apply(st, as, ev, base, rv)
	if err != nil {
		return Turn{}, err
	}
	origin := Origin{Engine: EngineLLM, Model: a.runner.ModelName(), Prompt: fmt.Sprintf("%s@%d", pm.ID, pm.Version), Overrides: overrides}
	for _, c := range run.Calls {
		name := a.names[c.Name]
		if name == "" {
			name = c.Name // an unknown tool: refused by RunTools, still recorded
		}
		origin.Tools = append(origin.Tools, name)
	}
	turn.Origin = origin
	if turn.Summary != nil {
		turn.Summary.Origin = origin
	}
	if len(overrides) > 0 {
		a.log.WarnContext(ctx, "triage: rules overrode the model", "overrides", overrides)
	}
	return turn, nil
}

// apply combines the model's proposal with the rules' assessment as: the
// acuity only goes up, every fired red flag stays, an acuity of I–II
// escalates, and departments must be catalog departments that admit the
// patient and have support. It returns the turn and what the rules
// overrode; a proposal with no usable department is an output error.
func (a *Agent) apply(st State, as Assessment, ev []Evidence, base Turn, rv Review) (Turn, []string, error) {
	e := a.eng
	var overrides []string
	proposed := clinic.Acuity(rv.Acuity)
	final := as.Acuity.Raise(proposed)
	if proposed > as.Acuity {
		overrides = append(overrides, fmt.Sprintf("acuity_kept_at_rules_floor:%s", as.Acuity))
	}
	fired := map[string]bool{}
	for _, rf := range as.RedFlags {
		fired[string(rf.RuleID)] = true
		if !slices.Contains(rv.RedFlags, string(rf.RuleID)) {
			overrides = append(overrides, "red_flag_restored:"+string(rf.RuleID))
		}
	}
	for _, id := range rv.RedFlags {
		if !fired[id] {
			overrides = append(overrides, "red_flag_not_confirmed:"+clip(id, 64))
		}
	}
	assess := Assessment{Acuity: final, RedFlags: as.RedFlags, Escalation: as.Escalation}
	turn := Turn{Acuity: final, RedFlags: as.RedFlags}
	if final <= clinic.AcuityII {
		if assess.Escalation == nil {
			code := "emergency"
			if final == clinic.AcuityI {
				code = "resuscitation"
			}
			if esc, ok := e.rules.Escalation(code); ok {
				assess.Escalation = &esc
			}
		}
		if assess.Escalation != nil {
			return e.escalate(&st, turn, assess), overrides, nil
		}
	}

	post := e.posterior(&st, ev, final)
	ranked := map[string]bool{}
	if base.Recommendation != nil {
		for _, d := range base.Recommendation.Departments {
			ranked[d.Code] = true
		}
	}
	rec := &Recommendation{Emergency: final.Emergency(), Confident: base.Recommendation != nil && base.Recommendation.Confident}
	for _, d := range rv.Departments {
		dep, ok := e.cat.Lookup(d.Code)
		if !ok {
			overrides = append(overrides, "department_unknown:"+clip(d.Code, 32))
			continue
		}
		i := e.cat.index(dep.Code)
		switch {
		case slices.ContainsFunc(rec.Departments, func(c DepartmentChoice) bool { return c.Code == dep.Code }):
			continue
		case post[i] == 0:
			overrides = append(overrides, "department_not_admitted:"+dep.Code)
			continue
		case post[i] < minSupport && !ranked[dep.Code]:
			overrides = append(overrides, "department_unsupported:"+dep.Code)
			continue
		}
		rec.Departments = append(rec.Departments, DepartmentChoice{Department: dep, P: post[i], ReasonZH: d.ReasonZH, ReasonEN: d.ReasonEN})
	}
	if len(rec.Departments) == 0 {
		return Turn{}, nil, &agents.OutputError{PromptID: PromptReview, Attempts: 1,
			Problems: append([]string{"no proposed department is usable"}, overrides...)}
	}
	rec.NoteZH, rec.NoteEN = rv.ReasonZH, rv.ReasonEN
	if rec.Emergency {
		if ed := e.cat.EmergencyDepartment(); rec.Departments[0].Code != ed.Code {
			rec.Departments = append([]DepartmentChoice{{Department: ed, P: 1,
				ReasonZH: "病情分级为" + final.String() + "级(" + final.NameZH() + ")，需急诊处理",
				ReasonEN: "Acuity level " + final.String() + ": needs the emergency department"}}, rec.Departments...)
			if len(rec.Departments) > 3 {
				rec.Departments = rec.Departments[:3]
			}
		}
		rec.NoteZH, rec.NoteEN = "请先到急诊科分诊台。"+rv.ReasonZH, "Go to the emergency triage desk first. "+rv.ReasonEN
	}
	turn.Kind = TurnRecommendation
	turn.Recommendation = rec
	st.Done, st.Pending = true, ""
	turn.State = st
	s := e.summarize(&st, assess, rec)
	turn.Summary = &s
	return turn, overrides, nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
