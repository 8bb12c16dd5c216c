package qcreview

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
)

// draft is a finding before citations are added.
type draft struct {
	check     Check
	loc       clinic.Location
	messageZH string
	messageEN string
	basis     string // the KB row or rule text it rests on
}

// sectionText is one text of a record with its location key.
type sectionText struct {
	key  string // "present_illness", "progress_notes/2"
	text string
}

// textsOf returns the texts of the named sections, progress notes one by one.
func textsOf(rec *qc.Record, keys []string) []sectionText {
	var out []sectionText
	for _, k := range keys {
		if k == qc.ProgressSection {
			for i, n := range rec.ProgressNotes {
				out = append(out, sectionText{fmt.Sprintf("%s/%d", qc.ProgressSection, i), n.Text})
			}
			continue
		}
		if t, ok := rec.Sections[k]; ok && strings.TrimSpace(t) != "" {
			out = append(out, sectionText{k, t})
		}
	}
	return out
}

func joined(ts []sectionText) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// runeLoc converts a byte span of s to a Location in section key.
func runeLoc(key, s string, start, end int) clinic.Location {
	a := utf8.RuneCountInString(s[:start])
	return clinic.Location{Section: key, Start: a, End: a + utf8.RuneCountInString(s[start:end])}
}

// bigramCover is the share of the character bigrams of term that occur in
// text (1 for a one-character term found in text).
func bigramCover(term, text string) float64 {
	r := []rune(term)
	if len(r) < 2 {
		if strings.Contains(text, term) {
			return 1
		}
		return 0
	}
	hit := 0
	for i := 0; i+1 < len(r); i++ {
		if strings.Contains(text, string(r[i:i+2])) {
			hit++
		}
	}
	return float64(hit) / float64(len(r)-1)
}

// gappedIn reports whether the runes of term occur in text in order with
// at most gap runes between neighbours ("咳痰" in "咳黄痰").
func gappedIn(term, text string, gap int) bool {
	tr, xr := []rune(term), []rune(text)
	if len(tr) < 2 {
		return false
	}
	for i, r := range xr {
		if r != tr[0] {
			continue
		}
		j, k := 1, i+1
		for j < len(tr) && k < len(xr) && k-i <= (len(tr)-1)*(gap+1) {
			if xr[k] == tr[j] {
				j++
			}
			k++
		}
		if j == len(tr) {
			return true
		}
	}
	return false
}

var (
	durationRE   = regexp.MustCompile(`[0-9０-９一二三四五六七八九十半余多数两]+\s*(?:个)?(?:小时|分钟|天|日|周|星期|月|年)(?:余|多|许)?`)
	fragmentSepR = regexp.MustCompile(`[，,、；;。及和并与/]+`)
)

