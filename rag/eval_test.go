package rag_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/corpus"
	"github.com/yizhu-health/yizhu/store"
)

// TestCorpusEval ingests the starter corpus with the built-in embedder and
// measures recall@5 and MRR of each mode on the corpus question set.
func TestCorpusEval(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t)
	res := mustIngestFS(t, ctx, e.ing, corpus.FS(), rag.DefaultCollection)
	if len(res) < 40 {
		t.Fatalf("corpus has %d documents, want at least 40", len(res))
	}
	qs, err := rag.LoadQuestions(bytes.NewReader(corpus.Questions()))
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 150 {
		t.Fatalf("question set has %d questions, want at least 150", len(qs))
	}
	rep, err := rag.Evaluate(ctx, e.r, rag.DefaultCollection, qs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Scores {
		t.Logf("%-8s recall@5 %.3f  MRR %.3f  (%d questions, %d misses; zh %.3f/%.3f, en %.3f/%.3f)",
			s.Mode, s.RecallAt5, s.MRR, s.Questions, len(s.Misses),
			s.ByLang["zh"].RecallAt5, s.ByLang["zh"].MRR, s.ByLang["en"].RecallAt5, s.ByLang["en"].MRR)
		if n := s.ByLang["zh"].Questions + s.ByLang["en"].Questions; n != s.Questions {
			t.Errorf("%s: language breakdown covers %d of %d questions", s.Mode, n, s.Questions)
		}
		if testing.Verbose() {
			for _, id := range s.Misses {
				for _, q := range qs {
					if q.ID == id {
						t.Logf("  miss %s %s %q", s.Mode, id, q.Question)
					}
				}
			}
		}
	}
	// Without the bilingual glossary, for comparison (logged only).
	plain, err := rag.New(rag.Config{Store: e.store, Embedder: e.r.Embedder(), NoExpansion: true})
	if err != nil {
		t.Fatal(err)
	}
	plainRep, err := rag.Evaluate(ctx, plain, rag.DefaultCollection, qs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plainRep.Scores {
		t.Logf("no glossary: %-8s recall@5 %.3f  MRR %.3f", s.Mode, s.RecallAt5, s.MRR)
	}
	hybrid, _ := rep.Score(rag.ModeHybrid)
	if hybrid.RecallAt5 < 0.9 {
		t.Errorf("hybrid recall@5 = %.3f, want ≥ 0.9", hybrid.RecallAt5)
	}
	for _, m := range []rag.Mode{rag.ModeVector, rag.ModeLexical} {
		if s, _ := rep.Score(m); s.RecallAt5 < 0.6 {
			t.Errorf("%s recall@5 = %.3f, want ≥ 0.6", m, s.RecallAt5)
		}
	}
}

// TestCorpusGoldExists checks that every gold (document, heading) of the
// question set names a heading that the ingested corpus has, so a typo in
// the set cannot silently lower recall.
func TestCorpusGoldExists(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t)
	mustIngestFS(t, ctx, e.ing, corpus.FS(), rag.DefaultCollection)
	headings := make(map[string][]string) // doc → every heading of its chunks
	docs, err := e.store.Documents(ctx, rag.DefaultCollection)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		headings[d.ID] = nil
	}
	err = e.store.ScanChunks(ctx, rag.DefaultCollection, func(c store.Chunk) error {
		headings[c.DocumentID] = append(headings[c.DocumentID], c.HeadingPath...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	qs, err := rag.LoadQuestions(bytes.NewReader(corpus.Questions()))
	if err != nil {
		t.Fatal(err)
	}
	langs := map[string]int{}
	for _, q := range qs {
		langs[q.Lang]++
		for _, g := range q.Gold {
			hs, ok := headings[g.Doc]
			if !ok {
				t.Errorf("%s: gold document %q is not in the corpus", q.ID, g.Doc)
				continue
			}
			if g.Heading != "" && !slices.Contains(hs, g.Heading) {
				t.Errorf("%s: document %q has no heading %q", q.ID, g.Doc, g.Heading)
			}
		}
	}
	if langs["zh"] == 0 || langs["en"] == 0 || langs["zh"]+langs["en"] != len(qs) {
		t.Errorf("languages = %v, want zh and en only", langs)
	}
	for id := range headings {
		used := false
		for _, q := range qs {
			for _, g := range q.Gold {
				used = used || g.Doc == id
			}
		}
		if !used {
			t.Errorf("document %s is the answer to no question", id)
		}
	}
}

func TestLoadQuestions(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{"ok", `{"id":"a","lang":"zh","q":"问题","gold":[{"doc":"d","heading":"h"}]}` + "\n\n" + `{"id":"b","q":"x","gold":[{"doc":"d"}]}`, 2, ""},
		{"unknown field", `{"id":"a","q":"x","gold":[{"doc":"d"}],"extra":1}`, 0, "line 1"},
		{"duplicate", `{"id":"a","q":"x","gold":[{"doc":"d"}]}` + "\n" + `{"id":"a","q":"y","gold":[{"doc":"d"}]}`, 0, "duplicate"},
		{"no gold", `{"id":"a","q":"x"}`, 0, "gold"},
		{"empty doc", `{"id":"a","q":"x","gold":[{"heading":"h"}]}`, 0, "gold.doc"},
		{"no text", `{"id":"a","q":"  ","gold":[{"doc":"d"}]}`, 0, "q is required"},
		{"bad json", `{"id":`, 0, "bad JSON"},
		{"two values", `{"id":"a","q":"x","gold":[{"doc":"d"}]} {}`, 0, "more than one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			qs, err := rag.LoadQuestions(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || clinic.ErrorCode(err) != clinic.CodeInvalid {
					t.Fatalf("err = %v, want invalid containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(qs) != tc.want {
				t.Fatalf("got %d questions, want %d", len(qs), tc.want)
			}
		})
	}
}

func FuzzLoadQuestions(f *testing.F) {
	f.Add(`{"id":"a","lang":"zh","q":"问题","gold":[{"doc":"d","heading":"h"}]}`)
	f.Add("{}\n[]\n")
	f.Fuzz(func(t *testing.T, in string) {
		qs, err := rag.LoadQuestions(strings.NewReader(in))
		if err != nil {
			if clinic.ErrorCode(err) == clinic.CodeInternal {
				t.Fatalf("unexpected internal error: %v", err)
			}
			return
		}
		for _, q := range qs {
			if q.ID == "" || strings.TrimSpace(q.Question) == "" || len(q.Gold) == 0 {
				t.Fatalf("accepted an incomplete question %+v", q)
			}
		}
	})
}
