package rag_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/corpus"
	"github.com/yizhu-health/yizhu/store"
)

// benchChunks is the size of the synthetic collection of
// BenchmarkStores: 100,000 chunks unless YIZHU_RAG_BENCH_CHUNKS says
// otherwise (a multiple of 100).
func benchChunks(b *testing.B) int {
	n := 100_000
	if v := os.Getenv("YIZHU_RAG_BENCH_CHUNKS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("YIZHU_RAG_BENCH_CHUNKS=%q: want an integer ≥ 100", v)
		}
	}
	return n / 100 * 100
}

// BenchmarkStores measures the whole pipeline on each production store
// over a synthetic collection of 100,000 chunks (1,000 Markdown documents
// of 100 sections, one chunk each, from syntheticInputs, embedded by the
// built-in embedder):
//
//   - Ingest: decode, chunk, embed, write and index every document, in
//     chunks/s (one op is one whole load);
//   - Hybrid, Vector, Lexical: query latency p50/p95 of rag.Retriever.Search
//     (k = 5) over the 260 corpus questions and 200 questions about the
//     synthetic sections (one op is one pass over all 460) — on PostgreSQL
//     the vector side walks the HNSW index, on SQLite it is an exact scan;
//   - HNSWRecall (PostgreSQL): recall@10 of approximate against exact
//     vector search, for 100 synthetic questions (recall@10) and for 100
//     corpus questions (recall@10-corpus; these ask about guidelines the
//     synthetic text does not hold, so their exact neighbours are barely
//     nearer than the rest and the index finds them less often).
//
// Loading 100,000 chunks into PostgreSQL takes many minutes on a small
// machine: run with -benchtime 1x -timeout 60m, or set
// YIZHU_RAG_BENCH_CHUNKS lower.
func BenchmarkStores(b *testing.B) {
	qs, err := rag.LoadQuestions(bytes.NewReader(corpus.Questions()))
	if err != nil {
		b.Fatal(err)
	}
	n := benchChunks(b)
	synth := syntheticQueries(200, n/100, 100, 42)
	var texts []string
	for _, q := range qs {
		texts = append(texts, q.Question)
	}
	texts = append(texts, synth...)
	for _, rs := range realStores {
		b.Run(rs.name, func(b *testing.B) {
			e := newStoreEnv(b, rs.open(b), func(c *rag.IngesterConfig) { c.MaxBytes = 8 << 20 })
			collection := ""
			b.Run("Ingest", func(b *testing.B) {
				chunks, round := 0, 0
				for b.Loop() {
					col := fmt.Sprintf("bench%d", round)
					round++
					chunks += ingestAll(b, e.ing, syntheticInputs(col, n/100, 100, 42))
					if collection == "" {
						collection = col
					}
				}
				b.ReportMetric(float64(chunks)/b.Elapsed().Seconds(), "chunks/s")
				b.ReportMetric(float64(chunks)/float64(b.N), "chunks")
			})
			if collection == "" {
				b.Skip("no collection was loaded")
			}
			// A serving replica loads its lexical index once at start; that
			// load is not part of any query's latency.
			if err := e.r.Load(b.Context()); err != nil {
				b.Fatal(err)
			}
			for _, m := range rag.Modes {
				b.Run(string(m), func(b *testing.B) {
					var lat []time.Duration
					for b.Loop() {
						for _, text := range texts {
							q := rag.Query{Text: text, Collection: collection, K: 5, Mode: m}
							start := time.Now()
							hits, err := e.r.Search(b.Context(), q)
							lat = append(lat, time.Since(start))
							if err != nil {
								b.Fatal(err)
							}
							if len(hits) == 0 && m != rag.ModeLexical {
								b.Fatalf("no hits for %q", q.Text)
							}
						}
					}
					reportLatency(b, lat)
				})
			}
			if rs.name != "postgres" {
				return
			}
			b.Run("HNSWRecall", func(b *testing.B) {
				var r, rc float64
				for b.Loop() {
					r = textRecall(b, e, collection, synth[:100], 10)
					rc = textRecall(b, e, collection, texts[:100], 10)
				}
				b.ReportMetric(r, "recall@10")
				b.ReportMetric(rc, "recall@10-corpus")
			})
		})
	}
}

// ingestAll ingests ins in batches of rag.MaxBatch and returns the number
// of chunks written.
func ingestAll(tb testing.TB, ing *rag.Ingester, ins []rag.Input) int {
	tb.Helper()
	chunks := 0
	for start := 0; start < len(ins); start += rag.MaxBatch {
		res, err := ing.IngestAll(tb.Context(), ins[start:min(start+rag.MaxBatch, len(ins))])
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range res {
			chunks += r.Chunks
		}
	}
	return chunks
}

// textRecall is the mean recall@k of approximate against exact vector
// search over a collection, for queries embedded by e's embedder.
func textRecall(tb testing.TB, e storeEnv, collection string, queries []string, k int) float64 {
	tb.Helper()
	var sum float64
	for _, q := range queries {
		v, err := e.emb.EmbedQuery(tb.Context(), q)
		if err != nil {
			tb.Fatal(err)
		}
		sum += collectionRecall(tb, e.st, collection, v, k)
	}
	return sum / float64(len(queries))
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	p := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
}

// collectionRecall is recallAt over one collection.
func collectionRecall(tb testing.TB, st store.Chunks, collection string, v []float32, k int) float64 {
	tb.Helper()
	exact, err := st.SearchVectors(tb.Context(), store.VectorQuery{Collection: collection, Vector: v, K: k, Exact: true})
	if err != nil {
		tb.Fatal(err)
	}
	approx, err := st.SearchVectors(tb.Context(), store.VectorQuery{Collection: collection, Vector: v, K: k})
	if err != nil {
		tb.Fatal(err)
	}
	return overlap(exact, approx)
}

// overlap is the recall of approx against exact (1 when exact is empty):
// the share of exact's hits that approx holds, where an approximate hit
// scoring at least the exact k-th score (within 1e-6) also counts, so that
// a different choice among tied chunks is not a miss.
func overlap(exact, approx []store.ChunkHit) float64 {
	if len(exact) == 0 {
		return 1
	}
	want := map[string]bool{}
	for _, h := range exact {
		want[h.ID] = true
	}
	kth := exact[len(exact)-1].Score
	found := 0
	for _, h := range approx {
		if want[h.ID] || h.Score >= kth-1e-6 {
			found++
		}
	}
	return float64(min(found, len(exact))) / float64(len(exact))
}
