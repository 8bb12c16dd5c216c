package scribe

import (
	"fmt"

	"strings"
	"unicode"

	"github.com/yizhu-health/yizhu/clinic"
)

var stopwordsEN = map[string]bool{}

func init() {
	for w := range strings.FieldsSeq(`a an the and or of to in on for with at by from is are was were be been being has have had it its this that these those
as but if so than then there their they them he she his her him we our you your i me my not no yes do does did done can could would should will
just also very really some any about into over after before again up down out off only own same such too s t don't doesn't didn't it's that's
what when where which who how all both each few more most other well okay ok um uh like know get got going go think
don doesn didn isn wasn aren weren can couldn wouldn shouldn won haven hasn hadn ll ve re d m`) {
		stopwordsEN[w] = true
	}
	for _, w := range thirdPersonWords {
		stopwordsEN[w] = true
	}
}

// unitRunes may stand alone in a Chinese statement (units, list glue).
const unitRunes = "天日周月年岁次个多余小时分钟前后"

// verify checks every statement of note against src; see Engine.Verify.
func verify(v *Vocabulary, t *templates, note *clinic.Note, src Sources) []Problem {
	var out []Problem
	for si := range note.Sections {
		sec := &note.Sections[si]
		for i := range sec.Statements {
			st := &sec.Statements[i]
			if IsConflict(*st) {
				out = append(out, Problem{Section: sec.Key, Index: i, Kind: ProblemConflict, Detail: strings.TrimPrefix(st.Reason, ConflictReasonPrefix),
					DetailZH: "来源信息相互矛盾，需医师核实"})
				continue
			}
			kind, en, zh := checkStatement(v, t, *st, src)
			st.Unsupported, st.Reason = kind != "", ""
			if kind != "" {
				st.Reason = kind + ": " + en
				out = append(out, Problem{Section: sec.Key, Index: i, Kind: kind, Detail: en, DetailZH: zh})
			}
		}
	}
	return out
}

// checkStatement returns the first problem of st, or "".
func checkStatement(v *Vocabulary, t *templates, st clinic.Statement, src Sources) (kind, en, zh string) {
	if strings.TrimSpace(st.Text) == "" {
		return "", "", ""
	}
	if len(st.Sources) == 0 {
		return ProblemNoSource, "the statement cites no source", "该陈述没有来源"
	}
	items, bad := src.cited(st)
	if bad != "" {
		return ProblemUnknownSource, fmt.Sprintf("cited source %s does not exist", bad), fmt.Sprintf("引用的来源 %s 不存在", bad)
	}
	turns := make([]turn, len(items))
	var all strings.Builder
	for i, it := range items {
		turns[i] = turn{src: clinic.Source{Kind: it.Kind, ID: it.ID}, speaker: it.Speaker, text: it.Text}
		all.WriteString(strings.ToLower(normalize(it.Text)))
		all.WriteString("\n")
	}
	srcText := all.String()
	// A verbatim quote of its sources says nothing they do not.
	if q := strings.TrimSpace(strings.ToLower(normalize(st.Text))); q != "" && strings.Contains(srcText, q) {
		return "", "", ""
	}
	fs := v.readFacts(turns)
	stRd := v.read(st.Text)

	// Numbers.
	srcNums := map[float64]bool{}
	for _, n := range numbers(srcText) {
		srcNums[n.val] = true
	}
	for _, n := range numbers(st.Text) {
		if !srcNums[n.val] {
			return ProblemNumber, fmt.Sprintf("the number %v is not in the sources", n.val), fmt.Sprintf("数字 %v 在来源中找不到", n.val)
		}
	}
	// Entities.
	srcTerms := map[int]bool{}
	var posSurf, negSurf []string
	for _, tu := range fs.turns {
		for _, m := range tu.rd.mentions {
			srcTerms[m.term] = true
			if m.question {
				continue
			}
			surf := string(tu.rd.rs[m.start:m.end])
			if m.negated {
				negSurf = append(negSurf, surf)
			} else {
				posSurf = append(posSurf, surf)
			}
		}
	}
	// within reports a statement term written inside a longer source term
	// ("pain" within "pain in my chest").
	within := func(m mention, surfs []string) bool {
		s := string(stRd.rs[m.start:m.end])
		for _, x := range surfs {
			if strings.Contains(x, s) {
				return true
			}
		}
		return false
	}
	for _, m := range stRd.mentions {
		if !srcTerms[m.term] && !within(m, posSurf) && !within(m, negSurf) {
			tm := v.terms[m.term]
			return ProblemEntity, fmt.Sprintf("%q is not mentioned in the sources", tm.NameEN), fmt.Sprintf("来源中未提及“%s”", tm.NameZH)
		}
	}
	// Allergies, then the polarity of findings.
	stText := strings.ToLower(normalize(st.Text))
	allergy := containsAny(stText, allergyWords) != ""
	var reacted map[int]bool
	if allergy {
		if k, e, z := checkAllergy(stText, fs); k != "" {
			return k, e, z
		}
		var k, e, z string
		if reacted, k, e, z = checkAllergens(v, stRd, fs); k != "" {
			return k, e, z
		}
	}
	{
		pos, neg := map[int]bool{}, map[int]bool{}
		for _, f := range fs.findings {
			if f.present {
				pos[f.term] = true
			} else {
				neg[f.term] = true
			}
		}
		for _, m := range stRd.mentions {
			if m.question {
				continue
			}
			tm := v.terms[m.term]
			if allergy && (tm.Kind == KindDrug || tm.Kind == KindAllergen || reacted[m.term] && !m.negated) {
				continue // checked as allergens and reactions
			}
			if m.negated && !neg[m.term] && !within(m, negSurf) {
				return ProblemNegation, fmt.Sprintf("the sources do not say %s is absent", tm.NameEN), fmt.Sprintf("来源未说明无“%s”", tm.NameZH)
			}
			if !m.negated && !pos[m.term] && !within(m, posSurf) {
				return ProblemNegation, fmt.Sprintf("the sources do not say %s is present", tm.NameEN), fmt.Sprintf("来源未说明有“%s”", tm.NameZH)
			}
		}
	}
	// Words the statement adds.
	if w := unsupportedWord(v, t, stRd, srcText); w != "" {
		return ProblemEntity, fmt.Sprintf("%q is not in the sources", w), fmt.Sprintf("“%s”在来源中找不到", w)
	}
	return "", "", ""
}

