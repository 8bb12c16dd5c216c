package sqlite_test

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
	"github.com/yizhu-health/yizhu/store/sqlite"
	"github.com/yizhu-health/yizhu/store/storetest"
)

// open opens a fresh database in a temporary directory and returns it with
// its file path.
func open(t testing.TB) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "yizhu.db")
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// rawExec runs one statement on the database file through a separate
// connection, bypassing the store.
func rawExec(t *testing.T, path string) func(ctx context.Context, query string, args ...any) error {
	return func(ctx context.Context, query string, args ...any) error {
		raw, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
		if err != nil {
			return err
		}
		defer raw.Close()
		_, err = raw.ExecContext(ctx, query, args...)
		return err
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		db, path := open(t)
		return storetest.Harness{Store: db, Exec: rawExec(t, path)}
	})
}

func TestReopenKeepsDataAndIndex(t *testing.T) {
	ctx := t.Context()
	db, path := open(t)
	c := storetest.Corpus{Seed: 1, Collection: "g", Chunks: 300, Dim: 16, PerDoc: 50}
	if err := c.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	q := store.VectorQuery{Collection: "g", Vector: c.Queries(1)[0], K: 5}
	before, err := db.SearchVectors(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDocument(ctx, "g", "doc-000001"); err != nil {
		t.Fatal(err)
	}
	afterDelete, err := db.SearchVectors(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for range 2 {
		db2, err := sqlite.Open(ctx, sqlite.Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db2.SearchVectors(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(afterDelete, got); d != "" {
			t.Errorf("search after reopen differs (-before +after):\n%s", d)
		}
		db2.Close()
	}
	if len(before) != 5 {
		t.Errorf("search returned %d hits, want 5", len(before))
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("schema_migrations has %d rows after three opens, want 1", n)
	}
}

// TestSearchMatchesBruteForce checks the in-memory index against cosine
// similarity computed here from the stored embeddings, over replaced and
// deleted documents and tag filters.
func TestSearchMatchesBruteForce(t *testing.T) {
	ctx := t.Context()
	db, _ := open(t)
	c := storetest.Corpus{Seed: 9, Collection: "g", Chunks: 1000, Dim: 8, PerDoc: 40, Clusters: 5}
	if err := c.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	// Replace and delete some documents so rows move inside the index.
	other := storetest.Corpus{Seed: 10, Collection: "g", Chunks: 120, Dim: 8, PerDoc: 40}
	if err := other.Docs(func(d store.Document, cs []store.Chunk) error {
		_, err := db.ReplaceDocument(ctx, d, cs)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"doc-000005", "doc-000020", "doc-000024"} {
		if err := db.DeleteDocument(ctx, "g", id); err != nil {
			t.Fatal(err)
		}
	}
	var all []store.Chunk
	if err := db.ScanChunks(ctx, "g", func(c store.Chunk) error { all = append(all, c); return nil }); err != nil {
		t.Fatal(err)
	}
	for i, qv := range c.Queries(20) {
		tags := []string(nil)
		if i%2 == 1 {
			tags = []string{"t3"}
		}
		type scored struct {
			id    string
			score float64
		}
		var want []scored
		for _, ch := range all {
			if tags != nil && !slices.Contains(ch.Tags, "t3") {
				continue
			}
			want = append(want, scored{ch.ID, cosine(qv, ch.Embedding)})
		}
		slices.SortFunc(want, func(a, b scored) int { return cmpFloat(b.score, a.score) })
		want = want[:10]
		hits, err := db.SearchVectors(ctx, store.VectorQuery{Collection: "g", Vector: qv, K: 10, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 10 {
			t.Fatalf("query %d: %d hits", i, len(hits))
		}
		for j, h := range hits {
			if math.Abs(h.Score-want[j].score) > 1e-5 {
				t.Errorf("query %d hit %d: %s score %.6f, want %s score %.6f", i, j, h.ID, h.Score, want[j].id, want[j].score)
			}
		}
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestOpenErrors(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		_, err := sqlite.Open(t.Context(), sqlite.Config{Path: path})
		if clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Errorf("Open(%q) = %v, want invalid", path, err)
		}
	}
	_, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "missing-dir", "x.db")})
	if err == nil {
		t.Error("Open in a missing directory succeeded")
	}
}

func BenchmarkReplaceDocument(b *testing.B) {
	db, _ := open(b)
	storetest.BenchmarkReplace(b, db, storetest.Corpus{Seed: 3, Collection: "ingest", Dim: 256})
}

// BenchmarkSearchVectors searches a 100,000-chunk clustered collection of
// dimension 256 with the in-memory exact index.
func BenchmarkSearchVectors(b *testing.B) {
	db, _ := open(b)
	c := storetest.Corpus{Seed: 11, Collection: "bench", Chunks: 100_000, Dim: 256}
	if err := c.Load(b.Context(), db); err != nil {
		b.Fatal(err)
	}
	queries := c.Queries(500)
	b.Run("Exact", func(b *testing.B) {
		storetest.BenchmarkSearch(b, db, store.VectorQuery{Collection: c.Collection, K: 10}, queries)
	})
	b.Run("Tag", func(b *testing.B) {
		storetest.BenchmarkSearch(b, db, store.VectorQuery{Collection: c.Collection, K: 10, Tags: []string{"t2"}}, queries)
	})
	b.Run("AllCollections", func(b *testing.B) {
		storetest.BenchmarkSearch(b, db, store.VectorQuery{K: 10}, queries)
	})
}
