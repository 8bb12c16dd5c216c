package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/store"
)

// RAGSearcher answers guideline searches (*rag.Retriever implements it).
type RAGSearcher interface {
	Search(ctx context.Context, q rag.Query) ([]rag.Hit, error)
}

// RAGIngester ingests the documents of one request, writing nothing when
// any is bad (*rag.Ingester implements it).
type RAGIngester interface {
	IngestAll(ctx context.Context, ins []rag.Input) ([]rag.Result, error)
}

// RAGStore lists stored documents and records the audit trail of
// ingestion (store.Store implements it).
type RAGStore interface {
	Documents(ctx context.Context, collection string) ([]store.Document, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
}

// RAGConfig configures the guideline store feature.
type RAGConfig struct {
	Searcher RAGSearcher // required
	Ingester RAGIngester // required
	Store    RAGStore    // required
	Logger   *slog.Logger
	// MaxBodyBytes bounds an upload request (default 8 MiB); each
	// document is further bounded by the ingester (2 MiB by default).
	MaxBodyBytes int64
	// MaxFiles bounds the files of one multipart upload (default 20).
	MaxFiles int
}

// RAG is the guideline store feature: upload guideline documents and
// search them with citations. It is safe for concurrent use.
type RAG struct {
	cfg RAGConfig
	log *slog.Logger
}

// Bounds of the RAG routes.
const (
	defaultRAGBody     = 8 << 20
	defaultRAGFiles    = 20
	maxRAGFormFields   = 32
	maxRAGFieldBytes   = 4 << 10
	maxRAGTags         = 32
	maxRAGCollectionID = 200
)

// NewRAG returns the guideline store feature.
func NewRAG(cfg RAGConfig) (*RAG, error) {
	if cfg.Searcher == nil || cfg.Ingester == nil || cfg.Store == nil {
		return nil, clinic.Errorf(clinic.CodeInvalid, "api.NewRAG: Searcher, Ingester and Store are required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = defaultRAGBody
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = defaultRAGFiles
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RAG{cfg: cfg, log: log}, nil
}

// Who may do what. Guideline content is hospital policy that every agent
// cites, so only operators and quality staff (who maintain the
// documentation norms and the hospital's own rules) may change it.
// Clinicians, QC staff and ECG reading doctors search it; anonymous kiosk
// sessions do not — the triage agent consults the guidelines server-side
// through the rag.search tool, and clinician-facing passages are not
// patient advice.
var (
	ragWriters  = []Role{RoleAdmin, RoleQC}
	ragSearcher = []Role{RoleDoctor, RoleQC, RoleECG, RoleAdmin}
)

// RAGDocumentRequest is one guideline document given as JSON. Title,
// source, version and effective_date override the Markdown front matter's.
type RAGDocumentRequest struct {
	Collection    string   `json:"collection,omitempty" validate:"max=200"`
	ID            string   `json:"id" validate:"required,max=200"`
	Title         string   `json:"title,omitempty" validate:"max=500"`
	Source        string   `json:"source,omitempty" validate:"max=500"`
	Version       string   `json:"version,omitempty" validate:"max=100"`
	EffectiveDate string   `json:"effective_date,omitempty" validate:"omitempty,datetime=2006-01-02"`
	Tags          []string `json:"tags,omitempty" validate:"max=32,dive,required,max=64"`
	// Format is md (the default), txt or html.
	Format  string `json:"format,omitempty" validate:"omitempty,oneof=md markdown txt text html"`
	Content string `json:"content" validate:"required"`
}

// RAGIngestResponse reports what happened to each document.
type RAGIngestResponse struct {
	Documents []rag.Result `json:"documents"`
	Added     int          `json:"added"`
	Replaced  int          `json:"replaced"`
	Skipped   int          `json:"skipped"`
	Chunks    int          `json:"chunks"`
}

// RAGHit is one search hit with its formatted citation.
type RAGHit struct {
	rag.Hit
	Citation string `json:"citation"`
}

// RAGSearchResponse is the answer to a search.
type RAGSearchResponse struct {
	Query      string   `json:"query"`
	Mode       rag.Mode `json:"mode"`
	Collection string   `json:"collection,omitempty"`
	Hits       []RAGHit `json:"hits"`
}

// RAGDocumentsResponse lists stored documents.
type RAGDocumentsResponse struct {
	Documents []store.Document `json:"documents"`
}

// Routes lists the guideline store endpoints.
func (g *RAG) Routes() []Route {
	return []Route{
		{Method: "POST", Path: "/v1/rag/documents", Roles: ragWriters, Handler: g.ingest, Tag: "rag",
			Summary: "Add or replace guideline documents: a JSON document, or multipart/form-data with one or more `file` parts " +
				"(.md, .txt, .html, .pdf; UTF-8, UTF-16 with BOM or GBK) and optional fields collection, tags, id, title, source, version, effective_date. " +
				"Every document is checked before any is written; unchanged documents are skipped.",
			Request: RAGDocumentRequest{}, Response: RAGIngestResponse{}, OK: http.StatusOK, BodyLimit: g.cfg.MaxBodyBytes},
		{Method: "GET", Path: "/v1/rag/documents", Roles: ragSearcher, Handler: g.documents, Tag: "rag",
			Summary: "List the stored guideline documents.", Response: RAGDocumentsResponse{},
			Query: map[string]string{"collection": "only this collection (default: all)"}},
		{Method: "GET", Path: "/v1/rag/search", Roles: ragSearcher, Handler: g.search, Tag: "rag",
			Summary:  "Search the guidelines (hybrid vector + BM25 by default); every hit carries a stable chunk ID, source, heading path and citation.",
			Response: RAGSearchResponse{},
			Query: map[string]string{
				"q":          "query text, Chinese or English (required, at most 2000 characters)",
				"k":          "number of hits, 1–50 (default 5)",
				"collection": "only this collection (default: all)",
				"tags":       "comma-separated tags a hit must all carry (or repeat the parameter)",
				"mode":       "hybrid (default), vector or lexical",
			}},
	}
}

// RAGSearchParams are the validated query parameters of a search.
type RAGSearchParams struct {
	Q          string   `json:"q" validate:"required,max=2000"`
	K          int      `json:"k" validate:"min=0,max=50"`
	Collection string   `json:"collection" validate:"max=200"`
	Tags       []string `json:"tags" validate:"max=16,dive,required,max=64"`
	Mode       string   `json:"mode" validate:"omitempty,oneof=hybrid vector lexical"`
}

func (g *RAG) search(c echo.Context) error {
	qp := c.QueryParams()
	p := RAGSearchParams{Q: strings.TrimSpace(qp.Get("q")), Collection: qp.Get("collection"), Mode: qp.Get("mode")}
	if ks := qp.Get("k"); ks != "" {
		k, err := strconv.Atoi(ks)
		if err != nil {
			return &validationError{fields: []FieldError{{Field: "k", ReasonEN: "must be an integer", ReasonZH: "必须是整数"}}}
		}
		p.K = k
	}
	p.Tags = splitList(qp["tags"])
	if err := ValidateStruct(c.Echo().Validator, &p); err != nil {
		return err
	}
	hits, err := g.cfg.Searcher.Search(c.Request().Context(),
		rag.Query{Text: p.Q, Collection: p.Collection, Tags: p.Tags, K: p.K, Mode: rag.Mode(p.Mode)})
	if err != nil {
		return err
	}
	resp := RAGSearchResponse{Query: p.Q, Mode: rag.Mode(p.Mode), Collection: p.Collection, Hits: make([]RAGHit, len(hits))}
	if resp.Mode == "" {
		resp.Mode = rag.ModeHybrid
	}
	for i, h := range hits {
		resp.Hits[i] = RAGHit{Hit: h, Citation: h.Citation()}
	}
	return c.JSON(http.StatusOK, resp)
}

// splitList splits repeated and comma-separated values, dropping blanks.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (g *RAG) documents(c echo.Context) error {
	col := c.QueryParam("collection")
	if len(col) > maxRAGCollectionID {
		return &validationError{fields: []FieldError{{Field: "collection",
			ReasonEN: fmt.Sprintf("must have at most %d characters", maxRAGCollectionID),
			ReasonZH: fmt.Sprintf("长度不能超过 %d", maxRAGCollectionID)}}}
	}
	docs, err := g.cfg.Store.Documents(c.Request().Context(), col)
	if err != nil {
		return err
	}
	if docs == nil {
		docs = []store.Document{}
	}
	return c.JSON(http.StatusOK, RAGDocumentsResponse{Documents: docs})
}

// ingest handles POST /v1/rag/documents.
func (g *RAG) ingest(c echo.Context) error {
	mt, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		mt = ""
	}
	var ins []rag.Input
	switch mt {
	case echo.MIMEApplicationJSON:
		in, err := g.jsonInput(c)
		if err != nil {
			return err
		}
		ins = []rag.Input{in}
	case echo.MIMEMultipartForm:
		if ins, err = g.multipartInputs(c, params["boundary"]); err != nil {
			return err
		}
	default:
		return clinic.NewError(clinic.CodeInvalid, "Content-Type",
			"send application/json or multipart/form-data", "请求类型必须是 application/json 或 multipart/form-data")
	}
	results, err := g.cfg.Ingester.IngestAll(c.Request().Context(), ins)
	// Audit what was written, also when a later document failed.
	if aerr := g.audit(c, results); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return err
	}
	resp := RAGIngestResponse{Documents: results}
	for _, r := range results {
		switch r.Status {
		case rag.StatusAdded:
			resp.Added++
		case rag.StatusReplaced:
			resp.Replaced++
		case rag.StatusSkipped:
			resp.Skipped++
		}
		resp.Chunks += r.Chunks
	}
	return c.JSON(http.StatusOK, resp)
}

