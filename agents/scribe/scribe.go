package scribe

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/prompts"
)

// AgentName names the scribe in logs, audit records and note authors.
const AgentName = "scribe"

// Authors written into clinic.Note.Author by Draft.
const (
	AuthorEmbedded = "ai:scribe"     // the built-in extractive engine
	AuthorLLM      = "ai:scribe-llm" // the language-model path
)

// Bounds on one drafting request. A longer input is a clinic.CodeTooLarge
// error, never a truncated draft.
const (
	MaxUtterances     = 2000    // turns per dialogue (a long visit has a few hundred)
	MaxUtteranceRunes = 4000    // characters per turn
	MaxDialogueRunes  = 200_000 // characters of dialogue in all
	MaxDataItems      = 500     // attached results and encounter data items
	MaxDataItemRunes  = 20_000  // characters per data item
	MaxPriorNotes     = 50      // earlier notes of the encounter
)

// Languages of a draft.
const (
	LangZH = "zh" // Chinese record (门诊病历, 入院记录, …)
	LangEN = "en" // English SOAP note
)

// Data item kinds: what an attached result or encounter datum is. The
// inpatient documents are drafted from these.
const (
	DataECG        = "ecg"        // ECG report text (from the ECG agent or a device)
	DataLab        = "lab"        // a laboratory result
	DataImaging    = "imaging"    // an imaging report
	DataVital      = "vital"      // vital signs
	DataExam       = "exam"       // a physical-examination finding written by a clinician
	DataDiagnosis  = "diagnosis"  // a diagnosis (admission, working or discharge)
	DataHistory    = "history"    // past history taken at admission
	DataMedication = "medication" // a drug the patient takes or was given
	DataOrder      = "order"      // an order or plan item
	DataProcedure  = "procedure"  // a procedure or operation done
	DataCourse     = "course"     // a ward-round or course entry (病程)
	DataCondition  = "condition"  // the patient's state on a day (e.g. at discharge)
	DataAdvice     = "advice"     // discharge advice (出院医嘱)
)

// DataItem is one attached result or encounter datum that statements may
// cite as a clinic.SourceData source.
type DataItem struct {
	ID   string `json:"id" validate:"required,max=128"`
	Kind string `json:"kind" validate:"required,oneof=ecg lab imaging vital exam diagnosis history medication order procedure course condition advice"`
	// Name is a short label ("血常规", "ECG 12-lead", "入院诊断").
	Name string `json:"name,omitempty" validate:"max=200"`
	Text string `json:"text" validate:"required,max=20000"`
	// Role refines diagnosis items: "admission", "working" or "discharge".
	Role string    `json:"role,omitempty" validate:"omitempty,oneof=admission working discharge"`
	At   time.Time `json:"at,omitzero"`
}

// Input is everything one draft is made from. The API fills it from the
// encounter, its stored utterances, the triage session's summary and the
// encounter's data items.
type Input struct {
	Encounter clinic.Encounter `json:"encounter"`
	Patient   *clinic.Patient  `json:"patient,omitempty"`
	// Type is the document to draft.
	Type clinic.NoteType `json:"type" validate:"required,oneof=outpatient admission first_course progress discharge"`
	// Language is LangZH or LangEN; "" detects it from the dialogue.
	Language string `json:"language,omitempty" validate:"omitempty,oneof=zh en"`
	// Summary is the triage pre-consultation summary, when there was one.
	Summary *triage.Summary `json:"summary,omitempty"`
	// Utterances is the doctor–patient dialogue in order. Outpatient notes
	// need one with a clinician and a patient (or companion); inpatient
	// documents may be drafted from Data alone.
	Utterances []clinic.Utterance `json:"utterances,omitempty"`
	// Data holds attached results (ECG reports, labs) and encounter data.
	Data []DataItem `json:"data,omitempty" validate:"dive"`
	// Prior holds earlier notes of the encounter (the admission note when
	// drafting progress or discharge notes); their statements can be cited
	// as clinic.SourceData with the ID "<note id>#<section key>.<index>".
	Prior []clinic.Note `json:"prior,omitempty"`
}

// Draft is what Engine.Draft returns: a note to review, the verifier's
// findings and how it was produced.
type Draft struct {
	// Note is the drafted document: Status draft, Version 0 and no ID (the
	// store assigns them), Author AuthorEmbedded or AuthorLLM, Fallback and
	// FallbackReason set when the LLM path failed. Every statement carries
	// its sources; statements the verifier could not match, and conflicting
	// facts, are Unsupported with a Reason (see IsConflict).
	Note clinic.Note `json:"note"`
	// Language is the language the note was written in.
	Language string `json:"language"`
	// Problems lists what the verifier found (unsupported statements,
	// conflicts) in section order.
	Problems []Problem `json:"problems,omitempty"`
	// Outcome says whether the LLM or the built-in engine produced it.
	Outcome agents.Outcome `json:"outcome"`
	// Model and PromptVersions describe the LLM call, for the audit record
	// ("" and nil for the built-in engine).
	Model   string         `json:"model,omitempty"`
	Prompts []prompts.Meta `json:"prompts,omitempty"`
}

