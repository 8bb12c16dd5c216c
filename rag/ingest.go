package rag

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag/chunk"
	"github.com/yizhu-health/yizhu/store"
)

// Chunk metadata keys written by the ingester.
const (
	MetaTitle         = "title"
	MetaSource        = "source" // the guideline or standard (front matter "source")
	MetaFile          = "file"   // the file or name it was ingested from
	MetaVersion       = "version"
	MetaEffectiveDate = "effective_date"
	MetaEmbedder      = "embedder"
	MetaEncoding      = "encoding" // the encoding the file was in
)

// Ingest bounds and defaults.
const (
	DefaultMaxBytes   = 2 << 20
	DefaultMaxChunks  = 10000
	DefaultBatchSize  = 64
	DefaultPDFTimeout = 30 * time.Second
	// MaxFiles bounds one directory or fs.FS walk.
	MaxFiles   = 10000
	maxIDBytes = 200
)

// Status is the outcome of ingesting one document.
type Status string

// Statuses.
const (
	StatusAdded    Status = "added"
	StatusReplaced Status = "replaced"
	StatusSkipped  Status = "skipped" // unchanged content hash
	StatusError    Status = "error"
)

// Input is one document to ingest.
type Input struct {
	// Collection defaults to DefaultCollection.
	Collection string
	// ID is the document ID; when empty the front matter's id, else Name
	// without its extension.
	ID string
	// Name is the file name or path it came from; its extension picks the
	// format when Format is empty.
	Name   string
	Format Format
	Data   []byte
	// Tags are added to the front matter's tags.
	Tags []string
	// Title, Source (the guideline or standard), Version and EffectiveDate
	// (YYYY-MM-DD), when set, override the front matter's.
	Title, Source, Version, EffectiveDate string
}

// Result reports what happened to one document.
type Result struct {
	Collection string `json:"collection"`
	DocumentID string `json:"document_id,omitempty"`
	File       string `json:"file,omitempty"`
	Title      string `json:"title,omitempty"`
	Status     Status `json:"status"`
	Chunks     int    `json:"chunks"`
	// Err is the error of a StatusError result.
	Err error `json:"-"`
}

// IngesterConfig configures an Ingester.
type IngesterConfig struct {
	Store    store.Chunks // required
	Embedder Embedder     // required
	// Retriever, when set, has its lexical index updated after each write
	// (give the ingester the retriever that serves searches).
	Retriever *Retriever
	// Chunking defaults to chunk.Defaults().
	Chunking chunk.Options
	// MaxBytes bounds one input document (default 2 MiB).
	MaxBytes int64
	// MaxChunks bounds the chunks of one document (default 10000).
	MaxChunks int
	// BatchSize is how many chunks go to the embedder at once (default 64).
	BatchSize int
	// PDFToText is the pdftotext command (default "pdftotext" on PATH);
	// PDFTimeout bounds one run (default 30 s); TempDir holds the PDF while
	// it runs (default os.TempDir()).
	PDFToText  string
	PDFTimeout time.Duration
	TempDir    string
	Logger     *slog.Logger     // nil = discard
	Clock      func() time.Time // nil = time.Now
}

// Ingester reads documents into the guideline store. All methods are
// goroutine-safe.
type Ingester struct {
	store      store.Chunks
	embedder   Embedder
	retriever  *Retriever
	opts       chunk.Options
	maxBytes   int64
	maxChunks  int
	batch      int
	pdftotext  string
	pdfTimeout time.Duration
	tempDir    string
	log        *slog.Logger
	now        func() time.Time

	writeMu sync.Mutex // orders store writes with index updates
}

