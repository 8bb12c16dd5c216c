package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Config configures Open.
type Config struct {
	// Path is the database file; it is created if missing. In-memory
	// databases are not supported (the store opens several connections).
	Path string
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock for store-set times; nil means time.Now.
	Now func() time.Time
	// BusyTimeout is how long a connection waits for a lock held by another
	// process before the call fails as unavailable; 0 means 10s.
	BusyTimeout time.Duration
	// Readers is the most read connections open at once; 0 means 4.
	Readers int
	// CheckpointEvery is the shortest time between two background WAL
	// checkpoints; 0 means 1s. Commits never checkpoint themselves.
	CheckpointEvery time.Duration
}

// DB is the embedded SQLite store. It implements store.Store; all methods
// are goroutine-safe.
type DB struct {
	*session // the root session: no transaction

	w, r   *sql.DB // w has one connection: the only writer
	ck     *sql.DB // one connection for background checkpoints
	cm     *committer
	cp     *checkpointer
	log    *slog.Logger
	now    func() time.Time
	idx    *vindex
	closed sync.Once
	cerr   error
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database at cfg.Path, applies the
// embedded migrations that are not yet recorded in schema_migrations and
// loads the vector index into memory.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Path == "" || strings.ContainsAny(cfg.Path, "?#") || cfg.Path == ":memory:" || strings.HasPrefix(cfg.Path, "file:") {
		return nil, clinic.NewError(clinic.CodeInvalid, "path",
			"the SQLite path must be a plain file path", "SQLite 路径须为普通文件路径")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BusyTimeout <= 0 {
		cfg.BusyTimeout = 10 * time.Second
	}
	if cfg.Readers <= 0 {
		cfg.Readers = 4
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = time.Second
	}
	params := fmt.Sprintf("?_busy_timeout=%d&_journal_mode=WAL&_foreign_keys=1&_synchronous=NORMAL",
		cfg.BusyTimeout.Milliseconds())
	// The writer never checkpoints: the checkpointer does, off the commit
	// path (see checkpointer).
	w, err := sql.Open("sqlite", cfg.Path+params+"&_txlock=immediate&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeUnavailable, "cannot open the SQLite database", "无法打开 SQLite 数据库")
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", cfg.Path+params+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, clinic.Wrap(err, clinic.CodeUnavailable, "cannot open the SQLite database", "无法打开 SQLite 数据库")
	}
	r.SetMaxOpenConns(cfg.Readers)
	r.SetMaxIdleConns(cfg.Readers)
	ck, err := sql.Open("sqlite", cfg.Path+params)
	if err != nil {
		w.Close()
		r.Close()
		return nil, clinic.Wrap(err, clinic.CodeUnavailable, "cannot open the SQLite database", "无法打开 SQLite 数据库")
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	db := &DB{w: w, r: r, ck: ck, log: cfg.Logger, now: cfg.Now, idx: newVindex()}
	db.session = &session{db: db}
	db.cp = newCheckpointer(ck, cfg.Logger, cfg.CheckpointEvery)
	db.cm = newCommitter(db)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.loadIndex(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database. It is safe to call more than once.
func (db *DB) Close() error {
	db.closed.Do(func() {
		db.cm.stop()
		db.cp.stop()
		db.cerr = errors.Join(db.ck.Close(), db.r.Close(), db.w.Close())
	})
	return db.cerr
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return db.fail("Ping", err)
	}
	return nil
}

func (db *DB) migrate(ctx context.Context) error {
	ms, err := store.Migrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return db.fail("migrate", err)
	}
	for _, m := range ms {
		err := db.writeTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, store.Now(db.now).UnixMicro())
			if err == nil {
				db.log.Info("applied migration", "migration", m.Name)
			}
			return err
		})
		if err != nil {
			return db.fail("migrate", err)
		}
	}
	return nil
}

// writeTx runs fn in a transaction on the writer connection.
func (db *DB) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// fail wraps err with the operation, giving it a clinic code where the cause
// is known: an *clinic.Error keeps its own, a busy database or an expired
// deadline is unavailable, anything else is internal.
func (db *DB) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*clinic.Error](err); ok {
		return fmt.Errorf("sqlite.%s: %w", op, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("sqlite.%s: %w", op, clinic.Wrap(err, clinic.CodeUnavailable,
			"the database did not answer before the request ended", "数据库未在请求结束前响应"))
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("sqlite.%s: %w", op, clinic.Wrap(err, clinic.CodeUnavailable,
				"the database is busy", "数据库繁忙"))
		}
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite.%s: %w", op, clinic.Wrap(err, clinic.CodeConflict,
				"the value conflicts with a stored one", "与已存数据冲突"))
		}
	}
	return fmt.Errorf("sqlite.%s: %w", op, err)
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// session carries out the store's methods, either outside any transaction
// (the root session of a DB) or inside one (tx set).
type session struct {
	db *DB
	tx *txState
}

