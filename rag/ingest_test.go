package rag_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/chunk"
	"github.com/yizhu-health/yizhu/store"
)

const noteV1 = `---
title: 入院记录时限
source: 病历书写基本规范（2010）
version: "2010"
effective_date: 2010-03-01
tags: [病历, 时限]
---
# 入院记录时限

## 入院记录
入院记录应当于患者入院后24小时内完成。

## 首次病程记录
首次病程记录应当在患者入院8小时内完成。
`

func TestIngestLifecycle(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t)
	in := rag.Input{Collection: "c1", Name: "limits.md", Data: []byte(noteV1)}

	res, err := e.ing.Ingest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := rag.Result{Collection: "c1", DocumentID: "limits", File: "limits.md", Title: "入院记录时限", Status: rag.StatusAdded, Chunks: 2}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("first ingest (-want +got):\n%s", diff)
	}
	ids := chunkIDs(t, e.store, "c1")
	wantIDs := []string{rag.ChunkID("c1", "limits", 0), rag.ChunkID("c1", "limits", 1)}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Fatalf("chunk IDs (-want +got):\n%s", diff)
	}

	// Unchanged: skipped, nothing written.
	writes := e.store.Writes()
	res, err = e.ing.Ingest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != rag.StatusSkipped || res.Chunks != 2 || e.store.Writes() != writes {
		t.Fatalf("second ingest = %+v (writes %d→%d), want skipped without a write", res, writes, e.store.Writes())
	}

	// Changed: replaced, same IDs, the lexical index follows.
	in.Data = []byte(strings.Replace(noteV1, "入院后24小时内完成", "入院后24小时内完成，由经治医师书写", 1) + "\n## 出院记录\n出院记录应当在患者出院后24小时内完成。\n")
	res, err = e.ing.Ingest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != rag.StatusReplaced || res.Chunks != 3 {
		t.Fatalf("third ingest = %+v, want replaced with 3 chunks", res)
	}
	ids = chunkIDs(t, e.store, "c1")
	if !slices.Equal(ids[:2], wantIDs) {
		t.Errorf("chunk IDs changed on re-ingest: %v", ids)
	}
	hits, err := e.r.Search(ctx, rag.Query{Text: "出院记录", Collection: "c1", Mode: rag.ModeLexical})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].HeadingPath[len(hits[0].HeadingPath)-1] != "出院记录" {
		t.Fatalf("lexical search after replace = %+v, want the new 出院记录 chunk first", hits)
	}
	h := hits[0]
	if h.Title != "入院记录时限" || h.Source != "病历书写基本规范（2010）" || h.Version != "2010" || h.EffectiveDate != "2010-03-01" {
		t.Errorf("hit metadata = %+v", h)
	}

	// A fresh retriever on the same store loads the same index.
	r2, err := rag.New(rag.Config{Store: e.store, Embedder: e.r.Embedder()})
	if err != nil {
		t.Fatal(err)
	}
	hits2, err := r2.Search(ctx, rag.Query{Text: "出院记录", Collection: "c1", Mode: rag.ModeLexical})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hits, hits2); diff != "" {
		t.Errorf("fresh retriever differs (-live +loaded):\n%s", diff)
	}
}

