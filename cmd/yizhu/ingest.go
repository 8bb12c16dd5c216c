package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag"
)

const ingestUsage = `usage: yizhu ingest DIR|FILE [--collection NAME]

Reads guideline documents into the RAG store: Markdown (with front matter:
title, source, version, effective_date, tags), plain text, HTML, and PDF
through pdftotext (Debian package poppler-utils). A directory is searched
for .md .markdown .txt .text .html .htm .pdf files; document IDs are their
paths without extension. UTF-8, UTF-16 with a BOM and GBK/GB18030 are read;
unchanged documents are skipped, changed ones replaced.

Prints one line per file: added, replaced, skipped or error. The exit
status is non-zero when any file failed.
`

// runIngest opens the configured store and embedder (YIZHU_* variables,
// as for serve) and runs `yizhu ingest`.
func runIngest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig("ingest", nil, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	emb, err := newEmbedder(cfg, log)
	if err != nil {
		return err
	}
	r, err := rag.New(rag.Config{Store: st, Embedder: emb, Logger: log})
	if err != nil {
		return err
	}
	ing, err := rag.NewIngester(rag.IngesterConfig{Store: st, Embedder: emb, Retriever: r, Logger: log})
	if err != nil {
		return err
	}
	return cmdIngest(ctx, args, stdout, stderr, ing)
}

// cmdIngest runs `yizhu ingest`.
func cmdIngest(ctx context.Context, args []string, stdout, stderr io.Writer, ing *rag.Ingester) error {
	fset := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, ingestUsage); fset.PrintDefaults() }
	collection := fset.String("collection", rag.DefaultCollection, "collection to ingest into")
	// Accept the path before or after the flags.
	var paths []string
	rest := args
	for {
		if err := fset.Parse(rest); err != nil {
			return err
		}
		rest = fset.Args()
		if len(rest) == 0 {
			break
		}
		paths = append(paths, rest[0])
		rest = rest[1:]
	}
	if len(paths) != 1 {
		fmt.Fprint(stderr, ingestUsage)
		return errors.New("ingest: give exactly one DIR or FILE")
	}
	if ing == nil {
		return errors.New("ingest: no ingester configured")
	}
	results, err := ing.IngestPath(ctx, paths[0], *collection)
	if err != nil {
		en, zh := clinic.ErrorMessages(err)
		return fmt.Errorf("ingest %s: %s (%s): %w", paths[0], en, zh, err)
	}
	counts := map[rag.Status]int{}
	chunks := 0
	for _, r := range results {
		counts[r.Status]++
		name := r.File
		if name == "" {
			name = r.DocumentID
		}
		if r.Err != nil {
			en, zh := clinic.ErrorMessages(r.Err)
			fmt.Fprintf(stdout, "%-8s %s: %s / %s\n", r.Status, name, en, zh)
			continue
		}
		chunks += r.Chunks
		fmt.Fprintf(stdout, "%-8s %s → %s/%s (%d chunks)\n", r.Status, name, r.Collection, r.DocumentID, r.Chunks)
	}
	fmt.Fprintf(stdout, "%d files: %d added, %d replaced, %d skipped, %d errors; %d chunks in %q\n",
		len(results), counts[rag.StatusAdded], counts[rag.StatusReplaced], counts[rag.StatusSkipped],
		counts[rag.StatusError], chunks, *collection)
	if counts[rag.StatusError] > 0 {
		return fmt.Errorf("ingest: %d of %d files failed", counts[rag.StatusError], len(results))
	}
	if len(results) == 0 {
		return fmt.Errorf("ingest: no supported files under %s", paths[0])
	}
	return nil
}
