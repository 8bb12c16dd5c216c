package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/yizhu-health/yizhu/clinic"
)

// Group commit.
//
// Every write transaction (a write method on the root session, or InTx)
// is a member of a batch. One goroutine, the committer, owns the writer
// connection: it opens a transaction, hands it to the waiting members one
// after another — each runs its fn on its own goroutine under a SAVEPOINT,
// so a failing member rolls back only its own writes — and, once no member
// is waiting or maxBatch have run, commits them together with one COMMIT.
// A member's call returns only after that COMMIT succeeded (or with the
// error that kept its writes out), so a caller is never told "saved"
// before its data is in the database file. Under light load a batch has
// one member and behaves like a plain transaction; under load the members
// that queued during one commit share the next, and the commit's cost
// (WAL frames for the audit head and shared b-tree pages, BEGIN and
// COMMIT themselves) is paid once per batch instead of once per write.
//
// Statements inside a batch run with a context that cannot interrupt
// SQLite: an interrupted INSERT or UPDATE may roll back the whole
// transaction, and with it the other members' writes. A member's own
// context is checked before each statement instead, so a cancelled request
// stops at the next statement and its savepoint is rolled back.

// maxBatch bounds how many members share one commit, so the first of a
// batch does not wait behind an unbounded queue.
const maxBatch = 64

// maxCachedStmts bounds the prepared-statement cache (the store's queries
// are constants; the bound only guards against a generated one).
const maxCachedStmts = 128

// errBatchLost is returned to the members of a batch that SQLite rolled
// back as a whole (after an I/O error, a full disk, …) before it could be
// committed: their fn ran, but nothing of it was saved.
var errBatchLost = clinic.NewError(clinic.CodeUnavailable, "",
	"the database could not save the change; try again", "数据库未能保存更改，请重试")

var errClosed = clinic.NewError(clinic.CodeUnavailable, "", "the database is closed", "数据库已关闭")

// member is one write transaction waiting for, or holding, its turn.
type member struct {
	turn chan *batch   // the committer hands the batch over (buffered)
	ran  chan struct{} // the member's fn has returned or panicked (buffered)
	res  chan error    // the batch's outcome, for members whose fn succeeded (buffered)
	// Set by the member before it signals ran.
	err   error    // non-nil: the member's writes were rolled back
	state *txState // its after-commit hooks
}

// batch is one transaction shared by the members of a group commit.
type batch struct {
	w   *wtx
	err error // BEGIN failed: nothing runs
	// broken is set when SQLite rolled the transaction back under a member
	// (its savepoint could not be rolled back or released).
	broken bool
}

// committer runs batches on the writer connection.
type committer struct {
	db      *DB
	queue   chan *member // unbuffered: a member is taken when the committer is ready for it
	quit    chan struct{}
	stopped chan struct{}
	stmts   *stmtCache
	// Counters for tests and benchmarks: members waiting to be taken,
	// batches run and members run.
	waiting, batches, members atomic.Int64
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, queue: make(chan *member), quit: make(chan struct{}), stopped: make(chan struct{}),
		stmts: &stmtCache{db: db.w, m: map[string]*sql.Stmt{}, want: map[string]bool{}}}
	go c.loop()
	return c
}

// stop ends the committer after the batch in progress and closes the
// cached statements. Members still waiting get errClosed.
func (c *committer) stop() {
	close(c.quit)
	<-c.stopped
	c.stmts.close()
}

func (c *committer) loop() {
	defer close(c.stopped)
	for {
		select {
		case m := <-c.queue:
			c.commit(m)
			// The connection is idle between batches: prepare the
			// statements the last batch ran unprepared.
			c.stmts.prepareWanted()
		case <-c.quit:
			return
		}
	}
}

// commit runs one batch starting with first.
func (c *committer) commit(first *member) {
	// The transaction must outlive any one member's context: a member
	// whose request ends must not roll back the others.
	tx, err := c.db.w.BeginTx(context.Background(), nil)
	if err != nil {
		first.turn <- &batch{err: err}
		return
	}
	b := &batch{w: &wtx{tx: tx, stmts: c.stmts}}
	c.batches.Add(1)
	var ok []*member
	for n, m := 1, first; m != nil; n++ {
		c.members.Add(1)
		m.turn <- b
		<-m.ran
		if m.err == nil {
			ok = append(ok, m)
		}
		if b.broken || n >= maxBatch {
			break
		}
		select {
		case m = <-c.queue:
		default:
			m = nil
		}
	}
	if b.broken {
		tx.Rollback()
		for _, m := range ok {
			m.res <- errBatchLost
		}
		return
	}
	if len(ok) == 0 {
		tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		for _, m := range ok {
			m.res <- err
		}
		return
	}
	c.db.cp.committed()
	// Index updates apply in commit order, before any member returns.
	for _, m := range ok {
		m.state.mu.Lock()
		after := m.state.after
		m.state.after = nil
		m.state.mu.Unlock()
		for _, f := range after {
			c.runHook(f)
		}
	}
	for _, m := range ok {
		m.res <- nil
	}
}

// runHook runs one after-commit hook (an in-memory index update). The
// data is committed by then, so a panic must not take the committer, and
// with it every later write, down: it is logged and the index is rebuilt
// from the database at the next Open.
func (c *committer) runHook(f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.db.log.Error("sqlite: after-commit hook panicked; the in-memory vector index may be stale until restart", "panic", r)
		}
	}()
	f()
}