// Progress is one step of drafting, for SSE. Stage is one of the Stage
// constants; Section names the section being written, when there is one.
type Progress struct {
	Stage   string `json:"stage"`
	Section string `json:"section,omitempty"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
}

// Progress stages, in the order they are reported.
const (
	StageValidate = "validate" // the input was checked
	StageExtract  = "extract"  // facts were read from the dialogue and data
	StageLLM      = "llm"      // a section is being asked of the model
	StageFallback = "fallback" // the model failed; the built-in draft is used
	StageSection  = "section"  // a section was written
	StageVerify   = "verify"   // statements were checked against sources
	StageDone     = "done"
)

// Option adjusts one Draft call.
type Option func(*draftOptions)

type draftOptions struct {
	progress func(Progress)
}

// WithProgress receives each step of drafting (for SSE). fn is called on
// the drafting goroutine and must not block for long.
func WithProgress(fn func(Progress)) Option { return func(o *draftOptions) { o.progress = fn } }

// Config holds an Engine's dependencies.
type Config struct {
	// Runner is the LLM runtime; nil, or one without a model, means the
	// built-in engine drafts every note (Outcome.Reason "no_llm").
	Runner *agents.Runner
	// Vocabulary is the symptom/condition/drug/test word list; nil means
	// DefaultVocabulary() (kb/terms.yaml). LoadVocabulary can extend a
	// hospital's list with the triage lexicon.
	Vocabulary *Vocabulary
	// Prompts holds the scribe_* prompts (section templates and the LLM
	// prompts); nil means the Runner's set, or prompts.Default().
	Prompts *prompts.Set
	Logger  *slog.Logger
	// Now stamps CreatedAt/UpdatedAt of drafts; nil means time.Now.
	Now func() time.Time
}

// Engine drafts clinical notes. It keeps no per-request state and is safe
// for concurrent use.
type Engine struct {
	runner   *agents.Runner
	vocab    *Vocabulary
	prompts  *prompts.Set
	tmpl     *templates
	log      *slog.Logger
	now      func() time.Time
	validate *validator.Validate
}

// New returns an Engine for cfg. It fails when the prompt set lacks a
// scribe template.
func New(cfg Config) (*Engine, error) {
	e := &Engine{runner: cfg.Runner, vocab: cfg.Vocabulary, prompts: cfg.Prompts, log: cfg.Logger, now: cfg.Now}
	if e.vocab == nil {
		v, err := defaultVocab()
		if err != nil {
			return nil, fmt.Errorf("scribe.New: %w", err)
		}
		e.vocab = v
	}
	if e.prompts == nil && e.runner != nil {
		e.prompts = e.runner.Prompts()
	}
	if e.prompts == nil {
		set, err := prompts.Default()
		if err != nil {
			return nil, fmt.Errorf("scribe.New: load prompts: %w", err)
		}
		e.prompts = set
	}
	t, err := loadTemplates(e.prompts)
	if err != nil {
		return nil, fmt.Errorf("scribe.New: %w", err)
	}
	e.tmpl = t
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.validate = agents.NewValidator()
	return e, nil
}

// HasModel reports whether drafts are first asked of a language model.
func (e *Engine) HasModel() bool { return e.runner != nil && e.runner.HasModel() }

// Draft drafts the note in.Type from in. Bad input is a *clinic.Error:
// CodeInvalid for an empty dialogue, a single speaker, unknown speaker
// labels, duplicate IDs or an invalid field; CodeTooLarge past the bounds
// above. With a model configured the LLM path runs first and the built-in
// draft is used, flagged, when it fails; the verifier checks either result.
func (e *Engine) Draft(ctx context.Context, in Input, opts ...Option) (Draft, error) {
	var o draftOptions
	for _, fn := range opts {
		fn(&o)
	}
	return e.draft(ctx, in, o)
}

// Verify checks every statement of note against src: each must cite
// sources that exist, and its numbers, negations and named entities must
// appear in them. Statements that fail are marked Unsupported with a
// Reason (in place); conflicts already marked are kept. It returns one
// Problem per unsupported statement.
func (e *Engine) Verify(note *clinic.Note, src Sources) []Problem {
	return verify(e.vocab, e.tmpl, note, src)
}

// Verify is Engine.Verify with the embedded vocabulary and templates, for
// callers without an Engine.
func Verify(note *clinic.Note, src Sources) []Problem {
	t, err := defaultTemplates()
	if err != nil {
		t = &templates{}
	}
	return verify(DefaultVocabulary(), t, note, src)
}
