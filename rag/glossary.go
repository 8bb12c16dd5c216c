package rag

import (
	_ "embed"
	"strings"

	"github.com/yizhu-health/yizhu/rag/lexical"
)

//go:embed glossary.tsv
var glossaryTSV string

// glossary expands a query with the other language's terms for the
// clinical phrases it contains (English ↔ Chinese), so that a question in
// one language can reach guideline text in the other.
type glossary struct {
	pairs []termPair
}

type termPair struct {
	en string // normalised: lexical words joined by single spaces
	zh string
}

// parseGlossary reads "english<TAB>中文" lines; # comments and malformed
// lines are skipped (the file is checked by a test).
func parseGlossary(src string) *glossary {
	g := &glossary{}
	for line := range strings.SplitSeq(src, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		en, zh, ok := strings.Cut(strings.TrimSpace(line), "\t")
		en, zh = normaliseEnglish(en), strings.TrimSpace(zh)
		if !ok || en == "" || zh == "" {
			continue
		}
		g.pairs = append(g.pairs, termPair{en: en, zh: zh})
	}
	return g
}

// normaliseEnglish reduces text to its non-CJK lexical words joined by
// spaces ("Door-to-balloon times" → "door to balloon time").
func normaliseEnglish(s string) string {
	var words []string
	for _, t := range lexical.Tokens(nil, s) {
		if r := []rune(t); len(r) > 0 && !lexical.IsCJK(r[0]) {
			words = append(words, t)
		}
	}
	return strings.Join(words, " ")
}

// expand returns text followed by the translations of the glossary terms
// it contains, each added once.
func (g *glossary) expand(text string) string {
	if g == nil || len(g.pairs) == 0 {
		return text
	}
	en := " " + normaliseEnglish(text) + " "
	folded := lexical.Fold(text)
	seen := make(map[string]bool)
	var extra []string
	for _, p := range g.pairs {
		switch {
		case strings.Contains(en, " "+p.en+" ") && !strings.Contains(folded, p.zh):
			if !seen[p.zh] {
				seen[p.zh] = true
				extra = append(extra, p.zh)
			}
		case strings.Contains(folded, lexical.Fold(p.zh)):
			if !seen[p.en] {
				seen[p.en] = true
				extra = append(extra, p.en)
			}
		}
	}
	if len(extra) == 0 {
		return text
	}
	return text + "\n" + strings.Join(extra, " ")
}

// defaultGlossary is parsed once from the embedded file; it is immutable.
var defaultGlossary = parseGlossary(glossaryTSV)
