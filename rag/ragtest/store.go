// Package ragtest provides test twins for the guideline store: an
// in-memory implementation of store.Chunks with exact cosine search, used by
// rag's tests and benchmarks before (and beside) the SQLite and PostgreSQL
// adapters.
package ragtest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// Store is an in-memory store.Chunks. It keeps the port's contract: writes
// are atomic, values are copied in and out, a document with an unchanged
// hash is not rewritten, and all embeddings of a collection share one
// dimension. All methods are goroutine-safe.
type Store struct {
	mu       sync.RWMutex
	docs     map[key]store.Document
	chunks   map[key][]store.Chunk // by document
	dims     map[string]int        // collection → dimension
	owner    map[string]key        // chunk ID → document
	nonEmpty map[string]int        // collection → documents with chunks
	now      func() time.Time
	// Writes counts successful ReplaceDocument and DeleteDocument calls.
	writes int
}

type key struct{ collection, id string }

var _ store.Chunks = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		docs:     make(map[key]store.Document),
		chunks:   make(map[key][]store.Chunk),
		dims:     make(map[string]int),
		owner:    make(map[string]key),
		nonEmpty: make(map[string]int),
		now:      time.Now,
	}
}

// Writes returns the number of successful writes so far.
func (s *Store) Writes() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.writes
}

// ReplaceDocument implements store.Chunks.
func (s *Store) ReplaceDocument(ctx context.Context, doc store.Document, chunks []store.Chunk) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if doc.Collection == "" || doc.ID == "" {
		return false, clinic.NewError(clinic.CodeInvalid, "document", "document collection and ID are required", "文档集合和编号不能为空")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{doc.Collection, doc.ID}
	if old, ok := s.docs[k]; ok && old.Hash == doc.Hash {
		return false, nil
	}
	dim := s.collectionDimLocked(doc.Collection, k)
	ids := make(map[string]bool, len(chunks))
	for _, c := range chunks {
		if c.ID == "" {
			return false, clinic.NewError(clinic.CodeInvalid, "chunk.id", "chunk ID is required", "分块编号不能为空")
		}
		if ids[c.ID] || s.chunkIDTakenLocked(c.ID, k) {
			return false, clinic.NewError(clinic.CodeConflict, "chunk.id", "duplicate chunk ID "+c.ID, "分块编号重复："+c.ID)
		}
		ids[c.ID] = true
		if len(c.Embedding) == 0 {
			return false, clinic.NewError(clinic.CodeInvalid, "embedding", "chunk embedding is required", "分块向量不能为空")
		}
		if dim == 0 {
			dim = len(c.Embedding)
		}
		if len(c.Embedding) != dim {
			return false, clinic.NewError(clinic.CodeInvalid, "embedding",
				fmt.Sprintf("embedding dimension %d does not match the collection's %d", len(c.Embedding), dim),
				fmt.Sprintf("向量维度 %d 与集合的维度 %d 不一致", len(c.Embedding), dim))
		}
	}
	stored := make([]store.Chunk, len(chunks))
	for i, c := range chunks {
		stored[i] = cloneChunk(c)
		stored[i].Collection, stored[i].DocumentID = doc.Collection, doc.ID
	}
	slices.SortFunc(stored, func(a, b store.Chunk) int { return cmp.Compare(a.Ordinal, b.Ordinal) })
	doc.Tags = slices.Clone(doc.Tags)
	doc.Chunks = len(stored)
	doc.IngestedAt = s.now().UTC()
	s.dropLocked(k)
	s.docs[k] = doc
	s.chunks[k] = stored
	for _, c := range stored {
		s.owner[c.ID] = k
	}
	if len(stored) > 0 {
		s.nonEmpty[doc.Collection]++
		s.dims[doc.Collection] = dim
	}
	s.writes++
	return true, nil
}

// collectionDimLocked is the dimension of the collection's chunks other
// than those of document except, 0 if there are none.
func (s *Store) collectionDimLocked(collection string, except key) int {
	n := s.nonEmpty[collection]
	if len(s.chunks[except]) > 0 {
		n--
	}
	if n <= 0 {
		return 0
	}
	return s.dims[collection]
}