// NewIngester returns an Ingester, or invalid for a bad configuration.
func NewIngester(cfg IngesterConfig) (*Ingester, error) {
	if cfg.Store == nil || cfg.Embedder == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "rag.NewIngester: store and embedder are required")
	}
	if cfg.Embedder.Dim() <= 0 {
		return nil, clinic.Errorf(clinic.CodeInvalid, "rag.NewIngester: embedder %q has dimension %d", cfg.Embedder.Name(), cfg.Embedder.Dim())
	}
	if cfg.Retriever != nil && cfg.Retriever.embedder.Name() != cfg.Embedder.Name() {
		return nil, clinic.Errorf(clinic.CodeInvalid, "rag.NewIngester: the retriever uses embedder %q, the ingester %q",
			cfg.Retriever.embedder.Name(), cfg.Embedder.Name())
	}
	if cfg.Chunking == (chunk.Options{}) {
		cfg.Chunking = chunk.Defaults()
	}
	if err := cfg.Chunking.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxChunks <= 0 {
		cfg.MaxChunks = DefaultMaxChunks
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.PDFToText == "" {
		cfg.PDFToText = "pdftotext"
	}
	if cfg.PDFTimeout <= 0 {
		cfg.PDFTimeout = DefaultPDFTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Ingester{
		store: cfg.Store, embedder: cfg.Embedder, retriever: cfg.Retriever,
		opts: cfg.Chunking, maxBytes: cfg.MaxBytes, maxChunks: cfg.MaxChunks, batch: cfg.BatchSize,
		pdftotext: cfg.PDFToText, pdfTimeout: cfg.PDFTimeout, tempDir: cfg.TempDir,
		log: cfg.Logger, now: cfg.Clock,
	}, nil
}

// Ingest reads one document. On failure the Result has StatusError and
// the same error is returned; nothing is written.
func (ing *Ingester) Ingest(ctx context.Context, in Input) (Result, error) {
	res, err := ing.ingest(ctx, in, nil)
	ing.logResult(res)
	return res, err
}

// IngestFile reads one file; its document ID is the file name without its
// extension unless the front matter gives one.
func (ing *Ingester) IngestFile(ctx context.Context, file, collection string) (Result, error) {
	data, err := ing.readFile(file)
	if err != nil {
		res := Result{Collection: collection, File: file, Status: StatusError, Err: err}
		ing.logResult(res)
		return res, err
	}
	return ing.Ingest(ctx, Input{Collection: collection, Name: file, Data: data})
}

func (ing *Ingester) readFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeNotFound, "cannot open "+file, "无法打开文件 "+file)
	}
	defer f.Close()
	return ing.readBounded(f, file)
}

func (ing *Ingester) readBounded(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, ing.maxBytes+1))
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot read "+name, "无法读取文件 "+name)
	}
	if int64(len(data)) > ing.maxBytes {
		return nil, ing.tooLarge()
	}
	return data, nil
}

func (ing *Ingester) tooLarge() error {
	return clinic.NewError(clinic.CodeTooLarge, "file",
		fmt.Sprintf("the document exceeds %d bytes", ing.maxBytes),
		fmt.Sprintf("文档超过 %d 字节上限", ing.maxBytes))
}

// IngestPath ingests a file, or every supported file (.md, .markdown,
// .txt, .text, .html, .htm, .pdf; hidden files skipped) under a directory,
// whose document IDs are their paths relative to it without extension.
// Per-file failures are reported in the results; the error is for a path
// that cannot be walked or a cancelled context.
func (ing *Ingester) IngestPath(ctx context.Context, root, collection string) ([]Result, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeNotFound, "cannot open "+root, "无法打开路径 "+root)
	}
	if !st.IsDir() {
		res, _ := ing.IngestFile(ctx, root, collection)
		return []Result{res}, nil
	}
	return ing.IngestFS(ctx, os.DirFS(root), collection)
}

// IngestFS ingests every supported file of fsys (see IngestPath), in
// lexical path order. The starter corpus is ingested with
//
//	ing.IngestFS(ctx, corpus.FS(), rag.DefaultCollection)
//
// which on later starts only hashes the files and skips them.
func (ing *Ingester) IngestFS(ctx context.Context, fsys fs.FS, collection string) ([]Result, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(p)
		if p != "." && strings.HasPrefix(base, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if _, ok := formatOf(base, nil); !ok || base == "" {
			return nil
		}
		if len(files) >= MaxFiles {
			return clinic.NewError(clinic.CodeTooLarge, "path",
				fmt.Sprintf("more than %d files", MaxFiles), fmt.Sprintf("文件数超过 %d 个", MaxFiles))
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rag.IngestFS: %w", err)
	}
	if collection == "" {
		collection = DefaultCollection
	}
	stored, err := ing.storedDocs(ctx, collection)
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(files))
	for _, p := range files {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("rag.IngestFS: %w", err)
		}
		id := strings.TrimSuffix(p, path.Ext(p))
		var res Result
		f, err := fsys.Open(p)
		if err == nil {
			var data []byte
			data, err = ing.readBounded(f, p)
			f.Close()
			if err == nil {
				res, _ = ing.ingest(ctx, Input{Collection: collection, ID: id, Name: p, Data: data}, stored)
			}
		}
		if err != nil {
			res = Result{Collection: collection, File: p, Status: StatusError, Err: err}
		}
		if res.Err != nil && res.DocumentID == "" {
			res.DocumentID = id
		}
		ing.logResult(res)
		results = append(results, res)
	}
	return results, nil
}

