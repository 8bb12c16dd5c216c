// Package lexical is an in-process BM25 index over the terms of
// [Tokens]: Chinese characters and character bigrams, and English words.
// It complements vector search, which misses exact terms such as "24小时",
// "V2–V3" or "QTc".
//
// # Scoring
//
// A document d scores, for each distinct query term t,
//
//	idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
//
// with idf(t) = ln(1 + (N − df(t) + 0.5)/(df(t) + 0.5)), N the number of live
// entries, |d| the entry's length in terms and avgdl the mean length; k1 = 1.2
// and b = 0.75 by default (Robertson & Zaragoza, "The Probabilistic Relevance
// Framework: BM25 and Beyond", 2009).
//
// All methods of [Index] are goroutine-safe.
package lexical

import (
	"container/heap"
	"math"
	"slices"
	"sync"
)

// Entry is one indexed passage. Group names the document it belongs to so
// that all entries of a document can be replaced together.
type Entry struct {
	ID         string
	Collection string
	Group      string
	Tags       []string
	Text       string
}

// Query asks for the K best entries for Text. Collection "" matches every
// collection; an entry must carry every tag in Tags.
type Query struct {
	Text       string
	Collection string
	Tags       []string
	K          int
}

// Result is a scored entry ID.
type Result struct {
	ID    string
	Score float64
}

// Config sets the BM25 parameters; zero values take the defaults
// (K1 = 1.2, B = 0.75).
type Config struct {
	K1, B float64
}

type posting struct {
	doc int32
	tf  uint32
}

type docInfo struct {
	id, collection, group string
	tags                  []string
	terms                 []int32 // term IDs, to keep df exact on removal
	length                int32
	alive                 bool
}

type groupKey struct{ collection, group string }

// Index is a BM25 inverted index. The zero value is not usable; call [New].
type Index struct {
	k1, b float64

	mu       sync.RWMutex
	termIDs  map[string]int32
	postings [][]posting
	df       []int32 // live entries per term
	docs     []docInfo
	lens     []int32 // per entry: length in terms, -1 once removed (hot loop data)
	byID     map[string]int32
	byGroup  map[groupKey][]int32
	totalLen int64
	live     int
	dead     int

	scratch sync.Pool // *scorer
}

// New returns an empty index.
func New(cfg Config) *Index {
	if cfg.K1 <= 0 {
		cfg.K1 = 1.2
	}
	if cfg.B < 0 || cfg.B > 1 || cfg.B == 0 {
		cfg.B = 0.75
	}
	return &Index{
		k1:      cfg.K1,
		b:       cfg.B,
		termIDs: make(map[string]int32),
		byID:    make(map[string]int32),
		byGroup: make(map[groupKey][]int32),
	}
}

