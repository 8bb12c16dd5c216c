package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Config configures Open.
type Config struct {
	// DSN is a PostgreSQL connection string (URL or key=value form).
	DSN string
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock for store-set times; nil means time.Now.
	Now func() time.Time
	// Schema, when set, is created if missing and put first on every
	// connection's search_path (then public, where pgvector lives), so the
	// store's tables live there. Tests use it to isolate each test.
	Schema string
	// MaxConns bounds open connections; 0 means 8.
	MaxConns int
	// ConnectTimeout bounds each connection attempt when the DSN sets no
	// connect_timeout; 0 means 5s.
	ConnectTimeout time.Duration
	// EfSearch is hnsw.ef_search for approximate searches (raised to K
	// when K is larger); 0 means 100.
	EfSearch int
	// HNSWM and HNSWEfConstruction are the m and ef_construction of new
	// HNSW indexes; 0 means 16 and 100.
	HNSWM, HNSWEfConstruction int
}

// DB is the PostgreSQL store. It implements store.Store; all methods are
// goroutine-safe.
type DB struct {
	*session

	pool   *pgxpool.Pool
	log    *slog.Logger
	now    func() time.Time
	cfg    Config
	mu     sync.Mutex
	vidx   map[string]bool // (collection, dim) pairs whose HNSW index exists
	closed sync.Once
}

var _ store.Store = (*DB)(nil)

// Open connects to PostgreSQL, applies the embedded migrations that are not
// yet recorded in schema_migrations (under an advisory lock, so replicas
// starting together apply each once) and returns the store. An unreachable
// server is an unavailable error after at most the connect timeout.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	poolCfg, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, clinic.NewError(clinic.CodeInvalid, "dsn",
			"the PostgreSQL DSN cannot be parsed", "PostgreSQL 连接串无法解析")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 8
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	pc := poolCfg.ConnConfig
	if pc.ConnectTimeout == 0 {
		pc.ConnectTimeout = cfg.ConnectTimeout
	}
	if cfg.EfSearch <= 0 {
		cfg.EfSearch = 100
	}
	if cfg.HNSWM <= 0 {
		cfg.HNSWM = 16
	}
	if cfg.HNSWEfConstruction <= 0 {
		cfg.HNSWEfConstruction = 100
	}
	if cfg.Schema != "" {
		if len(cfg.Schema) > 63 || strings.ContainsRune(cfg.Schema, 0) {
			return nil, clinic.NewError(clinic.CodeInvalid, "schema", "the schema name is not valid", "模式名无效")
		}
		pc.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize() + ", public"
	}
	db := &DB{log: cfg.Logger, now: cfg.Now, cfg: cfg, vidx: map[string]bool{}}
	db.session = &session{db: db}
	if err := db.migrate(ctx, pc.Copy()); err != nil {
		return nil, err
	}
	poolCfg.MaxConns = int32(min(cfg.MaxConns, 1<<20))
	poolCfg.AfterConnect = pgxvec.RegisterTypes
	if db.pool, err = pgxpool.NewWithConfig(ctx, poolCfg); err != nil {
		return nil, db.fail("Open", err)
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the connections. It is safe to call more than once.
func (db *DB) Close() error {
	db.closed.Do(func() {
		if db.pool != nil {
			db.pool.Close()
		}
	})
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return db.fail("Ping", unreachable(db.pool.Config().ConnConfig, err))
	}
	return nil
}

