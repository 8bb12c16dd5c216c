package rag_test

import (
	"os"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/rag"
)

func TestGlossaryExpansion(t *testing.T) {
	e := newEnv(t)
	docs := []rag.Input{
		{Name: "consult.md", Data: []byte("# 会诊记录\n急会诊时会诊医师应当在10分钟内到场。")},
		{Name: "stemi.md", Data: []byte("# STEMI\nST elevation in two contiguous leads.")},
		{Name: "other.md", Data: []byte("# 出院记录\n出院记录在出院后24小时内完成。")},
	}
	for _, d := range docs {
		if _, err := e.ing.Ingest(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	plain, err := rag.New(rag.Config{Store: e.store, Embedder: e.r.Embedder(), NoExpansion: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query, want string
	}{
		{"How fast must the consultant arrive for an emergency consultation?", "consult"},
		{"什么是相邻导联", "stemi"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			hits, err := e.r.Search(t.Context(), rag.Query{Text: tc.query, K: 1, Mode: rag.ModeLexical})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 1 || hits[0].DocumentID != tc.want {
				t.Fatalf("with glossary: %+v, want %s", hits, tc.want)
			}
			hits, err = plain.Search(t.Context(), rag.Query{Text: tc.query, K: 1, Mode: rag.ModeLexical})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 1 && hits[0].DocumentID == tc.want {
				t.Errorf("without glossary the cross-language query still found %s: the test proves nothing", tc.want)
			}
		})
	}
}

func TestGlossaryFile(t *testing.T) {
	data, err := os.ReadFile("glossary.tsv")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		en, zh, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(en) == "" || strings.TrimSpace(zh) == "" || strings.Contains(zh, "\t") {
			t.Errorf("line %d: %q is not \"english<TAB>中文\"", i+1, line)
		}
		if seen[en] {
			t.Errorf("line %d: %q repeated", i+1, en)
		}
		seen[en] = true
	}
}
