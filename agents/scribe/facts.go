package scribe

import (
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
	none     bool  // "no allergies"
	allergen []int // terms; empty with !none = unspecified allergy
	srcs     []int
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

// answer classifies a reply as yes (+1), no (-1) or neither (0).
func answer(rd reading) int {
	if len(rd.clauses) == 0 {
		return 0
	}
	c := rd.clauses[0]
	s := strings.TrimSpace(string(rd.rs[c.start:c.end]))
	s = strings.TrimLeft(s, " ,.，。!！")
	for _, p := range []string{"嗯，", "嗯,", "呃", "um, ", "uh, ", "um ", "uh ", "well, ", "oh, "} {
		s = strings.TrimPrefix(s, p)
	}
	rs := []rune(s)
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
	return 0
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
	}
	for i := range turns {
		t := &turns[i]
		if t.clinician() && t.rd.question && i+1 < len(turns) && turns[i+1].patientSide() {
			v.answerFacts(&fs, i, i+1)
		}
		if t.prior != "" {
			continue // prior notes are cited, not re-read as new facts
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
			if isAllergy && !t.clinician() && !isQuestion([]rune(clause)) {
				fs.allergies = append(fs.allergies, allergyFromClause(v, t, ci, i))
				continue
			}
			for mi, m := range t.rd.mentions {
				if m.clause != ci || m.question {
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

func allergyFromClause(v *Vocabulary, t *turn, ci, idx int) allergyFact {
	af := allergyFact{srcs: []int{idx}}
	neg := false
	for _, m := range t.rd.mentions {
		if m.clause != ci {
			continue
		}
		k := v.terms[m.term].Kind
		if k == KindDrug || k == KindAllergen {
			if m.negated {
				neg = true
				continue
			}
			af.allergen = append(af.allergen, m.term)
		}
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
		has := false
		for _, m := range at.rd.mentions {
			if k := v.terms[m.term].Kind; (k == KindDrug || k == KindAllergen) && !m.negated {
				has = true
			}
		}
		switch {
		case ans < 0 && !has:
			fs.allergies = append(fs.allergies, allergyFact{none: true, srcs: []int{q, a}})
		case has:
			af := allergyFact{srcs: []int{q, a}}
			for _, m := range at.rd.mentions {
				if k := v.terms[m.term].Kind; (k == KindDrug || k == KindAllergen) && !m.negated {
					af.allergen = append(af.allergen, m.term)
				}
			}
			fs.allergies = append(fs.allergies, af)
		case ans > 0:
			fs.allergies = append(fs.allergies, allergyFact{srcs: []int{q, a}})
		}
		return
	}
	if ans == 0 {
		return
	}
	// Only a bare answer carries the question's findings: one that names
	// findings of its own is read on its own.
	for _, m := range at.rd.mentions {
		if !m.question {
			return
		}
	}
	for _, m := range qt.rd.mentions {
		if !m.question {
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