func (ing *Ingester) logResult(res Result) {
	if res.Err != nil {
		ing.log.Warn("ingest failed", "collection", res.Collection, "document_id", res.DocumentID, "file", res.File, "error", res.Err)
		return
	}
	level := slog.LevelInfo
	if res.Status == StatusSkipped {
		level = slog.LevelDebug
	}
	ing.log.Log(context.Background(), level, "ingested", "collection", res.Collection, "document_id", res.DocumentID, "status", string(res.Status), "chunks", res.Chunks)
}

// storedDocs maps the collection's document IDs to their documents.
func (ing *Ingester) storedDocs(ctx context.Context, collection string) (map[string]store.Document, error) {
	docs, err := ing.store.Documents(ctx, collection)
	if err != nil {
		return nil, fmt.Errorf("rag: list documents: %w", err)
	}
	m := make(map[string]store.Document, len(docs))
	for _, d := range docs {
		m[d.ID] = d
	}
	return m, nil
}

// prepared is a decoded, split document ready to embed.
type prepared struct {
	doc    store.Document
	chunks []chunk.Chunk
	enc    string
	source string // the guideline named in the front matter
}

// ingest does the work of Ingest; stored, when not nil, holds the
// collection's current documents (it is updated).
func (ing *Ingester) ingest(ctx context.Context, in Input, stored map[string]store.Document) (res Result, err error) {
	if in.Collection == "" {
		in.Collection = DefaultCollection
	}
	res = Result{Collection: in.Collection, File: in.Name, DocumentID: in.ID}
	defer func() {
		if err != nil {
			res.Status, res.Err = StatusError, err
		}
	}()
	if err := validateName("collection", in.Collection); err != nil {
		return res, err
	}
	p, err := ing.prepare(ctx, in)
	if err != nil {
		return res, err
	}
	res.DocumentID, res.Title = p.doc.ID, p.doc.Title
	if stored == nil {
		if stored, err = ing.storedDocs(ctx, in.Collection); err != nil {
			return res, err
		}
	}
	return ing.write(ctx, p, res, stored)
}

// write embeds and stores a prepared document unless stored holds it with
// the same hash; stored is updated.
func (ing *Ingester) write(ctx context.Context, p prepared, res Result, stored map[string]store.Document) (Result, error) {
	old, existed := stored[p.doc.ID]
	if existed && old.Hash == p.doc.Hash {
		res.Status, res.Chunks = StatusSkipped, old.Chunks
		return res, nil
	}
	chunks, err := ing.embed(ctx, p)
	if err != nil {
		return res, err
	}
	ing.writeMu.Lock()
	replaced, err := ing.store.ReplaceDocument(ctx, p.doc, chunks)
	if err == nil && replaced && ing.retriever != nil {
		ing.retriever.indexDocument(p.doc.Collection, p.doc.ID, chunks)
	}
	ing.writeMu.Unlock()
	if err != nil {
		return res, fmt.Errorf("rag: store %s/%s: %w", p.doc.Collection, p.doc.ID, err)
	}
	stored[p.doc.ID] = p.doc
	res.Chunks = len(chunks)
	switch {
	case !replaced:
		res.Status = StatusSkipped
	case existed:
		res.Status = StatusReplaced
	default:
		res.Status = StatusAdded
	}
	return res, nil
}

// MaxBatch bounds the documents of one IngestAll call.
const MaxBatch = 100