func chunkIDs(t *testing.T, st store.Chunks, collection string) []string {
	t.Helper()
	var ids []string
	err := st.ScanChunks(t.Context(), collection, func(c store.Chunk) error {
		ids = append(ids, c.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestIngestBadInput(t *testing.T) {
	gbkInvalid := []byte{0x81, 0x20, 0xFF, 0xFE, 0x41, 0x81}
	tests := []struct {
		name string
		in   rag.Input
		code clinic.Code
		zh   string
	}{
		{"empty", rag.Input{Name: "a.md"}, clinic.CodeInvalid, "文档为空"},
		{"blank", rag.Input{Name: "a.md", Data: []byte(" \n\t\n")}, clinic.CodeInvalid, "没有文字"},
		{"only front matter", rag.Input{Name: "a.md", Data: []byte("---\ntitle: x\n---\n# 标题\n")}, clinic.CodeInvalid, "没有文字"},
		{"binary with NUL", rag.Input{Name: "a.txt", Data: []byte("abc\x00def")}, clinic.CodeInvalid, "二进制"},
		{"control bytes", rag.Input{Name: "a.txt", Data: []byte("\x01\x02\x03\x04abc")}, clinic.CodeInvalid, "二进制"},
		{"invalid in UTF-8 and GB18030", rag.Input{Name: "a.txt", Data: gbkInvalid}, clinic.CodeInvalid, "UTF-8"},
		{"too large", rag.Input{Name: "a.txt", Data: bytes.Repeat([]byte("字"), 2000)}, clinic.CodeTooLarge, "上限"},
		{"unsupported type", rag.Input{Name: "a.docx", Data: []byte("text")}, clinic.CodeInvalid, "不支持"},
		{"unknown format", rag.Input{Name: "a", Format: "rtf", Data: []byte("text")}, clinic.CodeInvalid, "未知格式"},
		{"bad collection", rag.Input{Collection: "a\nb", Name: "a.md", Data: []byte("text")}, clinic.CodeInvalid, "collection"},
		{"bad id", rag.Input{ID: strings.Repeat("x", 300), Name: "a.md", Data: []byte("text")}, clinic.CodeInvalid, "id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *rag.IngesterConfig) { c.MaxBytes = 4096 })
			res, err := e.ing.Ingest(t.Context(), tc.in)
			if err == nil {
				t.Fatalf("Ingest succeeded: %+v", res)
			}
			if got := clinic.ErrorCode(err); got != tc.code {
				t.Errorf("code = %s, want %s (%v)", got, tc.code, err)
			}
			en, zh := clinic.ErrorMessages(err)
			if en == "" || !strings.Contains(zh, tc.zh) {
				t.Errorf("messages = %q / %q, want Chinese containing %q", en, zh, tc.zh)
			}
			if res.Status != rag.StatusError || res.Err == nil {
				t.Errorf("result = %+v, want error status", res)
			}
			if e.store.Writes() != 0 {
				t.Errorf("store written %d times", e.store.Writes())
			}
		})
	}
}

func TestIngestEncodings(t *testing.T) {
	const text = "# 危急值\n\n血钾大于7.0 mmol/L属于危急值。"
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		enc  string
	}{
		{"utf-8", []byte(text), "utf-8"},
		{"utf-8 with BOM", append([]byte{0xEF, 0xBB, 0xBF}, text...), "utf-8"},
		{"gbk", gbk, "gb18030"},
		{"utf-16 with BOM", utf16, "utf-16"},
		{"CRLF", []byte(strings.ReplaceAll(text, "\n", "\r\n")), "utf-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if _, err := e.ing.Ingest(t.Context(), rag.Input{Name: "k.md", Data: tc.data}); err != nil {
				t.Fatal(err)
			}
			var got []store.Chunk
			e.store.ScanChunks(t.Context(), "", func(c store.Chunk) error { got = append(got, c); return nil })
			if len(got) != 1 {
				t.Fatalf("got %d chunks", len(got))
			}
			if got[0].Text != "血钾大于7.0 mmol/L属于危急值。" || !slices.Equal(got[0].HeadingPath, []string{"危急值"}) {
				t.Errorf("chunk = %q %v", got[0].Text, got[0].HeadingPath)
			}
			if got[0].Metadata[rag.MetaEncoding] != tc.enc {
				t.Errorf("encoding = %q, want %q", got[0].Metadata[rag.MetaEncoding], tc.enc)
			}
		})
	}
}

