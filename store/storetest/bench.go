package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/store"
)

// Corpus describes a synthetic, clustered vector collection for benchmarks
// and recall tests: Clusters centres drawn uniformly on the unit sphere,
// and each chunk's embedding a centre plus Gaussian noise of standard
// deviation Spread per coordinate, so near neighbours are not trivial. The
// same Seed gives the same corpus.
type Corpus struct {
	Seed       uint64
	Collection string
	Chunks     int
	Dim        int
	Clusters   int
	Spread     float64 // per-coordinate noise; 0 means 1/sqrt(Dim)
	PerDoc     int     // chunks per document; 0 means 100
}

func (c *Corpus) defaults() {
	if c.Spread == 0 {
		c.Spread = 1 / math.Sqrt(float64(c.Dim))
	}
	if c.PerDoc == 0 {
		c.PerDoc = 100
	}
	if c.Clusters == 0 {
		c.Clusters = max(1, c.Chunks/500)
	}
}

func (c *Corpus) centres(r *rand.Rand) [][]float32 {
	out := make([][]float32, c.Clusters)
	for i := range out {
		v := make([]float32, c.Dim)
		var ss float64
		for j := range v {
			x := r.NormFloat64()
			v[j] = float32(x)
			ss += x * x
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(ss))
		}
		out[i] = v
	}
	return out
}

func (c *Corpus) near(r *rand.Rand, centre []float32) []float32 {
	v := make([]float32, len(centre))
	for j := range v {
		v[j] = centre[j] + float32(r.NormFloat64()*c.Spread)
	}
	return v
}

// Docs calls fn with each document of the corpus and its chunks, in order.
func (c Corpus) Docs(fn func(store.Document, []store.Chunk) error) error {
	c.defaults()
	r := rand.New(rand.NewPCG(c.Seed, 1))
	cs := c.centres(r)
	for d := 0; d*c.PerDoc < c.Chunks; d++ {
		n := min(c.PerDoc, c.Chunks-d*c.PerDoc)
		doc := store.Document{Collection: c.Collection, ID: fmt.Sprintf("doc-%06d", d),
			Title: fmt.Sprintf("synthetic %d", d), Source: "synthetic", Hash: fmt.Sprintf("h%d", d)}
		chunks := make([]store.Chunk, n)
		for i := range chunks {
			tags := []string{fmt.Sprintf("t%d", (d*c.PerDoc+i)%4)}
			chunks[i] = store.Chunk{Ordinal: i, Text: fmt.Sprintf("chunk %d of %d", i, d), Tags: tags,
				Embedding: c.near(r, cs[r.IntN(len(cs))])}
		}
		if err := fn(doc, chunks); err != nil {
			return err
		}
	}
	return nil
}

// Queries returns n query vectors drawn like the corpus's chunks (near a
// random centre), from a stream independent of the chunks.
func (c Corpus) Queries(n int) [][]float32 {
	c.defaults()
	cs := c.centres(rand.New(rand.NewPCG(c.Seed, 1)))
	r := rand.New(rand.NewPCG(c.Seed, 2))
	out := make([][]float32, n)
	for i := range out {
		out[i] = c.near(r, cs[r.IntN(len(cs))])
	}
	return out
}

// Load stores the corpus in s.
func (c Corpus) Load(ctx context.Context, s store.Store) error {
	return c.Docs(func(d store.Document, cs []store.Chunk) error {
		_, err := s.ReplaceDocument(ctx, d, cs)
		return err
	})
}

// Recall returns the mean recall@k of approximate search against Exact
// search over the queries: the share of the exact top k that the
// approximate top k also holds.
func Recall(ctx context.Context, s store.Store, collection string, queries [][]float32, k int, tags ...string) (float64, error) {
	var sum float64
	for _, q := range queries {
		exact, err := s.SearchVectors(ctx, store.VectorQuery{Collection: collection, Vector: q, K: k, Tags: tags, Exact: true})
		if err != nil {
			return 0, err
		}
		approx, err := s.SearchVectors(ctx, store.VectorQuery{Collection: collection, Vector: q, K: k, Tags: tags})
		if err != nil {
			return 0, err
		}
		want := map[string]bool{}
		for _, h := range exact {
			want[h.ID] = true
		}
		found := 0
		for _, h := range approx {
			if want[h.ID] {
				found++
			}
		}
		if len(exact) > 0 {
			sum += float64(found) / float64(len(exact))
		}
	}
	return sum / float64(len(queries)), nil
}

// BenchmarkSearch runs SearchVectors over the queries in turn and reports
// the p50 and p95 latency in milliseconds and queries per second.
func BenchmarkSearch(b *testing.B, s store.Store, q store.VectorQuery, queries [][]float32) {
	ctx := b.Context()
	lat := make([]time.Duration, 0, 1024)
	i := 0
	b.ResetTimer()
	for b.Loop() {
		q.Vector = queries[i%len(queries)]
		i++
		start := time.Now()
		hits, err := s.SearchVectors(ctx, q)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(hits) == 0 {
			b.Fatal("search returned no hits")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}

// BenchmarkReplace stores one document of perDoc chunks per iteration (each
// a new document of the corpus's collection) and reports chunks per second.
func BenchmarkReplace(b *testing.B, s store.Store, c Corpus) {
	ctx := b.Context()
	c.Chunks = 1 << 30
	type pair struct {
		d  store.Document
		cs []store.Chunk
	}
	c.defaults()
	// Pre-generate a pool of documents so generation is not timed.
	pool := make([]pair, 0, 64)
	errFull := fmt.Errorf("full")
	c.Docs(func(d store.Document, cs []store.Chunk) error {
		pool = append(pool, pair{d, cs})
		if len(pool) == cap(pool) {
			return errFull
		}
		return nil
	})
	n := 0
	start := time.Now()
	for b.Loop() {
		p := pool[n%len(pool)]
		p.d.ID = fmt.Sprintf("bench-%d", n)
		n++
		if _, err := s.ReplaceDocument(ctx, p.d, p.cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*c.PerDoc)/time.Since(start).Seconds(), "chunks/s")
}