// IngestAll ingests the documents of one request. Every document is
// decoded, checked and split before anything is written: if one is bad
// (empty, binary, undecodable, oversize, a bad ID, or the same collection
// and ID twice) IngestAll writes nothing and returns that error, with
// Field naming the document ("documents[i]") and the results so far.
// Then each document is embedded and written in turn; every write is
// atomic, so an embedder or store failure leaves the documents before it
// written and the rest untouched (their results say which).
func (ing *Ingester) IngestAll(ctx context.Context, ins []Input) ([]Result, error) {
	if len(ins) == 0 {
		return nil, clinic.NewError(clinic.CodeInvalid, "documents", "no documents given", "未提供文档")
	}
	if len(ins) > MaxBatch {
		return nil, clinic.NewError(clinic.CodeTooLarge, "documents",
			fmt.Sprintf("%d documents, more than %d in one request", len(ins), MaxBatch),
			fmt.Sprintf("一次提交 %d 个文档，超过上限 %d", len(ins), MaxBatch))
	}
	results := make([]Result, len(ins))
	ps := make([]prepared, len(ins))
	seen := make(map[docKey]int, len(ins))
	for i, in := range ins {
		if in.Collection == "" {
			in.Collection = DefaultCollection
		}
		results[i] = Result{Collection: in.Collection, File: in.Name, DocumentID: in.ID}
		err := validateName("collection", in.Collection)
		if err == nil {
			ps[i], err = ing.prepare(ctx, in)
		}
		if err == nil {
			k := docKey{in.Collection, ps[i].doc.ID}
			if j, dup := seen[k]; dup {
				err = clinic.NewError(clinic.CodeInvalid, "id",
					fmt.Sprintf("document %s/%s is given twice (documents %d and %d)", k.collection, k.doc, j, i),
					fmt.Sprintf("文档 %s/%s 重复提交（第 %d 和第 %d 个）", k.collection, k.doc, j, i))
			}
			seen[k] = i
		}
		if err != nil {
			results[i].Status, results[i].Err = StatusError, err
			ing.logResult(results[i])
			return results[:i+1], batchError(i, in.Name, err)
		}
		results[i].DocumentID, results[i].Title = ps[i].doc.ID, ps[i].doc.Title
	}
	storedBy := make(map[string]map[string]store.Document)
	for i := range ins {
		col := results[i].Collection
		stored, ok := storedBy[col]
		if !ok {
			var err error
			if stored, err = ing.storedDocs(ctx, col); err != nil {
				return nil, err
			}
			storedBy[col] = stored
		}
	}
	for i := range ins {
		if err := ctx.Err(); err != nil {
			return results[:i], fmt.Errorf("rag.IngestAll: %w", err)
		}
		res, err := ing.write(ctx, ps[i], results[i], storedBy[results[i].Collection])
		if err != nil {
			res.Status, res.Err = StatusError, err
		}
		results[i] = res
		ing.logResult(res)
		if err != nil {
			return results[:i+1], batchError(i, ins[i].Name, err)
		}
	}
	return results, nil
}

// batchError names document i (and its file) in a clinic error's field
// and messages; other errors are wrapped with the same context.
func batchError(i int, name string, err error) error {
	ce, ok := errors.AsType[*clinic.Error](err)
	if !ok {
		return fmt.Errorf("rag.IngestAll: document %d (%s): %w", i, name, err)
	}
	field := fmt.Sprintf("documents[%d]", i)
	if ce.Field != "" {
		field += "." + ce.Field
	}
	label := fmt.Sprintf("document %d", i)
	labelZH := fmt.Sprintf("第 %d 个文档", i)
	if name != "" {
		label += " (" + name + ")"
		labelZH += "（" + name + "）"
	}
	en, zh := clinic.ErrorMessages(ce)
	return &clinic.Error{Code: ce.Code, Field: field, Message: label + ": " + en, MessageZH: labelZH + "：" + zh, Err: err}
}

