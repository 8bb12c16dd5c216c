package rag_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/corpus"
	"github.com/yizhu-health/yizhu/rag/embed"
	"github.com/yizhu-health/yizhu/rag/ragtest"
	"github.com/yizhu-health/yizhu/store"
)

// BenchmarkIngestCorpus measures the ingest rate (chunks/s) of the whole
// pipeline — decode, front matter, chunking, built-in embedding, store write
// and lexical index update — into the in-memory twin.
func BenchmarkIngestCorpus(b *testing.B) {
	ctx := context.Background()
	chunks := 0
	for b.Loop() {
		e := newEnv(b)
		res := mustIngestFS(b, ctx, e.ing, corpus.FS(), rag.DefaultCollection)
		for _, r := range res {
			chunks += r.Chunks
		}
	}
	b.ReportMetric(float64(chunks)/b.Elapsed().Seconds(), "chunks/s")
}

// fixedVectors is a store whose SearchVectors returns a fixed candidate
// list, so that a benchmark measures rag's own work (query embedding,
// BM25, fusion, hit assembly) and not an adapter's vector index.
type fixedVectors struct {
	*ragtest.Store
	hits []store.ChunkHit
}

func (f fixedVectors) SearchVectors(_ context.Context, q store.VectorQuery) ([]store.ChunkHit, error) {
	return f.hits[:min(q.K, len(f.hits))], nil
}

// BenchmarkHybridSearch100k measures hybrid query latency (p50/p95) over a
// synthetic collection of 100,000 chunks held in the lexical index; the
// vector side returns a fixed list of 50 candidates.
func BenchmarkHybridSearch100k(b *testing.B) {
	ctx := context.Background()
	const docs, perDoc = 1000, 100
	st := ragtest.NewStore()
	words := strings.Fields(`入院记录 首次病程 出院记录 会诊 抢救 手术 主诉 现病史 既往史 体格检查 诊断 胸痛 心电图
ST段 抬高 压低 危急值 心室颤动 房颤 血压 血糖 随访 转诊 肺结节 磨玻璃 实性 分诊 急诊 红区 黄区 绿区
患者 医师 签名 时限 小时 分钟 完成 记录 内容 包括 应当 规范 标准 指南 共识 评估 治疗 检查 结果 STEMI
troponin lead V2 V3 QTc mmHg mmol nodule follow-up category`)
	rng := rand.New(rand.NewPCG(3, 5))
	var fixed []store.ChunkHit
	for d := range docs {
		cs := make([]store.Chunk, perDoc)
		for i := range cs {
			var sb strings.Builder
			for sb.Len() < 300 {
				sb.WriteString(words[rng.IntN(len(words))])
				if rng.IntN(6) == 0 {
					sb.WriteString("。")
				}
			}
			cs[i] = store.Chunk{
				ID: rag.ChunkID("bench", fmt.Sprint(d), i), Ordinal: i, Text: sb.String(),
				Metadata:  map[string]string{rag.MetaTitle: fmt.Sprintf("文档%d", d)},
				Embedding: []float32{1, 0, 0, 0},
			}
		}
		if _, err := st.ReplaceDocument(ctx, store.Document{Collection: "bench", ID: fmt.Sprint(d), Hash: "h"}, cs); err != nil {
			b.Fatal(err)
		}
		if len(fixed) < 50 {
			for _, c := range cs[:5] {
				c.Collection, c.DocumentID = "bench", fmt.Sprint(d)
				fixed = append(fixed, store.ChunkHit{Chunk: c, Score: 0.5})
			}
		}
	}
	emb, err := embed.New(embed.Config{})
	if err != nil {
		b.Fatal(err)
	}
	r, err := rag.New(rag.Config{Store: fixedVectors{Store: st, hits: fixed}, Embedder: emb})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Load(ctx); err != nil {
		b.Fatal(err)
	}
	queries := []string{"入院记录完成时限", "胸痛 心电图 ST段抬高", "QTc critical value", "肺结节 随访 磨玻璃", "血压 转诊 随访"}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, err := r.Search(ctx, rag.Query{Text: queries[i%len(queries)], Collection: "bench", K: 5}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
}

// BenchmarkSearchCorpus measures end-to-end hybrid search on the starter
// corpus with the in-memory twin's exact cosine search.
func BenchmarkSearchCorpus(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	mustIngestFS(b, ctx, e.ing, corpus.FS(), rag.DefaultCollection)
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := e.r.Search(ctx, rag.Query{Text: "胸痛患者首份心电图多久完成", K: 5}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[int(0.95*float64(len(lat)-1))].Microseconds())/1000, "p95-ms")
}

// BenchmarkIngestLarge measures the ingest rate (chunks/s) of one 1 MiB
// Markdown document (synthetic clinical sentences under 200 headings).
func BenchmarkIngestLarge(b *testing.B) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 9))
	sentences := []string{"入院记录应当于患者入院后24小时内完成。", "首次病程记录应当在患者入院8小时内完成。",
		"ST elevation of 1 mm in two contiguous leads. ", "血压控制满意者预约下一次随访。", "胸痛伴大汗者按Ⅱ级分诊！"}
	var sb strings.Builder
	for h := 0; sb.Len() < 1<<20; h++ {
		fmt.Fprintf(&sb, "## 第%d节\n", h)
		for range 40 {
			sb.WriteString(sentences[rng.IntN(len(sentences))])
		}
		sb.WriteString("\n\n")
	}
	data := []byte(sb.String())
	chunks := 0
	for b.Loop() {
		e := newEnv(b)
		res, err := e.ing.Ingest(ctx, rag.Input{Name: "large.md", Data: data})
		if err != nil {
			b.Fatal(err)
		}
		chunks += res.Chunks
	}
	b.ReportMetric(float64(chunks)/b.Elapsed().Seconds(), "chunks/s")
	b.ReportMetric(float64(len(data))*float64(b.N)/b.Elapsed().Seconds()/(1<<20), "MiB/s")
}
