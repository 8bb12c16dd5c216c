// Package pgtest gives tests a real PostgreSQL server with pgvector. The
// server is named by the environment variable YIZHU_TEST_DATABASE_URL (a
// DSN; scripts/pg-up.sh prints one). When the variable is unset the test is
// skipped with a message naming it, unless YIZHU_REQUIRE_PG=1 (set by
// `make test` and CI), in which case it fails: database tests may be skipped
// on a laptop but never in CI.
//
// Each test gets its own schema from [NewSchema], dropped when the test
// ends, so tests can run in parallel against one database without seeing
// each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN and EnvRequire are the environment variables pgtest reads.
const (
	EnvDSN     = "YIZHU_TEST_DATABASE_URL"
	EnvRequire = "YIZHU_REQUIRE_PG"
)

// DSN returns the test server's DSN, or skips the test (fails it when
// YIZHU_REQUIRE_PG=1) if YIZHU_TEST_DATABASE_URL is unset.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn != "" {
		return dsn
	}
	msg := EnvDSN + " is unset: set it to a PostgreSQL DSN with pgvector (scripts/pg-up.sh prints one) to run this test"
	if os.Getenv(EnvRequire) == "1" {
		t.Fatal(msg + " (" + EnvRequire + "=1 requires it)")
	}
	t.Skip(msg)
	return ""
}

// NewSchema creates a new, empty schema with a random name on the server at
// dsn and drops it (with everything in it) when the test ends. It returns
// the schema name, which needs no quoting.
func NewSchema(t testing.TB, dsn string) string {
	t.Helper()
	name := "t_" + strings.ToLower(rand.Text()[:16])
	exec(t, dsn, `CREATE SCHEMA `+name)
	t.Cleanup(func() { exec(t, dsn, `DROP SCHEMA IF EXISTS `+name+` CASCADE`) })
	return name
}

// SchemaDSN returns dsn with search_path set to schema, then public (where
// the vector extension lives), for code that takes only a DSN.
func SchemaDSN(dsn, schema string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema + ",public"
	}
	return dsn + sep + "search_path=" + schema + "%2Cpublic"
}

func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
