package triage

import (
	"io"
	"math"
	"slices"
	"sort"
)

// KB is the knowledge base linking findings to departments: a prior over
// departments and P(finding | department) for the findings it lists. It is
// immutable and safe for concurrent use.
type KB struct {
	cat   *Catalog
	lex   *Lexicon
	prior []float64 // log prior per catalog index
	// like[finding] is P(finding | department) per catalog index.
	like map[string][]float64
	def  float64
	// askable lists, sorted, the findings with a follow-up question.
	askable []string
	// log2Like and log2Not are log2 P(f|d) and log2 (1−P(f|d)).
	log2Like, log2Not map[string][]float64
}

type kbFile struct {
	Version           int                           `yaml:"version" validate:"eq=1"`
	DefaultLikelihood float64                       `yaml:"default_likelihood" validate:"gt=0,lt=0.5"`
	Priors            map[string]float64            `yaml:"priors" validate:"min=1,dive,gt=0,lte=1000"`
	Findings          map[string]map[string]float64 `yaml:"findings" validate:"min=1,dive,min=1,dive,gt=0,lt=1"`
}

// LoadKB reads a knowledge base (see kb/kb.yaml) and checks it against the
// catalog and lexicon: every department and finding named must exist.
// Departments without a prior get the smallest prior given.
func LoadKB(r io.Reader, cat *Catalog, lex *Lexicon) (*KB, error) {
	const what = "triage knowledge base"
	var f kbFile
	if err := decodeStrict(r, what, &f); err != nil {
		return nil, err
	}
	n := cat.Len()
	kb := &KB{cat: cat, lex: lex, prior: make([]float64, n), like: map[string][]float64{}, def: f.DefaultLikelihood,
		log2Like: map[string][]float64{}, log2Not: map[string][]float64{}}
	minPrior := math.Inf(1)
	for code, p := range f.Priors {
		i := cat.index(code)
		if i < 0 {
			return nil, invalid(what, "priors", "unknown department %q", code)
		}
		kb.prior[i] = p
		minPrior = min(minPrior, p)
	}
	var sum float64
	for i := range kb.prior {
		if kb.prior[i] == 0 {
			kb.prior[i] = minPrior
		}
		sum += kb.prior[i]
	}
	for i := range kb.prior {
		kb.prior[i] = math.Log(kb.prior[i] / sum)
	}
	for fc, m := range f.Findings {
		if _, ok := lex.Finding(fc); !ok {
			return nil, invalid(what, fc, "unknown finding %q", fc)
		}
		row := make([]float64, n)
		for i := range row {
			row[i] = f.DefaultLikelihood
		}
		for code, p := range m {
			i := cat.index(code)
			if i < 0 {
				return nil, invalid(what, fc, "unknown department %q", code)
			}
			row[i] = p
		}
		kb.like[fc] = row
		ly, ln := make([]float64, n), make([]float64, n)
		for i, r := range row {
			ly[i], ln[i] = math.Log2(r), math.Log2(1-r)
		}
		kb.log2Like[fc], kb.log2Not[fc] = ly, ln
		if f, _ := lex.Finding(fc); f.AskZH != "" {
			kb.askable = append(kb.askable, fc)
		}
	}
	sort.Strings(kb.askable) // deterministic tie-breaking in bestQuestion
	return kb, nil
}

// DefaultKB returns the built-in knowledge base over the default catalog
// and lexicon.
func DefaultKB() *KB { return defaultKB(DefaultCatalog(), DefaultLexicon()) }

func defaultKB(cat *Catalog, lex *Lexicon) *KB {
	kb, err := LoadKB(mustEmbedded("kb/kb.yaml"), cat, lex)
	if err != nil {
		panic("triage: embedded knowledge base: " + err.Error())
	}
	return kb
}

// likelihood returns P(finding | department i).
func (kb *KB) likelihood(code string, i int) float64 {
	if row, ok := kb.like[code]; ok {
		return row[i]
	}
	return kb.def
}

// Knows reports whether the KB links the finding to any department.
func (kb *KB) Knows(code string) bool { _, ok := kb.like[code]; return ok }

// Evidence is one observed finding: present or absent.
type Evidence struct {
	Code    string
	Present bool
}

