package scribe

import (
	"slices"
	"strings"
	"unicode"

	"github.com/yizhu-health/yizhu/clinic"
)

// turn is one citable text (utterance, data item, summary) as read.
type turn struct {
	src     clinic.Source
	speaker clinic.Speaker // "" for data items
	text    string
	rd      reading
	prior   string // section key, for statements of prior notes
}

func (t *turn) clinician() bool { return t.speaker == clinic.SpeakerDoctor }
func (t *turn) patientSide() bool {
	return t.speaker == clinic.SpeakerPatient || t.speaker == clinic.SpeakerCompanion
}

// fact is one finding with its polarity and the turns that support it.
type fact struct {
	term     int
	present  bool
	duration string
	srcs     []int // turn indexes
	doctor   bool  // stated by the clinician
	family   string
	inferred bool // from a yes/no answer to a question
	mention  int  // index of the mention in its turn (not inferred facts)
}

// allergyFact is one statement about allergies.
type allergyFact struct {
	none      bool  // "no allergies"
	allergen  []int // terms; empty with !none = unspecified allergy
	reactions []int // what the allergen caused ("吃头孢出过皮疹"), when said
	srcs      []int
}

// facts is everything read from a set of turns.
type facts struct {
	turns     []turn
	findings  []fact
	allergies []allergyFact
}

var (
	familyWordsZH = []string{"父亲", "母亲", "爸爸", "妈妈", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "哥哥", "姐姐", "弟弟", "妹妹", "兄弟", "姐妹", "家里人", "家族", "家人", "儿子", "女儿"}
	familyWordsEN = []string{"father", "mother", "dad", "mom", "mum", "brother", "sister", "grandfather", "grandmother", "grandma", "grandpa", "family", "parents", "aunt", "uncle", "son", "daughter"}
	allergyWords  = []string{"过敏", "allerg", "nkda"}
	yesZH         = []string{"有的", "有", "是的", "是", "对", "嗯", "会", "经常", "偶尔", "有时", "有点", "恩"}
	noZH          = []string{"没有", "没", "无", "不", "否", "从来没", "从没"}
	yesEN         = []string{"yes", "yeah", "yep", "yup", "uh-huh", "mm-hmm", "sure", "correct", "right", "i do", "i have", "sometimes", "occasionally", "a little", "definitely"}
	noEN          = []string{"no", "nope", "nah", "never", "not really", "i don't", "i do not", "i haven't", "i have not", "none"}
)

// answer classifies a reply as yes (+1), no (-1) or neither (0) by its
// first clause; a reply that asks back ("是右心衰加重了吗？") answers
// nothing.
func answer(rd reading) int {
	if len(rd.clauses) == 0 {
		return 0
	}
	return clauseAnswer(rd, rd.clauses[0])
}

// clauseAnswer classifies one clause of a reply as answer does.
func clauseAnswer(rd reading, c span) int {
	s := strings.TrimSpace(string(rd.rs[c.start:c.end]))
	if isQuestion([]rune(s)) {
		return 0
	}
	s = strings.TrimLeft(s, " ,.，。!！")
	for _, p := range []string{"嗯，", "嗯,", "呃", "um, ", "uh, ", "um ", "uh ", "well, ", "oh, "} {
		s = strings.TrimPrefix(s, p)
	}
	rs := []rune(s)
	if excludesOthers(s) {
		return -1
	}
	if n := matchList(rs, 0, noZH, false); n > 0 && !strings.HasPrefix(s, "不舒服") && !strings.HasPrefix(s, "不适") {
		return -1
	}
	if n := matchList(rs, 0, noEN, true); n > 0 {
		return -1
	}
	if n := matchList(rs, 0, yesZH, false); n > 0 {
		return 1
	}
	if n := matchList(rs, 0, yesEN, true); n > 0 {
		return 1
	}
	// "三年了", "半年多", "两天": saying how long answers yes.
	if d := findDuration(rs); d != "" && strings.HasPrefix(s, d) {
		return 1
	}
	return 0
}

