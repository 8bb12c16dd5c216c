package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/yizhu-health/yizhu/api"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/embed"
	"github.com/yizhu-health/yizhu/store"
)

// ragFixture is the API with the RAG feature over a real SQLite store.
type ragFixture struct {
	*fixture
	ing *rag.Ingester
}

// The per-document limit is 4 KiB and the request limit 16 KiB, so that
// both 413 paths are cheap to reach.
const (
	ragDocLimit  = 4 << 10
	ragBodyLimit = 16 << 10
)

func newRAGFixture(t *testing.T) *ragFixture {
	t.Helper()
	rf := &ragFixture{}
	rf.fixture = newFixture(t, func(cfg *api.Config) {
		emb, err := embed.New(embed.Config{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := rag.New(rag.Config{Store: cfg.Store, Embedder: emb})
		if err != nil {
			t.Fatal(err)
		}
		rf.ing, err = rag.NewIngester(rag.IngesterConfig{Store: cfg.Store, Embedder: emb, Retriever: r, MaxBytes: ragDocLimit})
		if err != nil {
			t.Fatal(err)
		}
		feat, err := api.NewRAG(api.RAGConfig{Searcher: r, Ingester: rf.ing, Store: cfg.Store, MaxBodyBytes: ragBodyLimit})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Features = append(cfg.Features, feat)
	})
	return rf
}

const ragNote = `---
source: 病历书写基本规范（2010）第二十二条
version: "2010"
effective_date: 2010-03-01
tags: [病历]
---
# 首次病程记录

## 完成时限
首次病程记录应当在患者入院8小时内完成。

## 内容
包括病例特点、拟诊讨论和诊疗计划。
`

// upload posts a multipart form with the given fields and files.
func (rf *ragFixture) upload(t *testing.T, token string, fields map[string]string, files ...file) (int, []byte) {
	t.Helper()
	ct, body := multipartBody(t, fields, files...)
	return rf.post(t, "/v1/rag/documents", token, ct, body)
}

func (rf *ragFixture) documents(t *testing.T) []store.Document {
	t.Helper()
	docs, err := rf.store.Documents(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestRAGRoles(t *testing.T) {
	rf := newRAGFixture(t)
	doc := api.RAGDocumentRequest{ID: "d1", Content: ragNote}
	post := map[api.Role]int{api.RoleAdmin: 200, api.RoleQC: 200, api.RoleDoctor: 403, api.RoleECG: 403, api.RoleKiosk: 403}
	search := map[api.Role]int{api.RoleAdmin: 200, api.RoleQC: 200, api.RoleDoctor: 200, api.RoleECG: 200, api.RoleKiosk: 403}
	for _, role := range api.Roles {
		t.Run(string(role), func(t *testing.T) {
			tok := rf.token(t, role)
			if code, body := rf.do(t, "POST", "/v1/rag/documents", tok, doc); code != post[role] {
				t.Errorf("POST documents: %d, want %d: %s", code, post[role], body)
			}
			if code, body := rf.do(t, "GET", "/v1/rag/search?q="+url.QueryEscape("首次病程"), tok, nil); code != search[role] {
				t.Errorf("GET search: %d, want %d: %s", code, search[role], body)
			}
			if code, body := rf.do(t, "GET", "/v1/rag/documents", tok, nil); code != search[role] {
				t.Errorf("GET documents: %d, want %d: %s", code, search[role], body)
			}
		})
	}
	for _, p := range []string{"/v1/rag/search?q=x", "/v1/rag/documents"} {
		if code, _ := rf.do(t, "GET", p, "", nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, code)
		}
	}
}

func TestRAGIngestAndSearch(t *testing.T) {
	rf := newRAGFixture(t)
	admin, doctor := rf.token(t, api.RoleAdmin), rf.token(t, api.RoleDoctor)
	req := api.RAGDocumentRequest{Collection: "norms", ID: "first-note", Title: "首次病程记录要求", Tags: []string{"时限"}, Content: ragNote}

	code, body := rf.do(t, "POST", "/v1/rag/documents", admin, req)
	if code != 200 {
		t.Fatalf("ingest: %d %s", code, body)
	}
	got := decode[api.RAGIngestResponse](t, body)
	if got.Added != 1 || got.Chunks != 2 || len(got.Documents) != 1 || got.Documents[0].Status != rag.StatusAdded ||
		got.Documents[0].DocumentID != "first-note" || got.Documents[0].Title != "首次病程记录要求" {
		t.Fatalf("ingest response %s", body)
	}

	// The same document again is skipped; a changed one replaced.
	code, body = rf.do(t, "POST", "/v1/rag/documents", admin, req)
	if got := decode[api.RAGIngestResponse](t, body); code != 200 || got.Skipped != 1 || got.Added != 0 {
		t.Fatalf("re-ingest: %d %s", code, body)
	}
	req.Content = strings.Replace(ragNote, "8小时内", "8小时内（急诊转入者同样计时）", 1)
	code, body = rf.do(t, "POST", "/v1/rag/documents", admin, req)
	if got := decode[api.RAGIngestResponse](t, body); code != 200 || got.Replaced != 1 {
		t.Fatalf("changed document: %d %s", code, body)
	}

	for _, mode := range []string{"", "hybrid", "vector", "lexical"} {
		t.Run("mode "+mode, func(t *testing.T) {
			q := url.Values{"q": {"首次病程记录多久完成"}, "k": {"2"}, "collection": {"norms"}, "tags": {"时限,病历"}}
			if mode != "" {
				q.Set("mode", mode)
			}
			code, body := rf.do(t, "GET", "/v1/rag/search?"+q.Encode(), doctor, nil)
			if code != 200 {
				t.Fatalf("search: %d %s", code, body)
			}
			res := decode[api.RAGSearchResponse](t, body)
			if len(res.Hits) == 0 || len(res.Hits) > 2 {
				t.Fatalf("%d hits: %s", len(res.Hits), body)
			}
			wantMode := rag.Mode(mode)
			if mode == "" {
				wantMode = rag.ModeHybrid
			}
			h := res.Hits[0]
			if res.Mode != wantMode {
				t.Errorf("mode %q, want %q", res.Mode, wantMode)
			}
			if h.ChunkID != rag.ChunkID("norms", "first-note", 0) || !slices.Equal(h.HeadingPath, []string{"首次病程记录", "完成时限"}) {
				t.Errorf("top hit %s %v, want the 完成时限 chunk", h.ChunkID, h.HeadingPath)
			}
			if h.Source != "病历书写基本规范（2010）第二十二条" || h.Version != "2010" || h.EffectiveDate != "2010-03-01" ||
				h.Title != "首次病程记录要求" || !strings.Contains(h.Text, "急诊转入者") {
				t.Errorf("hit fields %+v", h.Hit)
			}
			want := "《首次病程记录要求》 › 首次病程记录 › 完成时限 — 病历书写基本规范（2010）第二十二条 (2010, 2010-03-01) [" + h.ChunkID + "]"
			if h.Citation != want {
				t.Errorf("citation %q, want %q", h.Citation, want)
			}
		})
	}

	// A tag no chunk carries, and another collection, find nothing.
	for _, q := range []string{"q=首次病程&tags=影像", "q=首次病程&collection=other"} {
		code, body := rf.do(t, "GET", "/v1/rag/search?"+q, doctor, nil)
		if res := decode[api.RAGSearchResponse](t, body); code != 200 || len(res.Hits) != 0 {
			t.Errorf("%s: %d %s, want no hits", q, code, body)
		}
	}

	code, body = rf.do(t, "GET", "/v1/rag/documents?collection=norms", doctor, nil)
	if docs := decode[api.RAGDocumentsResponse](t, body).Documents; code != 200 || len(docs) != 1 || docs[0].ID != "first-note" || docs[0].Chunks != 2 {
		t.Fatalf("documents: %d %s", code, body)
	}

	// Two writes (added, replaced) were audited; the skip was not.
	entries, err := rf.store.AuditEntries(t.Context(), store.AuditFilter{Action: "rag.ingest"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Subject != "rag:norms/first-note" || entries[0].Role != "admin" ||
		!strings.Contains(string(entries[1].Detail), `"replaced"`) {
		t.Fatalf("audit entries %+v", entries)
	}
}

func TestRAGValidation(t *testing.T) {
	rf := newRAGFixture(t)
	admin, doctor := rf.token(t, api.RoleAdmin), rf.token(t, api.RoleDoctor)
	posts := []struct {
		name   string
		body   string
		fields []string
	}{
		{"missing id and content", `{"title":"x"}`, []string{"id", "content"}},
		{"bad format", `{"id":"a","content":"x","format":"docx"}`, []string{"format"}},
		{"bad date", `{"id":"a","content":"x","effective_date":"2010/03/01"}`, []string{"effective_date"}},
		{"unknown field", `{"id":"a","content":"x","author":"me"}`, []string{"author"}},
		{"too many tags", `{"id":"a","content":"x","tags":[` + strings.Repeat(`"t",`, 32) + `"t"]}`, []string{"tags"}},
		{"empty tag", `{"id":"a","content":"x","tags":[""]}`, []string{"tags[0]"}},
		{"blank content", `{"id":"a","content":" \n "}`, []string{"documents[0].file"}},
		{"bad collection", `{"id":"a","collection":"a\nb","content":"正文"}`, []string{"documents[0].collection"}},
		{"empty body", ``, []string{"body"}},
	}
	for _, tc := range posts {
		t.Run("POST "+tc.name, func(t *testing.T) {
			code, body := rf.do(t, "POST", "/v1/rag/documents", admin, []byte(tc.body))
			checkFields(t, code, body, http.StatusBadRequest, tc.fields)
		})
	}
	searches := []struct {
		name, query string
		fields      []string
	}{
		{"no q", "", []string{"q"}},
		{"blank q", "q=%20%20", []string{"q"}},
		{"k not a number", "q=x&k=five", []string{"k"}},
		{"k too big", "q=x&k=51", []string{"k"}},
		{"k negative", "q=x&k=-1", []string{"k"}},
		{"bad mode", "q=x&mode=semantic", []string{"mode"}},
		{"q too long", "q=" + strings.Repeat("字", 2001), []string{"q"}},
	}
	for _, tc := range searches {
		t.Run("GET "+tc.name, func(t *testing.T) {
			code, body := rf.do(t, "GET", "/v1/rag/search?"+tc.query, doctor, nil)
			checkFields(t, code, body, http.StatusBadRequest, tc.fields)
		})
	}
	t.Run("wrong content type", func(t *testing.T) {
		code, body := rf.post(t, "/v1/rag/documents", admin, "text/markdown", []byte(ragNote))
		checkFields(t, code, body, http.StatusBadRequest, []string{"Content-Type"})
	})
	if docs := rf.documents(t); len(docs) != 0 {
		t.Fatalf("bad requests wrote %d documents", len(docs))
	}
}

func TestRAGOversize(t *testing.T) {
	rf := newRAGFixture(t)
	admin := rf.token(t, api.RoleAdmin)
	bigDoc := "# 大文档\n\n" + strings.Repeat("首次病程记录应当在患者入院8小时内完成。", 100) // > 4 KiB, < 16 KiB
	tests := []struct {
		name  string
		send  func() (int, []byte)
		field string
	}{
		{"JSON document over the per-document limit", func() (int, []byte) {
			return rf.do(t, "POST", "/v1/rag/documents", admin, api.RAGDocumentRequest{ID: "big", Content: bigDoc})
		}, "documents[0].file"},
		{"JSON body over the request limit", func() (int, []byte) {
			return rf.do(t, "POST", "/v1/rag/documents", admin, api.RAGDocumentRequest{ID: "big", Content: strings.Repeat(bigDoc, 3)})
		}, ""},
		{"file over the per-document limit", func() (int, []byte) {
			return rf.upload(t, admin, nil, file{"ok.md", []byte(ragNote)}, file{"big.md", []byte(bigDoc)})
		}, "documents[1].file"},
		{"upload over the request limit", func() (int, []byte) {
			return rf.upload(t, admin, nil, file{"a.md", []byte(bigDoc)}, file{"b.md", []byte(bigDoc)}, file{"c.md", []byte(bigDoc)})
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := tc.send()
			if code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %s", code, body)
			}
			eb := decode[api.ErrorBody](t, body)
			if eb.Error.Code != clinic.CodeTooLarge || eb.Error.MessageZH == "" {
				t.Errorf("error %+v", eb.Error)
			}
			if tc.field != "" && (len(eb.Error.Fields) != 1 || eb.Error.Fields[0].Field != tc.field) {
				t.Errorf("fields %+v, want %s", eb.Error.Fields, tc.field)
			}
			if docs := rf.documents(t); len(docs) != 0 {
				t.Errorf("an oversize request wrote %d documents", len(docs))
			}
		})
	}
}

func TestRAGUpload(t *testing.T) {
	rf := newRAGFixture(t)
	admin, qc := rf.token(t, api.RoleAdmin), rf.token(t, api.RoleQC)
	const gbkText = "# 危急值报告\n\n## 血钾\n血钾高于6.5 mmol/L时，检验科应当在15分钟内电话通知临床医师。\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(gbkText))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(gbk, []byte(gbkText)) {
		t.Fatal("the fixture is not GBK-encoded")
	}

	t.Run("GBK file is converted", func(t *testing.T) {
		code, body := rf.upload(t, qc, map[string]string{"collection": "lab", "source": "某院危急值管理制度（2024）", "tags": "检验, 危急值"},
			file{"critical-k.md", gbk})
		if code != 200 {
			t.Fatalf("upload: %d %s", code, body)
		}
		res := decode[api.RAGIngestResponse](t, body)
		if res.Added != 1 || res.Documents[0].DocumentID != "critical-k" {
			t.Fatalf("response %s", body)
		}
		var chunks []store.Chunk
		rf.store.ScanChunks(t.Context(), "lab", func(c store.Chunk) error { chunks = append(chunks, c); return nil })
		if len(chunks) == 0 || !strings.Contains(chunks[0].Text, "血钾高于6.5 mmol/L") ||
			chunks[0].Metadata[rag.MetaEncoding] != "gb18030" || !slices.Equal(chunks[0].HeadingPath, []string{"危急值报告", "血钾"}) ||
			!slices.Equal(slices.Sorted(slices.Values(chunks[0].Tags)), slices.Sorted(slices.Values([]string{"检验", "危急值"}))) {
			t.Fatalf("chunks %+v", chunks)
		}
		code, body = rf.do(t, "GET", "/v1/rag/search?"+url.Values{"q": {"血钾危急值多久通知"}, "collection": {"lab"}}.Encode(), admin, nil)
		sr := decode[api.RAGSearchResponse](t, body)
		if code != 200 || len(sr.Hits) == 0 || sr.Hits[0].DocumentID != "critical-k" ||
			!strings.Contains(sr.Hits[0].Citation, "某院危急值管理制度（2024）") {
			t.Fatalf("search: %d %s", code, body)
		}
	})

	t.Run("several files", func(t *testing.T) {
		html := []byte(`<html><head><title>胸痛分诊</title></head><body><h2>分级</h2><p>胸痛伴大汗按Ⅱ级处理。</p></body></html>`)
		code, body := rf.upload(t, admin, map[string]string{"collection": "multi"},
			file{"notes/a.md", []byte(ragNote)}, file{"chest.html", html})
		res := decode[api.RAGIngestResponse](t, body)
		if code != 200 || res.Added != 2 || res.Documents[0].DocumentID != "a" || res.Documents[1].Title != "胸痛分诊" {
			t.Fatalf("upload: %d %s", code, body)
		}
	})

	// A bad file anywhere in a request writes nothing, not even the good
	// files before it.
	bad := []struct {
		name   string
		fields map[string]string
		files  []file
		field  string
	}{
		{"empty file", nil, []file{{"good.md", []byte(ragNote)}, {"empty.md", nil}}, "documents[1].file"},
		{"binary file", nil, []file{{"good.md", []byte(ragNote)}, {"scan.txt", []byte("\x00\x01PK\x03\x04 binary")}}, "documents[1].file"},
		{"neither UTF-8 nor GBK", nil, []file{{"x.txt", []byte{0x81, 0x20, 0xFF, 0xFE, 0x41, 0x81}}}, "documents[0].file"},
		{"unsupported type", nil, []file{{"x.docx", []byte("PK")}}, "documents[0].format"},
		{"same document twice", map[string]string{"collection": "dup"}, []file{{"a.md", []byte(ragNote)}, {"sub/a.md", []byte(ragNote)}}, "documents[1].id"},
		{"no file", map[string]string{"collection": "c"}, nil, "file"},
		{"id with several files", map[string]string{"id": "x"}, []file{{"a.md", []byte(ragNote)}, {"b.md", []byte(ragNote)}}, "id"},
		{"unknown form field", map[string]string{"author": "me"}, []file{{"a.md", []byte(ragNote)}}, "author"},
		{"bad date", map[string]string{"effective_date": "2024-13-01"}, []file{{"a.md", []byte(ragNote)}}, "effective_date"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rf.documents(t))
			code, body := rf.upload(t, admin, tc.fields, tc.files...)
			checkFields(t, code, body, http.StatusBadRequest, []string{tc.field})
			if after := len(rf.documents(t)); after != before {
				t.Errorf("documents %d → %d: a rejected request wrote", before, after)
			}
		})
	}

	t.Run("too many files", func(t *testing.T) {
		var files []file
		for i := range 21 {
			files = append(files, file{fmt.Sprintf("f%d.md", i), []byte("# t\n\nx")})
		}
		code, body := rf.upload(t, admin, nil, files...)
		if code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413: %s", code, body)
		}
	})
}