// audit records one entry per document that was added or replaced.
func (g *RAG) audit(c echo.Context, results []rag.Result) error {
	for _, r := range results {
		if r.Status != rag.StatusAdded && r.Status != rag.StatusReplaced {
			continue
		}
		detail := map[string]any{"status": string(r.Status), "chunks": r.Chunks, "title": r.Title}
		if r.File != "" {
			detail["file"] = r.File
		}
		e := AuditEntryFor(c, "rag.ingest", "rag:"+r.Collection+"/"+r.DocumentID, detail)
		if _, err := g.cfg.Store.AppendAudit(c.Request().Context(), e); err != nil {
			return fmt.Errorf("api.RAG: audit %s/%s: %w", r.Collection, r.DocumentID, err)
		}
	}
	return nil
}

var ragFormats = map[string]rag.Format{
	"": rag.FormatMarkdown, "md": rag.FormatMarkdown, "markdown": rag.FormatMarkdown,
	"txt": rag.FormatText, "text": rag.FormatText, "html": rag.FormatHTML,
}

func (g *RAG) jsonInput(c echo.Context) (rag.Input, error) {
	var req RAGDocumentRequest
	if err := Bind(c, &req); err != nil {
		return rag.Input{}, err
	}
	return rag.Input{
		Collection: req.Collection, ID: req.ID, Name: req.ID, Format: ragFormats[req.Format],
		Data: []byte(req.Content), Tags: req.Tags,
		Title: req.Title, Source: req.Source, Version: req.Version, EffectiveDate: req.EffectiveDate,
	}, nil
}