// txState is one open transaction on the writer connection.
type txState struct {
	tx *wtx
	// op is held by a write method for its whole savepoint, so methods
	// called on one transaction from several goroutines take turns.
	op    sync.Mutex
	mu    sync.Mutex // guards after and sp
	after []func()   // index updates applied once the transaction commits
	sp    int        // savepoints opened so far, for unique names
}

func (t *txState) addAfter(f func()) {
	t.mu.Lock()
	t.after = append(t.after, f)
	t.mu.Unlock()
}

type txKey struct{}

// bound returns the session a call should run in: s itself inside a
// transaction, or the transaction session carried by ctx when the root
// session is called from inside InTx with the context InTx gave fn.
func (s *session) bound(ctx context.Context) *session {
	if s.tx != nil {
		return s
	}
	if t, ok := ctx.Value(txKey{}).(*session); ok && t.db == s.db {
		return t
	}
	return s
}

// reader returns where a read runs.
func (s *session) reader(ctx context.Context) querier {
	if b := s.bound(ctx); b.tx != nil {
		return b.tx.tx
	}
	return s.db.r
}

// write runs fn atomically: in a new transaction on the root session, or
// under a savepoint inside an open one, so that a failed method leaves
// nothing behind either way.
func (s *session) write(ctx context.Context, op string, fn func(t *session) error) error {
	if b := s.bound(ctx); b.tx != nil {
		b.tx.op.Lock()
		defer b.tx.op.Unlock()
		return s.db.fail(op, b.savepoint(ctx, fn))
	}
	return s.db.fail(op, s.db.run(ctx, fn))
}

// savepoint runs fn under a savepoint of the open transaction, rolling back
// to it on error or panic.
func (s *session) savepoint(ctx context.Context, fn func(t *session) error) (err error) {
	t := s.tx
	t.mu.Lock()
	t.sp++
	name := fmt.Sprintf("sp%d", t.sp)
	mark := len(t.after)
	t.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.tx.control("SAVEPOINT " + name); err != nil {
		return err
	}
	done := false
	undo := func() {
		t.tx.control("ROLLBACK TO " + name)
		t.tx.control("RELEASE " + name)
		t.mu.Lock()
		if len(t.after) > mark {
			t.after = t.after[:mark]
		}
		t.mu.Unlock()
	}
	defer func() {
		if !done {
			undo()
		}
	}()
	if err := fn(s); err != nil {
		return err
	}
	if err := t.tx.control("RELEASE " + name); err != nil {
		return err
	}
	done = true
	return nil
}

// InTx runs fn with a Store bound to one transaction. The context given to
// fn carries the transaction: calls on the DB itself with that context join
// it instead of waiting for the writer connection the transaction holds.
// Nested calls join the outer transaction under a savepoint, so an inner
// error undoes only the inner writes.
func (s *session) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Store) error) error {
	b := s.bound(ctx)
	if b.tx != nil {
		return b.savepoint(ctx, func(t *session) error {
			return fn(context.WithValue(ctx, txKey{}, t), &txStore{t})
		})
	}
	return s.db.run(ctx, func(t *session) error {
		return fn(context.WithValue(ctx, txKey{}, t), &txStore{t})
	})
}

// txStore is the Store handed to InTx's fn.
type txStore struct{ *session }

// Ping reports whether the database answers.
func (t *txStore) Ping(ctx context.Context) error { return t.db.Ping(ctx) }

// Close does nothing: the transaction ends when InTx returns.
func (t *txStore) Close() error { return nil }

// scanBodies decodes rows of one JSON body each, in order, and closes rows.
// It returns an empty, non-nil slice when there are none. A scan or decode
// error returns no bodies; an error ending the iteration (rows.Err) comes
// with the bodies decoded before it.
func scanBodies[T any](rows *sql.Rows, decode func([]byte) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		v, err := decode(body)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