// run runs fn as one write transaction: it waits for a batch, runs fn under
// the member's savepoint and returns once the batch has committed. An error
// or panic from fn rolls back fn's writes only (a panic is re-raised).
func (db *DB) run(ctx context.Context, fn func(t *session) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := &member{turn: make(chan *batch, 1), ran: make(chan struct{}, 1), res: make(chan error, 1)}
	db.cm.waiting.Add(1)
	select {
	case db.cm.queue <- m:
		db.cm.waiting.Add(-1)
	case <-ctx.Done():
		db.cm.waiting.Add(-1)
		return ctx.Err()
	case <-db.cm.quit:
		db.cm.waiting.Add(-1)
		return errClosed
	}
	b := <-m.turn
	if b.err != nil {
		return b.err
	}
	if err := m.play(ctx, b, &session{db: db, tx: &txState{tx: b.w}}, fn); err != nil {
		return err
	}
	return <-m.res
}

// play runs fn under the member's savepoint and tells the committer how it
// went, also when fn panics or calls runtime.Goexit.
func (m *member) play(ctx context.Context, b *batch, t *session, fn func(t *session) error) (err error) {
	m.state = t.tx
	finished := false
	defer func() {
		if !finished { // fn panicked (re-raised once this returns) or exited the goroutine
			m.err = errors.New("sqlite: the transaction's function did not return")
			if b.w.control("ROLLBACK TO member") != nil || b.w.control("RELEASE member") != nil {
				b.broken = true
			}
		}
		m.ran <- struct{}{}
	}()
	if err := ctx.Err(); err != nil {
		finished, m.err = true, err
		return err
	}
	if err := b.w.control("SAVEPOINT member"); err != nil {
		finished, m.err = true, err
		return err
	}
	err = fn(t)
	finished = true
	if err != nil {
		m.err = err
		if b.w.control("ROLLBACK TO member") != nil || b.w.control("RELEASE member") != nil {
			b.broken = true
		}
		return err
	}
	if rerr := b.w.control("RELEASE member"); rerr != nil {
		// The transaction is gone (SQLite rolled it back after an error
		// fn chose to ignore): nothing of this member survives.
		m.err, b.broken = rerr, true
		return rerr
	}
	return nil
}

// wtx is the batch's transaction as the store's methods see it: statements
// run prepared where possible and with a context that cannot interrupt
// SQLite (see Group commit); the caller's context is checked before each.
type wtx struct {
	tx    *sql.Tx
	stmts *stmtCache
}

var _ querier = (*wtx)(nil)

func (w *wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := w.stmts.get(query); st != nil {
		return w.tx.StmtContext(ctx, st)
	}
	return nil
}

// ExecContext runs a statement in the transaction.
func (w *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nc := context.WithoutCancel(ctx)
	if st := w.stmt(nc, query); st != nil {
		return st.ExecContext(nc, args...)
	}
	return w.tx.ExecContext(nc, query, args...)
}

// QueryContext runs a query in the transaction.
func (w *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nc := context.WithoutCancel(ctx)
	if st := w.stmt(nc, query); st != nil {
		return st.QueryContext(nc, args...)
	}
	return w.tx.QueryContext(nc, query, args...)
}

// QueryRowContext runs a one-row query in the transaction.
func (w *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if ctx.Err() != nil {
		// database/sql returns a Row holding ctx's error without running
		// the query (the transaction does not watch this context).
		return w.tx.QueryRowContext(ctx, query, args...)
	}
	nc := context.WithoutCancel(ctx)
	if st := w.stmt(nc, query); st != nil {
		return st.QueryRowContext(nc, args...)
	}
	return w.tx.QueryRowContext(nc, query, args...)
}

// control runs a savepoint statement; it is never cancelled, so that
// rolling back to a savepoint after a cancelled request still happens.
func (w *wtx) control(stmt string) error {
	_, err := w.tx.ExecContext(context.Background(), stmt)
	return err
}

// stmtCache holds the store's statements prepared on the writer
// connection: parsing the SQL of every statement was about a sixth of the
// CPU of a small write transaction. A statement is prepared between
// batches, when the connection is free (preparing on the pool inside a
// transaction would wait for the connection the transaction holds).
type stmtCache struct {
	db   *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	want map[string]bool // seen in a batch, not yet prepared
}

func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, known := c.m[query]
	if !known && len(c.m)+len(c.want) < maxCachedStmts {
		c.want[query] = true
	}
	return st
}

// prepareWanted prepares the statements asked for since the last call; a
// statement that does not prepare is remembered as nil and runs
// unprepared, where its error shows.
func (c *stmtCache) prepareWanted() {
	c.mu.Lock()
	want := c.want
	if len(want) == 0 {
		c.mu.Unlock()
		return
	}
	c.want = map[string]bool{}
	c.mu.Unlock()
	for q := range want {
		st, err := c.db.PrepareContext(context.Background(), q)
		if err != nil {
			st = nil
		}
		c.mu.Lock()
		c.m[q] = st
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		if st != nil {
			st.Close()
		}
		delete(c.m, q)
	}
}
