package ragtest_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag/ragtest"
	"github.com/yizhu-health/yizhu/store"
)

func doc(id, hash string) store.Document {
	return store.Document{Collection: "c", ID: id, Hash: hash}
}

func ch(id string, ord int, v ...float32) store.Chunk {
	return store.Chunk{ID: id, Ordinal: ord, Text: id, Embedding: v}
}

func TestStoreContract(t *testing.T) {
	ctx := t.Context()
	s := ragtest.NewStore()
	ok, err := s.ReplaceDocument(ctx, doc("d1", "h1"), []store.Chunk{ch("b", 1, 0, 1), ch("a", 0, 1, 0)})
	if err != nil || !ok {
		t.Fatalf("first replace = %t, %v", ok, err)
	}
	if ok, err := s.ReplaceDocument(ctx, doc("d1", "h1"), nil); ok || err != nil {
		t.Fatalf("same hash = %t, %v, want false, nil", ok, err)
	}
	tests := []struct {
		name   string
		doc    store.Document
		chunks []store.Chunk
		code   clinic.Code
	}{
		{"wrong dimension", doc("d2", "x"), []store.Chunk{ch("z", 0, 1, 0, 0)}, clinic.CodeInvalid},
		{"mixed dimensions", doc("d1", "h2"), []store.Chunk{ch("a", 0, 1, 0), ch("y", 1, 1)}, clinic.CodeInvalid},
		{"duplicate ID of another document", doc("d2", "x"), []store.Chunk{ch("a", 0, 1, 0)}, clinic.CodeConflict},
		{"no embedding", doc("d2", "x"), []store.Chunk{ch("q", 0)}, clinic.CodeInvalid},
		{"no ID", store.Document{Collection: "c"}, nil, clinic.CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			writes := s.Writes()
			_, err := s.ReplaceDocument(ctx, tc.doc, tc.chunks)
			if clinic.ErrorCode(err) != tc.code || s.Writes() != writes {
				t.Fatalf("err = %v (writes %d→%d), want %s and no write", err, writes, s.Writes(), tc.code)
			}
		})
	}
	// The only document may change dimension when replaced.
	if _, err := s.ReplaceDocument(ctx, doc("d1", "h3"), []store.Chunk{ch("a", 0, 1, 0, 0), ch("b", 1, 0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	hits, err := s.SearchVectors(ctx, store.VectorQuery{Collection: "c", Vector: []float32{0, 2, 0}, K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].ID != "b" || hits[0].Score != 1 || hits[1].Score != 0 {
		t.Fatalf("hits = %+v", hits)
	}
	hits[0].Embedding[0] = 99
	var scanned []string
	err = s.ScanChunks(ctx, "c", func(c store.Chunk) error {
		if c.Embedding[0] == 99 {
			t.Error("store shares embeddings with callers")
		}
		scanned = append(scanned, c.ID)
		return nil
	})
	if err != nil || !cmp.Equal(scanned, []string{"a", "b"}) {
		t.Fatalf("scan = %v, %v", scanned, err)
	}
	stop := errors.New("stop")
	if err := s.ScanChunks(ctx, "", func(store.Chunk) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("scan error = %v, want stop", err)
	}
	if _, err := s.SearchVectors(ctx, store.VectorQuery{Collection: "c", Vector: []float32{1}, K: 1}); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("query dimension mismatch: %v", err)
	}
	if err := s.DeleteDocument(ctx, "c", "d1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDocument(ctx, "c", "d1"); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("second delete: %v", err)
	}
	docs, _ := s.Documents(ctx, "")
	if len(docs) != 0 {
		t.Errorf("documents after delete = %v", docs)
	}
}

func TestSearchVectorsTags(t *testing.T) {
	ctx := t.Context()
	s := ragtest.NewStore()
	a := ch("a", 0, 1, 0)
	a.Tags = []string{"x", "y"}
	b := ch("b", 1, 1, 0)
	b.Tags = []string{"x"}
	if _, err := s.ReplaceDocument(ctx, doc("d", "h"), []store.Chunk{a, b}); err != nil {
		t.Fatal(err)
	}
	hits, err := s.SearchVectors(ctx, store.VectorQuery{Tags: []string{"x", "y"}, Vector: []float32{1, 0}, K: 10})
	if err != nil || len(hits) != 1 || hits[0].ID != "a" {
		t.Fatalf("hits = %+v, %v", hits, err)
	}
}
