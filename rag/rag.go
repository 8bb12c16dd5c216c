package rag

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag/lexical"
	"github.com/yizhu-health/yizhu/store"
)

// DefaultCollection is the collection of the starter guideline corpus.
const DefaultCollection = "guidelines"

// Search bounds.
const (
	DefaultK = 5
	MaxK     = 50
	// MaxQueryRunes bounds a query's text.
	MaxQueryRunes = 2000
	// rrfK is the rank constant of reciprocal rank fusion.
	rrfK = 60
	// minCandidates is how many hits each ranking contributes to fusion.
	minCandidates = 50
)

// Embedder turns text into vectors. The built-in rag/embed.Builtin and the
// remote embedders of agents/provider implement it. Implementations must be
// goroutine-safe and return vectors of length Dim().
type Embedder interface {
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
	// Dim is the length of every vector.
	Dim() int
	// Name identifies the model and its parameters.
	Name() string
}

// Mode selects the ranking.
type Mode string

// Modes.
const (
	ModeHybrid  Mode = "hybrid"
	ModeVector  Mode = "vector"
	ModeLexical Mode = "lexical"
)

// Modes lists every mode, in the order reports show them.
var Modes = []Mode{ModeVector, ModeLexical, ModeHybrid}

// Query is a search request. Collection "" searches every collection; a
// hit must carry every tag in Tags. K is 5 when 0, at most 50. Mode is
// hybrid when empty.
type Query struct {
	Text       string   `json:"text"`
	Collection string   `json:"collection,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	K          int      `json:"k,omitempty"`
	Mode       Mode     `json:"mode,omitempty"`
}

// Hit is one retrieved passage with what is needed to cite it.
type Hit struct {
	ChunkID       string   `json:"chunk_id"`
	Collection    string   `json:"collection"`
	DocumentID    string   `json:"document_id"`
	Title         string   `json:"title"`
	Source        string   `json:"source"` // the guideline or standard
	File          string   `json:"file,omitempty"`
	Version       string   `json:"version,omitempty"`
	EffectiveDate string   `json:"effective_date,omitempty"`
	HeadingPath   []string `json:"heading_path,omitempty"`
	Text          string   `json:"text"`
	// Score is the RRF score in hybrid mode, the cosine similarity in
	// vector mode and the BM25 score in lexical mode.
	Score float64 `json:"score"`
	// VectorRank and LexicalRank are 1-based ranks in each list, 0 when
	// the hit was not in it.
	VectorRank  int `json:"vector_rank,omitempty"`
	LexicalRank int `json:"lexical_rank,omitempty"`
}

// Citation formats the hit for a reader:
//
//	《title》 › heading › subheading — source (version, effective date) [chunk-id]
//
// The file name stands in for a missing source.
func (h Hit) Citation() string {
	var b strings.Builder
	title := h.Title
	if title == "" {
		title = h.DocumentID
	}
	b.WriteString("《" + title + "》")
	for _, p := range h.HeadingPath {
		if p == title {
			continue
		}
		b.WriteString(" › " + p)
	}
	source := h.Source
	if source == "" {
		source = h.File // a document without front matter: cite its file
	}
	if source != "" {
		b.WriteString(" — " + source)
		var extra []string
		if h.Version != "" {
			extra = append(extra, h.Version)
		}
		if h.EffectiveDate != "" {
			extra = append(extra, h.EffectiveDate)
		}
		if len(extra) > 0 {
			b.WriteString(" (" + strings.Join(extra, ", ") + ")")
		}
	}
	b.WriteString(" [" + h.ChunkID + "]")
	return b.String()
}

// Config configures a Retriever.
type Config struct {
	Store    store.Chunks // required
	Embedder Embedder     // required
	Logger   *slog.Logger // nil = discard
	// NoExpansion turns off the bilingual glossary that adds the other
	// language's terms to a query (glossary.tsv).
	NoExpansion bool
}

// Retriever answers searches. All methods are goroutine-safe.
type Retriever struct {
	store    store.Chunks
	embedder Embedder
	log      *slog.Logger
	lex      *lexical.Index
	glossary *glossary // nil = no expansion

	loadMu sync.Mutex  // serialises Load and index updates
	loaded atomic.Bool // set once the first Load succeeded

	mu     sync.RWMutex
	chunks map[string]store.Chunk // by chunk ID, embeddings dropped
	byDoc  map[docKey][]string    // chunk IDs of each document
}

type docKey struct{ collection, doc string }

// New returns a Retriever. It does no I/O: the lexical index is loaded from
// the store on the first search or by [Retriever.Load].
func New(cfg Config) (*Retriever, error) {
	if cfg.Store == nil || cfg.Embedder == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "rag.New: store and embedder are required")
	}
	if cfg.Embedder.Dim() <= 0 {
		return nil, clinic.Errorf(clinic.CodeInvalid, "rag.New: embedder %q has dimension %d", cfg.Embedder.Name(), cfg.Embedder.Dim())
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var g *glossary
	if !cfg.NoExpansion {
		g = defaultGlossary
	}
	return &Retriever{
		glossary: g,
		store:    cfg.Store,
		embedder: cfg.Embedder,
		log:      log,
		lex:      lexical.New(lexical.Config{}),
		chunks:   make(map[string]store.Chunk),
		byDoc:    make(map[docKey][]string),
	}, nil
}

// Embedder returns the retriever's embedder.
func (r *Retriever) Embedder() Embedder { return r.embedder }

// Load (re)builds the lexical index from every chunk in the store.
func (r *Retriever) Load(ctx context.Context) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	return r.loadLocked(ctx)
}

func (r *Retriever) loadLocked(ctx context.Context) error {
	groups := make(map[docKey][]store.Chunk)
	var order []docKey
	foreign := 0
	err := r.store.ScanChunks(ctx, "", func(c store.Chunk) error {
		if e := c.Metadata[MetaEmbedder]; e != "" && e != r.embedder.Name() {
			foreign++
		}
		c.Embedding = nil
		k := docKey{c.Collection, c.DocumentID}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("rag.Load: %w", err)
	}
	lex := lexical.New(lexical.Config{})
	chunks := make(map[string]store.Chunk)
	byDoc := make(map[docKey][]string, len(order))
	for _, k := range order {
		cs := groups[k]
		lex.Replace(k.collection, k.doc, entries(cs))
		for _, c := range cs {
			chunks[c.ID] = c
			byDoc[k] = append(byDoc[k], c.ID)
		}
	}
	r.mu.Lock()
	r.lex = lex
	r.chunks = chunks
	r.byDoc = byDoc
	r.mu.Unlock()
	r.loaded.Store(true)
	if foreign > 0 {
		r.log.Warn("chunks embedded by another embedder; re-ingest them", "chunks", foreign, "embedder", r.embedder.Name())
	}
	r.log.Info("lexical index loaded", "chunks", len(chunks), "documents", len(order))
	return nil
}

func (r *Retriever) ensureLoaded(ctx context.Context) error {
	if r.loaded.Load() {
		return nil // searches keep using the current index during a reload
	}
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if r.loaded.Load() {
		return nil
	}
	return r.loadLocked(ctx)
}

// indexDocument replaces the lexical entries of one document after the
// store has accepted it.
func (r *Retriever) indexDocument(collection, docID string, cs []store.Chunk) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if !r.loaded.Load() {
		return // the next Load reads the store, which already has them
	}
	stripped := make([]store.Chunk, len(cs))
	for i, c := range cs {
		c.Embedding = nil
		stripped[i] = c
	}
	k := docKey{collection, docID}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range r.byDoc[k] {
		delete(r.chunks, id)
	}
	delete(r.byDoc, k)
	for _, c := range stripped {
		r.chunks[c.ID] = c
		r.byDoc[k] = append(r.byDoc[k], c.ID)
	}
	r.lex.Replace(collection, docID, entries(stripped))
}

// entries turns chunks into lexical entries; the title and heading path
// are indexed with the text.
func entries(cs []store.Chunk) []lexical.Entry {
	out := make([]lexical.Entry, len(cs))
	for i, c := range cs {
		out[i] = lexical.Entry{ID: c.ID, Tags: c.Tags, Text: indexText(c.Metadata[MetaTitle], c.HeadingPath, c.Text)}
	}
	return out
}

// indexText is what is embedded and indexed for a chunk: its title and
// heading path give the passage its context.
func indexText(title string, path []string, text string) string {
	var b strings.Builder
	b.WriteString(title)
	for _, p := range path {
		if p == title {
			continue
		}
		b.WriteString(" / ")
		b.WriteString(p)
	}
	b.WriteString("\n")
	b.WriteString(text)
	return b.String()
}

// Search returns up to q.K hits, best first. It returns invalid for an
// empty query, an unknown mode or a bad K, too_large for a query over
// MaxQueryRunes characters.
func (r *Retriever) Search(ctx context.Context, q Query) ([]Hit, error) {
	if err := validateQuery(&q); err != nil {
		return nil, err
	}
	if err := r.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	cand := max(minCandidates, 4*q.K)
	expanded := q
	expanded.Text = r.glossary.expand(q.Text)
	var vec []store.ChunkHit
	var lex []lexical.Result
	if q.Mode != ModeLexical {
		v, err := r.vectorSearch(ctx, expanded, cand)
		if err != nil {
			return nil, err
		}
		vec = v
	}
	if q.Mode != ModeVector {
		r.mu.RLock()
		lexIdx := r.lex
		r.mu.RUnlock()
		lex = lexIdx.Search(lexical.Query{Text: expanded.Text, Collection: q.Collection, Tags: q.Tags, K: cand})
	}

	switch q.Mode {
	case ModeVector:
		hits := make([]Hit, 0, min(q.K, len(vec)))
		for i, h := range vec {
			if i == q.K {
				break
			}
			hit := hitOf(h.Chunk, h.Score)
			hit.VectorRank = i + 1
			hits = append(hits, hit)
		}
		return hits, nil
	case ModeLexical:
		r.mu.RLock()
		defer r.mu.RUnlock()
		hits := make([]Hit, 0, min(q.K, len(lex)))
		for i, l := range lex {
			c, ok := r.chunks[l.ID]
			if !ok {
				continue
			}
			hit := hitOf(c, l.Score)
			hit.LexicalRank = i + 1
			hits = append(hits, hit)
			if len(hits) == q.K {
				break
			}
		}
		return hits, nil
	}

	vecIDs := make([]string, len(vec))
	byID := make(map[string]store.Chunk, len(vec)+len(lex))
	for i, h := range vec {
		vecIDs[i] = h.ID
		byID[h.ID] = h.Chunk
	}
	lexIDs := make([]string, len(lex))
	for i, l := range lex {
		lexIDs[i] = l.ID
	}
	fused := Fuse(vecIDs, lexIDs)
	r.mu.RLock()
	defer r.mu.RUnlock()
	hits := make([]Hit, 0, q.K)
	for _, f := range fused {
		c, ok := byID[f.ID]
		if !ok {
			if c, ok = r.chunks[f.ID]; !ok {
				continue
			}
		}
		hit := hitOf(c, f.Score)
		hit.VectorRank, hit.LexicalRank = f.Ranks[0], f.Ranks[1]
		hits = append(hits, hit)
		if len(hits) == q.K {
			break
		}
	}
	return hits, nil
}

func (r *Retriever) vectorSearch(ctx context.Context, q Query, k int) ([]store.ChunkHit, error) {
	v, err := r.embedder.EmbedQuery(ctx, q.Text)
	if err != nil {
		return nil, fmt.Errorf("rag.Search: embed query: %w", err)
	}
	if len(v) != r.embedder.Dim() {
		return nil, clinic.NewError(clinic.CodeInvalid, "embedding",
			fmt.Sprintf("embedder %s returned a %d-dimensional vector, want %d", r.embedder.Name(), len(v), r.embedder.Dim()),
			fmt.Sprintf("向量模型 %s 返回 %d 维向量，应为 %d 维", r.embedder.Name(), len(v), r.embedder.Dim()))
	}
	hits, err := r.store.SearchVectors(ctx, store.VectorQuery{Collection: q.Collection, Tags: q.Tags, Vector: v, K: k})
	if err != nil {
		return nil, fmt.Errorf("rag.Search: %w", err)
	}
	return hits, nil
}

func validateQuery(q *Query) error {
	q.Text = strings.TrimSpace(q.Text)
	if q.Text == "" {
		return clinic.NewError(clinic.CodeInvalid, "text", "the query is empty", "查询内容不能为空")
	}
	if utf8.RuneCountInString(q.Text) > MaxQueryRunes {
		return clinic.NewError(clinic.CodeTooLarge, "text",
			fmt.Sprintf("the query is longer than %d characters", MaxQueryRunes),
			fmt.Sprintf("查询内容超过 %d 个字符", MaxQueryRunes))
	}
	if q.K == 0 {
		q.K = DefaultK
	}
	if q.K < 0 || q.K > MaxK {
		return clinic.NewError(clinic.CodeInvalid, "k",
			fmt.Sprintf("k must be in [1, %d]", MaxK), fmt.Sprintf("k 必须在 1 到 %d 之间", MaxK))
	}
	if q.Mode == "" {
		q.Mode = ModeHybrid
	}
	if !slices.Contains(Modes, q.Mode) {
		return clinic.NewError(clinic.CodeInvalid, "mode",
			fmt.Sprintf("unknown search mode %q (hybrid, vector or lexical)", q.Mode),
			fmt.Sprintf("未知的检索方式 %q（可选 hybrid、vector、lexical）", q.Mode))
	}
	return nil
}

func hitOf(c store.Chunk, score float64) Hit {
	return Hit{
		ChunkID:       c.ID,
		Collection:    c.Collection,
		DocumentID:    c.DocumentID,
		Title:         c.Metadata[MetaTitle],
		Source:        c.Metadata[MetaSource],
		File:          c.Metadata[MetaFile],
		Version:       c.Metadata[MetaVersion],
		EffectiveDate: c.Metadata[MetaEffectiveDate],
		HeadingPath:   slices.Clone(c.HeadingPath),
		Text:          c.Text,
		Score:         score,
	}
}

// Fused is one entry of a fused ranking.
type Fused struct {
	ID    string
	Score float64
	// Ranks holds the 1-based rank of ID in each input list, 0 if absent.
	Ranks []int
}

// Fuse combines rankings by reciprocal rank fusion with k = 60:
// score(id) = Σ over lists of 1/(60 + rank). Ties are broken by the best
// single rank, then by ID, so the result is deterministic. A repeated ID
// within one list counts at its first rank.
func Fuse(lists ...[]string) []Fused {
	idx := make(map[string]int)
	var out []Fused
	for li, list := range lists {
		for i, id := range list {
			j, ok := idx[id]
			if !ok {
				j = len(out)
				idx[id] = j
				out = append(out, Fused{ID: id, Ranks: make([]int, len(lists))})
			}
			if out[j].Ranks[li] != 0 {
				continue
			}
			out[j].Ranks[li] = i + 1
			out[j].Score += 1 / float64(rrfK+i+1)
		}
	}
	best := func(f Fused) int {
		b := 0
		for _, r := range f.Ranks {
			if r > 0 && (b == 0 || r < b) {
				b = r
			}
		}
		return b
	}
	slices.SortFunc(out, func(a, b Fused) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(best(a), best(b)), cmp.Compare(a.ID, b.ID))
	})
	return out
}
