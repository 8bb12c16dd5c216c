package metrics

import (
	"strings"
	"unicode"
)

// MaxRougeTokens bounds the tokens of each side of a ROUGE comparison;
// tokens past it are ignored. ROUGE-L is O(n·m) in time, and clinical
// notes stay far below this bound (an ACI-BENCH note is about 500 words).
const MaxRougeTokens = 20000

// Tokenize splits text into ROUGE tokens, choosing the unit by script:
// every Han character (Chinese) is one token, and every run of other
// letters and digits is one lower-cased word (English and numbers).
// Punctuation, symbols and spaces separate tokens and are dropped, as in
// the default tokenizer of Google's rouge-score package. A Chinese note
// is thus scored character by character, as the IMCS-21 and PromptCBLUE
// report-generation baselines are, and an English one word by word, as
// the ACI-BENCH baselines are.
func Tokenize(text string) []string {
	var toks []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			toks = append(toks, word.String())
			word.Reset()
		}
	}
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			flush()
			toks = append(toks, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			word.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
		if len(toks) >= MaxRougeTokens {
			return toks[:MaxRougeTokens]
		}
	}
	flush()
	if len(toks) > MaxRougeTokens {
		toks = toks[:MaxRougeTokens]
	}
	return toks
}

// RougeScore is one ROUGE variant's precision, recall and F1 (the F1 is
// the balanced F-measure, beta = 1).
type RougeScore struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Rouge holds ROUGE-1, ROUGE-2 and ROUGE-L of one candidate text against
// one reference text (Lin, "ROUGE: A Package for Automatic Evaluation of
// Summaries", ACL workshop 2004).
type Rouge struct {
	R1 RougeScore `json:"rouge1"`
	R2 RougeScore `json:"rouge2"`
	RL RougeScore `json:"rougeL"`
}

// ScoreRouge tokenizes candidate and reference with Tokenize and returns
// their ROUGE scores. ROUGE-N counts clipped n-gram overlap (an n-gram
// matches at most as often as it occurs in the reference); ROUGE-L uses
// the longest common subsequence of the token sequences.
func ScoreRouge(candidate, reference string) Rouge {
	c := Tokenize(candidate)
	r := Tokenize(reference)
	return Rouge{R1: rougeN(c, r, 1), R2: rougeN(c, r, 2), RL: rougeL(c, r)}
}

func score(overlap, candTotal, refTotal int) RougeScore {
	p := ratio(float64(overlap), float64(candTotal))
	r := ratio(float64(overlap), float64(refTotal))
	return RougeScore{Precision: p, Recall: r, F1: f1(p, r)}
}

func ngrams(toks []string, n int) map[string]int {
	m := make(map[string]int)
	for i := 0; i+n <= len(toks); i++ {
		m[strings.Join(toks[i:i+n], "\x00")]++
	}
	return m
}

func rougeN(c, r []string, n int) RougeScore {
	cg, rg := ngrams(c, n), ngrams(r, n)
	var overlap, ct, rt int
	for g, k := range cg {
		ct += k
		overlap += min(k, rg[g])
	}
	for _, k := range rg {
		rt += k
	}
	return score(overlap, ct, rt)
}

func rougeL(c, r []string) RougeScore {
	return score(lcs(c, r), len(c), len(r))
}

// lcs returns the length of the longest common subsequence of a and b in
// O(len(a)·len(b)) time and O(len(b)) memory.
func lcs(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// MeanRouge averages the per-pair scores field by field, as the ACI-BENCH
// and IMCS-21 tables report corpus ROUGE. It returns the zero Rouge for no
// scores.
func MeanRouge(scores []Rouge) Rouge {
	var m Rouge
	if len(scores) == 0 {
		return m
	}
	add := func(dst *RougeScore, s RougeScore) {
		dst.Precision += s.Precision
		dst.Recall += s.Recall
		dst.F1 += s.F1
	}
	for _, s := range scores {
		add(&m.R1, s.R1)
		add(&m.R2, s.R2)
		add(&m.RL, s.RL)
	}
	n := float64(len(scores))
	for _, d := range []*RougeScore{&m.R1, &m.R2, &m.RL} {
		d.Precision /= n
		d.Recall /= n
		d.F1 /= n
	}
	return m
}
