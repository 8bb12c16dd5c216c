package rag_test

import (
	"context"
	"fmt"

	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/corpus"
	"github.com/yizhu-health/yizhu/rag/embed"
	"github.com/yizhu-health/yizhu/rag/ragtest"
)

// The wiring cmd/yizhu does: one embedder, a retriever and an ingester
// over the same store; the starter corpus is ingested (later starts skip
// unchanged notes) and searched with citations.
func Example() {
	ctx := context.Background()
	st := ragtest.NewStore() // cmd/yizhu passes store/sqlite or store/postgres
	emb, _ := embed.New(embed.Config{})
	r, _ := rag.New(rag.Config{Store: st, Embedder: emb})
	ing, _ := rag.NewIngester(rag.IngesterConfig{Store: st, Embedder: emb, Retriever: r})
	if _, err := ing.IngestFS(ctx, corpus.FS(), rag.DefaultCollection); err != nil {
		fmt.Println(err)
		return
	}
	hits, err := r.Search(ctx, rag.Query{Text: "首次病程记录应在入院多久内完成？", K: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := hits[0]
	fmt.Println(h.DocumentID, h.HeadingPath)
	fmt.Println(h.Source)
	// Output:
	// emr-first-progress-note [首次病程记录 定义与完成时限]
	// 病历书写基本规范（卫医政发〔2010〕11号）第二十二条
}