// complaintTerms returns the content terms of a chief complaint with their
// byte spans: symptoms from the KB, and the other fragments left after
// durations and stop words are taken out.
func (k *kb) complaintTerms(cc string) [][3]int {
	var out [][3]int // start, end, 1 when a lexicon symptom
	covered := make([]bool, len(cc))
	for _, s := range k.Symptoms {
		for off := 0; ; {
			i := strings.Index(cc[off:], s)
			if i < 0 {
				break
			}
			a, b := off+i, off+i+len(s)
			off = b
			if slices.Contains(covered[a:b], true) {
				continue
			}
			for j := a; j < b; j++ {
				covered[j] = true
			}
			out = append(out, [3]int{a, b, 1})
		}
	}
	// Blank out what is covered, durations and stop words, then split.
	masked := []byte(cc)
	blank := func(a, b int) {
		for j := a; j < b; j++ {
			masked[j] = ','
		}
	}
	for j := range covered {
		if covered[j] {
			masked[j] = ','
		}
	}
	for _, m := range durationRE.FindAllStringIndex(cc, -1) {
		blank(m[0], m[1])
	}
	for _, w := range k.ComplaintStopwords {
		for off := 0; ; {
			i := strings.Index(string(masked[off:]), w)
			if i < 0 {
				break
			}
			blank(off+i, off+i+len(w))
			off += i + len(w)
		}
	}
	ms := string(masked)
	for _, sp := range fragmentSepR.Split(ms, -1) {
		sp = strings.TrimSpace(sp)
		if utf8.RuneCountInString(sp) < 2 || !hasHan(sp) {
			continue
		}
		// Locate the fragment in the masked string (same byte offsets as cc).
		for off := 0; ; {
			i := strings.Index(ms[off:], sp)
			if i < 0 {
				break
			}
			out = append(out, [3]int{off + i, off + i + len(sp), 0})
			off += i + len(sp)
		}
	}
	slices.SortFunc(out, func(a, b [3]int) int { return a[0] - b[0] })
	return slices.CompactFunc(out, func(a, b [3]int) bool { return a[0] == b[0] })
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// complaintUnexplained is QCR-001.
func (k *kb) complaintUnexplained(rec *qc.Record) []draft {
	cc, pi := rec.Sections["chief_complaint"], rec.Sections["present_illness"]
	if strings.TrimSpace(cc) == "" || strings.TrimSpace(pi) == "" {
		return nil // a missing section is the rules' business
	}
	var out []draft
	for _, t := range k.complaintTerms(cc) {
		term := cc[t[0]:t[1]]
		explained := strings.Contains(pi, term) || gappedIn(term, pi, 2)
		if !explained && t[2] == 0 {
			// A non-lexicon fragment ("直肠癌", "乳房肿块") counts when most
			// of it is there in other words.
			explained = bigramCover(term, pi) >= 0.5
		}
		if explained {
			continue
		}
		out = append(out, draft{
			check:     CheckComplaintUnexplained,
			loc:       runeLoc("chief_complaint", cc, t[0], t[1]),
			messageZH: fmt.Sprintf("主诉中的「%s」在现病史中未见描述，现病史应围绕主诉记录其发生、演变及诊治经过", term),
			messageEN: fmt.Sprintf("%q in the chief complaint is not described in the present illness, which should tell its onset, course and care", term),
			basis:     "病历书写基本规范 第十九条（三）现病史",
		})
	}
	return out
}

var enumeratorRE = regexp.MustCompile(`^[\s　]*(?:[0-9０-９]+[.．、:：)）]|[(（][0-9０-９]+[)）]|[①-⑳])?[\s　]*`)

// diagnosisItems returns the byte spans of the items of a diagnosis list.
func diagnosisItems(s string) [][2]int {
	var out [][2]int
	start := 0
	flush := func(end int) {
		a, b := start, end
		if m := enumeratorRE.FindStringIndex(s[a:b]); m != nil {
			a += m[1]
		}
		b = a + len(strings.TrimRight(s[a:b], " \t。.　"))
		if a < b && hasHan(s[a:b]) {
			out = append(out, [2]int{a, b})
		}
	}
	for i, r := range s {
		switch r {
		case '\n', '；', ';', '，', ',':
			flush(i)
			start = i + utf8.RuneLen(r)
		}
	}
	flush(len(s))
	return out
}

// diagnosisUnsupported is QCR-002.
func (k *kb) diagnosisUnsupported(rec *qc.Record) []draft {
	evidence := joined(textsOf(rec, k.EvidenceSections))
	if strings.TrimSpace(evidence) == "" {
		return nil // nothing to judge against; missing sections are for the rules
	}
	var out []draft
	seen := map[string]bool{}
	for _, st := range textsOf(rec, k.DiagnosisSections) {
		for _, sp := range diagnosisItems(st.text) {
			item := st.text[sp[0]:sp[1]]
			core := item
			for _, q := range k.DiagnosisQualifiers {
				core = strings.ReplaceAll(core, q, "")
			}
			core = strings.Trim(core, " （）()?？")
			if utf8.RuneCountInString(core) < 2 || seen[core] {
				continue
			}
			seen[core] = true
			if ok, _ := k.supported(core, evidence); ok {
				continue
			}
			basis := "病历书写基本规范 第二十二条（一）诊断依据"
			if row, found := k.row(core); found {
				basis = row.Source
			}
			out = append(out, draft{
				check:     CheckDiagnosisUnsupported,
				loc:       runeLoc(st.key, st.text, sp[0], sp[1]),
				messageZH: fmt.Sprintf("诊断「%s」在病史、查体及辅助检查中未见支持依据", item),
				messageEN: fmt.Sprintf("no history, examination or test finding in the record supports the diagnosis %q", item),
				basis:     basis,
			})
		}
	}
	return out
}

// row returns the KB evidence row whose diagnosis words occur in dx.
func (k *kb) row(dx string) (evidenceRow, bool) {
	for _, r := range k.Evidence {
		for _, d := range r.Diagnosis {
			if strings.Contains(dx, d) {
				return r, true
			}
		}
	}
	return evidenceRow{}, false
}

// supported reports whether evidence supports dx: the diagnosis itself is
// named there (most of its character pairs), or a finding the KB lists
// for its family is.
func (k *kb) supported(dx, evidence string) (bool, string) {
	if strings.Contains(evidence, dx) || bigramCover(dx, evidence) >= 0.6 {
		return true, dx
	}
	if r, ok := k.row(dx); ok {
		for _, e := range r.Evidence {
			if strings.Contains(evidence, e) {
				return true, e
			}
		}
	}
	return false, ""
}

var testNameRE = regexp.MustCompile(`^[\p{Han}A-Za-z]+`)

// resultLeadWords are dropped from the front of a test name.
var resultLeadWords = []string{"复查", "提示", "结果", "检查", "示", "查", "见"}

const clauseBreaks = "，。；;,\n：:！？"

// abnormalResults finds abnormal-result mentions in text. The test name is
// the leading run of letters of the clause before the marker (after lead
// words like 示, 复查), or of the clause before that when the marker
// stands alone ("血钾2.9mmol/L，降低"). Spans are bytes: name start,
// marker end, name end.
func (k *kb) abnormalResults(text string) [][3]int {
	var out [][3]int
	for off := 0; off < len(text); {
		best, bestLen := -1, 0
		for _, m := range k.AbnormalMarkers {
			if i := strings.Index(text[off:], m); i >= 0 && (best < 0 || off+i < best) {
				best, bestLen = off+i, len(m)
			}
		}
		if best < 0 {
			break
		}
		off = best + bestLen
		a := clauseStart(text, best)
		if strings.TrimSpace(text[a:best]) == "" && a > 0 {
			_, size := utf8.DecodeLastRuneInString(text[:a])
			a = clauseStart(text, a-size)
		}
		frag := text[a:best]
		for _, w := range resultLeadWords {
			if i := strings.LastIndex(frag, w); i >= 0 && i+len(w) < len(frag) {
				a += i + len(w)
				frag = text[a:best]
			}
		}
		trimmed := strings.TrimLeft(frag, " 　")
		a += len(frag) - len(trimmed)
		name := testNameRE.FindString(trimmed)
		if utf8.RuneCountInString(name) < 2 {
			continue
		}
		if k.negatedAt(text, a) {
			continue
		}
		out = append(out, [3]int{a, best + bestLen, a + len(name)})
	}
	return out
}

// clauseStart returns the byte offset just after the last clause break
// before at (0 when there is none).
func clauseStart(text string, at int) int {
	i := strings.LastIndexAny(text[:at], clauseBreaks)
	if i < 0 {
		return 0
	}
	_, size := utf8.DecodeRuneInString(text[i:])
	return i + size
}

// negatedAt reports whether a negation word comes earlier in the clause.
func (k *kb) negatedAt(text string, at int) bool {
	clause := text[clauseStart(text, at):at]
	for _, n := range k.Negations {
		if strings.Contains(clause, n) {
			return true
		}
	}
	return false
}

// planMentions reports whether plan takes up the named test: the name, or
// one of its character pairs, together with a plan word.
func (k *kb) planMentions(name, plan string) bool {
	// What follows the result in its own sentence ("…升高，考虑感染，予…").
	sentence := plan
	if i := strings.IndexAny(sentence, "。\n"); i >= 0 {
		sentence = sentence[:i]
	}
	for _, w := range k.PlanWords {
		if strings.Contains(sentence, w) {
			return true
		}
	}
	if strings.Contains(plan, name) {
		return true
	}
	key := strings.TrimPrefix(name, "血")
	if key != name && utf8.RuneCountInString(key) >= 1 && strings.Contains(plan, key) {
		return true
	}
	if bigramCover(name, plan) >= 0.5 {
		for _, w := range k.PlanWords {
			if strings.Contains(plan, w) {
				return true
			}
		}
	}
	return false
}

// planMissing is QCR-003.
func (k *kb) planMissing(rec *qc.Record) []draft {
	planKeys, ok := k.PlanSections[rec.Type]
	if !ok {
		return nil
	}
	var out []draft
	for _, st := range textsOf(rec, k.ResultSections) {
		if strings.HasPrefix(st.key, qc.ProgressSection) && rec.Type != clinic.NoteProgress {
			continue
		}
		for _, m := range k.abnormalResults(st.text) {
			name := st.text[m[0]:m[2]]
			var plan string
			if strings.HasPrefix(st.key, qc.ProgressSection) {
				// In a progress note the plan is what follows the result in
				// the same note and the notes after it.
				var i int
				fmt.Sscanf(strings.TrimPrefix(st.key, qc.ProgressSection+"/"), "%d", &i)
				plan = st.text[m[1]:]
				for _, n := range rec.ProgressNotes[min(i+1, len(rec.ProgressNotes)):] {
					plan += "\n" + n.Text
				}
			} else {
				plan = st.text[m[1]:] + "\n" + joined(textsOf(rec, planKeys))
			}
			if k.planMentions(name, plan) {
				continue
			}
			found := st.text[m[0]:m[1]]
			out = append(out, draft{
				check:     CheckPlanMissing,
				loc:       runeLoc(st.key, st.text, m[0], m[1]),
				messageZH: fmt.Sprintf("异常结果「%s」在诊疗计划/病程中未见分析及处理", found),
				messageEN: fmt.Sprintf("the abnormal result %q is not analysed or acted on in the plan", found),
				basis:     "病历书写基本规范 第二十二条（二）日常病程记录应记录异常结果的分析及处理",
			})
		}
	}
	return out
}