// excludesOthers reports a reply that names what it has and denies the
// rest: "除了流鼻涕没有别的症状", "other than a cough, nothing else".
func excludesOthers(s string) bool {
	if strings.HasPrefix(s, "除了") || strings.HasPrefix(s, "除") {
		return containsAny(s, []string{"没有别的", "没有其他", "没有其它", "没别的", "没其他", "无其他", "无其它", "都没有"}) != ""
	}
	return false
}

// leadEnd returns where the answering part of a reply's first clause
// ends: at the first scope break ("没有，就是睡眠不好" answers "没有"), or
// the clause end.
func leadEnd(rd reading) int {
	c := rd.clauses[0]
	for i := c.start; i < c.end; i++ {
		if matchList(rd.rs, i, scopeBreakZH, false) > 0 || matchList(rd.rs, i, scopeBreakEN, true) > 0 {
			return i
		}
	}
	return c.end
}

func containsAny(s string, words []string) string {
	for _, w := range words {
		if strings.Contains(s, w) {
			return w
		}
	}
	return ""
}

// readFacts reads findings and allergies from turns in order. A
// clinician's question followed by a patient's bare yes/no answers it:
// the findings asked about take the answer's polarity, sourced to both.
func (v *Vocabulary) readFacts(turns []turn) facts {
	fs := facts{turns: turns}
	for i := range turns {
		t := &turns[i]
		if t.rd.rs == nil {
			t.rd = v.read(t.text)
		}
		if t.clinician() {
			askWholeSentence(v, &t.rd)
		}
	}
	for i := range turns {
		t := &turns[i]
		if t.clinician() && t.rd.question && i+1 < len(turns) && turns[i+1].patientSide() {
			v.answerFacts(&fs, i, i+1)
		}
		if t.prior != "" {
			continue // prior notes are cited, not re-read as new facts
		}
		var reacted map[int]bool
		if t.patientSide() {
			var groups []reaction
			groups, reacted = v.drugReactions(t.rd)
			for _, g := range groups {
				fs.allergies = append(fs.allergies, allergyFact{allergen: g.drugs, reactions: g.reactions, srcs: []int{i}})
			}
		}
		for ci, c := range t.rd.clauses {
			clause := string(t.rd.rs[c.start:c.end])
			isAllergy := containsAny(clause, allergyWords) != ""
			fam := containsAny(clause, familyWordsZH)
			if fam == "" {
				if w := containsAny(" "+clause+" ", familyWordsEN); w != "" && latinWordIn(clause, w) {
					fam = w
				}
			}
			allergyClause := isAllergy && !t.clinician() && !isQuestion([]rune(clause))
			if allergyClause {
				fs.allergies = append(fs.allergies, allergyFromClause(v, t, ci, i, reacted))
			}
			for mi, m := range t.rd.mentions {
				if m.clause != ci || m.question || reacted[mi] {
					continue
				}
				if allergyClause && (v.terms[m.term].Kind != KindDrug || allergenAt(v, t.rd, mi)) {
					// Only a medicine the patient says they take, not
					// the allergen, is a finding of an allergy clause.
					continue
				}
				term := v.terms[m.term]
				if term.Kind == KindAllergen {
					continue
				}
				f := fact{term: m.term, present: !m.negated, duration: m.duration, srcs: []int{i}, doctor: t.clinician(), mention: mi}
				if fam != "" && (term.Kind == KindCondition || term.Kind == KindSymptom) {
					f.family = fam
				}
				if t.speaker == "" {
					f.doctor = true // data items are clinical record text
				}
				fs.findings = append(fs.findings, f)
			}
		}
	}
	return fs
}

func latinWordIn(s, w string) bool {
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if hasPrefixAt(rs, i, w) && latinBoundary(rs, i) && latinBoundary(rs, i+len([]rune(w))) {
			return true
		}
	}
	return false
}

