package scribe

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
)

// builder writes the sections of one draft from the facts read.
type builder struct {
	e    *Engine
	in   *Input
	lang string
	fs   facts
	t    *templates
	base int // turn index of in.Data[0]
	// detail, while a section is written that shows them, holds what
	// follows a finding's name ("（最高38.5℃）"), by term.
	detail map[int]string
}

// MaxChiefComplaintRunes is the 主诉 length limit (symptom + duration).
const MaxChiefComplaintRunes = 20

// cueSet picks the sentences a section quotes ([builder.quotes]): those
// holding one of the cues of the note's language.
type cueSet struct {
	zh, en []string
	// anySpeaker quotes the patient's side too, not only the clinician.
	anySpeaker bool
	// need, when set, is a further test of the sentence's reading.
	need func(*builder, reading) bool
}

func (c *cueSet) words(zh bool) []string {
	if zh {
		return c.zh
	}
	return c.en
}

var (
	examCues = cueSet{
		zh: []string{"查体", "听诊", "心率", "心律", "血压", "体温", "脉搏", "呼吸音", "啰音", "杂音", "压痛", "反跳痛", "咽部", "扁桃体", "双肺", "腹软", "神志", "心音", "颈软", "肝脾"},
		en: []string{"on exam", "physical exam", "examination", "i hear", "heart sounds", "lungs are", "lungs sound", "murmur", "tenderness", "tender", "range of motion", "vital signs", "vitals", "blood pressure is", "heart rate", "pulse", "palpat", "auscultat", "reflexes", "strength is", "no edema", "clear to", "regular rate", "when i press", "when i push", "i don't appreciate", "i do appreciate", "exam"},
	}
	// resultCues quote results whoever reads them out, when they name a test.
	resultCues = cueSet{
		zh:         []string{"结果", "显示", "提示", "报告", "正常", "异常", "偏高", "偏低", "升高", "降低", "阳性", "阴性"},
		en:         []string{"shows", "showed", "show ", "revealed", "reveals", "results", "came back", "normal", "elevated", "abnormal", "x-ray", "mri", "ct scan", "labs", "a1c", "ekg", "echocardiogram", "ultrasound", "lab work", "blood work", "level"},
		anySpeaker: true,
		need:       (*builder).namesTest,
	}
	dxCues = cueSet{
		zh: []string{"考虑", "诊断", "应该是", "可能是", "怀疑", "属于", "初步", "引起的", "导致的", "是由"},
		en: []string{"diagnos", "consistent with", "you have", "likely", "i think", "assessment", "impression", "suspect", "looks like", "sounds like", "you've got", "you do have"},
	}
	planCues = cueSet{
		zh: []string{"建议", "口服", "服用", "吃点", "吃些", "复查", "复诊", "随诊", "注意", "多喝水", "休息", "住院", "检查一下", "开点", "开些", "用药", "治疗", "避免", "饮食", "忌", "需要", "可以吃", "继续", "观察", "就诊"},
		en: []string{"recommend", "i want", "i'd like", "i would like", "we'll", "we will", "i'm going to", "i am going to", "let's", "prescribe", "start you", "continue", "follow up", "follow-up", "refer", "order", "schedule", "should", "going to", "plan", "increase", "decrease", "stop taking", "i'll"},
	}
	possibleZH = []string{"考虑", "可能", "怀疑", "应该"}
	possibleEN = []string{"likely", "possible", "possibly", "suspect", "might", "may be", "could be", "probably"}
)

func (b *builder) zh() bool { return b.lang == LangZH }

func (b *builder) name(term int) string {
	t := b.fs.turnsVocab(b.e.vocab, term)
	if b.zh() {
		return t.NameZH + b.detail[term]
	}
	return t.NameEN + b.detail[term]
}

