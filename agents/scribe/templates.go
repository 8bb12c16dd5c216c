package scribe

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/prompts"
)

// PhrasesPromptID is the prompt file that holds the embedded engine's
// phrase templates.
const PhrasesPromptID = "scribe_phrases"

// templates holds the phrase templates of the embedded engine and the
// words they add, which the verifier accepts in statements.
type templates struct {
	phrase  map[string]string // "key.lang" → template
	wordsEN map[string]bool   // English words of the templates
	runsZH  []string          // Han runs of the templates, longest first
}

func loadTemplates(set *prompts.Set) (*templates, error) {
	msgs, _, err := set.Render(PhrasesPromptID, map[string]any{})
	if err != nil {
		return nil, fmt.Errorf("phrase templates: %w", err)
	}
	t := &templates{phrase: map[string]string{}, wordsEN: map[string]bool{}}
	seenRun := map[string]bool{}
	for _, m := range msgs {
		for line := range strings.SplitSeq(m.Text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			key, text, ok := strings.Cut(line, ": ")
			if !ok || !strings.Contains(key, ".") {
				return nil, clinic.NewError(clinic.CodeInvalid, "prompts", fmt.Sprintf("%s: line %q is not \"key.lang: text\"", PhrasesPromptID, line),
					fmt.Sprintf("%s 的行 %q 格式应为 \"key.lang: text\"", PhrasesPromptID, line))
			}
			t.phrase[key] = text
			lit := slotRE(text)
			for _, w := range wordsOf(lit) {
				t.wordsEN[w] = true
			}
			for _, r := range hanRuns(lit) {
				if !seenRun[r] {
					seenRun[r] = true
					t.runsZH = append(t.runsZH, r)
				}
			}
		}
	}
	for _, k := range requiredPhrases {
		for _, lang := range []string{LangZH, LangEN} {
			if _, ok := t.phrase[k+"."+lang]; !ok && !(lang == LangZH && strings.HasSuffix(k, "_nodur")) {
				return nil, clinic.NewError(clinic.CodeInvalid, "prompts", fmt.Sprintf("%s lacks phrase %s.%s", PhrasesPromptID, k, lang),
					fmt.Sprintf("%s 缺少短语模板 %s.%s", PhrasesPromptID, k, lang))
			}
		}
	}
	return t, nil
}

var requiredPhrases = []string{"cc", "hpi_onset", "hpi_assoc", "hpi_negative", "hpi_drug", "past_present", "past_negative",
	"allergy_present", "allergy_none", "allergy_conflict", "drug_reaction", "allergy_conflict_unspecified", "allergy_unspecified", "quote", "data_item",
	"diagnosis", "diagnosis_possible", "habit_present", "habit_negative", "family_present", "finding_conflict", "meds"}

var defaultTemplates = sync.OnceValues(func() (*templates, error) {
	set, err := prompts.Default()
	if err != nil {
		return nil, err
	}
	return loadTemplates(set)
})

// fill renders template key in lang with slots.
func (t *templates) fill(key, lang string, slots ...string) string {
	s, ok := t.phrase[key+"."+lang]
	if !ok {
		s = t.phrase[key+"."+LangEN]
	}
	for i := 0; i+1 < len(slots); i += 2 {
		s = strings.ReplaceAll(s, "{"+slots[i]+"}", slots[i+1])
	}
	return s
}

func (t *templates) has(key, lang string) bool { _, ok := t.phrase[key+"."+lang]; return ok }

// slotRE blanks out {slot} markers, leaving the literal text.
func slotRE(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '{':
			depth++
			b.WriteByte('|')
		case r == '}':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wordsOf returns the lower-cased Latin words of s.
func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	})
}

// hanRuns returns the runs of Han characters of s.
func hanRuns(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			cur = append(cur, r)
		} else {
			flush()
		}
	}
	flush()
	return out
}