func TestIngestHTML(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>胸痛流程</title><style>h2{color:red}</style>
<script>var x = "<h1>not a heading</h1>";</script></head><body>
<h1>胸痛中心</h1><p>首份心电图应在<b>10分钟</b>内完成。</p>
<h2>再灌注</h2><ul><li>门-球时间不超过90分钟</li><li>门-针时间不超过30分钟</li></ul>
<p># 不是标题 &amp; 实体</p></body></html>`
	e := newEnv(t)
	res, err := e.ing.Ingest(t.Context(), rag.Input{Name: "chest.html", Data: []byte(page)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Title != "胸痛流程" {
		t.Errorf("title = %q", res.Title)
	}
	var got []piece
	e.store.ScanChunks(t.Context(), "", func(c store.Chunk) error {
		got = append(got, piece{c.HeadingPath, c.Text})
		return nil
	})
	want := []piece{
		{[]string{"胸痛中心"}, "首份心电图应在10分钟内完成。"},
		{[]string{"胸痛中心", "再灌注"}, "- 门-球时间不超过90分钟\n- 门-针时间不超过30分钟\n\n\\# 不是标题 & 实体"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}

type piece struct {
	Path []string
	Text string
}

func TestIngestPDF(t *testing.T) {
	pdf := []byte("%PDF-1.4 fake")
	t.Run("missing pdftotext", func(t *testing.T) {
		e := newEnv(t, func(c *rag.IngesterConfig) { c.PDFToText = filepath.Join(t.TempDir(), "no-such-pdftotext") })
		_, err := e.ing.Ingest(t.Context(), rag.Input{Name: "g.pdf", Data: pdf})
		if clinic.ErrorCode(err) != clinic.CodeUnavailable {
			t.Fatalf("err = %v, want unavailable", err)
		}
		en, zh := clinic.ErrorMessages(err)
		if !strings.Contains(en, "poppler-utils") || !strings.Contains(zh, "poppler-utils") {
			t.Errorf("messages %q / %q do not name poppler-utils", en, zh)
		}
	})
	if runtime.GOOS == "windows" {
		t.Skip("the fake pdftotext is a shell script")
	}
	fake := func(t *testing.T, script string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "pdftotext")
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("fake pdftotext", func(t *testing.T) {
		// The fake checks it was given a PDF file and "-" for stdout.
		p := fake(t, `for a; do last=$a; done
[ "$last" = "-" ] || exit 3
printf '第一页：抢救结束后6小时内补记。\f第二页：手术记录术后24小时内完成。\n'`)
		e := newEnv(t, func(c *rag.IngesterConfig) { c.PDFToText = p })
		res, err := e.ing.Ingest(t.Context(), rag.Input{Name: "norms.pdf", Data: pdf})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != rag.StatusAdded || res.Chunks != 1 {
			t.Errorf("result = %+v", res)
		}
		hits, err := e.r.Search(t.Context(), rag.Query{Text: "手术记录", Mode: rag.ModeLexical})
		if err != nil || len(hits) != 1 || !strings.Contains(hits[0].Text, "第二页") {
			t.Errorf("search = %+v, %v", hits, err)
		}
	})
	t.Run("pdftotext fails", func(t *testing.T) {
		p := fake(t, "echo 'Syntax Error: broken' >&2; exit 1")
		e := newEnv(t, func(c *rag.IngesterConfig) { c.PDFToText = p })
		_, err := e.ing.Ingest(t.Context(), rag.Input{Name: "bad.pdf", Data: pdf})
		if clinic.ErrorCode(err) != clinic.CodeInvalid || !strings.Contains(err.Error(), "broken") {
			t.Errorf("err = %v, want invalid with the tool's message", err)
		}
	})
}

// badEmbedder returns vectors of the wrong length or count.
type badEmbedder struct {
	dim, give, extra int
}

func (b badEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts)+b.extra)
	for i := range out {
		out[i] = make([]float32, b.give)
		out[i][0] = 1
	}
	return out, nil
}
func (b badEmbedder) EmbedQuery(context.Context, string) ([]float32, error) {
	v := make([]float32, b.give)
	v[0] = 1
	return v, nil
}
func (b badEmbedder) Dim() int     { return b.dim }
func (b badEmbedder) Name() string { return "bad" }

func TestIngestDimensionChecks(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name string
		emb  badEmbedder
	}{
		{"wrong dimension", badEmbedder{dim: 8, give: 4}},
		{"wrong count", badEmbedder{dim: 8, give: 8, extra: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *rag.IngesterConfig) { c.Embedder = tc.emb; c.Retriever = nil })
			_, err := e.ing.Ingest(ctx, rag.Input{Name: "a.md", Data: []byte(noteV1)})
			if clinic.ErrorCode(err) != clinic.CodeInvalid || e.store.Writes() != 0 {
				t.Fatalf("err = %v (writes %d), want invalid and no write", err, e.store.Writes())
			}
		})
	}
	t.Run("collection holds another dimension", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.ing.Ingest(ctx, rag.Input{Name: "a.md", Data: []byte(noteV1)}); err != nil {
			t.Fatal(err)
		}
		other, err := rag.NewIngester(rag.IngesterConfig{Store: e.store, Embedder: badEmbedder{dim: 8, give: 8}})
		if err != nil {
			t.Fatal(err)
		}
		writes := e.store.Writes()
		_, err = other.Ingest(ctx, rag.Input{Name: "b.md", Data: []byte(noteV1)})
		if clinic.ErrorCode(err) != clinic.CodeInvalid || e.store.Writes() != writes {
			t.Fatalf("err = %v, want invalid and no write", err)
		}
	})
	t.Run("retriever with another embedder", func(t *testing.T) {
		e := newEnv(t)
		_, err := rag.NewIngester(rag.IngesterConfig{Store: e.store, Embedder: badEmbedder{dim: 8, give: 8}, Retriever: e.r})
		if clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
	t.Run("bad chunking", func(t *testing.T) {
		e := newEnv(t)
		_, err := rag.NewIngester(rag.IngesterConfig{Store: e.store, Embedder: e.r.Embedder(), Chunking: chunk.Options{Size: 1}})
		if clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}

func TestIngestPathAndFS(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	files := map[string]string{
		"a.md":            noteV1,
		"sub/b.txt":       "首次病程记录应当在患者入院8小时内完成。",
		"sub/c.html":      "<h1>会诊</h1><p>急会诊10分钟内到场。</p>",
		"ignored.docx":    "binary",
		".hidden/d.md":    "# hidden",
		"broken.md":       "",
		"sub/empty.txt":   "   ",
		"sub/deep/e.text": "Emergency consultation within 10 minutes.",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t)
	res, err := e.ing.IngestPath(ctx, dir, "docs")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID     string
		Status rag.Status
	}
	var got []row
	for _, r := range res {
		got = append(got, row{r.DocumentID, r.Status})
	}
	want := []row{
		{"a", rag.StatusAdded}, {"broken", rag.StatusError}, {"sub/b", rag.StatusAdded},
		{"sub/c", rag.StatusAdded}, {"sub/deep/e", rag.StatusAdded}, {"sub/empty", rag.StatusError},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	// Second run: everything that worked is skipped.
	res, err = e.ing.IngestPath(ctx, dir, "docs")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err == nil && r.Status != rag.StatusSkipped {
			t.Errorf("%s: status %s on the second run", r.DocumentID, r.Status)
		}
	}
	// A single file.
	res, err = e.ing.IngestPath(ctx, filepath.Join(dir, "sub", "b.txt"), "single")
	if err != nil || len(res) != 1 || res[0].DocumentID != "b" || res[0].Status != rag.StatusAdded {
		t.Fatalf("single file = %+v, %v", res, err)
	}
	if _, err := e.ing.IngestPath(ctx, filepath.Join(dir, "missing"), "x"); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("missing path err = %v, want not_found", err)
	}
	// fstest.MapFS works the same way.
	fsys := fstest.MapFS{"x.md": {Data: []byte(noteV1)}}
	res = mustIngestFS(t, ctx, e.ing, fsys, "")
	if res[0].Collection != rag.DefaultCollection {
		t.Errorf("default collection = %q", res[0].Collection)
	}
}

func TestConcurrentIngestAndSearch(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, withChunking(chunk.Options{Size: 60, Overlap: 10}))
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 10 {
				text := strings.Repeat("入院记录应当于患者入院后24小时内完成。", j+1)
				if _, err := e.ing.Ingest(ctx, rag.Input{Name: "doc" + string(rune('a'+i)) + ".md", Data: []byte(text)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				if _, err := e.r.Search(ctx, rag.Query{Text: "入院记录时限"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// After the dust settles the lexical index matches a fresh load.
	hits, err := e.r.Search(ctx, rag.Query{Text: "入院记录", Mode: rag.ModeLexical, K: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.r.Load(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := e.r.Search(ctx, rag.Query{Text: "入院记录", Mode: rag.ModeLexical, K: 50})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hits, again); diff != "" {
		t.Errorf("live index differs from a reload (-live +reload):\n%s", diff)
	}
}

func FuzzIngest(f *testing.F) {
	f.Add("a.md", []byte(noteV1))
	f.Add("b.html", []byte("<h2>x</h2><p>y。</p><script>z</script>"))
	f.Add("c.txt", []byte{0xC4, 0xE3, 0xBA, 0xC3}) // 你好 in GBK
	f.Add("d.md", []byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		e := newEnv(t, withChunking(chunk.Options{Size: 50, Overlap: 10}))
		res, err := e.ing.Ingest(t.Context(), rag.Input{Name: name, Data: data})
		if err != nil {
			if c := clinic.ErrorCode(err); c == clinic.CodeInternal {
				t.Fatalf("internal error: %v", err)
			}
			if e.store.Writes() != 0 {
				t.Fatal("failed ingest wrote to the store")
			}
			return
		}
		if res.Chunks == 0 {
			t.Fatalf("success without chunks: %+v", res)
		}
		e.store.ScanChunks(t.Context(), "", func(c store.Chunk) error {
			if c.Text == "" || !utf8Valid(c.Text) {
				t.Fatalf("bad chunk text %q", c.Text)
			}
			return nil
		})
	})
}

func TestDelete(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t)
	if _, err := e.ing.Ingest(ctx, rag.Input{Collection: "c", Name: "a.md", Data: []byte(noteV1)}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := e.r.Search(ctx, rag.Query{Text: "入院记录", Mode: rag.ModeLexical}); len(hits) == 0 {
		t.Fatal("not indexed")
	}
	if err := e.ing.Delete(ctx, "c", "a"); err != nil {
		t.Fatal(err)
	}
	if hits, _ := e.r.Search(ctx, rag.Query{Text: "入院记录", Mode: rag.ModeLexical}); len(hits) != 0 {
		t.Errorf("deleted document still found: %+v", hits)
	}
	if err := e.ing.Delete(ctx, "c", "a"); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("second delete: %v", err)
	}
}
