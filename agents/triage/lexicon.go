package triage

import (
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Finding kinds in the lexicon.
const (
	KindSymptom   = "symptom"   // what the patient feels or shows: 胸痛, cough
	KindCondition = "condition" // a named disease or diagnosis: 乙肝, diabetes
	KindTest      = "test"      // a test or result: 转氨酶, HbA1c
	KindDrug      = "drug"      // a medicine: 胰岛素, aspirin
	KindExposure  = "exposure"  // an event or exposure: 车祸, bee sting
	KindContext   = "context"   // who or what state: 怀孕, a child
)

// FindingDef is one canonical finding of the lexicon with its synonyms and,
// when it can be asked about, its follow-up question.
type FindingDef struct {
	Code   string   `yaml:"code" json:"code" validate:"required,max=64"`
	Kind   string   `yaml:"kind" json:"kind" validate:"oneof=symptom condition test drug exposure context"`
	NameZH string   `yaml:"name_zh" json:"name_zh" validate:"required,max=64"`
	NameEN string   `yaml:"name_en" json:"name_en" validate:"required,max=128"`
	Site   string   `yaml:"site" json:"site,omitempty" validate:"max=64"`
	ZH     []string `yaml:"zh" json:"zh,omitempty" validate:"max=200,dive,required,max=32"`
	EN     []string `yaml:"en" json:"en,omitempty" validate:"max=200,dive,required,max=64"`
	AskZH  string   `yaml:"ask_zh" json:"ask_zh,omitempty" validate:"max=200"`
	AskEN  string   `yaml:"ask_en" json:"ask_en,omitempty" validate:"max=300"`
}

// Medical reports whether a mention of the finding makes a text medical
// (everything but context findings does).
func (f FindingDef) Medical() bool { return f.Kind != KindContext }

// SiteDef is a body site.
type SiteDef struct {
	Code string `yaml:"code" validate:"required,max=64"`
	// Pain is the finding a generic pain word next to this site stands
	// for ("腰部…绞痛" → flank_pain); "" for none.
	Pain   string   `yaml:"pain" validate:"max=64"`
	NameZH string   `yaml:"name_zh" validate:"required,max=64"`
	NameEN string   `yaml:"name_en" validate:"required,max=64"`
	ZH     []string `yaml:"zh" validate:"max=100,dive,required,max=32"`
	EN     []string `yaml:"en" validate:"max=100,dive,required,max=64"`
}

type wordList struct {
	ZH []string `yaml:"zh" validate:"max=200,dive,required,max=32"`
	EN []string `yaml:"en" validate:"max=200,dive,required,max=64"`
}

type lexiconFile struct {
	Version int `yaml:"version" validate:"eq=1"`
	// Negation cues: strong ones (没有, denies) reach further than weak
	// ones (不) before the finding they negate.
	NegationStrong wordList `yaml:"negation_strong"`
	NegationWeak   wordList `yaml:"negation_weak"`
	// Pseudo-negations contain a cue but do not negate (会不会, 不停).
	Pseudo   wordList            `yaml:"pseudo_negation"`
	Breaks   wordList            `yaml:"scope_breaks"`
	Pain     wordList            `yaml:"generic_pain"`
	Sudden   wordList            `yaml:"sudden"`
	Severity map[string]wordList `yaml:"severity" validate:"max=3,dive,keys,oneof=mild moderate severe,endkeys"`
	Sites    []SiteDef           `yaml:"sites" validate:"max=200,dive"`
	Findings []FindingDef        `yaml:"findings" validate:"min=1,max=2000,dive"`
}

type termKind uint8

const (
	tFinding termKind = iota + 1
	tSite
	tNegStrong
	tNegWeak
	tPseudo
	tBreak
	tSudden
	tSeverity
	tPain
)

type term struct {
	runes []rune
	kind  termKind
	ref   int  // finding or site index, or severity level
	ascii bool // needs word boundaries
}

// Lexicon is the symptom lexicon: canonical findings with Chinese and
// English synonyms, body sites and the modifier words (negation, severity,
// onset). It is immutable after loading and safe for concurrent use.
type Lexicon struct {
	findings []FindingDef
	byCode   map[string]int
	sites    []SiteDef
	siteCode map[string]int
	terms    []term
	byFirst  map[rune][]int // term indices by first rune, longest first
}

// LoadLexicon reads a lexicon (see kb/lexicon.yaml) from r. Unknown fields,
// duplicate codes, a synonym listed for two findings, unknown sites and a
// finding with no synonyms are errors.
func LoadLexicon(r io.Reader) (*Lexicon, error) {
	const what = "symptom lexicon"
	var f lexiconFile
	if err := decodeStrict(r, what, &f); err != nil {
		return nil, err
	}
	l := &Lexicon{byCode: map[string]int{}, siteCode: map[string]int{}, byFirst: map[rune][]int{}}
	seen := map[string]string{}
	add := func(s string, k termKind, ref int, owner string) error {
		n := normalize(s)
		if n == "" {
			return invalid(what, owner, "empty term")
		}
		if prev, dup := seen[n]; dup {
			return invalid(what, owner, "term %q is also listed under %s", s, prev)
		}
		seen[n] = owner
		rs := []rune(n)
		l.terms = append(l.terms, term{runes: rs, kind: k, ref: ref, ascii: isASCIIWord(n)})
		return nil
	}
	addList := func(w wordList, k termKind, ref int, owner string) error {
		for _, s := range slices.Concat(w.ZH, w.EN) {
			if err := add(s, k, ref, owner); err != nil {
				return err
			}
		}
		return nil
	}
	for i, s := range f.Sites {
		if _, dup := l.siteCode[s.Code]; dup {
			return nil, invalid(what, s.Code, "duplicate site %q", s.Code)
		}
		l.siteCode[s.Code] = i
		l.sites = append(l.sites, s)
		if err := addList(wordList{ZH: s.ZH, EN: s.EN}, tSite, i, "site "+s.Code); err != nil {
			return nil, err
		}
	}
	for i, fd := range f.Findings {
		if _, dup := l.byCode[fd.Code]; dup {
			return nil, invalid(what, fd.Code, "duplicate finding %q", fd.Code)
		}
		if len(fd.ZH)+len(fd.EN) == 0 {
			return nil, invalid(what, fd.Code, "finding %q has no synonyms", fd.Code)
		}
		if fd.Site != "" {
			if _, ok := l.siteCode[fd.Site]; !ok {
				return nil, invalid(what, fd.Code, "unknown site %q", fd.Site)
			}
		}
		if (fd.AskZH == "") != (fd.AskEN == "") {
			return nil, invalid(what, fd.Code, "a question needs both ask_zh and ask_en")
		}
		l.byCode[fd.Code] = i
		l.findings = append(l.findings, fd)
		if err := addList(wordList{ZH: fd.ZH, EN: fd.EN}, tFinding, i, "finding "+fd.Code); err != nil {
			return nil, err
		}
	}
	for _, sd := range l.sites {
		if _, ok := l.byCode[sd.Pain]; sd.Pain != "" && !ok {
			return nil, invalid(what, sd.Code, "site %q names unknown pain finding %q", sd.Code, sd.Pain)
		}
	}
	for _, x := range []struct {
		w wordList
		k termKind
		n string
	}{{f.NegationStrong, tNegStrong, "negation_strong"}, {f.NegationWeak, tNegWeak, "negation_weak"}, {f.Pseudo, tPseudo, "pseudo_negation"}, {f.Breaks, tBreak, "scope_breaks"}, {f.Sudden, tSudden, "sudden"}, {f.Pain, tPain, "generic_pain"}} {
		if err := addList(x.w, x.k, 0, x.n); err != nil {
			return nil, err
		}
	}
	for _, lv := range []Severity{SeverityMild, SeverityModerate, SeveritySevere} {
		if err := addList(f.Severity[string(lv)], tSeverity, int(severityRank(lv)), "severity "+string(lv)); err != nil {
			return nil, err
		}
	}
	for i, t := range l.terms {
		l.byFirst[t.runes[0]] = append(l.byFirst[t.runes[0]], i)
	}
	for r, idx := range l.byFirst {
		slices.SortStableFunc(idx, func(a, b int) int { return len(l.terms[b].runes) - len(l.terms[a].runes) })
		l.byFirst[r] = idx
	}
	return l, nil
}

// DefaultLexicon returns the built-in lexicon.
func DefaultLexicon() *Lexicon {
	l, err := LoadLexicon(mustEmbedded("kb/lexicon.yaml"))
	if err != nil {
		panic("triage: embedded lexicon: " + err.Error())
	}
	return l
}

// Finding returns the definition of a finding code.
func (l *Lexicon) Finding(code string) (FindingDef, bool) {
	i, ok := l.byCode[code]
	if !ok {
		return FindingDef{}, false
	}
	return l.findings[i], true
}

// Findings returns a copy of all finding definitions.
func (l *Lexicon) Findings() []FindingDef { return slices.Clone(l.findings) }

// SiteName returns the Chinese and English names of a site code.
func (l *Lexicon) SiteName(code string) (zh, en string) {
	if i, ok := l.siteCode[code]; ok {
		return l.sites[i].NameZH, l.sites[i].NameEN
	}
	return code, code
}

func isASCIIWord(s string) bool {
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalize lower-cases s, folds full-width ASCII (ＣＴ，：) to half-width and
// collapses runs of white space to one space.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if r == 0x3000 || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// token is one lexicon term found in a text, in rune offsets.
type token struct {
	start, end int
	t          *term
}

func isWordRune(r rune) bool {
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// scan finds the leftmost-longest lexicon terms in rs (a normalized text).
// ASCII terms must sit on word boundaries; an English plural "s"/"es" is
// allowed after them.
func (l *Lexicon) scan(rs []rune, dst []token) []token {
	for i := 0; i < len(rs); {
		best, bestEnd := -1, 0
		if i > 0 && isWordRune(rs[i-1]) && isWordRune(rs[i]) {
			// inside an ASCII word: only Chinese terms could start here
			// and they do not start with ASCII letters.
			i++
			continue
		}
		for _, ti := range l.byFirst[rs[i]] {
			t := &l.terms[ti]
			n := len(t.runes)
			if i+n > len(rs) || !slices.Equal(rs[i:i+n], t.runes) {
				continue
			}
			end := i + n
			if t.ascii {
				switch {
				case end < len(rs) && rs[end] == 's' && (end+1 == len(rs) || !isWordRune(rs[end+1])):
					end++
				case end+1 < len(rs) && rs[end] == 'e' && rs[end+1] == 's' && (end+2 == len(rs) || !isWordRune(rs[end+2])):
					end += 2
				}
				if end < len(rs) && isWordRune(rs[end]) && isWordRune(t.runes[n-1]) {
					continue
				}
			}
			best, bestEnd = ti, end
			break // sorted longest first
		}
		if best < 0 {
			i++
			continue
		}
		dst = append(dst, token{start: i, end: bestEnd, t: &l.terms[best]})
		i = bestEnd
	}
	return dst
}