// Posterior returns P(department | evidence) over the catalog, in catalog
// order. Departments in mask that are false get probability 0; nil mask
// admits all. Findings the KB does not know are ignored.
func (kb *KB) Posterior(ev []Evidence, mask []bool) []float64 {
	n := len(kb.prior)
	lp := make([]float64, n)
	copy(lp, kb.prior)
	for _, e := range ev {
		row, ok := kb.like[e.Code]
		if !ok {
			continue
		}
		for i := range lp {
			if e.Present {
				lp[i] += math.Log(row[i])
			} else {
				lp[i] += math.Log1p(-row[i])
			}
		}
	}
	return softmax(lp, mask)
}

func softmax(lp []float64, mask []bool) []float64 {
	mx := math.Inf(-1)
	for i, v := range lp {
		if mask == nil || mask[i] {
			mx = max(mx, v)
		}
	}
	out := make([]float64, len(lp))
	if math.IsInf(mx, -1) {
		return out
	}
	var sum float64
	for i, v := range lp {
		if mask != nil && !mask[i] {
			continue
		}
		out[i] = math.Exp(v - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func entropy(p []float64) float64 {
	var h float64
	for _, x := range p {
		if x > 0 {
			h -= x * math.Log2(x)
		}
	}
	return h
}

// infoGain returns the expected reduction in entropy (bits) of the
// department posterior p from asking about the finding, treating the
// answer as yes with probability P(yes) = Σ p(d)·P(finding|d):
//
//	IG = H(p) − P(yes)·H(p|yes) − P(no)·H(p|no)
//
// with H(q) = −Σ q log2 q. For q_i = a_i/A, H = log2 A − Σ a_i log2 a_i / A;
// with a_i = p_i·r_i, log2 a_i = log2 p_i + log2 r_i, so given h = H(p) and
// lp = log2 p it needs no logarithm per department and allocates nothing.
func (kb *KB) infoGain(p, lp []float64, h float64, code string) float64 {
	row, ok := kb.like[code]
	if !ok {
		return 0
	}
	ly, ln := kb.log2Like[code], kb.log2Not[code]
	var py, pn, sy, sn float64
	for i, x := range p {
		if x <= 0 {
			continue
		}
		y, n := x*row[i], x*(1-row[i])
		py += y
		pn += n
		sy += y * (lp[i] + ly[i])
		sn += n * (lp[i] + ln[i])
	}
	if py <= 0 || pn <= 0 {
		return 0
	}
	hy := math.Log2(py) - sy/py
	hn := math.Log2(pn) - sn/pn
	return max(0, h-py*hy-pn*hn)
}

// bestQuestion returns the askable finding with the highest information
// gain over p, excluding those for which skip is true, and its gain.
func (kb *KB) bestQuestion(p []float64, skip func(string) bool) (string, float64) {
	lp := make([]float64, len(p))
	for i, x := range p {
		if x > 0 {
			lp[i] = math.Log2(x)
		}
	}
	h := entropy(p)
	best, bestGain := "", 0.0
	for _, c := range kb.askable {
		if skip(c) {
			continue
		}
		if g := kb.infoGain(p, lp, h, c); g > bestGain+1e-12 {
			best, bestGain = c, g
		}
	}
	return best, bestGain
}

// descending compares x and y for a sort, largest first: -1 when x > y, 1
// when x < y, else 0. Unlike cmp.Compare(y, x) it treats a NaN as equal to
// everything.
func descending(x, y float64) int {
	switch {
	case x > y:
		return -1
	case x < y:
		return 1
	}
	return 0
}

// topK returns the indices of the k largest values of p, largest first,
// skipping zeros.
func topK(p []float64, k int) []int {
	idx := make([]int, 0, len(p))
	for i, x := range p {
		if x > 0 {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := descending(p[a], p[b]); c != 0 {
			return c
		}
		return a - b
	})
	if len(idx) > k {
		idx = idx[:k]
	}
	return idx
}

// contributions returns the present findings that most favour department
// i over the others (by likelihood ratio against the default), best first.
func (kb *KB) contributions(ev []Evidence, i int, k int) []string {
	type c struct {
		code  string
		ratio float64
	}
	var cs []c
	for _, e := range ev {
		if !e.Present {
			continue
		}
		row, ok := kb.like[e.Code]
		if !ok || row[i] <= kb.def {
			continue
		}
		cs = append(cs, c{e.Code, row[i] / kb.def})
	}
	slices.SortStableFunc(cs, func(a, b c) int { return descending(a.ratio, b.ratio) })
	out := make([]string, 0, k)
	for _, x := range cs {
		if len(out) == k {
			break
		}
		if !slices.Contains(out, x.code) {
			out = append(out, x.code)
		}
	}
	return out
}