// checkAllergens checks the drugs and allergens an allergy statement
// names: each must be what the sources call an allergen (a medicine the
// patient takes is not), and none may be written as denied. It returns
// the reactions the sources report; other findings of the statement are
// checked like any finding.
func checkAllergens(v *Vocabulary, stRd reading, fs facts) (reacted map[int]bool, kind, en, zh string) {
	allergen, reacted := map[int]bool{}, map[int]bool{}
	for _, a := range fs.allergies {
		for _, t := range a.allergen {
			allergen[t] = true
		}
		for _, t := range a.reactions {
			reacted[t] = true
		}
	}
	for _, m := range stRd.mentions {
		tm := v.terms[m.term]
		if (tm.Kind == KindDrug || tm.Kind == KindAllergen) && !m.question && (m.negated || !allergen[m.term]) {
			return nil, ProblemNegation, fmt.Sprintf("the sources do not report an allergy to %s", tm.NameEN), fmt.Sprintf("来源未说明对“%s”过敏", tm.NameZH)
		}
	}
	return reacted, "", "", ""
}

func checkAllergy(stText string, fs facts) (kind, en, zh string) {
	stNone := negatedAllergy(stText)
	for _, a := range fs.allergies {
		if a.none == stNone {
			return "", "", ""
		}
	}
	if stNone {
		return ProblemNegation, "the sources do not say there are no allergies", "来源未说明无过敏史"
	}
	return ProblemNegation, "the sources do not report an allergy", "来源未提及过敏"
}

// unsupportedWord returns a word or Han run of the statement that is in
// neither its sources nor the phrase templates, or "".
func unsupportedWord(v *Vocabulary, t *templates, rd reading, srcText string) string {
	rs := append([]rune(nil), rd.rs...)
	for _, m := range rd.mentions {
		for i := m.start; i < m.end; i++ {
			rs[i] = ' '
		}
	}
	srcWords := map[string]bool{}
	for _, w := range wordsOf(srcText) {
		srcWords[w] = true
		srcWords[strings.TrimSuffix(w, "s")] = true
	}
	for _, w := range wordsOf(string(rs)) {
		if stopwordsEN[w] || t.wordsEN[w] || srcWords[w] || srcWords[strings.TrimSuffix(w, "s")] || isNumberWord(w) {
			continue
		}
		return w
	}
	tmplRuns := "|" + strings.Join(t.runsZH, "|") + "|"
	for _, run := range hanRuns(string(rs)) {
		if bad := coverRun([]rune(run), srcText, tmplRuns); bad != "" {
			return bad
		}
	}
	return ""
}

func isNumberWord(w string) bool {
	if _, ok := enNumberWords[w]; ok {
		return true
	}
	for _, r := range w {
		if !unicode.IsDigit(r) && r != '.' {
			return false
		}
	}
	return true
}

// coverRun covers a Han run with pieces of the sources (two or more
// characters), pieces of the templates, numerals and unit characters; an
// isolated character found in the sources is accepted, two in a row are
// not. It returns the first piece it cannot cover.
func coverRun(run []rune, srcText, tmplRuns string) string {
	singles := 0
	for i := 0; i < len(run); {
		best := 0
		for k := len(run) - i; k >= 1; k-- {
			piece := string(run[i : i+k])
			if (k >= 2 && strings.Contains(srcText, piece)) || strings.Contains(tmplRuns, piece) {
				best = k
				break
			}
		}
		if best > 0 {
			i += best
			singles = 0
			continue
		}
		r := run[i]
		if zhDigits[r] > 0 || strings.ContainsRune("十百零半两"+unitRunes, r) {
			i++
			continue
		}
		if strings.ContainsRune(srcText, r) && singles == 0 {
			singles++
			i++
			continue
		}
		end := min(len(run), i+4)
		return string(run[max(0, i-1):end])
	}
	return ""
}
