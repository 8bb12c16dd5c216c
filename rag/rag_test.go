package rag_test

import (
	"context"
	"io/fs"
	"log/slog"
	"testing"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/chunk"
	"github.com/yizhu-health/yizhu/rag/embed"
	"github.com/yizhu-health/yizhu/rag/ragtest"
)

// env is a retriever and an ingester over an in-memory store.
type env struct {
	store *ragtest.Store
	r     *rag.Retriever
	ing   *rag.Ingester
}

func newEnv(tb testing.TB, opts ...func(*rag.IngesterConfig)) env {
	tb.Helper()
	st := ragtest.NewStore()
	emb, err := embed.New(embed.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	r, err := rag.New(rag.Config{Store: st, Embedder: emb, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := rag.IngesterConfig{Store: st, Embedder: emb, Retriever: r, Logger: log}
	for _, o := range opts {
		o(&cfg)
	}
	ing, err := rag.NewIngester(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return env{store: st, r: r, ing: ing}
}

func withChunking(o chunk.Options) func(*rag.IngesterConfig) {
	return func(c *rag.IngesterConfig) { c.Chunking = o }
}

// mustIngestFS ingests fsys and fails on any per-file error.
func mustIngestFS(tb testing.TB, ctx context.Context, ing *rag.Ingester, fsys fs.FS, collection string) []rag.Result {
	tb.Helper()
	res, err := ing.IngestFS(ctx, fsys, collection)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			tb.Fatalf("%s: %v", r.File, r.Err)
		}
	}
	return res
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
