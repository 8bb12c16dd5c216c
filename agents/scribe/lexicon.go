package scribe

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"gopkg.in/yaml.v3"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
)

// Term kinds of the scribe vocabulary.
const (
	KindSymptom   = "symptom"
	KindCondition = "condition"
	KindDrug      = "drug"
	KindTest      = "test"
	KindProcedure = "procedure"
	KindAllergen  = "allergen"
	KindHabit     = "habit"
)

// Term is one entry of the scribe vocabulary.
type Term struct {
	Code   string   `yaml:"code" json:"code" validate:"required,max=64"`
	Kind   string   `yaml:"kind" json:"kind" validate:"oneof=symptom condition drug test procedure allergen habit"`
	NameZH string   `yaml:"zh_name" json:"name_zh" validate:"required,max=64"`
	NameEN string   `yaml:"en_name" json:"name_en" validate:"required,max=128"`
	ZH     []string `yaml:"zh" json:"zh,omitempty" validate:"max=100,dive,required,max=32"`
	EN     []string `yaml:"en" json:"en,omitempty" validate:"max=100,dive,required,max=64"`
}

type termsFile struct {
	Version int    `yaml:"version" validate:"eq=1"`
	Terms   []Term `yaml:"terms" validate:"required,max=2000,dive"`
}

//go:embed kb/terms.yaml
var termsYAML []byte

// Vocabulary is the set of terms the engine and the verifier read. It is
// immutable and safe for concurrent use.
type Vocabulary struct {
	terms   []Term
	byCode  map[string]int
	byFirst map[rune][]vocabEntry // surface forms by first rune, longest first
}

type vocabEntry struct {
	form  []rune
	term  int
	latin bool // needs word boundaries
}

// LoadVocabulary reads a vocabulary (see kb/terms.yaml) and adds the
// symptom, condition, drug and test findings of lex (the triage lexicon)
// whose codes it does not already have; lex may be nil. Unknown YAML fields
// and duplicate codes are errors.
func LoadVocabulary(data []byte, lex *triage.Lexicon) (*Vocabulary, error) {
	var f termsFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "scribe vocabulary: cannot decode YAML", "病历词表无法解析")
	}
	if err := validator.New().Struct(f); err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "scribe vocabulary: invalid entry", "病历词表条目无效")
	}
	v := &Vocabulary{byCode: map[string]int{}, byFirst: map[rune][]vocabEntry{}}
	for _, t := range f.Terms {
		if _, dup := v.byCode[t.Code]; dup {
			return nil, clinic.NewError(clinic.CodeInvalid, "terms", fmt.Sprintf("scribe vocabulary: duplicate code %q", t.Code), "病历词表编码重复："+t.Code)
		}
		v.byCode[t.Code] = len(v.terms)
		v.terms = append(v.terms, t)
	}
	if lex != nil {
		for _, fd := range lex.Findings() {
			kind := fd.Kind
			switch kind {
			case triage.KindSymptom, triage.KindCondition, triage.KindDrug, triage.KindTest:
			default:
				continue
			}
			code := "triage." + fd.Code
			v.byCode[code] = len(v.terms)
			v.terms = append(v.terms, Term{Code: code, Kind: kind, NameZH: fd.NameZH, NameEN: fd.NameEN, ZH: fd.ZH, EN: fd.EN})
		}
	}
	seen := map[string]bool{}
	for i, t := range v.terms {
		// The scribe's own names come first; a triage synonym already
		// claimed by a scribe term is skipped.
		forms := append(append([]string{t.NameZH, strings.ToLower(t.NameEN)}, t.ZH...), t.EN...)
		for _, s := range forms {
			s = strings.ToLower(normalize(s))
			if utf8.RuneCountInString(s) < 1 || seen[s] {
				continue
			}
			if strings.HasPrefix(t.Code, "triage.") && utf8.RuneCountInString(s) < 2 {
				continue
			}
			seen[s] = true
			rs := []rune(s)
			v.byFirst[rs[0]] = append(v.byFirst[rs[0]], vocabEntry{form: rs, term: i, latin: isLatinWord(rs)})
		}
	}
	for r, es := range v.byFirst {
		slices.SortStableFunc(es, func(a, b vocabEntry) int { return len(b.form) - len(a.form) })
		v.byFirst[r] = es
	}
	return v, nil
}

// Term returns the term with code.
func (v *Vocabulary) Term(code string) (Term, bool) {
	i, ok := v.byCode[code]
	if !ok {
		return Term{}, false
	}
	return v.terms[i], true
}

// Terms returns every term.
func (v *Vocabulary) Terms() []Term { return slices.Clone(v.terms) }

var defaultVocab = sync.OnceValues(func() (*Vocabulary, error) {
	return LoadVocabulary(termsYAML, nil)
})

// DefaultVocabulary returns the embedded vocabulary (kb/terms.yaml).
func DefaultVocabulary() *Vocabulary {
	v, err := defaultVocab()
	if err != nil {
		// The embedded file is checked by the package tests.
		panic("scribe: embedded vocabulary is broken: " + err.Error())
	}
	return v
}

func isLatinWord(rs []rune) bool {
	for _, r := range rs {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return true
		}
	}
	return false
}

// normalize folds full-width ASCII to half-width and ideographic spaces
// to spaces; the rune count is kept so offsets line up.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		}
		return r
	}, s)
}
