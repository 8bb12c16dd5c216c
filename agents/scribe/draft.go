package scribe

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
)

// check validates in and returns its language.
func (e *Engine) check(in *Input) (string, error) {
	if len(in.Utterances) > MaxUtterances {
		return "", clinic.NewError(clinic.CodeTooLarge, "utterances",
			fmt.Sprintf("the dialogue has %d turns; at most %d can be drafted at once", len(in.Utterances), MaxUtterances),
			fmt.Sprintf("对话共 %d 轮，单次最多可处理 %d 轮", len(in.Utterances), MaxUtterances))
	}
	if len(in.Data) > MaxDataItems {
		return "", clinic.NewError(clinic.CodeTooLarge, "data", fmt.Sprintf("at most %d data items", MaxDataItems), fmt.Sprintf("附带资料最多 %d 项", MaxDataItems))
	}
	if len(in.Prior) > MaxPriorNotes {
		return "", clinic.NewError(clinic.CodeTooLarge, "prior", fmt.Sprintf("at most %d prior notes", MaxPriorNotes), fmt.Sprintf("既往病历最多 %d 份", MaxPriorNotes))
	}
	total := 0
	ids := make(map[string]bool, len(in.Utterances))
	speakers := map[clinic.Speaker]bool{}
	for i, u := range in.Utterances {
		field := fmt.Sprintf("utterances[%d]", i)
		switch u.Speaker {
		case clinic.SpeakerPatient, clinic.SpeakerDoctor, clinic.SpeakerCompanion, clinic.SpeakerOther:
		default:
			return "", clinic.NewError(clinic.CodeInvalid, field+".speaker",
				fmt.Sprintf("unknown speaker label %q; use patient, doctor, companion or other", truncRunes(string(u.Speaker), 32)),
				fmt.Sprintf("未知的说话人标签 %q，应为 patient、doctor、companion 或 other", truncRunes(string(u.Speaker), 32)))
		}
		if u.ID == "" || utf8.RuneCountInString(u.ID) > 128 {
			return "", clinic.NewError(clinic.CodeInvalid, field+".id", "every utterance needs an ID of at most 128 characters", "每条发言都需要不超过128字符的ID")
		}
		if ids[u.ID] {
			return "", clinic.NewError(clinic.CodeInvalid, field+".id", fmt.Sprintf("utterance ID %q is used twice", truncRunes(u.ID, 64)), fmt.Sprintf("发言ID %q 重复", truncRunes(u.ID, 64)))
		}
		ids[u.ID] = true
		n := utf8.RuneCountInString(u.Text)
		if n > MaxUtteranceRunes {
			return "", clinic.NewError(clinic.CodeTooLarge, field+".text",
				fmt.Sprintf("a turn has %d characters; at most %d", n, MaxUtteranceRunes), fmt.Sprintf("单条发言 %d 字，最多 %d 字", n, MaxUtteranceRunes))
		}
		if !utf8.ValidString(u.Text) {
			return "", clinic.NewError(clinic.CodeInvalid, field+".text", "text is not valid UTF-8", "文本不是有效的UTF-8编码")
		}
		total += n
		if strings.TrimSpace(u.Text) != "" {
			speakers[u.Speaker] = true
		}
	}
	if total > MaxDialogueRunes {
		return "", clinic.NewError(clinic.CodeTooLarge, "utterances",
			fmt.Sprintf("the dialogue has %d characters; at most %d", total, MaxDialogueRunes), fmt.Sprintf("对话共 %d 字，最多 %d 字", total, MaxDialogueRunes))
	}
	dataIDs := map[string]bool{}
	for i, d := range in.Data {
		if utf8.RuneCountInString(d.Text) > MaxDataItemRunes {
			return "", clinic.NewError(clinic.CodeTooLarge, fmt.Sprintf("data[%d].text", i), fmt.Sprintf("a data item has more than %d characters", MaxDataItemRunes), fmt.Sprintf("单项资料超过 %d 字", MaxDataItemRunes))
		}
		if dataIDs[d.ID] || d.ID == SummarySourceID || d.ID == PatientSourceID {
			return "", clinic.NewError(clinic.CodeInvalid, fmt.Sprintf("data[%d].id", i), fmt.Sprintf("data item ID %q is used twice or reserved", truncRunes(d.ID, 64)), fmt.Sprintf("资料ID %q 重复或为保留字", truncRunes(d.ID, 64)))
		}
		dataIDs[d.ID] = true
	}
	if err := e.validate.Struct(in); err != nil {
		return "", clinic.Wrap(err, clinic.CodeInvalid, "invalid drafting request", "病历生成请求无效")
	}
	outpatient := in.Type == clinic.NoteOutpatient
	if outpatient || len(in.Utterances) > 0 {
		if len(speakers) == 0 {
			return "", clinic.NewError(clinic.CodeInvalid, "utterances", "the dialogue is empty: an outpatient record is drafted from what doctor and patient said", "对话为空：门诊病历需根据医患对话书写")
		}
		clin := speakers[clinic.SpeakerDoctor]
		pat := speakers[clinic.SpeakerPatient] || speakers[clinic.SpeakerCompanion]
		if !clin || !pat {
			return "", clinic.NewError(clinic.CodeInvalid, "utterances",
				"the dialogue has only one side: it needs turns by a doctor and by the patient or a companion (check the speaker labels)",
				"对话只有一方发言：需同时包含医生和患者（或陪同者）的发言，请检查说话人标签")
		}
	}
	if !outpatient && len(in.Utterances) == 0 && len(in.Data) == 0 && len(in.Prior) == 0 {
		return "", clinic.NewError(clinic.CodeInvalid, "data", "an inpatient document needs encounter data, prior notes or a dialogue", "住院文书需要病历资料、既往记录或对话")
	}
	lang := in.Language
	if lang == "" {
		lang = detectLanguage(in)
	}
	return lang, nil
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// detectLanguage is LangZH when Han characters outnumber Latin letters in
// the dialogue (or data), else LangEN.
func detectLanguage(in *Input) string {
	han, latin := 0, 0
	count := func(s string) {
		for _, r := range s {
			switch {
			case unicode.Is(unicode.Han, r):
				han++
			case r < 128 && unicode.IsLetter(r):
				latin++
			}
		}
	}
	for _, u := range in.Utterances {
		count(u.Text)
	}
	if han+latin == 0 {
		for _, d := range in.Data {
			count(d.Text)
		}
	}
	if han*3 >= latin || han+latin == 0 {
		return LangZH
	}
	return LangEN
}

func summaryText(s *triage.Summary) string {
	var b strings.Builder
	if s.ChiefComplaintZH != "" {
		b.WriteString(s.ChiefComplaintZH)
		b.WriteString("。")
	}
	if s.ChiefComplaintEN != "" {
		b.WriteString(s.ChiefComplaintEN)
		b.WriteString(". ")
	}
	b.WriteString(s.PatientText)
	for _, sym := range s.Symptoms {
		b.WriteString("\n")
		if !sym.Present {
			b.WriteString("无")
		}
		b.WriteString(sym.NameZH)
		b.WriteString(sym.DurationText)
		b.WriteString("；")
		if !sym.Present {
			b.WriteString("no ")
		}
		b.WriteString(sym.NameEN)
		b.WriteString(".")
	}
	return b.String()
}

func patientText(in Input) string {
	if in.Patient == nil {
		return ""
	}
	var parts []string
	switch in.Patient.Sex {
	case clinic.SexMale:
		parts = append(parts, "男 male")
	case clinic.SexFemale:
		parts = append(parts, "女 female")
	}
	at := in.Encounter.StartedAt
	if age := in.Patient.AgeYears(at); age >= 0 && !at.IsZero() {
		parts = append(parts, fmt.Sprintf("%d岁 %d years", age, age))
	}
	return strings.Join(parts, "，")
}

// draft is Draft after options are collected.
func (e *Engine) draft(ctx context.Context, in Input, o draftOptions) (Draft, error) {
	progress := func(p Progress) {
		if o.progress != nil {
			o.progress(p)
		}
	}
	lang, err := e.check(&in)
	if err != nil {
		return Draft{}, err
	}
	progress(Progress{Stage: StageValidate, Done: 1, Total: 1})
	if err := ctx.Err(); err != nil {
		return Draft{}, fmt.Errorf("scribe: draft: %w", err)
	}
	src := SourcesOf(in)
	embedded := func(ctx context.Context) (Draft, error) {
		d, err := e.embedded(ctx, in, lang, progress)
		if err != nil {
			return Draft{}, err
		}
		return d, nil
	}
	var d Draft
	var out agents.Outcome
	if e.HasModel() {
		d, out, err = agents.WithFallback(ctx, e.runner, func(ctx context.Context) (Draft, error) {
			return e.llmDraft(ctx, in, lang, src, progress)
		}, func(ctx context.Context) (Draft, error) {
			progress(Progress{Stage: StageFallback})
			return embedded(ctx)
		}, agents.WithAgent(AgentName))
	} else {
		out = agents.Outcome{Fallback: true, Reason: agents.ReasonNoLLM}
		d, err = embedded(ctx)
	}
	if err != nil {
		return Draft{}, err
	}
	d.Outcome = out
	d.Language = lang
	if out.Fallback && out.Reason != agents.ReasonNoLLM {
		d.Note.Fallback, d.Note.FallbackReason = true, out.Reason
		d.Note.Author = AuthorEmbedded
	}
	progress(Progress{Stage: StageVerify})
	d.Problems = verify(e.vocab, e.tmpl, &d.Note, src)
	now := e.now()
	d.Note.EncounterID = in.Encounter.ID
	d.Note.Type = in.Type
	d.Note.Status = clinic.NoteDraft
	d.Note.CreatedAt, d.Note.UpdatedAt = now, now
	progress(Progress{Stage: StageDone, Done: 1, Total: 1})
	return d, nil
}

// turnsOf lists the citable items of in for the extractor: the triage
// summary first, then utterances, then data items.
func turnsOf(in *Input) []turn {
	ts := make([]turn, 0, len(in.Utterances)+len(in.Data)+1)
	if in.Summary != nil {
		ts = append(ts, turn{src: clinic.Source{Kind: clinic.SourceData, ID: SummarySourceID}, speaker: clinic.SpeakerPatient, text: in.Summary.PatientText})
	}
	for _, u := range in.Utterances {
		ts = append(ts, turn{src: clinic.Source{Kind: clinic.SourceUtterance, ID: u.ID}, speaker: u.Speaker, text: u.Text})
	}
	for _, d := range in.Data {
		ts = append(ts, turn{src: clinic.Source{Kind: clinic.SourceData, ID: d.ID}, text: d.Text})
	}
	for ps := range priorStatements(in.Prior) {
		ts = append(ts, turn{src: clinic.Source{Kind: clinic.SourceData, ID: ps.id}, text: ps.text, prior: ps.key})
	}
	return ts
}

// dataBase is the turn index of in.Data[0] in turnsOf(in).
func dataBase(in *Input) int {
	n := len(in.Utterances)
	if in.Summary != nil {
		n++
	}
	return n
}

// embedded drafts in with the built-in extractive engine.
func (e *Engine) embedded(ctx context.Context, in Input, lang string, progress func(Progress)) (Draft, error) {
	turns := turnsOf(&in)
	fs := e.vocab.readFacts(turns)
	progress(Progress{Stage: StageExtract, Done: len(turns), Total: len(turns)})
	b := &builder{e: e, in: &in, lang: lang, fs: fs, t: e.tmpl, base: dataBase(&in)}
	specs := layouts[in.Type][lang]
	note := clinic.Note{Author: AuthorEmbedded}
	for i, spec := range specs {
		if err := ctx.Err(); err != nil {
			return Draft{}, fmt.Errorf("scribe: draft: %w", err)
		}
		sts := spec.write(b)
		if spec.optional && len(sts) == 0 {
			continue
		}
		if sts == nil {
			sts = []clinic.Statement{}
		}
		note.Sections = append(note.Sections, clinic.Section{Key: spec.key, Title: spec.title(lang), Statements: sts})
		progress(Progress{Stage: StageSection, Section: spec.key, Done: i + 1, Total: len(specs)})
	}
	return Draft{Note: note}, nil
}

// sourcesOf turns turn indexes into citations, in order, without repeats.
func (b *builder) sourcesOf(idx ...[]int) []clinic.Source {
	var all []int
	for _, l := range idx {
		all = append(all, l...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	out := make([]clinic.Source, 0, len(all))
	for _, i := range all {
		t := b.fs.turns[i]
		out = append(out, clinic.Source{Kind: t.src.Kind, ID: t.src.ID, Quote: truncRunes(strings.TrimSpace(t.text), 120)})
	}
	return out
}
