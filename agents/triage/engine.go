package triage

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"github.com/yizhu-health/yizhu/clinic"
)

// Config configures an Engine. Nil data take the embedded defaults; a
// hospital's own catalog, lexicon, rules or KB must be consistent with each
// other (New checks).
type Config struct {
	Catalog *Catalog
	Lexicon *Lexicon
	Rules   *Rules
	KB      *KB
	// Router, when set, is blended with the KB: P = (1-w)·P_kb + w·P_router
	// with w = RouterWeight (default 0.5). Every router label must name a
	// catalog department (code, name or alias).
	Router       *Router
	RouterWeight float64
	// MaxQuestions caps the follow-up questions of a session (default and
	// maximum 5).
	MaxQuestions int
	// Confidence is the top department probability at which questions stop
	// (default 0.75); MinGain the least expected information gain, in
	// bits, worth a question (default 0.05).
	Confidence float64
	MinGain    float64
	Logger     *slog.Logger
	Clock      func() time.Time
}

// Engine is the embedded triage engine. It keeps no per-session state:
// every turn carries a [State] that the caller stores and hands back. It is
// safe for concurrent use.
type Engine struct {
	cat      *Catalog
	lex      *Lexicon
	rules    *Rules
	kb       *KB
	router   *Router
	routerIx []int // catalog index per router label
	w        float64
	maxQ     int
	conf     float64
	minGain  float64
	log      *slog.Logger
	now      func() time.Time
	valid    *validator.Validate
}

