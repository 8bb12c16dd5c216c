package rag_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/corpus"
	"github.com/yizhu-health/yizhu/store"
	"github.com/yizhu-health/yizhu/store/sqlite"
)

func TestZZExpDump(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("EXP_N"))
	if n == 0 {
		t.Skip()
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	e := newStoreEnv(t, st, func(c *rag.IngesterConfig) { c.MaxBytes = 8 << 20 })
	ins := syntheticInputs("c", n/100, 100, 42)
	if os.Getenv("EXP_GEN") == "uniform" {
		ins = uniformInputs("c", n/100, 100, 42)
	}
	for s := 0; s < len(ins); s += rag.MaxBatch {
		if _, err := e.ing.IngestAll(ctx, ins[s:min(s+rag.MaxBatch, len(ins))]); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, os.Getenv("YIZHU_TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	pgxvec.RegisterTypes(ctx, conn)
	tab := "exp" + os.Getenv("EXP_GEN") + strconv.Itoa(n)
	conn.Exec(ctx, "DROP TABLE IF EXISTS "+tab+"; CREATE TABLE "+tab+" (id int primary key, emb vector(512))")
	var rows [][]any
	st.ScanChunks(ctx, "c", func(c store.Chunk) error {
		rows = append(rows, []any{len(rows), pgvector.NewVector(c.Embedding)})
		return nil
	})
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{tab}, []string{"id", "emb"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	qs, _ := rag.LoadQuestions(bytes.NewReader(corpus.Questions()))
	conn.Exec(ctx, "DROP TABLE IF EXISTS expq; CREATE TABLE expq (id int primary key, emb vector(512))")
	rows = nil
	for i, q := range qs {
		v, _ := e.emb.EmbedQuery(ctx, q.Question)
		rows = append(rows, []any{i, pgvector.NewVector(v)})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"expq"}, []string{"id", "emb"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	conn.Exec(ctx, "DROP TABLE IF EXISTS expq2; CREATE TABLE expq2 (id int primary key, emb vector(512))")
	rows = nil
	for i, q := range syntheticQueries(200, n/100, 100, 42) {
		v, _ := e.emb.EmbedQuery(ctx, q)
		rows = append(rows, []any{i, pgvector.NewVector(v)})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"expq2"}, []string{"id", "emb"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d chunks, %d queries", n, len(qs))
}