func (s *Store) chunkIDTakenLocked(id string, except key) bool {
	k, ok := s.owner[id]
	return ok && k != except
}

// dropLocked removes the chunks of document k from the indexes.
func (s *Store) dropLocked(k key) {
	old := s.chunks[k]
	for _, c := range old {
		delete(s.owner, c.ID)
	}
	if len(old) > 0 {
		s.nonEmpty[k.collection]--
	}
	delete(s.chunks, k)
}

// DeleteDocument implements store.Chunks.
func (s *Store) DeleteDocument(ctx context.Context, collection, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{collection, id}
	if _, ok := s.docs[k]; !ok {
		return clinic.NewError(clinic.CodeNotFound, "document", "document not found", "未找到文档")
	}
	s.dropLocked(k)
	delete(s.docs, k)
	s.writes++
	return nil
}

// Documents implements store.Chunks; documents are ordered by collection,
// then ID.
func (s *Store) Documents(ctx context.Context, collection string) ([]store.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []store.Document
	for k, d := range s.docs {
		if collection == "" || k.collection == collection {
			d.Tags = slices.Clone(d.Tags)
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b store.Document) int {
		return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ScanChunks implements store.Chunks.
func (s *Store) ScanChunks(ctx context.Context, collection string, fn func(store.Chunk) error) error {
	s.mu.RLock()
	var keys []key
	for k := range s.chunks {
		if collection == "" || k.collection == collection {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.collection, b.collection)) })
	var all []store.Chunk
	for _, k := range keys {
		for _, c := range s.chunks[k] {
			all = append(all, cloneChunk(c))
		}
	}
	s.mu.RUnlock()
	for _, c := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// SearchVectors implements store.Chunks with an exhaustive cosine scan
// (Exact is therefore always true).
func (s *Store) SearchVectors(ctx context.Context, q store.VectorQuery) ([]store.ChunkHit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.K <= 0 {
		return nil, nil
	}
	qn := norm(q.Vector)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if q.Collection != "" && s.nonEmpty[q.Collection] > 0 {
		if dim := s.dims[q.Collection]; dim != len(q.Vector) {
			return nil, clinic.NewError(clinic.CodeInvalid, "vector",
				fmt.Sprintf("query dimension %d does not match the collection's %d", len(q.Vector), dim),
				fmt.Sprintf("查询向量维度 %d 与集合的维度 %d 不一致", len(q.Vector), dim))
		}
	}
	var hits []store.ChunkHit
	for k, cs := range s.chunks {
		if q.Collection != "" && k.collection != q.Collection {
			continue
		}
		for _, c := range cs {
			if len(c.Embedding) != len(q.Vector) || !hasTags(c.Tags, q.Tags) {
				continue
			}
			var dot float64
			for i, v := range c.Embedding {
				dot += float64(v) * float64(q.Vector[i])
			}
			score := 0.0
			if cn := norm(c.Embedding); cn > 0 && qn > 0 {
				score = dot / (cn * qn)
			}
			hits = append(hits, store.ChunkHit{Chunk: c, Score: score})
		}
	}
	slices.SortFunc(hits, func(a, b store.ChunkHit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
	})
	if len(hits) > q.K {
		hits = hits[:q.K]
	}
	for i := range hits {
		hits[i].Chunk = cloneChunk(hits[i].Chunk)
	}
	return hits, nil
}

func hasTags(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func cloneChunk(c store.Chunk) store.Chunk {
	c.HeadingPath = slices.Clone(c.HeadingPath)
	c.Tags = slices.Clone(c.Tags)
	c.Embedding = slices.Clone(c.Embedding)
	if c.Metadata != nil {
		m := make(map[string]string, len(c.Metadata))
		for k, v := range c.Metadata {
			m[k] = v
		}
		c.Metadata = m
	}
	return c
}
