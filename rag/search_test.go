package rag_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/embed"
	"github.com/yizhu-health/yizhu/rag/ragtest"
	"github.com/yizhu-health/yizhu/store"
)

func seed(t *testing.T) env {
	t.Helper()
	e := newEnv(t)
	docs := []rag.Input{
		{Collection: "norms", Name: "admission.md", Data: []byte("---\ntitle: 入院记录\nsource: 病历书写基本规范（2010）\ntags: [病历]\n---\n# 入院记录\n## 时限\n入院记录应当于患者入院后24小时内完成。")},
		{Collection: "norms", Name: "progress.md", Data: []byte("---\ntitle: 首次病程记录\ntags: [病历]\n---\n# 首次病程记录\n首次病程记录应当在患者入院8小时内完成。")},
		{Collection: "ecg", Name: "stemi.md", Data: []byte("---\ntitle: STEMI\ntags: [ecg]\n---\n# STEMI\nST elevation of 1 mm in two contiguous leads; V2-V3 2 mm in men over 40.")},
	}
	for _, d := range docs {
		if _, err := e.ing.Ingest(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestSearchModesAndFilters(t *testing.T) {
	e := seed(t)
	tests := []struct {
		name string
		q    rag.Query
		want []string // document IDs in order
	}{
		{"hybrid", rag.Query{Text: "入院记录多久完成", K: 1}, []string{"admission"}},
		{"vector", rag.Query{Text: "入院记录多久完成", K: 1, Mode: rag.ModeVector}, []string{"admission"}},
		{"lexical", rag.Query{Text: "入院记录多久完成", K: 1, Mode: rag.ModeLexical}, []string{"admission"}},
		{"english lexical", rag.Query{Text: "contiguous leads", Mode: rag.ModeLexical}, []string{"stemi"}},
		{"collection filter", rag.Query{Text: "入院 ST elevation", Collection: "ecg"}, []string{"stemi"}},
		{"tag filter", rag.Query{Text: "入院记录 ST elevation", Tags: []string{"ecg"}}, []string{"stemi"}},
		{"tag filter lexical", rag.Query{Text: "入院记录 ST elevation", Tags: []string{"病历"}, Mode: rag.ModeLexical}, []string{"admission", "progress"}},
		{"no match lexical", rag.Query{Text: "骨折", Mode: rag.ModeLexical}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := e.r.Search(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hits {
				got = append(got, h.DocumentID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("documents (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchHitFields(t *testing.T) {
	e := seed(t)
	hits, err := e.r.Search(t.Context(), rag.Query{Text: "入院记录24小时", K: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := hits[0]
	want := rag.Hit{
		ChunkID: rag.ChunkID("norms", "admission", 0), Collection: "norms", DocumentID: "admission",
		Title: "入院记录", Source: "病历书写基本规范（2010）", File: "admission.md",
		HeadingPath: []string{"入院记录", "时限"}, Text: "入院记录应当于患者入院后24小时内完成。",
		Score: h.Score, VectorRank: 1, LexicalRank: 1,
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("hit (-want +got):\n%s", diff)
	}
	if h.Score != 2.0/61 {
		t.Errorf("RRF score = %v, want 2/61", h.Score)
	}
	wantCite := "《入院记录》 › 时限 — 病历书写基本规范（2010） [" + h.ChunkID + "]"
	if got := h.Citation(); got != wantCite {
		t.Errorf("Citation() = %q, want %q", got, wantCite)
	}
}

func TestCitation(t *testing.T) {
	tests := []struct {
		hit  rag.Hit
		want string
	}{
		{rag.Hit{ChunkID: "c1", DocumentID: "d"}, "《d》 [c1]"},
		{rag.Hit{ChunkID: "c1", Title: "T", File: "x.pdf"}, "《T》 — x.pdf [c1]"},
		{rag.Hit{ChunkID: "c1", Title: "T", HeadingPath: []string{"T", "A", "B"}, Source: "S", Version: "2010", EffectiveDate: "2010-03-01"},
			"《T》 › A › B — S (2010, 2010-03-01) [c1]"},
	}
	for _, tc := range tests {
		if got := tc.hit.Citation(); got != tc.want {
			t.Errorf("Citation() = %q, want %q", got, tc.want)
		}
	}
}

func TestSearchValidation(t *testing.T) {
	e := seed(t)
	tests := []struct {
		name string
		q    rag.Query
		code clinic.Code
	}{
		{"empty", rag.Query{Text: "  "}, clinic.CodeInvalid},
		{"too long", rag.Query{Text: strings.Repeat("字", rag.MaxQueryRunes+1)}, clinic.CodeTooLarge},
		{"k too big", rag.Query{Text: "x", K: rag.MaxK + 1}, clinic.CodeInvalid},
		{"negative k", rag.Query{Text: "x", K: -1}, clinic.CodeInvalid},
		{"bad mode", rag.Query{Text: "x", Mode: "fuzzy"}, clinic.CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.r.Search(t.Context(), tc.q)
			if got := clinic.ErrorCode(err); got != tc.code {
				t.Errorf("code = %s, want %s (%v)", got, tc.code, err)
			}
		})
	}
	if _, err := rag.New(rag.Config{Store: ragtest.NewStore()}); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("New without embedder: %v", err)
	}
}

func TestSearchQueryDimensionMismatch(t *testing.T) {
	e := seed(t)
	r, err := rag.New(rag.Config{Store: e.store, Embedder: badEmbedder{dim: 8, give: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Search(t.Context(), rag.Query{Text: "x", Collection: "norms"}); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("embedder gives wrong length: %v", err)
	}
	r, err = rag.New(rag.Config{Store: e.store, Embedder: badEmbedder{dim: 8, give: 8}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Search(t.Context(), rag.Query{Text: "x", Collection: "norms", Mode: rag.ModeVector})
	if clinic.ErrorCode(err) != clinic.CodeInvalid || !strings.Contains(err.Error(), "dimension") {
		t.Errorf("collection of another dimension: %v", err)
	}
}

func TestFuse(t *testing.T) {
	got := rag.Fuse([]string{"a", "b", "c"}, []string{"c", "a", "d", "a"})
	want := []rag.Fused{
		{ID: "a", Score: 1.0/61 + 1.0/62, Ranks: []int{1, 2}},
		{ID: "c", Score: 1.0/63 + 1.0/61, Ranks: []int{3, 1}},
		{ID: "b", Score: 1.0 / 62, Ranks: []int{2, 0}},
		{ID: "d", Score: 1.0 / 63, Ranks: []int{0, 3}},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("Fuse (-want +got):\n%s", diff)
	}
	if got := rag.Fuse(); len(got) != 0 {
		t.Errorf("Fuse() = %v", got)
	}
}

func TestSearchTool(t *testing.T) {
	e := seed(t)
	tool := rag.SearchTool(e.r)
	if tool.Name != "rag.search" || tool.Description == "" {
		t.Fatalf("tool = %q %q", tool.Name, tool.Description)
	}
	schema, err := json.Marshal(tool.Parameters)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"required":["query"]`, `"additionalProperties":false`, `"enum":["hybrid","vector","lexical"]`} {
		if !strings.Contains(string(schema), want) {
			t.Errorf("schema %s lacks %s", schema, want)
		}
	}
	out, err := tool.Call(t.Context(), json.RawMessage(`{"query":"入院记录时限","k":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res := out.(rag.SearchResult)
	if len(res.Hits) != 1 || res.Hits[0].ChunkID != rag.ChunkID("norms", "admission", 0) || res.Hits[0].Heading != "时限" ||
		!strings.Contains(res.Hits[0].Citation, "病历书写基本规范") {
		t.Errorf("hits = %+v", res.Hits)
	}
	bad := []string{`{"q":"x"}`, `{"query":""}`, `[1]`, `{"query":"x","k":11}`, `{"query":"x","mode":"magic"}`}
	for _, args := range bad {
		if _, err := tool.Call(t.Context(), json.RawMessage(args)); clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Errorf("Call(%s) err = %v, want invalid", args, err)
		}
	}
	if _, err := tool.Call(t.Context(), json.RawMessage(`{"query":"`+strings.Repeat("x", 20000)+`"}`)); clinic.ErrorCode(err) != clinic.CodeTooLarge {
		t.Errorf("huge args err = %v, want too_large", err)
	}
}

// downStore fails every read as an unreachable database would.
type downStore struct{ *ragtest.Store }

func (downStore) ScanChunks(context.Context, string, func(store.Chunk) error) error {
	return clinic.NewError(clinic.CodeUnavailable, "", "database down", "数据库不可用")
}

func TestSearchStoreDown(t *testing.T) {
	st := downStore{ragtest.NewStore()}
	emb, err := embed.New(embed.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rag.New(rag.Config{Store: st, Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a failed load is retried by the next search
		if _, err := r.Search(t.Context(), rag.Query{Text: "x"}); clinic.ErrorCode(err) != clinic.CodeUnavailable {
			t.Fatalf("err = %v, want unavailable", err)
		}
	}
}