// prepare decodes, normalises and splits a document and computes its hash.
func (ing *Ingester) prepare(ctx context.Context, in Input) (prepared, error) {
	if len(in.Data) == 0 {
		return prepared{}, clinic.NewError(clinic.CodeInvalid, "file", "the document is empty", "文档为空")
	}
	if int64(len(in.Data)) > ing.maxBytes {
		return prepared{}, ing.tooLarge()
	}
	format := in.Format
	if format == "" {
		f, ok := formatOf(path.Base(filepath.ToSlash(in.Name)), in.Data)
		if !ok {
			return prepared{}, clinic.NewError(clinic.CodeInvalid, "format",
				"unsupported file type "+path.Ext(in.Name)+" (use .md, .txt, .html or .pdf)",
				"不支持的文件类型 "+path.Ext(in.Name)+"（支持 .md、.txt、.html、.pdf）")
		}
		format = f
	}
	var text, enc string
	var err error
	switch format {
	case FormatPDF:
		text, err = ing.pdfText(ctx, in.Data)
		enc = "pdf"
	case FormatMarkdown, FormatText, FormatHTML:
		text, enc, err = decodeText(in.Data)
	default:
		return prepared{}, clinic.NewError(clinic.CodeInvalid, "format",
			fmt.Sprintf("unknown format %q (markdown, text, html or pdf)", format),
			fmt.Sprintf("未知格式 %q（可选 markdown、text、html、pdf）", format))
	}
	if err != nil {
		return prepared{}, err
	}
	text = normalise(text)
	var meta chunk.Meta
	body := text
	opts := ing.opts
	switch format {
	case FormatHTML:
		var title string
		title, body = htmlToMarkdown(text)
		meta.Title = title
	case FormatMarkdown, FormatText:
		meta, body = chunk.FrontMatter(text)
		opts.Plain = format == FormatText
	case FormatPDF:
		opts.Plain = true
	}
	if err := applyOverrides(&meta, in); err != nil {
		return prepared{}, err
	}
	body = normalise(body)
	if !hasContent(body) {
		return prepared{}, clinic.NewError(clinic.CodeInvalid, "file", "the document has no text", "文档没有文字内容")
	}
	id := cmpOr(in.ID, meta.ID)
	if id == "" {
		base := path.Base(filepath.ToSlash(in.Name))
		id = strings.TrimSuffix(base, path.Ext(base))
	}
	if err := validateName("id", id); err != nil {
		return prepared{}, err
	}
	title := meta.Title
	if title == "" {
		title = firstHeading(body, opts.Plain)
	}
	if title == "" {
		title = id
	}
	tags := slices.Clone(meta.Tags)
	for _, t := range in.Tags {
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	cs, err := chunk.Split(body, opts)
	if err != nil {
		return prepared{}, err
	}
	if len(cs) == 0 {
		return prepared{}, clinic.NewError(clinic.CodeInvalid, "file", "the document has no text", "文档没有文字内容")
	}
	if len(cs) > ing.maxChunks {
		return prepared{}, clinic.NewError(clinic.CodeTooLarge, "file",
			fmt.Sprintf("the document gives %d chunks, more than %d", len(cs), ing.maxChunks),
			fmt.Sprintf("文档切分出 %d 个分块，超过上限 %d", len(cs), ing.maxChunks))
	}
	h := sha256.New()
	parts := []string{text, opts.String(), ing.embedder.Name(), strings.Join(tags, "\x1f"), id, string(format)}
	if in.Title != "" || in.Source != "" || in.Version != "" || in.EffectiveDate != "" {
		// Only then, so that documents ingested without overrides keep
		// their hashes.
		parts = append(parts, "overrides", in.Title, in.Source, in.Version, in.EffectiveDate)
	}
	for _, part := range parts {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	doc := store.Document{
		Collection:    in.Collection,
		ID:            id,
		Title:         title,
		Source:        cmpOr(in.Name, id),
		Version:       meta.Version,
		EffectiveDate: meta.EffectiveDate,
		Hash:          hex.EncodeToString(h.Sum(nil)),
		Tags:          tags,
		Chunks:        len(cs),
		IngestedAt:    ing.now().UTC(),
	}
	ing.log.Debug("document prepared", "document_id", id, "encoding", enc, "chunks", len(cs))
	return prepared{doc: doc, chunks: cs, enc: enc, source: meta.Source}, nil
}

// embed embeds the chunks in batches and builds the store chunks.
func (ing *Ingester) embed(ctx context.Context, p prepared) ([]store.Chunk, error) {
	texts := make([]string, len(p.chunks))
	for i, c := range p.chunks {
		texts[i] = indexText(p.doc.Title, c.HeadingPath, c.Text)
	}
	vecs := make([][]float32, 0, len(texts))
	dim := ing.embedder.Dim()
	for start := 0; start < len(texts); start += ing.batch {
		end := min(start+ing.batch, len(texts))
		vs, err := ing.embedder.EmbedDocuments(ctx, texts[start:end])
		if err != nil {
			return nil, fmt.Errorf("rag: embed %s: %w", p.doc.ID, err)
		}
		if len(vs) != end-start {
			return nil, clinic.NewError(clinic.CodeInvalid, "embedding",
				fmt.Sprintf("embedder %s returned %d vectors for %d texts", ing.embedder.Name(), len(vs), end-start),
				fmt.Sprintf("向量模型 %s 对 %d 段文本返回了 %d 个向量", ing.embedder.Name(), end-start, len(vs)))
		}
		for _, v := range vs {
			if len(v) != dim {
				return nil, clinic.NewError(clinic.CodeInvalid, "embedding",
					fmt.Sprintf("embedder %s returned a %d-dimensional vector, want %d", ing.embedder.Name(), len(v), dim),
					fmt.Sprintf("向量模型 %s 返回 %d 维向量，应为 %d 维", ing.embedder.Name(), len(v), dim))
			}
		}
		vecs = append(vecs, vs...)
	}
	out := make([]store.Chunk, len(p.chunks))
	for i, c := range p.chunks {
		md := map[string]string{
			MetaTitle:    p.doc.Title,
			MetaFile:     p.doc.Source,
			MetaEmbedder: ing.embedder.Name(),
			MetaEncoding: p.enc,
		}
		if p.source != "" {
			md[MetaSource] = p.source
		}
		if p.doc.Version != "" {
			md[MetaVersion] = p.doc.Version
		}
		if p.doc.EffectiveDate != "" {
			md[MetaEffectiveDate] = p.doc.EffectiveDate
		}
		out[i] = store.Chunk{
			ID:          ChunkID(p.doc.Collection, p.doc.ID, c.Ordinal),
			Collection:  p.doc.Collection,
			DocumentID:  p.doc.ID,
			Ordinal:     c.Ordinal,
			HeadingPath: c.HeadingPath,
			Text:        c.Text,
			Tags:        slices.Clone(p.doc.Tags),
			Metadata:    md,
			Embedding:   vecs[i],
		}
	}
	return out, nil
}

// Delete removes a document and its chunks from the store and from the
// retriever's lexical index. Returns not_found if the store has no such
// document.
func (ing *Ingester) Delete(ctx context.Context, collection, id string) error {
	ing.writeMu.Lock()
	defer ing.writeMu.Unlock()
	if err := ing.store.DeleteDocument(ctx, collection, id); err != nil {
		return fmt.Errorf("rag.Delete(%s/%s): %w", collection, id, err)
	}
	if ing.retriever != nil {
		ing.retriever.indexDocument(collection, id, nil)
	}
	return nil
}

// ChunkID is the stable ID of a document's ordinal-th chunk: "c" and 24 hex
// digits of SHA-256 over the collection, document ID and ordinal.
func ChunkID(collection, docID string, ordinal int) string {
	h := sha256.Sum256([]byte(collection + "\x00" + docID + "\x00" + strconv.Itoa(ordinal)))
	return "c" + hex.EncodeToString(h[:12])
}

// validateName checks a collection name or document ID: non-empty, at most
// 200 bytes of valid UTF-8 without control characters.
func validateName(field, v string) error {
	ok := v != "" && len(v) <= maxIDBytes && utf8.ValidString(v)
	for _, r := range v {
		if unicode.IsControl(r) {
			ok = false
		}
	}
	if !ok {
		return clinic.NewError(clinic.CodeInvalid, field,
			fmt.Sprintf("%s must be 1–%d bytes of text without control characters", field, maxIDBytes),
			fmt.Sprintf("%s 必须是 1 到 %d 字节、不含控制字符的文本", field, maxIDBytes))
	}
	return nil
}

// maxMetaRunes bounds an overriding title, source or version.
const maxMetaRunes = 500

// applyOverrides copies the Input's metadata over the front matter's,
// checking it: at most 500 characters without control characters, and an
// effective date of the form YYYY-MM-DD.
func applyOverrides(meta *chunk.Meta, in Input) error {
	for _, f := range []struct {
		field, v string
		dst      *string
	}{
		{"title", in.Title, &meta.Title},
		{"source", in.Source, &meta.Source},
		{"version", in.Version, &meta.Version},
		{"effective_date", in.EffectiveDate, &meta.EffectiveDate},
	} {
		v := strings.TrimSpace(f.v)
		if v == "" {
			continue
		}
		bad := !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxMetaRunes || strings.ContainsFunc(v, unicode.IsControl)
		if bad {
			return clinic.NewError(clinic.CodeInvalid, f.field,
				fmt.Sprintf("%s must be at most %d characters without control characters", f.field, maxMetaRunes),
				fmt.Sprintf("%s 不能超过 %d 个字符且不能含控制字符", f.field, maxMetaRunes))
		}
		if f.field == "effective_date" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return clinic.NewError(clinic.CodeInvalid, f.field,
					"effective_date must be a date of the form YYYY-MM-DD", "effective_date 必须是 YYYY-MM-DD 格式的日期")
			}
		}
		*f.dst = v
	}
	return nil
}

func hasContent(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// firstHeading returns the text of the first Markdown heading of body.
func firstHeading(body string, plain bool) string {
	if plain {
		return ""
	}
	cs, err := chunk.Split(body, chunk.Options{Size: chunk.MaxSize})
	if err != nil {
		return ""
	}
	for _, c := range cs {
		if len(c.HeadingPath) > 0 {
			return c.HeadingPath[0]
		}
	}
	return ""
}
