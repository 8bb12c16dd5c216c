// Package embed is Yizhu's built-in offline embedder: it turns text into a
// fixed-length vector by hashing character n-grams, with no model file and
// no network. It is the default embedder of the guideline store; remote
// embedders (OpenAI-compatible, Ollama) have the same method set.
//
// # Features
//
// Text is width-folded (full-width Ｖ２ → v2) and lower-cased. Runs of CJK
// characters contribute every character and every adjacent pair; other
// words contribute the whole word and the character trigrams of "^word$".
// Each feature is hashed with 64-bit FNV-1a; the low bits pick one of Dim
// buckets and the top bit a sign (signed feature hashing, Weinberger et al.,
// "Feature Hashing for Large Scale Multitask Learning", 2009), so collisions
// cancel on average instead of piling up. A feature seen tf times adds
// w·(1 + ln tf) (sublinear tf); the vector is then scaled to unit length.
// The output is a pure function of the text and Dim.
package embed

import (
	"context"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag/lexical"
)

// Bounds on the configuration and inputs.
const (
	DefaultDim = 512
	MinDim     = 16
	MaxDim     = 8192
	// MaxTexts bounds one EmbedDocuments call.
	MaxTexts = 10000
	// MaxTextBytes bounds one text; longer texts are embedded from their
	// first MaxTextBytes bytes.
	MaxTextBytes = 64 << 10
)

// Feature weights: a whole word or a CJK bigram says more than a single
// character or a trigram.
const (
	weightUnigramCJK = 1.0
	weightBigramCJK  = 1.5
	weightWord       = 1.5
	weightTrigram    = 0.25
)

// weightCommonCJK is the unigram weight of commonCJK characters.
const weightCommonCJK = 0.2

// commonCJK are Chinese function characters and characters so frequent in
// clinical guidelines that alone they say little about a passage; as
// unigrams they weigh weightCommonCJK (their bigrams keep full weight).
// A fixed list keeps the embedder stateless (no corpus IDF).
var commonCJK = func() map[rune]bool {
	m := make(map[rune]bool)
	for _, r := range "的了是在和与或及等为有者其于以之而并对由向被把从到也都就这那个些么什哪吗呢吧啊中内后前时上下不无应当须可能要会该各每其他患者" {
		m[r] = true
	}
	return m
}()

// Config configures the embedder.
type Config struct {
	// Dim is the vector length; 0 means DefaultDim.
	Dim int
}

// Builtin is the hashed n-gram embedder. It is immutable and goroutine-safe.
type Builtin struct {
	dim int
}

// New returns a Builtin embedder, or an invalid error when Dim is out of
// [MinDim, MaxDim].
func New(cfg Config) (*Builtin, error) {
	if cfg.Dim == 0 {
		cfg.Dim = DefaultDim
	}
	if cfg.Dim < MinDim || cfg.Dim > MaxDim {
		return nil, clinic.NewError(clinic.CodeInvalid, "dim",
			fmt.Sprintf("embedding dimension must be in [%d, %d], got %d", MinDim, MaxDim, cfg.Dim),
			fmt.Sprintf("向量维度必须在 %d 到 %d 之间，实际为 %d", MinDim, MaxDim, cfg.Dim))
	}
	return &Builtin{dim: cfg.Dim}, nil
}

// Dim returns the vector length.
func (e *Builtin) Dim() int { return e.dim }

// Name identifies the embedder and its parameters; vectors from embedders
// with different names are not comparable.
func (e *Builtin) Name() string { return fmt.Sprintf("builtin-ngram-v1-d%d", e.dim) }

// EmbedDocuments returns one unit vector per text (the zero vector for a
// text with no letters or digits). It returns a too_large error for more
// than MaxTexts texts and the context's error if ctx ends.
func (e *Builtin) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) > MaxTexts {
		return nil, clinic.NewError(clinic.CodeTooLarge, "texts",
			fmt.Sprintf("at most %d texts per call, got %d", MaxTexts, len(texts)),
			fmt.Sprintf("每次最多 %d 段文本，实际 %d 段", MaxTexts, len(texts)))
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("embed.EmbedDocuments: %w", err)
			}
		}
		out[i] = e.Vector(t)
	}
	return out, nil
}

// EmbedQuery returns the unit vector of text.
func (e *Builtin) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embed.EmbedQuery: %w", err)
	}
	return e.Vector(text), nil
}

// Vector returns the unit vector of text.
func (e *Builtin) Vector(text string) []float32 {
	if len(text) > MaxTextBytes {
		cut := MaxTextBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	type feat struct {
		w  float64
		tf int
	}
	counts := make(map[uint64]feat)
	add := func(h uint64, w float64) {
		f := counts[h]
		f.w, f.tf = w, f.tf+1
		counts[h] = f
	}
	features(lexical.Fold(text), add)

	acc := make([]float64, e.dim)
	for h, f := range counts {
		v := f.w * (1 + math.Log(float64(f.tf)))
		idx := int(h % uint64(e.dim))
		if h>>63 == 1 {
			v = -v
		}
		acc[idx] += v
	}
	var norm float64
	for _, v := range acc {
		norm += v * v
	}
	out := make([]float32, e.dim)
	if norm == 0 {
		return out
	}
	inv := 1 / math.Sqrt(norm)
	for i, v := range acc {
		out[i] = float32(v * inv)
	}
	return out
}

// features calls add with the hash and weight of every feature occurrence.
func features(text string, add func(h uint64, w float64)) {
	var prev rune
	wordStart := -1
	flushWord := func(end int) {
		if wordStart < 0 {
			return
		}
		w := text[wordStart:end]
		wordStart = -1
		add(hashParts('w', w, ""), weightWord)
		if utf8.RuneCountInString(w) < 3 {
			return
		}
		// trigrams of ^w$
		rs := make([]rune, 0, len(w)+2)
		rs = append(rs, '^')
		rs = append(rs, []rune(w)...)
		rs = append(rs, '$')
		for i := 0; i+3 <= len(rs); i++ {
			add(hashParts('t', string(rs[i:i+3]), ""), weightTrigram)
		}
	}
	for i, r := range text {
		switch {
		case lexical.IsCJK(r):
			flushWord(i)
			s := string(r)
			w := weightUnigramCJK
			if commonCJK[r] {
				w = weightCommonCJK
			}
			add(hashParts('u', s, ""), w)
			if prev != 0 {
				add(hashParts('b', string(prev), s), weightBigramCJK)
			}
			prev = r
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			prev = 0
			if wordStart < 0 {
				wordStart = i
			}
		default:
			prev = 0
			flushWord(i)
		}
	}
	flushWord(len(text))
}

// FNV-1a 64-bit parameters (Fowler, Noll, Vo).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashParts hashes a kind byte and two strings with FNV-1a, then mixes the
// result so that the top (sign) bit depends on every input byte.
func hashParts(kind byte, a, b string) uint64 {
	h := uint64(fnvOffset)
	h ^= uint64(kind)
	h *= fnvPrime
	for i := 0; i < len(a); i++ {
		h ^= uint64(a[i])
		h *= fnvPrime
	}
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= fnvPrime
	}
	// final avalanche (splitmix64 finaliser)
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return h
}
