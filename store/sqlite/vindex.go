package sqlite

import (
	"math"
	"slices"
	"sync"
)

// vindex is the in-memory vector index: for each collection, the unit-length
// embeddings of its chunks in one contiguous []float32 (row i at
// vecs[i*dim:(i+1)*dim]) with each row's chunk rowid and interned tags.
// Search is an exact cosine scan (a dot product of unit vectors) with a
// bounded top-K heap. It holds committed chunks only: writes reach it after
// their transaction commits.
type vindex struct {
	mu   sync.RWMutex
	cols map[string]*vcol
	tags map[string]uint32
}

type vcol struct {
	dim   int
	vecs  []float32
	rows  []vrow
	pos   map[int64]int      // rowid → row
	byDoc map[string][]int64 // document ID → rowids
}

type vrow struct {
	rid  int64
	tags []uint32 // sorted
}

// ventry is one chunk to add.
type ventry struct {
	rid  int64
	tags []string
	vec  []float32 // unit length
}

func newVindex() *vindex {
	return &vindex{cols: map[string]*vcol{}, tags: map[string]uint32{}}
}

// normalize returns v scaled to unit length (v must be non-zero).
func normalize(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	inv := 1 / math.Sqrt(ss)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// replaceDoc drops the document's rows and adds es in their place.
func (x *vindex) replaceDoc(collection, docID string, dim int, es []ventry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	c := x.cols[collection]
	if c != nil {
		c.removeDoc(docID)
		if len(c.rows) == 0 {
			delete(x.cols, collection)
			c = nil
		}
	}
	if len(es) == 0 {
		return
	}
	if c == nil {
		c = &vcol{dim: dim, pos: map[int64]int{}, byDoc: map[string][]int64{}}
		x.cols[collection] = c
	}
	rids := make([]int64, 0, len(es))
	c.vecs = slices.Grow(c.vecs, len(es)*dim)
	for _, e := range es {
		ids := make([]uint32, 0, len(e.tags))
		for _, t := range e.tags {
			id, ok := x.tags[t]
			if !ok {
				id = uint32(len(x.tags))
				x.tags[t] = id
			}
			ids = append(ids, id)
		}
		slices.Sort(ids)
		c.pos[e.rid] = len(c.rows)
		c.rows = append(c.rows, vrow{rid: e.rid, tags: ids})
		c.vecs = append(c.vecs, e.vec...)
		rids = append(rids, e.rid)
	}
	c.byDoc[docID] = rids
}

func (c *vcol) removeDoc(docID string) {
	for _, rid := range c.byDoc[docID] {
		i, ok := c.pos[rid]
		if !ok {
			continue
		}
		last := len(c.rows) - 1
		if i != last {
			copy(c.vecs[i*c.dim:(i+1)*c.dim], c.vecs[last*c.dim:(last+1)*c.dim])
			c.rows[i] = c.rows[last]
			c.pos[c.rows[i].rid] = i
		}
		c.rows = c.rows[:last]
		c.vecs = c.vecs[:last*c.dim]
		delete(c.pos, rid)
	}
	delete(c.byDoc, docID)
}

// dim returns the dimension of a collection's vectors, or 0 if it holds none.
func (x *vindex) dim(collection string) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if c := x.cols[collection]; c != nil {
		return c.dim
	}
	return 0
}

// hit is a search result: a chunk rowid and its cosine similarity.
type hit struct {
	rid   int64
	score float32
}

// better reports whether a ranks before b: higher score, then lower rowid.
func better(a, b hit) bool { return a.score > b.score || a.score == b.score && a.rid < b.rid }

// search returns up to k rows nearest to q (unit length) among the
// collection's rows ("" = every collection of q's dimension) that carry
// every tag, best first.
func (x *vindex) search(q []float32, collection string, tags []string, k int) []hit {
	x.mu.RLock()
	defer x.mu.RUnlock()
	want := make([]uint32, 0, len(tags))
	for _, t := range tags {
		id, ok := x.tags[t]
		if !ok {
			return nil
		}
		want = append(want, id)
	}
	slices.Sort(want)
	h := make([]hit, 0, k) // a min-heap: h[0] is the worst kept hit
	scan := func(c *vcol) {
		dim := c.dim
		for i := range c.rows {
			if len(want) > 0 && !hasAll(c.rows[i].tags, want) {
				continue
			}
			e := hit{rid: c.rows[i].rid, score: dot(q, c.vecs[i*dim:(i+1)*dim])}
			if len(h) < k {
				h = append(h, e)
				up(h, len(h)-1)
			} else if better(e, h[0]) {
				h[0] = e
				down(h, 0)
			}
		}
	}
	if collection != "" {
		if c := x.cols[collection]; c != nil && c.dim == len(q) {
			scan(c)
		}
	} else {
		for _, c := range x.cols {
			if c.dim == len(q) {
				scan(c)
			}
		}
	}
	slices.SortFunc(h, func(a, b hit) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return h
}

// up and down keep h a heap whose root is the worst hit.
func up(h []hit, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !better(h[p], h[i]) {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func down(h []hit, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && better(h[l], h[r]) {
			w = r
		}
		if !better(h[i], h[w]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

// hasAll reports whether sorted set have contains every element of sorted
// set want.
func hasAll(have, want []uint32) bool {
	j := 0
	for _, t := range have {
		if j < len(want) && t == want[j] {
			j++
		}
	}
	return j == len(want)
}

// dot returns the dot product of a and b[:len(a)], with four accumulators
// so the loop is not bound by one addition chain.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
