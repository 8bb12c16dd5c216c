package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store/pgtest"
	"github.com/yizhu-health/yizhu/store/postgres"
	"github.com/yizhu-health/yizhu/store/storetest"
)

// open opens a store in a fresh schema of the test server.
func open(t testing.TB) (*postgres.DB, string, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	schema := pgtest.NewSchema(t, dsn)
	db, err := postgres.Open(context.Background(), postgres.Config{DSN: dsn, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn, schema
}

// rawExec runs one statement in the schema through its own connection,
// bypassing the store.
func rawExec(dsn string) func(ctx context.Context, query string, args ...any) error {
	return func(ctx context.Context, query string, args ...any) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, query, args...)
		return err
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		db, dsn, schema := open(t)
		return storetest.Harness{Store: db, Exec: rawExec(pgtest.SchemaDSN(dsn, schema))}
	})
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// Port 1 on loopback has no server: the connection is refused at once.
	_, err := postgres.Open(ctx, postgres.Config{DSN: "postgres://nobody:secret@127.0.0.1:1/db", ConnectTimeout: 2 * time.Second})
	if clinic.ErrorCode(err) != clinic.CodeUnavailable {
		t.Fatalf("Open of an unreachable server: %v, want an unavailable error", err)
	}
	en, _ := clinic.ErrorMessages(err)
	if en == "" || containsSecret(err.Error()) {
		t.Errorf("message %q (full error %q) should name the server and not the password", en, err)
	}
	_, err = postgres.Open(ctx, postgres.Config{DSN: "postgres://%zz"})
	if clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("Open of a malformed DSN: %v, want invalid", err)
	}
}

func containsSecret(s string) bool {
	for i := 0; i+6 <= len(s); i++ {
		if s[i:i+6] == "secret" {
			return true
		}
	}
	return false
}

func TestReopenIsNoOp(t *testing.T) {
	db, dsn, schema := open(t)
	db.Close()
	for range 2 {
		db, err := postgres.Open(t.Context(), postgres.Config{DSN: dsn, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	conn, err := pgx.Connect(t.Context(), pgtest.SchemaDSN(dsn, schema))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("schema_migrations has %d rows after three opens, want 1", n)
	}
}
