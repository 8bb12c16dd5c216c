package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// maxHNSWDim is the largest dimension pgvector's HNSW index takes for the
// vector type (pgvector README, "Indexing"); larger collections are
// searched exactly.
const maxHNSWDim = 2000

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// quoteLiteral returns s as an SQL string literal, correct whatever
// standard_conforming_strings is (the rule of PostgreSQL's quote_literal).
func quoteLiteral(s string) string {
	if strings.ContainsRune(s, '\\') {
		return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `''`) + "'"
	}
	return "'" + strings.ReplaceAll(s, `'`, `''`) + "'"
}

// ReplaceDocument atomically replaces the document's chunks unless a
// document with the same (Collection, ID) and a non-empty equal Hash is
// stored. Writers of one collection are serialised by an advisory lock, as
// the dimension rule spans the collection's documents.
func (s *session) ReplaceDocument(ctx context.Context, doc store.Document, chunks []store.Chunk) (bool, error) {
	chunks, dim, err := store.PrepareReplace(&doc, chunks, s.db.now)
	if err != nil {
		return false, s.db.fail("ReplaceDocument", err)
	}
	replaced := false
	err = s.write(ctx, "ReplaceDocument", func(t *session) error {
		q := t.tx.tx
		if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("yizhu.collection", s.db.cfg.Schema, doc.Collection)); err != nil {
			return err
		}
		var hash string
		err := q.QueryRow(ctx, `SELECT hash FROM documents WHERE collection = $1 AND id = $2`, doc.Collection, doc.ID).Scan(&hash)
		exists := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if store.DocumentUnchanged(&doc, exists, hash) {
			return nil
		}
		if len(chunks) > 0 {
			var other int
			err := q.QueryRow(ctx, `SELECT dim FROM chunks WHERE collection = $1 AND document_id <> $2 LIMIT 1`,
				doc.Collection, doc.ID).Scan(&other)
			if err == nil && other != dim {
				return store.DimensionError(other, dim)
			}
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if exists {
			if _, err := q.Exec(ctx, `DELETE FROM chunks WHERE collection = $1 AND document_id = $2`, doc.Collection, doc.ID); err != nil {
				return err
			}
		}
		if _, err := q.Exec(ctx, `INSERT INTO documents
			(collection, id, title, source, version, effective_date, hash, tags, chunks, ingested_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (collection, id) DO UPDATE SET title = excluded.title, source = excluded.source,
			version = excluded.version, effective_date = excluded.effective_date, hash = excluded.hash,
			tags = excluded.tags, chunks = excluded.chunks, ingested_at = excluded.ingested_at`,
			doc.Collection, doc.ID, doc.Title, doc.Source, doc.Version, doc.EffectiveDate, doc.Hash,
			orEmpty(doc.Tags), doc.Chunks, doc.IngestedAt); err != nil {
			return err
		}
		if len(chunks) > 0 {
			rows := make([][]any, len(chunks))
			for i, c := range chunks {
				rows[i] = []any{c.ID, c.Collection, c.DocumentID, c.Ordinal, store.JSONColumn(c.HeadingPath), c.Text,
					orEmpty(c.Tags), store.JSONColumn(c.Metadata), dim, pgvector.NewVector(c.Embedding)}
			}
			if _, err := q.CopyFrom(ctx, pgx.Identifier{"chunks"}, []string{"id", "collection", "document_id", "ordinal",
				"heading_path", "text", "tags", "metadata", "dim", "embedding"}, pgx.CopyFromRows(rows)); err != nil {
				if clinic.ErrorCode(s.db.fail("", err)) == clinic.CodeConflict {
					return clinic.NewError(clinic.CodeConflict, "chunks.id", "a chunk ID of this document belongs to another document",
						"分块编号已被其他文档使用")
				}
				return err
			}
			if err := s.db.ensureIndex(ctx, t, doc.Collection, dim); err != nil {
				return err
			}
		}
		replaced = true
		return nil
	})
	return replaced, err
}