// ragForm is the form fields of a multipart upload.
type ragForm struct {
	Collection    string   `json:"collection" validate:"max=200"`
	ID            string   `json:"id" validate:"max=200"`
	Title         string   `json:"title" validate:"max=500"`
	Source        string   `json:"source" validate:"max=500"`
	Version       string   `json:"version" validate:"max=100"`
	EffectiveDate string   `json:"effective_date" validate:"omitempty,datetime=2006-01-02"`
	Tags          []string `json:"tags" validate:"max=32,dive,required,max=64"`
	Format        string   `json:"format" validate:"omitempty,oneof=md markdown txt text html pdf"`
}

// multipartInputs reads a multipart upload part by part, bounding the
// number of parts and the size of each field; file contents are bounded
// by the route's body limit and, per document, by the ingester.
func (g *RAG) multipartInputs(c echo.Context, boundary string) ([]rag.Input, error) {
	if boundary == "" {
		return nil, clinic.NewError(clinic.CodeInvalid, "Content-Type", "the multipart boundary is missing", "multipart 请求缺少 boundary")
	}
	mr := multipart.NewReader(c.Request().Body, boundary)
	var form ragForm
	var files []rag.Input
	fields := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, readError(err)
		}
		name := part.FormName()
		if part.FileName() != "" || name == "file" {
			if name != "file" {
				return nil, &validationError{fields: []FieldError{{Field: name,
					ReasonEN: "files must be sent in parts named file", ReasonZH: "文件必须放在名为 file 的字段中"}}}
			}
			if len(files) == g.cfg.MaxFiles {
				return nil, clinic.NewError(clinic.CodeTooLarge, "file",
					fmt.Sprintf("more than %d files in one upload", g.cfg.MaxFiles),
					fmt.Sprintf("一次上传的文件超过 %d 个", g.cfg.MaxFiles))
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, readError(err)
			}
			files = append(files, rag.Input{Name: path.Base(strings.ReplaceAll(part.FileName(), "\\", "/")), Data: data})
			continue
		}
		fields++
		if fields > maxRAGFormFields {
			return nil, clinic.NewError(clinic.CodeTooLarge, "form", "too many form fields", "表单字段过多")
		}
		raw, err := io.ReadAll(io.LimitReader(part, maxRAGFieldBytes+1))
		if err != nil {
			return nil, readError(err)
		}
		if len(raw) > maxRAGFieldBytes {
			return nil, &validationError{fields: []FieldError{{Field: name,
				ReasonEN: fmt.Sprintf("longer than %d bytes", maxRAGFieldBytes), ReasonZH: fmt.Sprintf("超过 %d 字节", maxRAGFieldBytes)}}}
		}
		v := strings.TrimSpace(string(raw))
		switch name {
		case "collection":
			form.Collection = v
		case "id":
			form.ID = v
		case "title":
			form.Title = v
		case "source":
			form.Source = v
		case "version":
			form.Version = v
		case "effective_date":
			form.EffectiveDate = v
		case "format":
			form.Format = v
		case "tags":
			form.Tags = append(form.Tags, splitList([]string{v})...)
		default:
			return nil, &validationError{fields: []FieldError{{Field: name, ReasonEN: "unknown field", ReasonZH: "未知字段"}}}
		}
	}
	if err := ValidateStruct(c.Echo().Validator, &form); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &validationError{fields: []FieldError{{Field: "file",
			ReasonEN: "is required: add at least one file part", ReasonZH: "必填：请至少上传一个文件"}}}
	}
	if len(files) > 1 && (form.ID != "" || form.Title != "") {
		return nil, &validationError{fields: []FieldError{{Field: "id",
			ReasonEN: "id and title apply to a single file; upload the files one by one or put them in each file's front matter",
			ReasonZH: "id 和 title 只适用于单个文件；请逐个上传，或写在每个文件的 front matter 中"}}}
	}
	format := rag.Format("")
	if form.Format != "" {
		format = ragFormats[form.Format]
		if form.Format == "pdf" {
			format = rag.FormatPDF
		}
	}
	for i := range files {
		in := &files[i]
		in.Collection, in.ID, in.Format, in.Tags = form.Collection, form.ID, format, form.Tags
		in.Title, in.Source, in.Version, in.EffectiveDate = form.Title, form.Source, form.Version, form.EffectiveDate
		if in.Name == "" || in.Name == "." || in.Name == "/" {
			in.Name = fmt.Sprintf("file%d", i+1)
		}
	}
	return files, nil
}

// readError maps a failed body read: the body limit's 413 passes through.
func readError(err error) error {
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		return he
	}
	return clinic.Wrap(err, clinic.CodeInvalid, "could not read the multipart body", "无法读取 multipart 请求内容")
}