// feverDetail returns, for the fever of g, what follows its name in 现病史:
// the highest temperature its sources report (see maxTemperature).
func (b *builder) feverDetail(g *group) map[int]string {
	fever, ok := b.e.vocab.byCode["fever"]
	if !ok || len(g.srcs[fever]) == 0 {
		return nil
	}
	var texts []string
	for _, i := range g.srcs[fever] {
		if i >= 0 && i < len(b.fs.turns) && b.fs.turns[i].patientSide() {
			texts = append(texts, b.fs.turns[i].text)
		}
	}
	t := maxTemperature(texts, b.zh())
	if t == "" {
		return nil
	}
	if b.zh() {
		// "最高" only where the patient said it: the verifier holds the
		// note to its sources' words.
		if strings.Contains(strings.Join(texts, ""), "最高") {
			return map[int]string{fever: "（最高" + t + "）"}
		}
		return map[int]string{fever: "（" + t + "）"}
	}
	return map[int]string{fever: " (up to " + t + ")"}
}

func (fs facts) turnsVocab(v *Vocabulary, term int) Term { return v.terms[term] }

func (b *builder) kind(term int) string { return b.e.vocab.terms[term].Kind }

func (b *builder) list(names []string) string {
	if b.zh() {
		return strings.Join(names, "、")
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func (b *builder) stmt(text string, srcs ...[]int) clinic.Statement {
	return clinic.Statement{Text: text, Sources: b.sourcesOf(srcs...)}
}

// group holds findings of one polarity, by term, in first-seen order.
type group struct {
	terms []int
	srcs  map[int][]int
	dur   map[int]string
}

func newGroup() *group { return &group{srcs: map[int][]int{}, dur: map[int]string{}} }

func (g *group) add(f fact) {
	if _, ok := g.srcs[f.term]; !ok {
		g.terms = append(g.terms, f.term)
	}
	g.srcs[f.term] = append(g.srcs[f.term], f.srcs...)
	if g.dur[f.term] == "" && f.duration != "" {
		g.dur[f.term] = f.duration
	}
}

// lead is the term a complaint opens with: the first with a duration,
// else the first.
func (g *group) lead() int {
	for _, t := range g.terms {
		if g.dur[t] != "" {
			return t
		}
	}
	return g.terms[0]
}

func (g *group) allSrcs(terms []int) []int {
	var out []int
	for _, t := range terms {
		out = append(out, g.srcs[t]...)
	}
	return out
}

// patientFindings groups the patient's own findings of the given kinds by
// polarity and finds terms reported both ways (conflicts).
func (b *builder) patientFindings(kinds ...string) (pos, neg *group, conflict []int) {
	pos, neg = newGroup(), newGroup()
	for _, f := range b.fs.findings {
		if f.doctor || f.family != "" || !slices.Contains(kinds, b.kind(f.term)) {
			continue
		}
		if f.present {
			pos.add(f)
		} else {
			neg.add(f)
		}
	}
	for _, t := range pos.terms {
		if _, ok := neg.srcs[t]; ok {
			conflict = append(conflict, t)
		}
	}
	if len(conflict) > 0 {
		pos.terms = slices.DeleteFunc(pos.terms, func(t int) bool { return slices.Contains(conflict, t) })
		neg.terms = slices.DeleteFunc(neg.terms, func(t int) bool { return slices.Contains(conflict, t) })
	}
	return pos, neg, conflict
}

func (b *builder) names(terms []int) []string {
	out := make([]string, 0, len(terms))
	seen := map[string]bool{}
	for _, t := range terms {
		n := b.name(t)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// listed appends to out one statement naming terms (of g) through the
// phrase template key, whose list slot is slot, citing what g cites for
// them; with no terms it returns out as it is.
func (b *builder) listed(out []clinic.Statement, key, slot string, g *group, terms []int) []clinic.Statement {
	if len(terms) == 0 {
		return out
	}
	return append(out, b.stmt(b.t.fill(key, b.lang, slot, b.list(b.names(terms))), g.allSrcs(terms)))
}

func (b *builder) conflictStmt(term int, pos, neg *group) clinic.Statement {
	st := b.stmt(b.t.fill("finding_conflict", b.lang, "symptoms", b.name(term)), pos.srcs[term], neg.srcs[term])
	st.Unsupported = true
	st.Reason = ConflictReasonPrefix + "the sources both report and deny " + b.e.vocab.terms[term].NameEN
	return st
}

// durationText normalizes a duration phrase for a Chinese record
// ("三天了" → "3天") or keeps it for English.
func (b *builder) durationText(d string) string {
	d = strings.TrimSpace(d)
	if !b.zh() {
		return d
	}
	rs := []rune(d)
	i := 0
	for i < len(rs) && (zhDigits[rs[i]] > 0 || rs[i] == '十' || rs[i] == '零') {
		i++
	}
	if i > 0 {
		if v, ok := zhNumber(rs[:i]); ok && v == float64(int(v)) {
			return fmt.Sprint(int(v)) + string(rs[i:])
		}
	}
	return d
}

func (b *builder) chiefComplaint() []clinic.Statement {
	pos, _, _ := b.patientFindings(KindSymptom)
	terms := pos.terms
	if len(terms) == 0 {
		pos, _, _ = b.patientFindings(KindCondition)
		terms = pos.terms
	}
	if len(terms) == 0 {
		return nil
	}
	// Others sharing the lead's duration join it while the complaint
	// stays short.
	lead := pos.lead()
	dur := b.durationText(pos.dur[lead])
	chosen := []int{lead}
	for _, t := range terms {
		if t == lead || len(chosen) >= 2 {
			continue
		}
		if pos.dur[t] != "" && pos.dur[t] == pos.dur[lead] {
			chosen = append(chosen, t)
		}
	}
	var text string
	for {
		syms := b.list(b.names(chosen))
		switch {
		case dur == "" && b.zh():
			text = syms
		case dur == "":
			text = b.t.fill("cc_nodur", b.lang, "symptoms", capitalize(syms))
		default:
			text = b.t.fill("cc", b.lang, "symptoms", capitalize(syms), "duration", dur)
		}
		if !b.zh() || utf8.RuneCountInString(text) <= MaxChiefComplaintRunes || len(chosen) == 1 {
			break
		}
		chosen = chosen[:1]
	}
	if b.zh() && utf8.RuneCountInString(text) > MaxChiefComplaintRunes {
		text = string([]rune(text)[:MaxChiefComplaintRunes])
	}
	return []clinic.Statement{b.stmt(text, pos.allSrcs(chosen))}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	if r >= 'a' && r <= 'z' {
		return string(r-32) + s[n:]
	}
	return s
}

func (b *builder) presentIllness() []clinic.Statement {
	var out []clinic.Statement
	pos, neg, conflict := b.patientFindings(KindSymptom)
	b.detail = b.feverDetail(pos)
	defer func() { b.detail = nil }()
	if len(pos.terms) > 0 {
		lead := pos.lead()
		onset := []int{lead}
		var rest []int
		for _, t := range pos.terms {
			if t == lead {
				continue
			}
			if pos.dur[t] != "" && pos.dur[t] == pos.dur[lead] {
				onset = append(onset, t)
			} else {
				rest = append(rest, t)
			}
		}
		if d := pos.dur[lead]; d != "" {
			out = append(out, b.stmt(b.t.fill("hpi_onset", b.lang, "symptoms", b.list(b.names(onset)), "duration", b.durationText(d)), pos.allSrcs(onset)))
		} else {
			out = b.listed(out, "hpi_onset_nodur", "symptoms", pos, onset)
		}
		for _, t := range rest {
			if d := pos.dur[t]; d != "" {
				out = append(out, b.stmt(b.t.fill("hpi_onset", b.lang, "symptoms", b.name(t), "duration", b.durationText(d)), pos.srcs[t]))
			}
		}
		var assoc []int
		for _, t := range rest {
			if pos.dur[t] == "" {
				assoc = append(assoc, t)
			}
		}
		out = b.listed(out, "hpi_assoc", "symptoms", pos, assoc)
	}
	if !b.zh() {
		out = append(out, b.patientQuotes()...)
	}
	if b.zh() {
		out = b.listed(out, "hpi_negative", "symptoms", neg, neg.terms)
	}
	for _, t := range conflict {
		out = append(out, b.conflictStmt(t, pos, neg))
	}
	if b.zh() {
		drugs, _, _ := b.patientFindings(KindDrug)
		out = b.listed(out, "hpi_drug", "drugs", drugs, drugs.terms)
		tests, _, _ := b.patientFindings(KindTest)
		out = b.listed(out, "hpi_test", "tests", tests, tests.terms)
	}
	if b.in.Summary != nil && strings.TrimSpace(b.in.Summary.PatientText) != "" && len(out) == 0 {
		out = append(out, b.stmt(b.t.fill("hpi_summary", b.lang, "text", truncRunes(strings.TrimSpace(b.in.Summary.PatientText), 200)), []int{0}))
	}
	return out
}

// patientQuotes are the patient's own sentences that report findings, in
// the third person (English notes).
func (b *builder) patientQuotes() []clinic.Statement {
	var out []clinic.Statement
	for i, t := range b.fs.turns {
		if !t.patientSide() {
			continue
		}
		for _, s := range sentences(t.text) {
			rd := b.e.vocab.read(s)
			if rd.question || len(wordsOf(s)) < 4 {
				continue
			}
			_, reacted := b.e.vocab.drugReactions(rd)
			ok := false
			for mi, m := range rd.mentions {
				if k := b.kind(m.term); k == KindSymptom && !m.question && !reacted[mi] {
					ok = true
				}
			}
			if !ok {
				continue
			}
			out = append(out, b.stmt(thirdPerson(s), []int{i}))
			if len(out) >= 12 {
				return out
			}
		}
	}
	return out
}

// thirdPersonWords are the words thirdPerson may add; the verifier accepts
// them in English statements.
var thirdPersonWords = []string{"the", "patient", "patient's", "is", "has", "does", "doesn't", "was", "themselves"}

var thirdPersonMap = map[string]string{"i'm": "the patient is", "i've": "the patient has", "i": "the patient", "my": "the patient's",
	"me": "the patient", "myself": "themselves", "i'd": "the patient would", "i'll": "the patient will"}

// thirdPerson rewrites a patient's sentence about themselves: "I have
// had a cough" → "The patient has had a cough".
func thirdPerson(s string) string {
	ws := strings.Fields(s)
	for i, w := range ws {
		core := strings.TrimRight(strings.ToLower(w), ",.;:!?")
		tail := w[len(strings.TrimRight(w, ",.;:!?")):]
		if r, ok := thirdPersonMap[core]; ok {
			ws[i] = r + tail
			if i+1 < len(ws) && strings.HasPrefix(r, "the patient") && !strings.Contains(r, " is") && !strings.Contains(r, " has") {
				switch strings.ToLower(ws[i+1]) {
				case "have":
					ws[i+1] = "has"
				case "am":
					ws[i+1] = "is"
				case "do":
					ws[i+1] = "does"
				case "don't":
					ws[i+1] = "doesn't"
				}
			}
		}
	}
	out := strings.Join(ws, " ")
	return capitalize(out)
}

func (b *builder) reviewOfSystems() []clinic.Statement {
	_, neg, _ := b.patientFindings(KindSymptom)
	return b.listed(nil, "hpi_negative", "symptoms", neg, neg.terms)
}

func (b *builder) pastHistory() []clinic.Statement {
	var out []clinic.Statement
	pos, neg, conflict := b.patientFindings(KindCondition)
	out = b.listed(out, "past_present", "conditions", pos, pos.terms)
	out = b.listed(out, "past_negative", "conditions", neg, neg.terms)
	for _, t := range conflict {
		out = append(out, b.conflictStmt(t, pos, neg))
	}
	procs, _, _ := b.patientFindings(KindProcedure)
	out = b.listed(out, "past_procedure", "procedures", procs, procs.terms)
	out = append(out, b.dataItems(DataHistory)...)
	if b.zh() {
		meds := b.medications()
		out = append(out, meds...)
	}
	return out
}

func (b *builder) medications() []clinic.Statement {
	if b.zh() && b.in.Type == clinic.NoteOutpatient {
		return nil // 门诊病历 reports drugs taken in 现病史
	}
	var out []clinic.Statement
	pos, neg, _ := b.patientFindings(KindDrug)
	out = b.listed(out, "meds", "drugs", pos, pos.terms)
	out = b.listed(out, "meds_negative", "drugs", neg, neg.terms)
	return append(out, b.dataItems(DataMedication)...)
}

func (b *builder) allergies() []clinic.Statement {
	var none, some []allergyFact
	for _, a := range b.fs.allergies {
		if a.none {
			none = append(none, a)
		} else {
			some = append(some, a)
		}
	}
	var noneSrc, someSrc []int
	var allergens []int
	for _, a := range none {
		noneSrc = append(noneSrc, a.srcs...)
	}
	// Reactions a drug caused are written with the drug ("用头孢类抗生素
	// 后出现皮疹"); the other allergens are listed.
	var reactions []clinic.Statement
	for _, a := range some {
		someSrc = append(someSrc, a.srcs...)
		for _, t := range a.allergen {
			if !slices.Contains(allergens, t) {
				allergens = append(allergens, t)
			}
		}
		if len(a.reactions) > 0 {
			reactions = append(reactions, b.stmt(b.t.fill("drug_reaction", b.lang, "drugs", b.list(b.names(a.allergen)), "reactions", b.list(b.names(a.reactions))), a.srcs))
		}
	}
	var listed []int
	for _, a := range some {
		if len(a.reactions) > 0 {
			continue
		}
		for _, t := range a.allergen {
			if !slices.Contains(listed, t) {
				listed = append(listed, t)
			}
		}
	}
	switch {
	case len(none) > 0 && len(some) > 0:
		var st clinic.Statement
		if len(allergens) > 0 {
			st = b.stmt(b.t.fill("allergy_conflict", b.lang, "allergens", b.list(b.names(allergens))), noneSrc, someSrc)
		} else {
			st = b.stmt(b.t.fill("allergy_conflict_unspecified", b.lang), noneSrc, someSrc)
		}
		st.Unsupported = true
		st.Reason = ConflictReasonPrefix + "the sources both deny allergies and report one"
		return []clinic.Statement{st}
	case len(reactions) > 0:
		if len(listed) > 0 {
			var src []int
			for _, a := range some {
				if len(a.reactions) == 0 {
					src = append(src, a.srcs...)
				}
			}
			reactions = append([]clinic.Statement{b.stmt(b.t.fill("allergy_present", b.lang, "allergens", b.list(b.names(listed))), src)}, reactions...)
		}
		return reactions
	case len(some) > 0 && len(allergens) > 0:
		return []clinic.Statement{b.stmt(b.t.fill("allergy_present", b.lang, "allergens", b.list(b.names(allergens))), someSrc)}
	case len(some) > 0:
		return []clinic.Statement{b.stmt(b.t.fill("allergy_unspecified", b.lang), someSrc)}
	case len(none) > 0:
		return []clinic.Statement{b.stmt(b.t.fill("allergy_none", b.lang), noneSrc)}
	}
	return nil
}

func (b *builder) habits() []clinic.Statement {
	var out []clinic.Statement
	pos, neg, _ := b.patientFindings(KindHabit)
	for _, t := range pos.terms {
		out = append(out, b.stmt(b.t.fill("habit_present", b.lang, "habits", b.name(t)), pos.srcs[t]))
	}
	return b.listed(out, "habit_negative", "habits", neg, neg.terms)
}

func (b *builder) family() []clinic.Statement {
	var out []clinic.Statement
	type key struct {
		rel     string
		present bool
	}
	groups := map[key]*group{}
	var order []key
	for _, f := range b.fs.findings {
		if f.family == "" || f.doctor {
			continue
		}
		k := key{f.family, f.present}
		g, ok := groups[k]
		if !ok {
			g = newGroup()
			groups[k] = g
			order = append(order, k)
		}
		g.add(f)
	}
	for _, k := range order {
		g := groups[k]
		if k.present {
			out = append(out, b.stmt(b.t.fill("family_present", b.lang, "relation", k.rel, "conditions", b.list(b.names(g.terms))), g.allSrcs(g.terms)))
		} else {
			out = b.listed(out, "family_negative", "conditions", g, g.terms)
		}
	}
	return out
}

// dataItems writes one statement per data item of the given kinds.
func (b *builder) dataItems(kinds ...string) []clinic.Statement {
	var out []clinic.Statement
	base := b.base
	for i, d := range b.in.Data {
		if !slices.Contains(kinds, d.Kind) {
			continue
		}
		text := strings.TrimSpace(d.Text)
		if d.Name != "" {
			text = b.t.fill("data_item", b.lang, "name", d.Name, "text", text)
		}
		out = append(out, b.stmt(text, []int{base + i}))
	}
	return out
}

// itemsAndQuotes writes a section from the data items of the given
// kinds, then the sentences cues picks (none for nil cues).
func itemsAndQuotes(cues *cueSet, kinds ...string) func(*builder) []clinic.Statement {
	return func(b *builder) []clinic.Statement {
		out := b.dataItems(kinds...)
		if cues == nil {
			return out
		}
		return append(out, b.quotes(cues)...)
	}
}

// quotes are the clinician's (with cues.anySpeaker, anyone's)
// non-question sentences that contain one of the cues.
func (b *builder) quotes(cues *cueSet) []clinic.Statement {
	var out []clinic.Statement
	words := cues.words(b.zh())
	for i, t := range b.fs.turns {
		if t.speaker == "" || (!cues.anySpeaker && !t.clinician()) {
			continue
		}
		for _, s := range sentences(t.text) {
			ls := strings.ToLower(normalize(s))
			if containsAny(ls, words) == "" || strings.HasSuffix(strings.TrimSpace(ls), "?") {
				continue
			}
			rd := b.e.vocab.read(s)
			if rd.question && b.zh() {
				continue
			}
			if cues.need != nil && !cues.need(b, rd) {
				continue
			}
			if (b.zh() && utf8.RuneCountInString(s) < 4) || (!b.zh() && len(wordsOf(s)) < 4) {
				continue
			}
			out = append(out, b.stmt(capitalize(strings.TrimSpace(s)), []int{i}))
			if len(out) >= 10 {
				return out
			}
		}
	}
	return out
}

// namesTest is whether a sentence names a test (results are quoted only
// then).
func (b *builder) namesTest(rd reading) bool {
	for _, m := range rd.mentions {
		if b.kind(m.term) == KindTest {
			return true
		}
	}
	return false
}

func (b *builder) diagnosis() []clinic.Statement {
	var out []clinic.Statement
	out = append(out, b.dataItemsRole(DataDiagnosis, "admission", "working", "")...)
	if len(out) > 0 {
		return out
	}
	cues := dxCues.words(b.zh())
	seen := map[int]bool{}
	var sure, maybe []int
	srcs := map[int][]int{}
	surface := map[int]string{}
	for i, t := range b.fs.turns {
		if !t.clinician() {
			continue
		}
		for ci, c := range t.rd.clauses {
			clause := string(t.rd.rs[c.start:c.end])
			if containsAny(clause, cues) == "" || isQuestion([]rune(clause)) {
				continue
			}
			for _, m := range t.rd.mentions {
				if m.clause != ci || m.negated || m.question || b.kind(m.term) != KindCondition || seen[m.term] {
					continue
				}
				seen[m.term] = true
				srcs[m.term] = []int{i}
				// the clinician's own words name the diagnosis
				surface[m.term] = string(t.rd.rs[m.start:m.end])
				if containsAny(clause, possibleZH) != "" || containsAny(clause, possibleEN) != "" {
					maybe = append(maybe, m.term)
				} else {
					sure = append(sure, m.term)
				}
			}
		}
	}
	for _, t := range sure {
		out = append(out, b.stmt(b.t.fill("diagnosis", b.lang, "conditions", capitalize(surface[t])), srcs[t]))
	}
	for _, t := range maybe {
		key := "diagnosis_possible"
		if b.zh() {
			key = "diagnosis"
		}
		out = append(out, b.stmt(b.t.fill(key, b.lang, "conditions", surface[t]), srcs[t]))
	}
	if len(out) == 0 {
		out = b.quotes(&dxCues)
		if len(out) > 4 {
			out = out[:4]
		}
	}
	return out
}

// dataItemsRole is dataItems restricted to diagnosis roles.
func (b *builder) dataItemsRole(kind string, roles ...string) []clinic.Statement {
	var out []clinic.Statement
	base := b.base
	for i, d := range b.in.Data {
		if d.Kind != kind || !slices.Contains(roles, d.Role) {
			continue
		}
		out = append(out, b.stmt(strings.TrimSpace(d.Text), []int{base + i}))
	}
	return out
}