// allergyFromClause reads the allergy statement of clause ci; drugs of a
// reaction (reacted) are read as that reaction's.
func allergyFromClause(v *Vocabulary, t *turn, ci, idx int, reacted map[int]bool) allergyFact {
	af := allergyFact{srcs: []int{idx}}
	neg := false
	for mi, m := range t.rd.mentions {
		if m.clause != ci || reacted[mi] || !allergenAt(v, t.rd, mi) {
			continue
		}
		if m.negated {
			neg = true
			continue
		}
		af.allergen = append(af.allergen, m.term)
	}
	c := t.rd.clauses[ci]
	clause := string(t.rd.rs[c.start:c.end])
	if len(af.allergen) == 0 && (neg || negatedAllergy(clause)) {
		af.none = true
	}
	return af
}

// negatedAllergy reports a clause that denies allergies: 没有过敏, 无过敏,
// 不过敏, 否认过敏, "no allergies", "not allergic", "no known".
func negatedAllergy(clause string) bool {
	i := strings.Index(clause, "过敏")
	if i >= 0 {
		pre := []rune(clause[:i])
		if len(pre) > 8 {
			pre = pre[len(pre)-8:]
		}
		p := string(pre)
		return containsAny(p, []string{"没有", "没", "无", "不", "否认", "未"}) != ""
	}
	return containsAny(clause, []string{"no allerg", "no known", "not allergic", "nkda", "no drug allerg", "don't have any allerg", "no medication allerg", "don't have allerg", "not that i know", "none"}) != ""
}

// answerFacts applies the yes/no answer of turn a to the question turn q.
func (v *Vocabulary) answerFacts(fs *facts, q, a int) {
	qt, at := &fs.turns[q], &fs.turns[a]
	ans := answer(at.rd)
	// Allergy questions.
	last := qt.rd.clauses[len(qt.rd.clauses)-1]
	qclause := string(qt.rd.rs[last.start:last.end])
	if containsAny(qclause, allergyWords) != "" {
		// The reply's allergens: drugs and allergens it names, except a
		// medicine it says the patient takes ("没有，我一直在吃阿司匹林")
		// and a drug it ties to a reaction (read as its own fact).
		_, reacted := v.drugReactions(at.rd)
		var allergens []int
		for mi, m := range at.rd.mentions {
			if !m.negated && !reacted[mi] && allergenAt(v, at.rd, mi) {
				allergens = append(allergens, m.term)
			}
		}
		has := len(allergens) > 0
		switch {
		case ans < 0 && !has:
			fs.allergies = append(fs.allergies, allergyFact{none: true, srcs: []int{q, a}})
		case has:
			fs.allergies = append(fs.allergies, allergyFact{allergen: allergens, srcs: []int{q, a}})
		case ans > 0 && len(reacted) == 0:
			fs.allergies = append(fs.allergies, allergyFact{srcs: []int{q, a}})
		}
		return
	}
	// Findings the reply names itself are read on their own; the others
	// the clinician asked about take the reply's yes or no. A reply whose
	// answering part names findings ("没有胸痛，胸闷有") is read on its own
	// altogether; one that opens with something else may still hold a
	// bare yes/no clause further on ("做过心电图。偶尔会有").
	named := map[int]bool{}
	for _, m := range at.rd.mentions {
		if !m.question {
			named[m.term] = true
		}
	}
	if len(at.rd.clauses) == 0 {
		return
	}
	if ans == 0 {
		for _, c := range at.rd.clauses[1:] {
			if a := clauseAnswer(at.rd, c); a != 0 && !hasFinding(v, at.rd, c.start, c.end) {
				ans = a
				break
			}
		}
		if ans == 0 {
			return
		}
	} else if !excludesOthers(string(at.rd.rs)) && hasFinding(v, at.rd, at.rd.clauses[0].start, leadEnd(at.rd)) {
		return
	}
	for _, m := range qt.rd.mentions {
		if !m.question || named[m.term] {
			continue
		}
		k := v.terms[m.term].Kind
		if k == KindTest || k == KindAllergen {
			continue
		}
		fs.findings = append(fs.findings, fact{term: m.term, present: ans > 0, srcs: []int{q, a}, inferred: true,
			duration: findDuration(at.rd.rs)})
	}
}

