package scribe

import (
	"context"
	"fmt"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/clinic"
)

// SectionPromptID is the prompt the LLM path sends once per section.
const SectionPromptID = "scribe_section"

// llmStatement is one statement of the model's reply.
type llmStatement struct {
	Text    string   `json:"text" validate:"required,max=1000"`
	Sources []string `json:"sources" validate:"required,min=1,max=20,dive,required,max=128"`
}

// llmSection is the model's reply for one section.
type llmSection struct {
	Statements []llmStatement `json:"statements" validate:"max=30,dive"`
}

type llmUtterance struct {
	ID      string `json:"id"`
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
}

type llmData struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	Text string `json:"text"`
}

type llmInput struct {
	Language     string         `json:"language"`
	NoteType     string         `json:"note_type"`
	SectionKey   string         `json:"section_key"`
	SectionTitle string         `json:"section_title"`
	Utterances   []llmUtterance `json:"utterances"`
	Data         []llmData      `json:"data"`
}

// llmDraft asks the model for each section in turn. Any failed section
// fails the whole draft, so that the caller falls back to the built-in
// engine rather than mixing the two.
func (e *Engine) llmDraft(ctx context.Context, in Input, lang string, src Sources, progress func(Progress)) (Draft, error) {
	base := llmInput{Language: lang, NoteType: string(in.Type), Utterances: make([]llmUtterance, 0, len(in.Utterances)), Data: make([]llmData, 0, len(in.Data)+1)}
	for _, u := range in.Utterances {
		base.Utterances = append(base.Utterances, llmUtterance{ID: u.ID, Speaker: string(u.Speaker), Text: u.Text})
	}
	if in.Summary != nil {
		base.Data = append(base.Data, llmData{ID: SummarySourceID, Kind: "triage_summary", Text: summaryText(in.Summary)})
	}
	for _, d := range in.Data {
		base.Data = append(base.Data, llmData{ID: d.ID, Kind: d.Kind, Name: d.Name, Text: d.Text})
	}
	for ps := range priorStatements(in.Prior) {
		base.Data = append(base.Data, llmData{ID: ps.id, Kind: "prior_note", Name: ps.title, Text: ps.text})
	}
	utt := make(map[string]bool, len(in.Utterances))
	for _, u := range in.Utterances {
		utt[u.ID] = true
	}
	defs := Sections(in.Type, lang)
	d := Draft{Note: clinic.Note{Author: AuthorLLM}, Model: e.runner.ModelName()}
	for i, def := range defs {
		progress(Progress{Stage: StageLLM, Section: def.Key, Done: i, Total: len(defs)})
		req := base
		req.SectionKey, req.SectionTitle = def.Key, def.Title
		out, meta, err := agents.Decode[llmSection](ctx, e.runner, SectionPromptID, req, agents.WithAgent(AgentName))
		if err != nil {
			return Draft{}, fmt.Errorf("scribe: section %s: %w", def.Key, err)
		}
		if len(d.Prompts) == 0 {
			d.Prompts = append(d.Prompts, meta.Prompt)
		}
		sts := make([]clinic.Statement, 0, len(out.Statements))
		for _, s := range out.Statements {
			st := clinic.Statement{Text: s.Text}
			for _, id := range s.Sources {
				kind := clinic.SourceData
				if utt[id] {
					kind = clinic.SourceUtterance
				}
				st.Sources = append(st.Sources, clinic.Source{Kind: kind, ID: id})
			}
			sts = append(sts, st)
		}
		if def.Optional && len(sts) == 0 {
			continue
		}
		d.Note.Sections = append(d.Note.Sections, clinic.Section{Key: def.Key, Title: def.Title, Statements: sts})
		progress(Progress{Stage: StageSection, Section: def.Key, Done: i + 1, Total: len(defs)})
	}
	e.addConflicts(ctx, &d.Note, in, lang)
	return d, nil
}

// addConflicts copies the built-in engine's conflict markers into an LLM
// draft, so that contradictions in the sources are shown whichever path
// wrote the note.
func (e *Engine) addConflicts(ctx context.Context, note *clinic.Note, in Input, lang string) {
	ref, err := e.embedded(ctx, in, lang, func(Progress) {})
	if err != nil {
		return
	}
	for _, rs := range ref.Note.Sections {
		for _, st := range rs.Statements {
			if !IsConflict(st) {
				continue
			}
			placed := false
			for i := range note.Sections {
				if note.Sections[i].Key == rs.Key {
					note.Sections[i].Statements = append(note.Sections[i].Statements, st)
					placed = true
				}
			}
			if !placed {
				note.Sections = append(note.Sections, clinic.Section{Key: rs.Key, Title: rs.Title, Statements: []clinic.Statement{st}})
			}
		}
	}
}