// ensureIndex makes sure the (collection, dim) pair is listed in
// vector_indexes and, for dim ≤ 2000, has its HNSW index: an expression
// index on embedding::vector(dim) with the predicate collection = '…' AND
// dim = dim. The caller holds the collection's advisory lock.
func (db *DB) ensureIndex(ctx context.Context, t *session, collection string, dim int) error {
	key := fmt.Sprintf("%s\x00%d", collection, dim)
	db.mu.Lock()
	known := db.vidx[key]
	db.mu.Unlock()
	if known {
		return nil
	}
	q := t.tx.tx
	var listed bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM vector_indexes WHERE collection = $1 AND dim = $2)`,
		collection, dim).Scan(&listed); err != nil {
		return err
	}
	if !listed {
		name := fmt.Sprintf("chunks_hnsw_%016x_%d", uint64(lockKey(collection)), dim)
		if dim <= maxHNSWDim {
			if _, err := q.Exec(ctx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON chunks
				USING hnsw ((embedding::vector(%d)) vector_cosine_ops) WITH (m = %d, ef_construction = %d)
				WHERE collection = %s AND dim = %d`, name, dim, db.cfg.HNSWM, db.cfg.HNSWEfConstruction,
				quoteLiteral(collection), dim)); err != nil {
				return err
			}
			db.log.Info("created vector index", "collection", collection, "dim", dim, "index", name)
		}
		if _, err := q.Exec(ctx, `INSERT INTO vector_indexes (collection, dim, name) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, collection, dim, name); err != nil {
			return err
		}
	}
	t.tx.after = append(t.tx.after, func() {
		db.mu.Lock()
		db.vidx[key] = true
		db.mu.Unlock()
	})
	return nil
}

// DeleteDocument removes a document and its chunks; a missing one is not an
// error.
func (s *session) DeleteDocument(ctx context.Context, collection, id string) error {
	return s.write(ctx, "DeleteDocument", func(t *session) error {
		if _, err := t.tx.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("yizhu.collection", s.db.cfg.Schema, collection)); err != nil {
			return err
		}
		if _, err := t.tx.tx.Exec(ctx, `DELETE FROM chunks WHERE collection = $1 AND document_id = $2`, collection, id); err != nil {
			return err
		}
		_, err := t.tx.tx.Exec(ctx, `DELETE FROM documents WHERE collection = $1 AND id = $2`, collection, id)
		return err
	})
}

// Documents lists the documents of a collection ("" = all), ordered by
// collection and ID.
func (s *session) Documents(ctx context.Context, collection string) ([]store.Document, error) {
	out := []store.Document{}
	err := s.read(ctx, "Documents", func(q querier) error {
		rows, err := q.Query(ctx, `SELECT collection, id, title, source, version, effective_date, hash, tags, chunks,
			ingested_at FROM documents WHERE ($1 = '' OR collection = $1) ORDER BY collection, id`, collection)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				d  store.Document
				at time.Time
			)
			if err := rows.Scan(&d.Collection, &d.ID, &d.Title, &d.Source, &d.Version, &d.EffectiveDate,
				&d.Hash, &d.Tags, &d.Chunks, &at); err != nil {
				return err
			}
			d.Tags = orNil(d.Tags)
			d.IngestedAt = at.UTC()
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const scanPage = 256

// ScanChunks calls fn for every chunk of a collection ("" = all) in
// (DocumentID, Ordinal, ID) order. It reads a page at a time and calls fn
// between pages, so fn may use the store.
func (s *session) ScanChunks(ctx context.Context, collection string, fn func(store.Chunk) error) error {
	var (
		lastDoc = ""
		lastOrd = math.MinInt32
		lastID  = ""
	)
	for {
		page, err := s.chunkPage(ctx, collection, lastDoc, lastOrd, lastID)
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		last := page[len(page)-1]
		lastDoc, lastOrd, lastID = last.DocumentID, last.Ordinal, last.ID
	}
}

func (s *session) chunkPage(ctx context.Context, collection, doc string, ord int, id string) ([]store.Chunk, error) {
	out := make([]store.Chunk, 0, scanPage)
	err := s.read(ctx, "ScanChunks", func(q querier) error {
		rows, err := q.Query(ctx, `SELECT id, collection, document_id, ordinal, heading_path::text, text, tags,
			metadata::text, embedding FROM chunks
			WHERE ($1 = '' OR collection = $1) AND (document_id, ordinal, id) > ($2, $3, $4)
			ORDER BY document_id, ordinal, id LIMIT $5`, collection, doc, ord, id, scanPage)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				c             store.Chunk
				heading, meta string
				emb           pgvector.Vector
			)
			if err := rows.Scan(&c.ID, &c.Collection, &c.DocumentID, &c.Ordinal, &heading, &c.Text, &c.Tags, &meta, &emb); err != nil {
				return err
			}
			if err := store.DecodeChunkJSON(&c, heading, nil, meta); err != nil {
				return err
			}
			c.Embedding = emb.Slice()
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// SearchVectors returns up to K chunks nearest to q.Vector by cosine
// similarity, best first. Without Exact it walks each collection's HNSW
// index (hnsw.ef_search = max(EfSearch, 4·K), see efSearch; with tags, an iterative scan in
// strict order so filtered queries still fill K); with Exact it orders by
// the distance on the untyped column, which no index serves, so every row
// is scanned. Collection "" searches every collection of the query's
// dimension, one index per collection, merged. Hits carry no embedding.
func (s *session) SearchVectors(ctx context.Context, q store.VectorQuery) ([]store.ChunkHit, error) {
	if err := store.PrepareQuery(&q); err != nil {
		return nil, s.db.fail("SearchVectors", err)
	}
	dim := len(q.Vector)
	out := []store.ChunkHit{}
	err := s.read(ctx, "SearchVectors", func(qr querier) error {
		var cols []string
		if q.Collection != "" {
			var d int
			err := qr.QueryRow(ctx, `SELECT dim FROM chunks WHERE collection = $1 LIMIT 1`, q.Collection).Scan(&d)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			if d != dim {
				return store.DimensionError(d, dim)
			}
			cols = []string{q.Collection}
		} else {
			rows, err := qr.Query(ctx, `SELECT collection FROM vector_indexes WHERE dim = $1 ORDER BY collection`, dim)
			if err != nil {
				return err
			}
			cols, err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
		}
		if len(cols) == 0 {
			return nil
		}
		query, args := searchSQL(cols, dim, q)
		run := func(qq querier) error {
			rows, err := qq.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					h             store.ChunkHit
					heading, meta string
					dist          float64
				)
				if err := rows.Scan(&h.ID, &h.Collection, &h.DocumentID, &h.Ordinal, &heading, &h.Text, &h.Tags, &meta, &dist); err != nil {
					return err
				}
				if err := store.DecodeChunkJSON(&h.Chunk, heading, nil, meta); err != nil {
					return err
				}
				h.Score = 1 - dist
				out = append(out, h)
			}
			return rows.Err()
		}
		if q.Exact {
			return run(qr)
		}
		// hnsw.* settings are set for this transaction only. Sequential
		// scans are turned off too: pgvector's cost estimate grows with
		// ef_search, and on collections of a few ten thousand chunks the
		// planner then prefers scanning and sorting every row — exact, but
		// ten times slower than the index (BenchmarkStores in rag).
		set := func(qq querier) error {
			iter := "off"
			if len(q.Tags) > 0 {
				iter = "strict_order"
			}
			_, err := qq.Exec(ctx, `SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', $2, true),
				set_config('enable_seqscan', 'off', true)`,
				fmt.Sprint(efSearch(s.db.cfg.EfSearch, q.K)), iter)
			return err
		}
		if c, ok := qr.(*pgxpool.Conn); ok {
			return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
				if err := set(tx); err != nil {
					return err
				}
				return run(tx)
			})
		}
		// Inside the caller's transaction: give enable_seqscan back
		// afterwards, so the caller's own queries are planned as before.
		var seq string
		if err := qr.QueryRow(ctx, `SELECT current_setting('enable_seqscan')`).Scan(&seq); err != nil {
			return err
		}
		if err := set(qr); err != nil {
			return err
		}
		if err := run(qr); err != nil {
			return err
		}
		_, err := qr.Exec(ctx, `SELECT set_config('enable_seqscan', $1, true)`, seq)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maxEfSearch is the largest hnsw.ef_search pgvector accepts.
const maxEfSearch = 1000

// efSearch is the hnsw.ef_search of an approximate search for k hits:
// max(configured, 4·k), at most 1,000. A candidate list only k long
// misses many true neighbours on text embeddings (the built-in
// embedder's hashed n-grams put many chunks at nearly the same distance);
// four times k keeps recall@k ≥ 0.95 in TestHNSWRecallText.
func efSearch(configured, k int) int {
	return min(max(configured, 4*k), maxEfSearch)
}

// searchSQL builds the search: one subquery per collection, each ordered by
// the distance expression its HNSW index serves (or, for Exact, by the
// untyped distance no index serves), merged and cut to K. Collection names
// are literals so each subquery's predicate matches its partial index.
func searchSQL(cols []string, dim int, q store.VectorQuery) (string, []any) {
	dist := fmt.Sprintf("(embedding::vector(%d)) <=> $1::vector(%d)", dim, dim)
	if q.Exact {
		dist = "embedding <=> $1::vector"
	}
	args := []any{pgvector.NewVector(q.Vector), q.K}
	tagCond := ""
	if len(q.Tags) > 0 {
		tagCond = " AND tags @> $3::text[]"
		args = append(args, q.Tags)
	}
	var b strings.Builder
	b.WriteString("SELECT * FROM (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, `(SELECT id, collection, document_id, ordinal, heading_path::text, text, tags, metadata::text,
			%s AS dist FROM chunks WHERE collection = %s AND dim = %d%s ORDER BY dist LIMIT $2)`,
			dist, quoteLiteral(c), dim, tagCond)
	}
	b.WriteString(") hits ORDER BY dist, id LIMIT $2")
	return b.String(), args
}
