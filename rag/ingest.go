package rag

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	for _, part := range []string{text, opts.String(), ing.embedder.Name(), strings.Join(tags, "\x1f"), id, string(format)} {
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
