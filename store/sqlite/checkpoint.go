package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"
)

// checkpointer copies committed WAL frames back into the database file
// (a PASSIVE checkpoint) on its own connection, off the commit path.
//
// SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL
// past 1000 pages: that one commit then copies ~4 MB and, with
// synchronous=NORMAL, waits for two fsyncs, stalling every writer queued
// behind it for milliseconds to tens of milliseconds. The writer
// connection therefore has wal_autocheckpoint=0, and this goroutine runs a
// checkpoint at most once per interval after a commit. A PASSIVE
// checkpoint takes no lock that writers or readers wait for; it only copies
// what no reader still needs, and the writer starts the WAL over once all
// of it is copied. Durability is unchanged: a commit is in the WAL before
// it is acknowledged, as with an automatic checkpoint.
type checkpointer struct {
	db      *sql.DB // one connection
	log     *slog.Logger
	every   time.Duration
	poke    chan struct{} // buffered 1: something was committed
	quit    chan struct{}
	stopped chan struct{}
	runs    atomic.Int64 // checkpoints run, for tests
}

func newCheckpointer(db *sql.DB, log *slog.Logger, every time.Duration) *checkpointer {
	c := &checkpointer{db: db, log: log, every: every, poke: make(chan struct{}, 1),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// committed tells the checkpointer that the WAL grew; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

// stop ends the checkpointer after the checkpoint in progress. The last
// connection to close checkpoints what is left.
func (c *checkpointer) stop() {
	close(c.quit)
	<-c.stopped
}

func (c *checkpointer) loop() {
	defer close(c.stopped)
	var last time.Time
	for {
		select {
		case <-c.poke:
		case <-c.quit:
			return
		}
		if wait := c.every - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.quit:
				t.Stop()
				return
			}
		}
		last = time.Now()
		var busy, frames, copied int
		err := c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		if err != nil {
			c.log.Warn("sqlite checkpoint failed", "err", err)
		}
		c.runs.Add(1)
	}
}