func (db *DB) migrate(ctx context.Context, pc *pgx.ConnConfig) error {
	ms, err := store.Migrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return db.fail("Open", unreachable(pc, err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if db.cfg.Schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{db.cfg.Schema}.Sanitize()); err != nil {
			return db.fail("Open", err)
		}
	}
	var haveVector bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')`).Scan(&haveVector); err != nil {
		return db.fail("Open", err)
	}
	if !haveVector {
		if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public`); err != nil {
			return db.fail("Open", clinic.Wrap(err, clinic.CodeUnavailable,
				"the pgvector extension is not installed and cannot be created (CREATE EXTENSION vector needs a privileged role)",
				"数据库未安装 pgvector 扩展且无权创建"))
		}
	}
	lock := lockKey("yizhu.migrate", db.cfg.Schema)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return db.fail("Open", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`); err != nil {
		return db.fail("Open", err)
	}
	for _, m := range ms {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, store.Now(db.now))
			if err == nil {
				db.log.Info("applied migration", "migration", m.Name)
			}
			return err
		})
		if err != nil {
			return db.fail("Open", err)
		}
	}
	return nil
}

// unreachable is the error for a failed connection attempt: unavailable,
// naming the server but not the password.
func unreachable(pc *pgx.ConnConfig, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && !strings.HasPrefix(pe.Code, "08") && pe.Code != "57P03" && pe.Code != "53300" {
		return err // the server answered: authentication, missing database, …
	}
	addr := net.JoinHostPort(pc.Host, fmt.Sprint(pc.Port))
	return clinic.Wrap(err, clinic.CodeUnavailable,
		"cannot reach PostgreSQL at "+addr+" (within "+pc.ConnectTimeout.String()+")",
		"无法连接 PostgreSQL："+addr)
}

// lockKey returns an advisory-lock key for the given parts.
func lockKey(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(h.Sum64())
}

// fail wraps err with the operation, giving it a clinic code where the cause
// is known.
func (db *DB) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*clinic.Error](err); ok {
		return fmt.Errorf("postgres.%s: %w", op, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("postgres.%s: %w", op, clinic.Wrap(err, clinic.CodeUnavailable,
			"the database did not answer before the request ended", "数据库未在请求结束前响应"))
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return fmt.Errorf("postgres.%s: %w", op, clinic.Wrap(err, clinic.CodeConflict,
				"the value conflicts with a stored one", "与已存数据冲突"))
		case pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03" || pe.Code == "57014" ||
			strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "53") || strings.HasPrefix(pe.Code, "57P"):
			return fmt.Errorf("postgres.%s: %w", op, clinic.Wrap(err, clinic.CodeUnavailable,
				"the database is busy or going away", "数据库繁忙或不可用"))
		}
		return fmt.Errorf("postgres.%s: %w", op, err)
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || pgconn.Timeout(err) {
		return fmt.Errorf("postgres.%s: %w", op, clinic.Wrap(err, clinic.CodeUnavailable,
			"the database cannot be reached", "无法连接数据库"))
	}
	return fmt.Errorf("postgres.%s: %w", op, err)
}

// querier is what *pgxpool.Conn and pgx.Tx share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// queryBodies runs a query whose rows are one JSON body each and decodes
// them in order. It returns an empty, non-nil slice when no row matches.
func queryBodies[T any](ctx context.Context, q querier, decode func([]byte) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var body []byte
		if err := row.Scan(&body); err != nil {
			var zero T
			return zero, err
		}
		return decode(body)
	})
}

// session carries out the store's methods outside any transaction (the
// root session of a DB) or inside one (tx set).
type session struct {
	db *DB
	tx *txState
}

// txState is one open transaction. A pgx connection runs one statement at a
// time, so calls on a transaction's Store from several goroutines take mu.
type txState struct {
	tx    pgx.Tx
	mu    sync.Mutex
	sp    int
	after []func() // run once the transaction commits
}

type txKey struct{}

func (s *session) bound(ctx context.Context) *session {
	if s.tx != nil {
		return s
	}
	if t, ok := ctx.Value(txKey{}).(*session); ok && t.db == s.db {
		return t
	}
	return s
}

