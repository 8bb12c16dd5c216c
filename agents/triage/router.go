package triage

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
)

// Row is one historical registration: the department it was routed to and
// the patient's text.
type Row struct {
	Department string `json:"department"`
	Text       string `json:"text"`
}

// RouterConfig sets the router's hyper-parameters. Zero fields take the
// defaults: n-grams 1–3, Laplace/Lidstone smoothing alpha 0.1, MinCount 1.
type RouterConfig struct {
	MinN  int     // smallest character n-gram (default 1)
	MaxN  int     // largest character n-gram (default 3)
	Alpha float64 // additive smoothing (default 0.1)
	// MinCount drops n-grams seen fewer times in the whole corpus; 2 or
	// more shrinks the model file.
	MinCount int
}

func (c RouterConfig) withDefaults() RouterConfig {
	if c.MinN <= 0 {
		c.MinN = 1
	}
	if c.MaxN <= 0 {
		c.MaxN = 3
	}
	if c.Alpha <= 0 {
		c.Alpha = 0.1
	}
	if c.MinCount <= 0 {
		c.MinCount = 1
	}
	return c
}

// Router bounds.
const (
	maxRouterLabels = 1000
	maxRouterRows   = 5_000_000
	maxRowRunes     = 4000
	maxModelBytes   = 512 << 20
	maxModelGrams   = 20_000_000
	routerFormat    = "yizhu-triage-router"
	routerVersion   = 1
)

// Router is a character n-gram multinomial naive Bayes classifier of
// patient text into departments, fitted on historical registrations. It is
// immutable after Train or LoadRouter and safe for concurrent use.
type Router struct {
	cfg    RouterConfig
	labels []string
	docs   []int
	counts map[string][]int32 // n-gram → count per label
	// derived
	logPrior []float64
	logp     map[string][]float32
}

// Train fits a router with the default configuration. Rows with an empty
// department or text are skipped; fewer than two departments is an error.
func Train(rows []Row) (*Router, error) { return RouterConfig{}.Train(rows) }

// Train fits a router on rows with the configuration c.
func (c RouterConfig) Train(rows []Row) (*Router, error) {
	c = c.withDefaults()
	if c.MinN > c.MaxN || c.MaxN > 5 {
		return nil, clinic.Errorf(clinic.CodeInvalid, "router n-gram range %d–%d is not within 1–5", c.MinN, c.MaxN)
	}
	if len(rows) > maxRouterRows {
		return nil, clinic.Errorf(clinic.CodeTooLarge, "%d training rows exceed %d", len(rows), maxRouterRows)
	}
	r := &Router{cfg: c, counts: map[string][]int32{}}
	index := map[string]int{}
	var buf []string
	for _, row := range rows {
		if row.Department == "" || row.Text == "" {
			continue
		}
		li, ok := index[row.Department]
		if !ok {
			if len(r.labels) == maxRouterLabels {
				return nil, clinic.Errorf(clinic.CodeTooLarge, "more than %d departments", maxRouterLabels)
			}
			li = len(r.labels)
			index[row.Department] = li
			r.labels = append(r.labels, row.Department)
			r.docs = append(r.docs, 0)
		}
		r.docs[li]++
		buf = ngrams(row.Text, c.MinN, c.MaxN, buf[:0])
		for _, g := range buf {
			v := r.counts[g]
			if len(v) < len(r.labels) {
				v = append(v, make([]int32, len(r.labels)-len(v))...)
			}
			v[li]++
			r.counts[g] = v
		}
	}
	if len(r.labels) < 2 {
		return nil, clinic.NewError(clinic.CodeInvalid, "rows", "training data needs at least two departments", "训练数据至少需要两个科室")
	}
	for g, v := range r.counts {
		if len(v) < len(r.labels) {
			v = append(v, make([]int32, len(r.labels)-len(v))...)
			r.counts[g] = v
		}
		var n int32
		for _, x := range v {
			n += x
		}
		if int(n) < c.MinCount {
			delete(r.counts, g)
		}
	}
	r.derive()
	return r, nil
}

// ngrams appends the character n-grams of the normalized text (white space
// and punctuation dropped, at most maxRowRunes runes) to dst.
func ngrams(text string, minN, maxN int, dst []string) []string {
	rs := make([]rune, 0, min(len(text), maxRowRunes))
	for _, r := range normalize(text) {
		if len(rs) == maxRowRunes {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			rs = append(rs, r)
		}
	}
	for n := minN; n <= maxN; n++ {
		for i := 0; i+n <= len(rs); i++ {
			dst = append(dst, string(rs[i:i+n]))
		}
	}
	return dst
}

func (r *Router) derive() {
	k := len(r.labels)
	totals := make([]float64, k)
	for _, v := range r.counts {
		for i, x := range v {
			totals[i] += float64(x)
		}
	}
	vocab := float64(len(r.counts))
	r.logp = make(map[string][]float32, len(r.counts))
	for g, v := range r.counts {
		lp := make([]float32, k)
		for i, x := range v {
			lp[i] = float32(math.Log((float64(x) + r.cfg.Alpha) / (totals[i] + r.cfg.Alpha*vocab)))
		}
		r.logp[g] = lp
	}
	var docs float64
	for _, d := range r.docs {
		docs += float64(d)
	}
	r.logPrior = make([]float64, k)
	for i, d := range r.docs {
		r.logPrior[i] = math.Log((float64(d) + 1) / (docs + float64(k)))
	}
}

