package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

func encodeVec(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func decodeVec(b []byte, dim int) ([]float32, error) {
	if len(b) != 4*dim {
		return nil, fmt.Errorf("embedding holds %d bytes, want %d", len(b), 4*dim)
	}
	v := make([]float32, dim)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// ReplaceDocument atomically replaces the document's chunks unless a
// document with the same (Collection, ID) and a non-empty equal Hash is
// stored.
func (s *session) ReplaceDocument(ctx context.Context, doc store.Document, chunks []store.Chunk) (bool, error) {
	chunks, dim, err := store.PrepareReplace(&doc, chunks, s.db.now)
	if err != nil {
		return false, s.db.fail("ReplaceDocument", err)
	}
	replaced := false
	err = s.write(ctx, "ReplaceDocument", func(t *session) error {
		tx := t.tx.tx
		var hash string
		err := tx.QueryRowContext(ctx, `SELECT hash FROM documents WHERE collection = ? AND id = ?`, doc.Collection, doc.ID).Scan(&hash)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if store.DocumentUnchanged(&doc, exists, hash) {
			return nil
		}
		if len(chunks) > 0 {
			var other int
			err := tx.QueryRowContext(ctx, `SELECT dim FROM chunks WHERE collection = ? AND document_id <> ? LIMIT 1`,
				doc.Collection, doc.ID).Scan(&other)
			if err == nil && other != dim {
				return store.DimensionError(other, dim)
			}
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if exists {
			if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE collection = ? AND document_id = ?`, doc.Collection, doc.ID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO documents
			(collection, id, title, source, version, effective_date, hash, tags, chunks, ingested_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (collection, id) DO UPDATE SET title = excluded.title, source = excluded.source,
			version = excluded.version, effective_date = excluded.effective_date, hash = excluded.hash,
			tags = excluded.tags, chunks = excluded.chunks, ingested_at = excluded.ingested_at`,
			doc.Collection, doc.ID, doc.Title, doc.Source, doc.Version, doc.EffectiveDate, doc.Hash,
			store.JSONColumn(doc.Tags), doc.Chunks, micros(doc.IngestedAt)); err != nil {
			return err
		}
		es, err := insertChunks(ctx, tx, chunks, dim)
		if err != nil {
			return err
		}
		idx, collection, id := s.db.idx, doc.Collection, doc.ID
		t.tx.addAfter(func() { idx.replaceDoc(collection, id, dim, es) })
		replaced = true
		return nil
	})
	return replaced, err
}

// insertChunk is prepared once by the writer's statement cache.
const insertChunk = `INSERT INTO chunks
	(id, collection, document_id, ordinal, heading_path, text, tags, metadata, dim, embedding)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING rid`

func insertChunks(ctx context.Context, tx *wtx, chunks []store.Chunk, dim int) ([]ventry, error) {
	if len(chunks) == 0 {
		return nil, nil
	}
	es := make([]ventry, len(chunks))
	for i, c := range chunks {
		var rid int64
		err := tx.QueryRowContext(ctx, insertChunk, c.ID, c.Collection, c.DocumentID, c.Ordinal, store.JSONColumn(c.HeadingPath), c.Text,
			store.JSONColumn(c.Tags), store.JSONColumn(c.Metadata), dim, encodeVec(c.Embedding)).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, clinic.NewError(clinic.CodeConflict, "chunks.id",
				"chunk "+c.ID+" belongs to another document", "分块编号已被其他文档使用："+c.ID)
		}
		if err != nil {
			return nil, err
		}
		es[i] = ventry{rid: rid, tags: c.Tags, vec: normalize(c.Embedding)}
	}
	return es, nil
}

// DeleteDocument removes a document and its chunks; a missing one is not an
// error.
func (s *session) DeleteDocument(ctx context.Context, collection, id string) error {
	return s.write(ctx, "DeleteDocument", func(t *session) error {
		tx := t.tx.tx
		if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE collection = ? AND document_id = ?`, collection, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE collection = ? AND id = ?`, collection, id); err != nil {
			return err
		}
		idx := s.db.idx
		t.tx.addAfter(func() { idx.replaceDoc(collection, id, 0, nil) })
		return nil
	})
}

// Documents lists the documents of a collection ("" = all), ordered by
// collection and ID.
func (s *session) Documents(ctx context.Context, collection string) ([]store.Document, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT collection, id, title, source, version, effective_date,
		hash, tags, chunks, ingested_at FROM documents WHERE (?1 = '' OR collection = ?1) ORDER BY collection, id`, collection)
	if err != nil {
		return nil, s.db.fail("Documents", err)
	}
	defer rows.Close()
	out := []store.Document{}
	for rows.Next() {
		var (
			d    store.Document
			tags string
			at   int64
		)
		if err := rows.Scan(&d.Collection, &d.ID, &d.Title, &d.Source, &d.Version, &d.EffectiveDate,
			&d.Hash, &tags, &d.Chunks, &at); err != nil {
			return nil, s.db.fail("Documents", err)
		}
		if err := json.Unmarshal([]byte(tags), &d.Tags); err != nil {
			return nil, s.db.fail("Documents", err)
		}
		d.IngestedAt = fromMicros(at)
		out = append(out, d)
	}
	return out, s.db.fail("Documents", rows.Err())
}

const scanPage = 256

// ScanChunks calls fn for every chunk of a collection ("" = all) in
// (DocumentID, Ordinal, ID) order. It reads a page at a time and calls fn
// between pages, so fn may use the store.
func (s *session) ScanChunks(ctx context.Context, collection string, fn func(store.Chunk) error) error {
	var (
		lastDoc       = ""
		lastOrd int64 = math.MinInt64
		lastID        = ""
	)
	for {
		page, err := s.chunkPage(ctx, collection, lastDoc, lastOrd, lastID)
		if err != nil {
			return s.db.fail("ScanChunks", err)
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
		lastDoc, lastOrd, lastID = last.DocumentID, int64(last.Ordinal), last.ID
	}
}

func (s *session) chunkPage(ctx context.Context, collection, doc string, ord int64, id string) ([]store.Chunk, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT id, collection, document_id, ordinal, heading_path, text,
		tags, metadata, dim, embedding FROM chunks
		WHERE (?1 = '' OR collection = ?1) AND (document_id, ordinal, id) > (?2, ?3, ?4)
		ORDER BY document_id, ordinal, id LIMIT ?5`, collection, doc, ord, id, scanPage)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]store.Chunk, 0, scanPage)
	for rows.Next() {
		var (
			c                   store.Chunk
			heading, tags, meta string
			dim                 int
			emb                 []byte
		)
		if err := rows.Scan(&c.ID, &c.Collection, &c.DocumentID, &c.Ordinal, &heading, &c.Text, &tags, &meta, &dim, &emb); err != nil {
			return nil, err
		}
		if err := store.DecodeChunkJSON(&c, heading, &tags, meta); err != nil {
			return nil, err
		}
		if c.Embedding, err = decodeVec(emb, dim); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SearchVectors returns up to K chunks nearest to q.Vector by cosine
// similarity, best first, from an exact scan of the in-memory index (so
// q.Exact changes nothing). Hits carry no embedding. A vector whose
// dimension differs from the named collection's is invalid.
func (s *session) SearchVectors(ctx context.Context, q store.VectorQuery) ([]store.ChunkHit, error) {
	if err := store.PrepareQuery(&q); err != nil {
		return nil, s.db.fail("SearchVectors", err)
	}
	if q.Collection != "" {
		if d := s.db.idx.dim(q.Collection); d != 0 && d != len(q.Vector) {
			return nil, s.db.fail("SearchVectors", store.DimensionError(d, len(q.Vector)))
		}
	}
	hits := s.db.idx.search(normalize(q.Vector), q.Collection, q.Tags, q.K)
	if len(hits) == 0 {
		return []store.ChunkHit{}, nil
	}
	args := make([]any, len(hits))
	for i, h := range hits {
		args[i] = h.rid
	}
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT rid, id, collection, document_id, ordinal, heading_path, text,
		tags, metadata FROM chunks WHERE rid IN (?`+strings.Repeat(",?", len(hits)-1)+`)`, args...)
	if err != nil {
		return nil, s.db.fail("SearchVectors", err)
	}
	defer rows.Close()
	byRid := make(map[int64]store.Chunk, len(hits))
	for rows.Next() {
		var (
			rid                 int64
			c                   store.Chunk
			heading, tags, meta string
		)
		if err := rows.Scan(&rid, &c.ID, &c.Collection, &c.DocumentID, &c.Ordinal, &heading, &c.Text, &tags, &meta); err != nil {
			return nil, s.db.fail("SearchVectors", err)
		}
		if err := store.DecodeChunkJSON(&c, heading, &tags, meta); err != nil {
			return nil, s.db.fail("SearchVectors", err)
		}
		byRid[rid] = c
	}
	if err := rows.Err(); err != nil {
		return nil, s.db.fail("SearchVectors", err)
	}
	out := make([]store.ChunkHit, 0, len(hits))
	for _, h := range hits {
		// A chunk deleted between the scan and the read is left out.
		if c, ok := byRid[h.rid]; ok {
			out = append(out, store.ChunkHit{Chunk: c, Score: float64(h.score)})
		}
	}
	return out, nil
}

// loadIndex reads every stored embedding into the in-memory index.
func (db *DB) loadIndex(ctx context.Context) error {
	rows, err := db.r.QueryContext(ctx, `SELECT rid, collection, document_id, tags, dim, embedding FROM chunks
		ORDER BY collection, document_id, rid`)
	if err != nil {
		return db.fail("loadIndex", err)
	}
	defer rows.Close()
	var (
		curCol, curDoc string
		curDim         int
		batch          []ventry
	)
	flush := func() {
		if len(batch) > 0 {
			db.idx.replaceDoc(curCol, curDoc, curDim, batch)
		}
		batch = nil
	}
	for rows.Next() {
		var (
			e        ventry
			col, doc string
			tags     string
			dim      int
			emb      []byte
		)
		if err := rows.Scan(&e.rid, &col, &doc, &tags, &dim, &emb); err != nil {
			return db.fail("loadIndex", err)
		}
		if col != curCol || doc != curDoc {
			flush()
			curCol, curDoc, curDim = col, doc, dim
		}
		if err := json.Unmarshal([]byte(tags), &e.tags); err != nil {
			return db.fail("loadIndex", err)
		}
		v, err := decodeVec(emb, dim)
		if err != nil {
			return db.fail("loadIndex", clinic.Wrap(err, clinic.CodeInternal, "a stored embedding is corrupt", "向量数据损坏"))
		}
		e.vec = normalize(v)
		batch = append(batch, e)
	}
	if err := rows.Err(); err != nil {
		return db.fail("loadIndex", err)
	}
	flush()
	return nil
}
