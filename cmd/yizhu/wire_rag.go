package main

import (
	"context"
	"fmt"

	"github.com/yizhu-health/yizhu/api"
)

// wireRAGFeature builds the guideline store's routes (upload, list,
// search) from the retriever and ingester that wireRAG built, so that
// uploads update the same lexical index that searches and the rag.search
// tool use.
func wireRAGFeature(_ context.Context, d *deps) (api.Feature, error) {
	if d.rag == nil || d.ingest == nil {
		return nil, fmt.Errorf("rag feature: the retriever and ingester are not wired")
	}
	return api.NewRAG(api.RAGConfig{Searcher: d.rag, Ingester: d.ingest, Store: d.store, Logger: d.log})
}