// read runs fn on the transaction the call is bound to, or on a pooled
// connection.
func (s *session) read(ctx context.Context, op string, fn func(q querier) error) error {
	if b := s.bound(ctx); b.tx != nil {
		b.tx.mu.Lock()
		defer b.tx.mu.Unlock()
		return s.db.fail(op, fn(b.tx.tx))
	}
	c, err := s.db.pool.Acquire(ctx)
	if err != nil {
		return s.db.fail(op, unreachable(s.db.pool.Config().ConnConfig, err))
	}
	defer c.Release()
	return s.db.fail(op, fn(c))
}

// write runs fn atomically: in a new transaction, or under a savepoint of
// the open one.
func (s *session) write(ctx context.Context, op string, fn func(t *session) error) error {
	if b := s.bound(ctx); b.tx != nil {
		b.tx.mu.Lock()
		defer b.tx.mu.Unlock()
		return s.db.fail(op, b.savepoint(ctx, fn))
	}
	return s.db.fail(op, s.db.run(ctx, fn))
}

// run opens a transaction, runs fn and commits; an error or panic rolls
// back (a panic is re-raised after the rollback).
func (db *DB) run(ctx context.Context, fn func(t *session) error) error {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return unreachable(db.pool.Config().ConnConfig, err)
	}
	defer c.Release()
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	t := &session{db: db, tx: &txState{tx: tx}}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	committed = true
	for _, f := range t.tx.after {
		f()
	}
	return nil
}

// savepoint runs fn under a savepoint; the caller holds s.tx.mu when fn is
// a method body. An error or panic rolls back to the savepoint.
func (s *session) savepoint(ctx context.Context, fn func(t *session) error) error {
	t := s.tx
	t.sp++
	name := fmt.Sprintf("sp%d", t.sp)
	mark := len(t.after)
	if _, err := t.tx.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			bg := context.WithoutCancel(ctx)
			t.tx.Exec(bg, "ROLLBACK TO SAVEPOINT "+name)
			t.tx.Exec(bg, "RELEASE SAVEPOINT "+name)
			t.after = t.after[:mark]
		}
	}()
	if err := fn(s); err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return err
	}
	done = true
	return nil
}

// InTx runs fn with a Store bound to one transaction. The context given to
// fn carries the transaction: calls on the DB itself with that context join
// it. Nested calls join the outer transaction under a savepoint, so an
// inner error undoes only the inner writes.
func (s *session) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Store) error) error {
	b := s.bound(ctx)
	if b.tx == nil {
		return s.db.run(ctx, func(t *session) error {
			return fn(context.WithValue(ctx, txKey{}, t), &txStore{t})
		})
	}
	// The savepoint statements take the lock; fn itself runs without it,
	// since fn calls methods that take it.
	t := b.tx
	t.mu.Lock()
	t.sp++
	name := fmt.Sprintf("sp%d", t.sp)
	mark := len(t.after)
	_, err := t.tx.Exec(ctx, "SAVEPOINT "+name)
	t.mu.Unlock()
	if err != nil {
		return s.db.fail("InTx", err)
	}
	done := false
	defer func() {
		if !done {
			bg := context.WithoutCancel(ctx)
			t.mu.Lock()
			t.tx.Exec(bg, "ROLLBACK TO SAVEPOINT "+name)
			t.tx.Exec(bg, "RELEASE SAVEPOINT "+name)
			t.after = t.after[:mark]
			t.mu.Unlock()
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, b), &txStore{b}); err != nil {
		return err
	}
	t.mu.Lock()
	_, err = t.tx.Exec(ctx, "RELEASE SAVEPOINT "+name)
	t.mu.Unlock()
	if err != nil {
		return s.db.fail("InTx", err)
	}
	done = true
	return nil
}

// txStore is the Store handed to InTx's fn.
type txStore struct{ *session }

// Ping reports whether the database answers.
func (t *txStore) Ping(ctx context.Context) error { return t.db.Ping(ctx) }

// Close does nothing: the transaction ends when InTx returns.
func (t *txStore) Close() error { return nil }