// New returns an engine for cfg.
func New(cfg Config) (*Engine, error) {
	e := &Engine{cat: cfg.Catalog, lex: cfg.Lexicon, rules: cfg.Rules, kb: cfg.KB, router: cfg.Router,
		w: cfg.RouterWeight, maxQ: cfg.MaxQuestions, conf: cfg.Confidence, minGain: cfg.MinGain, log: cfg.Logger, now: cfg.Clock}
	if e.cat == nil {
		e.cat = DefaultCatalog()
	}
	if e.lex == nil {
		e.lex = DefaultLexicon()
	}
	var err error
	if e.rules == nil {
		if e.rules, err = LoadRules(mustEmbedded("kb/acuity.yaml"), e.lex, e.cat); err != nil {
			return nil, fmt.Errorf("triage.New: default rules: %w", err)
		}
	}
	if e.kb == nil {
		if e.kb, err = LoadKB(mustEmbedded("kb/kb.yaml"), e.cat, e.lex); err != nil {
			return nil, fmt.Errorf("triage.New: default knowledge base: %w", err)
		}
	}
	if e.kb.cat != e.cat || e.kb.lex != e.lex {
		return nil, clinic.NewError(clinic.CodeInvalid, "kb", "the knowledge base was loaded for another catalog or lexicon", "知识库与科室目录或词表不匹配")
	}
	if e.router != nil {
		for _, l := range e.router.labels {
			d, ok := e.cat.Lookup(l)
			if !ok {
				return nil, clinic.NewError(clinic.CodeInvalid, "router", fmt.Sprintf("router label %q is not a catalog department", l), "模型科室"+l+"不在科室目录中")
			}
			e.routerIx = append(e.routerIx, e.cat.index(d.Code))
		}
		if e.w == 0 {
			e.w = 0.5
		}
		if e.w < 0 || e.w > 1 {
			return nil, clinic.NewError(clinic.CodeInvalid, "router_weight", "router weight must be within 0–1", "模型权重须在0到1之间")
		}
	}
	if e.maxQ <= 0 || e.maxQ > 5 {
		e.maxQ = 5
	}
	if e.conf <= 0 || e.conf > 1 {
		e.conf = 0.75
	}
	if e.minGain <= 0 {
		e.minGain = 0.05
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.valid = newValidator()
	return e, nil
}

// Catalog returns the engine's department catalog.
func (e *Engine) Catalog() *Catalog { return e.cat }

// Lexicon returns the engine's lexicon.
func (e *Engine) Lexicon() *Lexicon { return e.lex }

// Rules returns the engine's acuity rules.
func (e *Engine) Rules() *Rules { return e.rules }

// Intake is what a patient gives at the start of a session.
type Intake struct {
	Text   string     `json:"text"`
	Age    *int       `json:"age,omitempty" validate:"omitempty,min=0,max=150"`
	Sex    clinic.Sex `json:"sex,omitempty" validate:"omitempty,oneof=M F U"`
	Vitals Vitals     `json:"vitals,omitzero"`
}

// TurnKind says what a turn asks of the patient.
type TurnKind string

// Turn kinds (also the SSE event names).
const (
	TurnQuestion       TurnKind = "question"
	TurnRecommendation TurnKind = "recommendation"
	TurnEscalation     TurnKind = "escalation"
)

// QuestionRephrase is the ID of the request to describe the problem again.
const QuestionRephrase = "rephrase"

// Answer choices.
const (
	ChoiceYes    = "yes"
	ChoiceNo     = "no"
	ChoiceUnsure = "unsure"
)

// Question is a follow-up question. Finding questions take a choice
// (yes/no/unsure) and optional text; the rephrase request takes text.
type Question struct {
	ID      string   `json:"id"`
	Finding string   `json:"finding,omitempty"`
	TextZH  string   `json:"text_zh"`
	TextEN  string   `json:"text_en"`
	Options []string `json:"options,omitempty"`
	// Safety marks a red-flag screening question (asked before routing
	// questions).
	Safety bool `json:"safety,omitempty"`
}

// DepartmentChoice is one recommended department with its probability and
// a short reason.
type DepartmentChoice struct {
	Department
	P        float64 `json:"p"`
	ReasonZH string  `json:"reason_zh"`
	ReasonEN string  `json:"reason_en"`
}

// Recommendation is the end of a session without escalation.
type Recommendation struct {
	// Departments holds up to three choices, best first.
	Departments []DepartmentChoice `json:"departments"`
	// Emergency is set for acuity III: go to the emergency department.
	Emergency bool `json:"emergency,omitempty"`
	// Confident is false when the engine could not tell (the patient
	// should confirm at the help desk, 导诊台).
	Confident bool   `json:"confident"`
	NoteZH    string `json:"note_zh,omitempty"`
	NoteEN    string `json:"note_en,omitempty"`
}

// Turn is the engine's reply: a question, a recommendation or an
// escalation, with the acuity so far and the session state to hand back.
type Turn struct {
	Kind           TurnKind        `json:"kind"`
	Question       *Question       `json:"question,omitempty"`
	Recommendation *Recommendation `json:"recommendation,omitempty"`
	Escalation     *Escalation     `json:"escalation,omitempty"`
	Acuity         clinic.Acuity   `json:"acuity"`
	RedFlags       []RedFlag       `json:"red_flags,omitempty"`
	// Summary is set on the last turn (recommendation or escalation).
	Summary *Summary `json:"summary,omitempty"`
	// Origin says which path produced the turn (embedded engine or LLM,
	// and whether the LLM path fell back).
	Origin Origin `json:"origin"`
	State  State  `json:"state,omitzero"`
}

// Answer is the patient's reply to a question.
type Answer struct {
	QuestionID string `json:"question_id"`
	Choice     string `json:"choice,omitempty"`
	Text       string `json:"text,omitempty"`
}

// State is a session's whole state. It is small, plain data (JSON) that
// the caller keeps between turns.
type State struct {
	Version int        `json:"v"`
	Age     *int       `json:"age,omitempty"`
	Sex     clinic.Sex `json:"sex,omitempty"`
	Vitals  Vitals     `json:"vitals,omitzero"`
	// Text is the patient's own words so far (bounded).
	Text     string    `json:"text,omitempty"`
	Mentions []Mention `json:"mentions,omitempty"`
	// Asked lists the findings asked about; Pending is the open question
	// ("" when none, QuestionRephrase or a finding code).
	Asked     []string `json:"asked,omitempty"`
	Pending   string   `json:"pending,omitempty"`
	Rephrases int      `json:"rephrases,omitempty"`
	// TooLong is set when the latest text exceeded the length bound: only
	// its beginning was read (and screened for red flags).
	TooLong   bool      `json:"too_long,omitempty"`
	Done      bool      `json:"done,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

// Session bounds.
const (
	stateVersion   = 1
	maxStateText   = 600 // runes of patient text kept
	maxMentions    = 200
	maxRephrases   = 2
	maxAnswerBytes = 64 << 10
)

// Start begins a session. Bad structured input (age, sex, vitals out of
// range) is an error (code invalid); bad text is not: it gets a request to
// rephrase.
func (e *Engine) Start(ctx context.Context, in Intake) (Turn, error) {
	if err := ctx.Err(); err != nil {
		return Turn{}, clinic.Wrap(err, clinic.CodeUnavailable, "request cancelled", "请求已取消")
	}
	if err := e.valid.Struct(in); err != nil {
		return Turn{}, clinic.Wrap(err, clinic.CodeInvalid, "invalid intake", "登记信息无效")
	}
	st := State{Version: stateVersion, Age: in.Age, Sex: in.Sex, Vitals: in.Vitals, StartedAt: e.now()}
	e.addText(&st, in.Text)
	return e.next(&st), nil
}

// Answer continues a session with the patient's answer to the pending
// question. A finished session or an answer to another question is an
// error (code conflict); a malformed state is invalid.
func (e *Engine) Answer(ctx context.Context, st State, a Answer) (Turn, error) {
	if err := ctx.Err(); err != nil {
		return Turn{}, clinic.Wrap(err, clinic.CodeUnavailable, "request cancelled", "请求已取消")
	}
	if err := e.checkState(st); err != nil {
		return Turn{}, err
	}
	if st.Done {
		return Turn{}, clinic.NewError(clinic.CodeConflict, "state", "the session is finished", "本次分诊已结束")
	}
	if st.Pending == "" || a.QuestionID != st.Pending {
		return Turn{}, clinic.NewError(clinic.CodeConflict, "question_id", "the answer is not for the open question", "回答与当前问题不符")
	}
	if len(a.Text) > maxAnswerBytes {
		a.Text = a.Text[:maxAnswerBytes]
	}
	st.Mentions = slices.Clone(st.Mentions)
	st.Asked = slices.Clone(st.Asked)
	pending := st.Pending
	st.Pending = ""
	if pending == QuestionRephrase {
		st.Rephrases++
		e.addText(&st, a.Text)
		return e.next(&st), nil
	}
	choice := a.Choice
	if choice == "" {
		choice = choiceFromText(a.Text)
	}
	switch choice {
	case ChoiceYes, ChoiceNo, ChoiceUnsure, "":
	default:
		return Turn{}, clinic.NewError(clinic.CodeInvalid, "choice", "choice must be yes, no or unsure", "选项须为是、否或不确定")
	}
	if choice == ChoiceYes || choice == ChoiceNo {
		f, _ := e.lex.Finding(pending)
		m := Mention{Code: pending, Negated: choice == ChoiceNo, Text: "answer:" + choice, Site: f.Site}
		st.Mentions = append(st.Mentions, m)
	}
	if strings.TrimSpace(a.Text) != "" && choiceFromText(a.Text) == "" {
		e.addText(&st, a.Text)
	}
	return e.next(&st), nil
}

// choiceFromText reads a bare yes/no answer ("是", "没有", "yes", "no").
func choiceFromText(s string) string {
	s = strings.Trim(normalize(s), " .!?。！？~")
	switch s {
	case "是", "是的", "有", "有的", "对", "对的", "嗯", "会", "yes", "y", "yeah", "yep":
		return ChoiceYes
	case "否", "不是", "没有", "无", "没", "不", "不会", "no", "n", "nope", "none":
		return ChoiceNo
	case "不知道", "不确定", "不清楚", "说不好", "unsure", "not sure", "don't know", "dont know":
		return ChoiceUnsure
	}
	return ""
}

func (e *Engine) checkState(st State) error {
	bad := func(msg string) error {
		return clinic.NewError(clinic.CodeInvalid, "state", "invalid session state: "+msg, "会话状态无效")
	}
	switch {
	case st.Version != stateVersion:
		return bad(fmt.Sprintf("version %d", st.Version))
	case len(st.Mentions) > maxMentions+50 || len(st.Asked) > 5 || utf8.RuneCountInString(st.Text) > maxStateText+1:
		return bad("too large")
	case st.Rephrases > maxRephrases:
		return bad("too many rephrase requests")
	}
	if err := e.valid.Struct(Intake{Age: st.Age, Sex: st.Sex, Vitals: st.Vitals}); err != nil {
		return bad("patient fields out of range")
	}
	for _, m := range st.Mentions {
		if _, ok := e.lex.Finding(m.Code); !ok {
			return bad("unknown finding " + m.Code)
		}
	}
	if st.Pending != "" && st.Pending != QuestionRephrase {
		if f, ok := e.lex.Finding(st.Pending); !ok || f.AskZH == "" {
			return bad("unknown pending question")
		}
	}
	return nil
}

// addText extracts findings and vitals from the patient's text into st.
func (e *Engine) addText(st *State, text string) {
	st.TooLong = utf8.RuneCountInString(text) > maxTextRunes
	x := e.lex.Extract(text)
	st.Vitals = st.Vitals.merge(x.Vitals)
	room := maxMentions - len(st.Mentions)
	if room > 0 {
		if len(x.Mentions) > room {
			x.Mentions = x.Mentions[:room]
		}
		st.Mentions = append(st.Mentions, x.Mentions...)
	}
	if t := strings.TrimSpace(text); t != "" && x.Medical(e.lex) {
		if st.Text != "" {
			t = st.Text + " / " + t
		}
		if utf8.RuneCountInString(t) > maxStateText {
			t = string([]rune(t)[:maxStateText])
		}
		st.Text = t
	}
}

// patient builds the rules' view of a state: the latest word on each
// finding wins (an answer "no" after "胸痛" in the text negates it).
func (e *Engine) patient(st *State) (Patient, []Evidence) {
	p := Patient{Age: st.Age, Sex: st.Sex, Vitals: st.Vitals, Findings: map[string]Mention{}}
	last := map[string]int{}
	for i, m := range st.Mentions {
		last[m.Code] = i
	}
	var ev []Evidence
	for i, m := range st.Mentions {
		if last[m.Code] != i {
			continue
		}
		ev = append(ev, Evidence{Code: m.Code, Present: !m.Negated})
		if !m.Negated {
			// keep the strongest modifiers seen for the finding
			for _, o := range st.Mentions {
				if o.Code == m.Code && !o.Negated {
					if severityRank(o.Severity) > severityRank(m.Severity) {
						m.Severity = o.Severity
					}
					m.Sudden = m.Sudden || o.Sudden
					if m.Duration == 0 {
						m.Duration, m.DurationText = o.Duration, o.DurationText
					}
				}
			}
			p.Findings[m.Code] = m
		}
	}
	return p, ev
}

func (e *Engine) known(st *State, code string) bool {
	if slices.Contains(st.Asked, code) {
		return true
	}
	for _, m := range st.Mentions {
		if m.Code == code {
			return true
		}
	}
	return false
}

func (e *Engine) medical(st *State) bool {
	for _, m := range st.Mentions {
		if f, ok := e.lex.Finding(m.Code); ok && f.Medical() {
			return true
		}
	}
	return st.Vitals != (Vitals{})
}

// next decides the next turn from st and records it in st.
func (e *Engine) next(st *State) Turn {
	p, ev := e.patient(st)
	a := e.rules.Assess(p)
	turn := Turn{Acuity: a.Acuity, RedFlags: a.RedFlags, Origin: Origin{Engine: EngineEmbedded}}
	if a.Acuity <= clinic.AcuityII && a.Escalation != nil {
		return e.escalate(st, turn, a)
	}
	if st.TooLong && st.Rephrases < maxRephrases {
		st.Pending = QuestionRephrase
		turn.Kind = TurnQuestion
		turn.Question = &Question{
			ID:     QuestionRephrase,
			TextZH: "您的描述较长，请用一两句话简要说明最主要的不舒服和持续时间，例如“胸口痛两小时”。",
			TextEN: "Your description is long. Please tell us in one or two sentences the main problem and how long it has lasted, for example \"chest pain for two hours\".",
		}
		turn.State = *st
		return turn
	}
	if !e.medical(st) {
		if st.Rephrases < maxRephrases {
			st.Pending = QuestionRephrase
			turn.Kind = TurnQuestion
			turn.Question = &Question{
				ID:     QuestionRephrase,
				TextZH: "抱歉，我没能理解您的情况。请用简单的话描述哪里不舒服、持续多久了，例如“胸口痛两小时”或“咳嗽三天”。",
				TextEN: "Sorry, I could not understand. Please describe in simple words what is wrong and for how long, for example \"chest pain for two hours\" or \"cough for three days\".",
			}
			turn.State = *st
			return turn
		}
		return e.recommend(st, turn, a, nil, ev)
	}
	if len(st.Asked) < e.maxQ {
		skip := func(c string) bool { return e.known(st, c) }
		for _, c := range e.rules.screening(p, a.Acuity, skip) {
			if f, ok := e.lex.Finding(c); ok && f.AskZH != "" {
				return e.ask(st, turn, f, true)
			}
		}
		if a.Escalation == nil {
			post := e.posterior(st, ev, a.Acuity)
			if top := topK(post, 1); len(top) == 1 && post[top[0]] < e.conf {
				if c, gain := e.kb.bestQuestion(post, skip); c != "" && gain >= e.minGain {
					f, _ := e.lex.Finding(c)
					return e.ask(st, turn, f, false)
				}
			}
		}
	}
	if a.Escalation != nil {
		return e.escalate(st, turn, a)
	}
	return e.recommend(st, turn, a, e.posterior(st, ev, a.Acuity), ev)
}

func (e *Engine) ask(st *State, turn Turn, f FindingDef, safety bool) Turn {
	st.Pending = f.Code
	st.Asked = append(st.Asked, f.Code)
	turn.Kind = TurnQuestion
	turn.Question = &Question{ID: f.Code, Finding: f.Code, TextZH: f.AskZH, TextEN: f.AskEN,
		Options: []string{ChoiceYes, ChoiceNo, ChoiceUnsure}, Safety: safety}
	turn.State = *st
	return turn
}

func (e *Engine) escalate(st *State, turn Turn, a Assessment) Turn {
	st.Done, st.Pending = true, ""
	turn.Kind = TurnEscalation
	turn.Escalation = a.Escalation
	turn.State = *st
	s := e.summarize(st, a, nil)
	turn.Summary = &s
	e.log.Info("triage escalation", "acuity", a.Acuity.String(), "escalation", a.Escalation.Code, "red_flags", len(a.RedFlags))
	return turn
}

// posterior returns the department distribution for st: KB (blended with
// the router when configured), restricted to departments that admit the
// patient (children's mass moves to the department that sees them), the
// emergency department only at acuity I–III.
func (e *Engine) posterior(st *State, ev []Evidence, acuity clinic.Acuity) []float64 {
	post := e.kb.Posterior(ev, nil)
	if e.router != nil && st.Text != "" {
		rp := e.router.Predict(st.Text)
		mix := make([]float64, len(post))
		for _, ls := range rp {
			for li, l := range e.router.labels {
				if l == ls.Label {
					mix[e.routerIx[li]] += ls.P
				}
			}
		}
		for i := range post {
			post[i] = (1-e.w)*post[i] + e.w*mix[i]
		}
	}
	return e.constrain(post, st.Age, st.Sex, acuity)
}

// constrain applies the catalog's age and sex bounds to p (in place) and
// renormalizes it.
func (e *Engine) constrain(p []float64, age *int, sex clinic.Sex, acuity clinic.Acuity) []float64 {
	for i, d := range e.cat.depts {
		if d.Emergency && !acuity.Emergency() {
			p[i] = 0
			continue
		}
		if d.Admits(age, sex) {
			continue
		}
		if d.ChildCode != "" {
			if j := e.cat.index(d.ChildCode); j >= 0 && e.cat.depts[j].Admits(age, sex) {
				p[j] += p[i]
			}
		}
		p[i] = 0
	}
	var sum float64
	for _, x := range p {
		sum += x
	}
	if sum > 0 {
		for i := range p {
			p[i] /= sum
		}
	}
	return p
}

func (e *Engine) recommend(st *State, turn Turn, a Assessment, post []float64, ev []Evidence) Turn {
	st.Done, st.Pending = true, ""
	turn.Kind = TurnRecommendation
	rec := &Recommendation{Emergency: a.Acuity.Emergency()}
	if post == nil {
		// Nothing medical after the rephrase requests: no guess.
		gim, ok := e.cat.Lookup("GIM")
		if !ok {
			gim = e.cat.depts[0]
		}
		rec.Departments = []DepartmentChoice{{Department: gim, ReasonZH: "未能识别症状，请到导诊台由护士协助分诊", ReasonEN: "No symptoms recognised; please ask the nurse at the help desk"}}
		rec.NoteZH, rec.NoteEN = "请到导诊台咨询护士。", "Please ask the nurse at the help desk."
	} else {
		rec.Departments = e.choices(post, ev, 3)
		rec.Confident = len(rec.Departments) > 0 && rec.Departments[0].P >= e.conf
		if rec.Emergency {
			ed := e.cat.EmergencyDepartment()
			if len(rec.Departments) == 0 || rec.Departments[0].Code != ed.Code {
				rec.Departments = append([]DepartmentChoice{{Department: ed, P: 1,
					ReasonZH: "病情分级为" + a.Acuity.String() + "级(" + a.Acuity.NameZH() + ")，需急诊处理",
					ReasonEN: "Acuity level " + a.Acuity.String() + ": needs the emergency department"}}, rec.Departments...)
				if len(rec.Departments) > 3 {
					rec.Departments = rec.Departments[:3]
				}
			}
			rec.NoteZH, rec.NoteEN = "请先到急诊科分诊台。", "Go to the emergency triage desk first."
		} else if !rec.Confident {
			rec.NoteZH, rec.NoteEN = "推荐仅供参考，如不确定请咨询导诊台。", "This is a suggestion; if unsure, ask the help desk."
		}
	}
	turn.Recommendation = rec
	turn.State = *st
	s := e.summarize(st, a, rec)
	turn.Summary = &s
	return turn
}

func (e *Engine) choices(post []float64, ev []Evidence, k int) []DepartmentChoice {
	var out []DepartmentChoice
	for _, i := range topK(post, k) {
		d := e.cat.depts[i]
		var zh, en []string
		for _, c := range e.kb.contributions(ev, i, 2) {
			f, _ := e.lex.Finding(c)
			zh = append(zh, f.NameZH)
			en = append(en, f.NameEN)
		}
		ch := DepartmentChoice{Department: d, P: post[i]}
		if len(zh) > 0 {
			ch.ReasonZH = "依据：" + strings.Join(zh, "、")
			ch.ReasonEN = "Based on: " + strings.Join(en, ", ")
		} else {
			ch.ReasonZH = "依据：常见就诊分布"
			ch.ReasonEN = "Based on: usual visit patterns"
		}
		if e.router != nil {
			ch.ReasonZH += "；参考本院历史挂号"
			ch.ReasonEN += "; similar past registrations here"
		}
		out = append(out, ch)
	}
	return out
}

// SummarySymptom is one finding of the pre-consultation summary.
type SummarySymptom struct {
	Code         string        `json:"code"`
	NameZH       string        `json:"name_zh"`
	NameEN       string        `json:"name_en"`
	Kind         string        `json:"kind"`
	Present      bool          `json:"present"`
	Duration     time.Duration `json:"duration,omitempty"`
	DurationText string        `json:"duration_text,omitempty"`
	Severity     Severity      `json:"severity,omitempty"`
	Sudden       bool          `json:"sudden,omitempty"`
	Site         string        `json:"site,omitempty"`
	// Source is "text" (the patient's words) or "answer" (a yes/no reply).
	Source string `json:"source"`
	Quote  string `json:"quote,omitempty"`
}

// Summary is the structured pre-consultation summary (预问诊摘要) of a
// finished kiosk session: what the patient said, what the rules found and
// where the patient was sent. It is set on the last turn of a session
// (Turn.Summary) and served in GET /v1/triage/sessions/{id} as
// turn.summary; the scribe agent reads it to pre-fill the outpatient
// record (主诉, 现病史 positives and pertinent negatives, 生命体征).
//
// Symptoms hold both present and denied findings (Present false: "无发热"
// is a pertinent negative), each once, with the patient's latest word
// winning. Durations are Go durations (JSON: integer nanoseconds) with
// the patient's own wording in DurationText. Acuity is the final level
// after the rules (an LLM may only have raised it). The summary holds no
// identifiers; it is PHI only together with the session it belongs to.
type Summary struct {
	// ChiefComplaintZH/EN: the first present symptom with its duration
	// ("胸痛2小时" / "chest pain for 2 hours"); empty when nothing medical
	// was recognised.
	ChiefComplaintZH string `json:"chief_complaint_zh"`
	ChiefComplaintEN string `json:"chief_complaint_en"`
	// PatientText is the patient's own words (bounded, medical text only).
	PatientText string           `json:"patient_text,omitempty"`
	Age         *int             `json:"age,omitempty"`
	Sex         clinic.Sex       `json:"sex,omitempty"`
	Symptoms    []SummarySymptom `json:"symptoms,omitempty"`
	Vitals      Vitals           `json:"vitals,omitzero"`
	Acuity      clinic.Acuity    `json:"acuity"`
	// Emergency is set for acuity I–III: the patient belongs in the
	// emergency department, not an outpatient clinic.
	Emergency bool      `json:"emergency,omitempty"`
	RedFlags  []RedFlag `json:"red_flags,omitempty"`
	// Escalation is the escalation code ("chest_pain_center", …) when the
	// session ended with one.
	Escalation string `json:"escalation,omitempty"`
	// Department is where the patient was sent: the escalation's
	// department (with the escalation's location) or the first
	// recommended one. Nil when nothing could be recommended.
	Department *clinic.Department `json:"department,omitempty"`
	// Departments are the codes of the recommended departments, best
	// first (up to three).
	Departments []string `json:"departments,omitempty"`
	// Origin says whether the embedded engine or the LLM path produced
	// the result, and why the LLM path fell back.
	Origin     Origin    `json:"origin"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Positives returns the symptoms the patient has (present findings).
func (s Summary) Positives() []SummarySymptom { return s.symptoms(true) }

// Negatives returns the findings the patient denied (pertinent negatives).
func (s Summary) Negatives() []SummarySymptom { return s.symptoms(false) }

// symptoms returns, in order, the symptoms whose Present is present (nil
// when there are none).
func (s Summary) symptoms(present bool) []SummarySymptom {
	var out []SummarySymptom
	for _, x := range s.Symptoms {
		if x.Present == present {
			out = append(out, x)
		}
	}
	return out
}

// Origin says which path produced a turn.
type Origin struct {
	// Engine is EngineEmbedded or EngineLLM.
	Engine string `json:"engine"`
	// Fallback is set when the LLM path was tried and failed (or was
	// late) and the embedded engine's answer was used; Reason says why
	// (an agents.Reason… constant such as "timeout" or "invalid_output").
	Fallback bool   `json:"fallback,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Model and Prompt ("triage_review@1") identify the LLM call.
	Model  string `json:"model,omitempty"`
	Prompt string `json:"prompt,omitempty"`
	// Tools are the tools the model called, in order.
	Tools []string `json:"tools,omitempty"`
	// Overrides list what the rules changed in the model's proposal
	// ("acuity_raised_to_floor", "red_flag_restored:…", …).
	Overrides []string `json:"overrides,omitempty"`
}

// Origin engines.
const (
	EngineEmbedded = "embedded"
	EngineLLM      = "llm"
)

// Summary returns the pre-consultation summary of a session state.
func (e *Engine) Summary(st State) (Summary, error) {
	if err := e.checkState(st); err != nil {
		return Summary{}, err
	}
	p, ev := e.patient(&st)
	a := e.rules.Assess(p)
	var rec *Recommendation
	if a.Escalation == nil && e.medical(&st) {
		rec = &Recommendation{Departments: e.choices(e.posterior(&st, ev, a.Acuity), ev, 3)}
	}
	return e.summarize(&st, a, rec), nil
}

func (e *Engine) summarize(st *State, a Assessment, rec *Recommendation) Summary {
	s := Summary{PatientText: st.Text, Age: st.Age, Sex: st.Sex, Vitals: st.Vitals, Acuity: a.Acuity,
		Emergency: a.Acuity.Emergency(), RedFlags: a.RedFlags, Origin: Origin{Engine: EngineEmbedded},
		StartedAt: st.StartedAt, FinishedAt: e.now()}
	if a.Escalation != nil {
		s.Escalation = a.Escalation.Code
		if d, ok := e.cat.Get(a.Escalation.Department); ok {
			dd := d.Department
			if a.Escalation.Location != "" {
				dd.Location = a.Escalation.Location
			}
			s.Department = &dd
		}
	}
	if rec != nil {
		for _, d := range rec.Departments {
			s.Departments = append(s.Departments, d.Code)
		}
		if s.Department == nil && len(rec.Departments) > 0 {
			dd := rec.Departments[0].Department.Department
			s.Department = &dd
		}
	}
	last := map[string]int{}
	for i, m := range st.Mentions {
		last[m.Code] = i
	}
	for i, m := range st.Mentions {
		if last[m.Code] != i {
			continue
		}
		f, _ := e.lex.Finding(m.Code)
		if f.Kind == KindContext && m.Code != "pregnancy" {
			continue
		}
		sym := SummarySymptom{Code: m.Code, NameZH: f.NameZH, NameEN: f.NameEN, Kind: f.Kind, Present: !m.Negated,
			Duration: m.Duration, DurationText: m.DurationText, Severity: m.Severity, Sudden: m.Sudden, Site: m.Site, Source: "text", Quote: m.Text}
		if strings.HasPrefix(m.Text, "answer:") {
			sym.Source, sym.Quote = "answer", ""
		}
		s.Symptoms = append(s.Symptoms, sym)
	}
	for _, sym := range s.Symptoms {
		if !sym.Present || sym.Kind != KindSymptom {
			continue
		}
		s.ChiefComplaintZH = sym.NameZH + sym.DurationText
		s.ChiefComplaintEN = sym.NameEN
		if sym.Duration > 0 {
			s.ChiefComplaintZH = sym.NameZH + zhDuration(sym.Duration)
			s.ChiefComplaintEN += " for " + enDuration(sym.Duration)
		}
		break
	}
	if s.ChiefComplaintZH == "" {
		for _, sym := range s.Symptoms {
			if sym.Present {
				s.ChiefComplaintZH, s.ChiefComplaintEN = sym.NameZH, sym.NameEN
				break
			}
		}
	}
	return s
}

func splitDuration(d time.Duration) (int, int) {
	units := []time.Duration{year, month, week, day, time.Hour, time.Minute}
	for i, u := range units {
		if d >= u {
			return int((d + u/2) / u), i
		}
	}
	return 1, len(units) - 1
}

func zhDuration(d time.Duration) string {
	n, u := splitDuration(d)
	return fmt.Sprintf("%d%s", n, []string{"年", "个月", "周", "天", "小时", "分钟"}[u])
}

func enDuration(d time.Duration) string {
	n, u := splitDuration(d)
	unit := []string{"year", "month", "week", "day", "hour", "minute"}[u]
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}
