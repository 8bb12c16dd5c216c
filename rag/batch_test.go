package rag_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag"
)

func TestIngestOverrides(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t)
	in := rag.Input{Collection: "c", Name: "limits.md", Data: []byte(noteV1),
		Title: "本院时限", Source: "某院病历管理制度（2025）", Version: "v3", EffectiveDate: "2025-07-01"}
	res, err := e.ing.Ingest(ctx, in)
	if err != nil || res.Title != "本院时限" || res.Status != rag.StatusAdded {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	hits, err := e.r.Search(ctx, rag.Query{Text: "首次病程记录", Collection: "c", K: 1})
	if err != nil || len(hits) != 1 {
		t.Fatalf("search: %+v %v", hits, err)
	}
	h := hits[0]
	if h.Title != "本院时限" || h.Source != "某院病历管理制度（2025）" || h.Version != "v3" || h.EffectiveDate != "2025-07-01" {
		t.Errorf("hit metadata %+v", h)
	}
	// Changing only an override changes the hash: the document is replaced.
	in.Version = "v4"
	if res, err := e.ing.Ingest(ctx, in); err != nil || res.Status != rag.StatusReplaced {
		t.Errorf("changed override: %+v %v", res, err)
	}
	// Without overrides the hash is the one front matter alone gives.
	plain := newEnv(t)
	a, _ := plain.ing.Ingest(ctx, rag.Input{Collection: "c", Name: "limits.md", Data: []byte(noteV1)})
	b, _ := plain.ing.Ingest(ctx, rag.Input{Collection: "c", Name: "limits.md", Data: []byte(noteV1)})
	if a.Status != rag.StatusAdded || b.Status != rag.StatusSkipped {
		t.Errorf("plain re-ingest: %s then %s", a.Status, b.Status)
	}

	bad := []struct {
		name  string
		in    rag.Input
		field string
	}{
		{"date", rag.Input{EffectiveDate: "2025-02-30"}, "effective_date"},
		{"date format", rag.Input{EffectiveDate: "2025/07/01"}, "effective_date"},
		{"long title", rag.Input{Title: strings.Repeat("长", 501)}, "title"},
		{"control character", rag.Input{Source: "a\x07b"}, "source"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Name, tc.in.Data = "x.md", []byte(noteV1)
			_, err := e.ing.Ingest(ctx, tc.in)
			ce, ok := errors.AsType[*clinic.Error](err)
			if !ok || ce.Code != clinic.CodeInvalid || ce.Field != tc.field || ce.MessageZH == "" {
				t.Fatalf("err = %#v, want invalid %s", err, tc.field)
			}
		})
	}
}

func TestIngestAll(t *testing.T) {
	ctx := t.Context()
	t.Run("all good", func(t *testing.T) {
		e := newEnv(t)
		res, err := e.ing.IngestAll(ctx, []rag.Input{
			{Collection: "a", Name: "one.md", Data: []byte(noteV1)},
			{Collection: "b", Name: "one.md", Data: []byte(noteV1)}, // same ID, other collection
			{Name: "two.txt", Data: []byte("血钾高于6.5 mmol/L属于危急值。")},
		})
		if err != nil || len(res) != 3 {
			t.Fatalf("%+v %v", res, err)
		}
		for _, r := range res {
			if r.Status != rag.StatusAdded || r.Chunks == 0 {
				t.Errorf("%+v", r)
			}
		}
		if res[2].Collection != rag.DefaultCollection {
			t.Errorf("default collection %q", res[2].Collection)
		}
		res, err = e.ing.IngestAll(ctx, []rag.Input{{Collection: "a", Name: "one.md", Data: []byte(noteV1)}})
		if err != nil || res[0].Status != rag.StatusSkipped {
			t.Errorf("re-ingest: %+v %v", res, err)
		}
	})
	bad := []struct {
		name  string
		ins   []rag.Input
		code  clinic.Code
		field string
	}{
		{"none", nil, clinic.CodeInvalid, "documents"},
		{"too many", make([]rag.Input, rag.MaxBatch+1), clinic.CodeTooLarge, "documents"},
		{"bad second", []rag.Input{{Name: "a.md", Data: []byte(noteV1)}, {Name: "b.md"}}, clinic.CodeInvalid, "documents[1].file"},
		{"duplicate", []rag.Input{{Name: "a.md", Data: []byte(noteV1)}, {Name: "dir/a.md", Data: []byte(noteV1)}}, clinic.CodeInvalid, "documents[1].id"},
		{"oversize third", []rag.Input{{Name: "a.md", Data: []byte(noteV1)}, {Name: "b.md", Data: []byte(noteV1)},
			{Name: "c.md", Data: []byte(strings.Repeat("字", 2000))}}, clinic.CodeTooLarge, "documents[2].file"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *rag.IngesterConfig) { c.MaxBytes = 4096 })
			res, err := e.ing.IngestAll(ctx, tc.ins)
			ce, ok := errors.AsType[*clinic.Error](err)
			if !ok || ce.Code != tc.code || ce.Field != tc.field {
				t.Fatalf("err = %v, want %s on %s", err, tc.code, tc.field)
			}
			en, zh := clinic.ErrorMessages(err)
			if strings.HasPrefix(tc.field, "documents[") && (!strings.Contains(en, "document ") || !strings.Contains(zh, "个文档")) {
				t.Errorf("messages do not name the document: %q / %q", en, zh)
			}
			if e.store.Writes() != 0 {
				t.Errorf("%d writes for a rejected batch", e.store.Writes())
			}
			if n := len(res); n > 0 && res[n-1].Status != rag.StatusError {
				t.Errorf("last result %+v, want error", res[n-1])
			}
		})
	}
	t.Run("embedder failure stops at that document", func(t *testing.T) {
		e := newEnv(t)
		flaky := &failingEmbedder{Embedder: e.r.Embedder(), failAt: 2}
		ing, err := rag.NewIngester(rag.IngesterConfig{Store: e.store, Embedder: flaky})
		if err != nil {
			t.Fatal(err)
		}
		var ins []rag.Input
		for i := range 3 {
			ins = append(ins, rag.Input{Name: fmt.Sprintf("d%d.md", i), Data: []byte(noteV1)})
		}
		res, err := ing.IngestAll(ctx, ins)
		if err == nil || len(res) != 2 || res[0].Status != rag.StatusAdded || res[1].Status != rag.StatusError {
			t.Fatalf("results %+v, err %v", res, err)
		}
		if !strings.Contains(err.Error(), "documents[1]") && !strings.Contains(err.Error(), "document 1") {
			t.Errorf("error does not name the document: %v", err)
		}
		if e.store.Writes() != 1 {
			t.Errorf("%d writes, want the first document only", e.store.Writes())
		}
	})
}