// Labels returns the departments the router knows, in training order.
func (r *Router) Labels() []string { return slices.Clone(r.labels) }

// LabelScore is a department label with its probability.
type LabelScore struct {
	Label string  `json:"label"`
	P     float64 `json:"p"`
}

// Predict returns every label with its posterior probability for text,
// most probable first. N-grams unseen in training are ignored; a text with
// none known returns the prior.
func (r *Router) Predict(text string) []LabelScore {
	lp := r.scores(text)
	p := softmax(lp, nil)
	out := make([]LabelScore, len(p))
	for i := range p {
		out[i] = LabelScore{Label: r.labels[i], P: p[i]}
	}
	slices.SortStableFunc(out, func(a, b LabelScore) int { return descending(a.P, b.P) })
	return out
}

func (r *Router) scores(text string) []float64 {
	lp := slices.Clone(r.logPrior)
	var buf [256]string
	for _, g := range ngrams(text, r.cfg.MinN, r.cfg.MaxN, buf[:0]) {
		v, ok := r.logp[g]
		if !ok {
			continue
		}
		for i, x := range v {
			lp[i] += float64(x)
		}
	}
	return lp
}

type routerFile struct {
	Format   string             `json:"format"`
	Version  int                `json:"version"`
	MinN     int                `json:"min_n"`
	MaxN     int                `json:"max_n"`
	Alpha    float64            `json:"alpha"`
	MinCount int                `json:"min_count"`
	Labels   []string           `json:"labels"`
	Docs     []int              `json:"docs"`
	Grams    map[string][]int32 `json:"grams"`
}

// Save writes the router as a versioned JSON model file.
func (r *Router) Save(w io.Writer) error {
	bw := bufio.NewWriter(w)
	f := routerFile{
		Format: routerFormat, Version: routerVersion, MinN: r.cfg.MinN, MaxN: r.cfg.MaxN,
		Alpha: r.cfg.Alpha, MinCount: r.cfg.MinCount, Labels: r.labels, Docs: r.docs, Grams: r.counts,
	}
	if err := json.NewEncoder(bw).Encode(f); err != nil {
		return fmt.Errorf("triage.Router.Save: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("triage.Router.Save: %w", err)
	}
	return nil
}

// LoadRouter reads a model file written by [Router.Save]. A file of
// another format or version, with unknown fields, inconsistent vector
// lengths, negative counts or out-of-range parameters is an error (code
// invalid); one larger than 512 MiB is too_large.
func LoadRouter(rd io.Reader) (*Router, error) {
	const what = "router model"
	lr := &io.LimitedReader{R: rd, N: maxModelBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	var f routerFile
	if err := dec.Decode(&f); err != nil {
		if lr.N <= 0 {
			return nil, clinic.NewError(clinic.CodeTooLarge, what, "router model is larger than 512 MiB", "模型文件过大")
		}
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot decode router model", "模型文件格式错误")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid(what, "", "trailing data after the model")
	}
	switch {
	case f.Format != routerFormat:
		return nil, invalid(what, "format", "format %q is not %q", f.Format, routerFormat)
	case f.Version != routerVersion:
		return nil, invalid(what, "version", "version %d is not supported (want %d)", f.Version, routerVersion)
	case f.MinN < 1 || f.MaxN < f.MinN || f.MaxN > 5:
		return nil, invalid(what, "min_n", "n-gram range %d–%d is not within 1–5", f.MinN, f.MaxN)
	case !(f.Alpha > 0 && f.Alpha <= 10):
		return nil, invalid(what, "alpha", "alpha %g is not in (0, 10]", f.Alpha)
	case f.MinCount < 1:
		return nil, invalid(what, "min_count", "min_count %d < 1", f.MinCount)
	case len(f.Labels) < 2 || len(f.Labels) > maxRouterLabels:
		return nil, invalid(what, "labels", "%d labels, want 2–%d", len(f.Labels), maxRouterLabels)
	case len(f.Docs) != len(f.Labels):
		return nil, invalid(what, "docs", "%d document counts for %d labels", len(f.Docs), len(f.Labels))
	case len(f.Grams) == 0 || len(f.Grams) > maxModelGrams:
		return nil, invalid(what, "grams", "%d n-grams, want 1–%d", len(f.Grams), maxModelGrams)
	}
	seen := map[string]bool{}
	for i, l := range f.Labels {
		if l == "" || seen[l] {
			return nil, invalid(what, "labels", "label %d is empty or repeated", i)
		}
		seen[l] = true
		if f.Docs[i] < 0 {
			return nil, invalid(what, "docs", "negative document count")
		}
	}
	for g, v := range f.Grams {
		if n := utf8.RuneCountInString(g); n < f.MinN || n > f.MaxN {
			return nil, invalid(what, "grams", "n-gram %q has %d runes, outside %d–%d", g, n, f.MinN, f.MaxN)
		}
		if len(v) != len(f.Labels) {
			return nil, invalid(what, "grams", "n-gram %q has %d counts for %d labels", g, len(v), len(f.Labels))
		}
		for _, x := range v {
			if x < 0 {
				return nil, invalid(what, "grams", "n-gram %q has a negative count", g)
			}
		}
	}
	r := &Router{
		cfg:    RouterConfig{MinN: f.MinN, MaxN: f.MaxN, Alpha: f.Alpha, MinCount: f.MinCount},
		labels: f.Labels, docs: f.Docs, counts: f.Grams,
	}
	r.derive()
	return r, nil
}