// Len returns the number of live entries.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Replace removes every entry of (collection, group) and adds entries in
// their place (entries' Collection and Group are set to the arguments). An
// entry whose ID is already indexed under another group replaces it too.
func (x *Index) Replace(collection, group string, entries []Entry) {
	// Tokenise outside the lock.
	type prepared struct {
		e     Entry
		terms map[string]uint32
		n     int32
	}
	prep := make([]prepared, 0, len(entries))
	var buf []string
	for _, e := range entries {
		buf = Tokens(buf[:0], e.Text)
		tf := make(map[string]uint32, len(buf))
		for _, t := range buf {
			tf[t]++
		}
		e.Collection, e.Group = collection, group
		e.Tags = slices.Clone(e.Tags)
		e.Text = ""
		prep = append(prep, prepared{e: e, terms: tf, n: int32(len(buf))})
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	key := groupKey{collection, group}
	for _, d := range slices.Clone(x.byGroup[key]) {
		x.removeLocked(d)
	}
	delete(x.byGroup, key)
	for _, p := range prep {
		if d, ok := x.byID[p.e.ID]; ok {
			x.removeLocked(d)
		}
		d := int32(len(x.docs))
		x.docs = append(x.docs, docInfo{
			id: p.e.ID, collection: collection, group: group, tags: p.e.Tags,
			length: p.n, alive: true,
		})
		x.lens = append(x.lens, p.n)
		x.byID[p.e.ID] = d
		x.byGroup[key] = append(x.byGroup[key], d)
		x.totalLen += int64(p.n)
		x.live++
		ids := make([]int32, 0, len(p.terms))
		for t, n := range p.terms {
			id, ok := x.termIDs[t]
			if !ok {
				id = int32(len(x.postings))
				x.termIDs[t] = id
				x.postings = append(x.postings, nil)
				x.df = append(x.df, 0)
			}
			x.postings[id] = append(x.postings[id], posting{doc: d, tf: n})
			x.df[id]++
			ids = append(ids, id)
		}
		x.docs[d].terms = ids
	}
	if x.dead > 1024 && x.dead > x.live {
		x.compactLocked()
	}
}

// Remove removes every entry of (collection, group).
func (x *Index) Remove(collection, group string) {
	x.Replace(collection, group, nil)
}

// removeLocked marks entry d dead; its postings stay until compaction.
func (x *Index) removeLocked(d int32) {
	info := &x.docs[d]
	if !info.alive {
		return
	}
	info.alive = false
	x.lens[d] = -1
	x.totalLen -= int64(info.length)
	x.live--
	x.dead++
	if x.byID[info.id] == d {
		delete(x.byID, info.id)
	}
	key := groupKey{info.collection, info.group}
	if ds := x.byGroup[key]; len(ds) > 0 {
		x.byGroup[key] = slices.DeleteFunc(ds, func(v int32) bool { return v == d })
		if len(x.byGroup[key]) == 0 {
			delete(x.byGroup, key)
		}
	}
	for _, t := range info.terms {
		x.df[t]--
	}
	info.tags, info.terms = nil, nil
}

// compactLocked drops the postings of dead entries and renumbers the live
// ones.
func (x *Index) compactLocked() {
	remap := make([]int32, len(x.docs))
	docs := make([]docInfo, 0, x.live)
	for i, d := range x.docs {
		if !d.alive {
			remap[i] = -1
			continue
		}
		remap[i] = int32(len(docs))
		docs = append(docs, d)
	}
	for t, ps := range x.postings {
		out := ps[:0]
		for _, p := range ps {
			if nd := remap[p.doc]; nd >= 0 {
				out = append(out, posting{doc: nd, tf: p.tf})
			}
		}
		x.postings[t] = slices.Clip(out)
	}
	x.docs = docs
	x.lens = make([]int32, len(docs))
	for i, d := range docs {
		x.lens[i] = d.length
	}
	clear(x.byID)
	clear(x.byGroup)
	for i, d := range docs {
		x.byID[d.id] = int32(i)
		k := groupKey{d.collection, d.group}
		x.byGroup[k] = append(x.byGroup[k], int32(i))
	}
	x.dead = 0
}

type scorer struct {
	scores  []float64
	touched []int32
}

// Search returns up to q.K entries (10 if K ≤ 0) with a positive score,
// best first; ties are broken by ID.
func (x *Index) Search(q Query) []Result {
	if q.K <= 0 {
		q.K = 10
	}
	terms := Tokens(nil, q.Text)
	slices.Sort(terms)
	terms = slices.Compact(terms)

	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.live == 0 || len(terms) == 0 {
		return nil
	}
	s, _ := x.scratch.Get().(*scorer)
	if s == nil {
		s = &scorer{}
	}
	if len(s.scores) < len(x.docs) {
		s.scores = make([]float64, len(x.docs))
	}
	n := float64(x.live)
	avg := float64(x.totalLen) / n
	if avg <= 0 {
		avg = 1
	}
	for _, t := range terms {
		id, ok := x.termIDs[t]
		if !ok {
			continue
		}
		df := float64(x.df[id])
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		lens := x.lens
		for _, p := range x.postings[id] {
			dl := lens[p.doc]
			if dl < 0 {
				continue
			}
			tf := float64(p.tf)
			norm := x.k1 * (1 - x.b + x.b*float64(dl)/avg)
			if s.scores[p.doc] == 0 {
				s.touched = append(s.touched, p.doc)
			}
			s.scores[p.doc] += idf * tf * (x.k1 + 1) / (tf + norm)
		}
	}
	h := make(resultHeap, 0, q.K+1)
	for _, d := range s.touched {
		sc := s.scores[d]
		s.scores[d] = 0
		info := &x.docs[d]
		if sc <= 0 || !matches(info, q.Collection, q.Tags) {
			continue
		}
		r := Result{ID: info.id, Score: sc}
		if len(h) < q.K {
			heap.Push(&h, r)
		} else if better(r, h[0]) {
			h[0] = r
			heap.Fix(&h, 0)
		}
	}
	s.touched = s.touched[:0]
	x.scratch.Put(s)
	out := make([]Result, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(Result)
	}
	return out
}

func matches(d *docInfo, collection string, tags []string) bool {
	if collection != "" && d.collection != collection {
		return false
	}
	for _, t := range tags {
		if !slices.Contains(d.tags, t) {
			return false
		}
	}
	return true
}

// better orders results: higher score first, then smaller ID.
func better(a, b Result) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.ID < b.ID
}

// resultHeap is a min-heap of the worst result on top.
type resultHeap []Result

func (h resultHeap) Len() int           { return len(h) }
func (h resultHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h resultHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *resultHeap) Push(v any)        { *h = append(*h, v.(Result)) }
func (h *resultHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