// sentences splits text into sentences, keeping end punctuation.
func sentences(text string) []string {
	var out []string
	rs := []rune(strings.TrimSpace(text))
	start := 0
	for i, r := range rs {
		end := false
		switch r {
		case '。', '！', '？', '!', '?', '；', ';', '\n':
			end = true
		case '.':
			end = (i+1 == len(rs) || rs[i+1] == ' ') && !(i > 0 && unicode.IsDigit(rs[i-1]) && i+1 < len(rs) && unicode.IsDigit(rs[i+1]))
		}
		if end {
			if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

// hasFinding reports a symptom or condition read (not asked about) in
// [start, end) of rd.
func hasFinding(v *Vocabulary, rd reading, start, end int) bool {
	for _, m := range rd.mentions {
		if m.question || m.start < start || m.start >= end {
			continue
		}
		if k := v.terms[m.term].Kind; k == KindSymptom || k == KindCondition {
			return true
		}
	}
	return false
}

// Medicine use: words that say a drug is taken, not reacted to.
var (
	medUseZH = []string{"吃", "服", "用", "打", "输", "注射"}
	medUseEN = []string{"take", "takes", "taking", "took", "on", "use", "uses", "using", "prescribed", "started"}
	// allergenGlue may stand between an allergen and the allergy word
	// after it: "青霉素和头孢过敏", "吃阿司匹林会过敏", "penicillin allergy".
	allergenGlue = []string{"一吃就", "一用就", "吃了", "用了", "有点", "会", "就", "都", "也", "有", "了", "是", "类", "药物", "药", "and", "or", "&"}
)

// allergenAt reports whether mention mi of rd can be an allergen: a drug
// or allergen term that the allergy word of its clause is about.
//   - Before the allergy word, only other allergens and glue words may
//     stand between ("对青霉素过敏"; in "我在吃阿司匹林对青霉素过敏"
//     阿司匹林 is a medicine).
//   - After it, no medicine-use word may ("allergic to penicillin and I
//     take aspirin": aspirin is a medicine).
//   - In a clause without an allergy word (a reply to an allergy
//     question), no medicine-use word may come before it ("没有，我一直在
//     吃阿司匹林").
func allergenAt(v *Vocabulary, rd reading, mi int) bool {
	m := rd.mentions[mi]
	if k := v.terms[m.term].Kind; k != KindDrug && k != KindAllergen {
		return false
	}
	c := rd.clauses[m.clause]
	aw := containsAny(string(rd.rs[c.start:c.end]), allergyWords)
	if aw == "" {
		return !medUseIn(string(rd.rs[c.start:m.start]))
	}
	// the allergy word nearest the mention
	best, bestDist := -1, 0
	for i := c.start; i < c.end; i++ {
		if !hasPrefixAt(rd.rs, i, aw) {
			continue
		}
		d := i - m.start
		if d < 0 {
			d = -d
		}
		if best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	if best < m.start {
		return !medUseIn(string(rd.rs[best:m.start]))
	}
	// Before the allergy word: blank the other allergens and the glue.
	between := []rune(string(rd.rs[m.end:best]))
	for _, o := range rd.mentions {
		if o.start >= m.end && o.end <= best {
			if k := v.terms[o.term].Kind; k == KindDrug || k == KindAllergen {
				for i := o.start; i < o.end; i++ {
					between[i-m.end] = ' '
				}
			}
		}
	}
	for i := 0; i < len(between); {
		r := between[i]
		if unicode.IsSpace(r) || unicode.IsPunct(r) && r != '，' && r != ',' {
			i++
			continue
		}
		if n := matchList(between, i, allergenGlue, false); n > 0 {
			i += n
			continue
		}
		if n := matchList(between, i, listFillers, false); n > 0 {
			i += n
			continue
		}
		return false
	}
	return true
}

// medUseIn reports a medicine-use word in s.
func medUseIn(s string) bool {
	return containsAny(s, medUseZH) != "" || anyLatinWord(s, medUseEN)
}

func anyLatinWord(s string, words []string) bool {
	for _, w := range words {
		if latinWordIn(s, w) {
			return true
		}
	}
	return false
}

// Drug reactions. A rash or itching that the patient ties to a drug
// ("以前吃头孢出过皮疹", "皮疹是吃头孢引起的", "I got a rash from
// amoxicillin") is a drug allergy, which a record keeps in 过敏史 with the
// drug and the reaction (病历书写基本规范: 过敏史 records drug allergies
// and what they caused), not a present complaint.
var (
	reactionCodes  = map[string]bool{"rash": true, "itching": true}
	reactionLinkZH = []string{"后", "出过", "出了", "起过", "起了", "出现", "引起", "导致", "过敏", "就出", "就起", "长了", "长过"}
	reactionLinkEN = []string{"from", "after", "caused", "gave", "when"}
)

// reaction is one drug reaction read from a text.
type reaction struct {
	drugs, reactions []int // terms
}

// drugReactions finds the drug reactions of rd: a reaction mention (said,
// not denied or asked) and a drug mention (taken, not denied) in the same
// clause, or the drug in the clause before when a comma joins them
// ("以前吃头孢，出过皮疹"), with a linking word between or right after
// them. It returns the reactions and the mentions they used.
func (v *Vocabulary) drugReactions(rd reading) ([]reaction, map[int]bool) {
	var out []reaction
	used := map[int]bool{}
	for ri, r := range rd.mentions {
		if r.negated || r.question || !reactionCodes[v.terms[r.term].Code] || used[ri] {
			continue
		}
		var g reaction
		var ms []int
		for di, d := range rd.mentions {
			if d.negated || d.question || v.terms[d.term].Kind != KindDrug || used[di] {
				continue
			}
			sameClause := d.clause == r.clause
			prevClause := d.clause == r.clause-1 && d.start < r.start && isCommaLike(rd.rs[rd.clauses[d.clause].end-1])
			if !sameClause && !prevClause {
				continue
			}
			a, b := min(d.start, r.start), max(d.end, r.end)
			span := string(rd.rs[a:min(len(rd.rs), b+4)])
			if containsAny(span, reactionLinkZH) == "" && !anyLatinWord(span, reactionLinkEN) {
				continue
			}
			if !slices.Contains(g.drugs, d.term) {
				g.drugs = append(g.drugs, d.term)
			}
			ms = append(ms, di)
		}
		if len(g.drugs) == 0 {
			continue
		}
		g.reactions = append(g.reactions, r.term)
		used[ri] = true
		for _, di := range ms {
			used[di] = true
		}
		out = append(out, g)
	}
	return out, used
}

// yesNoEndZH are the particles that end a Chinese yes/no question (a
// question mark does too).
var yesNoEndZH = []rune{'吗', '么', '嘛', '呢'}

// askWholeSentence marks as asked the findings of the comma-joined list
// that a clinician's yes/no question closes: in "目前没有心慌胸闷，气短，
// 口唇发紫的情况么" the particle ending the sentence asks about the whole
// list, its negation included, so none of it is a denial (a question
// asks; the patient's answer decides).
func askWholeSentence(v *Vocabulary, rd *reading) {
	for k, c := range rd.clauses {
		end, asks := c.end, false
		for end > c.start && (unicode.IsSpace(rd.rs[end-1]) || sentenceEnd(rd.rs[end-1])) {
			asks = asks || rd.rs[end-1] == '?'
			end--
		}
		if end == c.start || !asks && !slices.Contains(yesNoEndZH, rd.rs[end-1]) {
			continue
		}
		// Back through the list it closes: clauses that only list terms
		// ("气短，") and the clause that opens the list ("目前没有心慌胸
		// 闷，"), not a statement before an unrelated question ("药疹有荨
		// 麻疹，也有红色小丘疹，宝宝咳嗽严重吗？").
		for j := k - 1; j >= 0 && isCommaLike(rd.rs[rd.clauses[j].end-1]); j-- {
			list := v.listClause(rd.rs, rd.clauses[j])
			if !list && !v.listClause(rd.rs, rd.clauses[j+1]) {
				break
			}
			askClause(rd, j)
			if !list {
				break // the clause that opens the list
			}
		}
	}
}

// askClause marks the findings of clause ci as asked.
func askClause(rd *reading, ci int) {
	for mi := range rd.mentions {
		if rd.mentions[mi].clause == ci {
			rd.mentions[mi].question = true
		}
	}
}
