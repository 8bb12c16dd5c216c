package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

var errBoom = errors.New("boom")

func openInternal(tb testing.TB, cfg Config) *DB {
	tb.Helper()
	cfg.Path = filepath.Join(tb.TempDir(), "yizhu.db")
	db, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// holdBatch starts a write transaction that writes record "k/<id>" and
// keeps the batch open until release is closed, so that the transactions
// started meanwhile queue up and run together in the next members of the
// same batch. It returns the held transaction's result channel.
func holdBatch(t *testing.T, db *DB, id string, release <-chan struct{}) <-chan error {
	t.Helper()
	started := make(chan struct{})
	res := make(chan error, 1)
	go func() {
		res <- db.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
			if err := tx.PutRecord(ctx, &store.Record{Kind: "k", ID: id, Body: []byte(`{}`)}); err != nil {
				return err
			}
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	return res
}

// waitQueued waits until n transactions wait for the committer, each
// parked on its queue, so that the committer takes them all into the
// batch after the held one. It must run in a synctest bubble: once every
// other goroutine there is durably blocked, a transaction that counted
// itself as waiting has reached the send on the queue (it blocks nowhere
// before it), which the counter alone does not tell.
func waitQueued(t *testing.T, db *DB, n int64) {
	t.Helper()
	synctest.Wait()
	if got := db.cm.waiting.Load(); got != n {
		t.Fatalf("%d transactions queued, want %d", got, n)
	}
}

func hasRecord(t *testing.T, db *DB, id string) bool {
	t.Helper()
	_, err := db.Record(t.Context(), "k", id)
	if err != nil && clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Fatal(err)
	}
	return err == nil
}

func vec4(x float32) []float32 { return []float32{x, 1 - x, 0, 0} }

// Members of one batch that fail — by an error, a panic or a context that
// ends halfway — leave nothing behind, and the members beside them commit.
func TestGroupCommitIsolatesMembers(t *testing.T) { synctest.Test(t, testGroupCommitIsolatesMembers) }

// testGroupCommitIsolatesMembers is TestGroupCommitIsolatesMembers, run in a synctest
// bubble for waitQueued.
func testGroupCommitIsolatesMembers(t *testing.T) {
	db := openInternal(t, Config{})
	release := make(chan struct{})
	held := holdBatch(t, db, "held", release)
	b0, m0 := db.cm.batches.Load(), db.cm.members.Load()

	write := func(ctx context.Context, tx store.Store, id string, withDoc bool) error {
		if err := tx.PutRecord(ctx, &store.Record{Kind: "k", ID: id, Body: []byte(`{"v":1}`)}); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, store.AuditEntry{Actor: "u", Role: "doctor", Action: "x", Subject: id}); err != nil {
			return err
		}
		if withDoc {
			_, err := tx.ReplaceDocument(ctx, store.Document{Collection: "g", ID: id},
				[]store.Chunk{{ID: id + "-c", Ordinal: 0, Text: id, Embedding: vec4(0.5)}})
			return err
		}
		return nil
	}
	results := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	run := func(name string, fn func() error) {
		wg.Go(func() {
			err := fn()
			mu.Lock()
			results[name] = err
			mu.Unlock()
		})
	}
	run("ok1", func() error {
		return db.InTx(t.Context(), func(ctx context.Context, tx store.Store) error { return write(ctx, tx, "ok1", false) })
	})
	run("fail", func() error {
		return db.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
			if err := write(ctx, tx, "fail", true); err != nil {
				return err
			}
			return errBoom
		})
	})
	run("panic", func() (err error) {
		defer func() {
			if r := recover(); r != errBoom {
				err = fmt.Errorf("recovered %v, want the panic re-raised", r)
			} else {
				err = errBoom
			}
		}()
		return db.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
			if err := write(ctx, tx, "panic", true); err != nil {
				return err
			}
			panic(errBoom)
		})
	})
	run("cancel", func() error {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		return db.InTx(ctx, func(ctx context.Context, tx store.Store) error {
			if err := write(ctx, tx, "cancel1", false); err != nil {
				return err
			}
			cancel() // the request ends halfway through the transaction
			return write(ctx, tx, "cancel2", false)
		})
	})
	run("single", func() error { // a write method outside InTx
		_, err := db.AppendAudit(t.Context(), store.AuditEntry{Actor: "u", Role: "doctor", Action: "x", Subject: "single"})
		return err
	})
	run("ok2", func() error {
		return db.InTx(t.Context(), func(ctx context.Context, tx store.Store) error { return write(ctx, tx, "ok2", true) })
	})
	waitQueued(t, db, 6)
	// One more leaves the queue before its turn: its context ends.
	leaveCtx, leave := context.WithCancel(t.Context())
	left := make(chan error, 1)
	ran := false
	go func() {
		left <- db.InTx(leaveCtx, func(ctx context.Context, tx store.Store) error {
			ran = true
			return nil
		})
	}()
	waitQueued(t, db, 7)
	leave()
	if err := <-left; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("left the queue: err %v, fn ran %v; want context.Canceled and no run", err, ran)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatalf("held transaction: %v", err)
	}
	wg.Wait()

	for _, name := range []string{"ok1", "ok2", "single"} {
		if err := results[name]; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"fail", "panic"} {
		if err := results[name]; !errors.Is(err, errBoom) {
			t.Errorf("%s: %v, want boom", name, err)
		}
	}
	if err := results["cancel"]; clinic.ErrorCode(err) != clinic.CodeUnavailable || !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v, want unavailable and context.Canceled", err)
	}
	if b, m := db.cm.batches.Load()-b0, db.cm.members.Load()-m0; b != 0 || m != 6 {
		// The held batch was counted before b0; the six queued members
		// joined it.
		t.Errorf("the queued transactions ran as %d more batches and %d members, want 0 and 6", b, m)
	}
	for id, want := range map[string]bool{"held": true, "ok1": true, "ok2": true,
		"fail": false, "panic": false, "cancel1": false, "cancel2": false} {
		if got := hasRecord(t, db, id); got != want {
			t.Errorf("record %s stored: %v, want %v", id, got, want)
		}
	}
	rep, err := db.VerifyAudit(t.Context())
	if err != nil || !rep.OK || rep.Entries != 3 {
		t.Errorf("audit after the batch: %+v, %v; want an intact chain of 3 (ok1, single, ok2)", rep, err)
	}
	docs, err := db.Documents(t.Context(), "g")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	hits, err := db.SearchVectors(t.Context(), store.VectorQuery{Collection: "g", Vector: vec4(0.5), K: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		ids = append(ids, "chunk:"+h.Text)
	}
	slices.Sort(ids)
	if want := []string{"chunk:ok2", "ok2"}; !slices.Equal(ids, want) {
		t.Errorf("documents and indexed chunks %v, want %v (failed members' index updates discarded)", ids, want)
	}
}

// When SQLite rolls the shared transaction back under a member (as it does
// after a full disk or an I/O error), every member of the batch fails —
// none is told its writes were saved — and the next batch works.
func TestGroupCommitLostBatch(t *testing.T) { synctest.Test(t, testGroupCommitLostBatch) }

// testGroupCommitLostBatch is TestGroupCommitLostBatch, run in a synctest
// bubble for waitQueued.
func testGroupCommitLostBatch(t *testing.T) {
	db := openInternal(t, Config{})
	release := make(chan struct{})
	held := holdBatch(t, db, "held", release)
	breaker := make(chan error, 1)
	go func() {
		breaker <- db.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
			if err := tx.PutRecord(ctx, &store.Record{Kind: "k", ID: "breaker", Body: []byte(`{}`)}); err != nil {
				return err
			}
			// What SQLite does on its own after SQLITE_FULL or SQLITE_IOERR.
			if err := tx.(*txStore).tx.tx.control("ROLLBACK"); err != nil {
				return err
			}
			return nil // the member does not notice
		})
	}()
	waitQueued(t, db, 1)
	close(release)
	if err := <-held; !errors.Is(err, errBatchLost) {
		t.Errorf("held member: %v, want the batch-lost error", err)
	}
	if err := <-breaker; err == nil {
		t.Error("the member under which the transaction was lost succeeded")
	}
	for _, id := range []string{"held", "breaker"} {
		if hasRecord(t, db, id) {
			t.Errorf("record %s stored from a lost batch", id)
		}
	}
	if err := db.PutRecord(t.Context(), &store.Record{Kind: "k", ID: "after", Body: []byte(`{}`)}); err != nil {
		t.Fatalf("write after a lost batch: %v", err)
	}
	if _, err := db.AppendAudit(t.Context(), store.AuditEntry{Actor: "u", Role: "doctor", Action: "x"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := db.VerifyAudit(t.Context()); err != nil || !rep.OK || rep.Entries != 1 {
		t.Errorf("audit: %+v, %v", rep, err)
	}
}

// Closing the database while transactions wait for the writer fails them
// as unavailable instead of leaving them blocked.
func TestCloseWithQueuedWrites(t *testing.T) { synctest.Test(t, testCloseWithQueuedWrites) }

// testCloseWithQueuedWrites is TestCloseWithQueuedWrites, run in a synctest
// bubble for waitQueued.
func testCloseWithQueuedWrites(t *testing.T) {
	db := openInternal(t, Config{})
	release := make(chan struct{})
	held := holdBatch(t, db, "held", release)
	queued := make(chan error, 1)
	go func() {
		queued <- db.PutRecord(context.Background(), &store.Record{Kind: "k", ID: "queued", Body: []byte(`{}`)})
	}()
	waitQueued(t, db, 1)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	// Close waits for the batch in progress, which may or may not take
	// the queued write before it stops; either way the write ends.
	close(release)
	if err := <-held; err != nil {
		t.Errorf("held transaction: %v", err)
	}
	if err := <-queued; err != nil && clinic.ErrorCode(err) != clinic.CodeUnavailable {
		t.Errorf("queued write: %v, want success or unavailable", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("close: %v", err)
	}
	if err := db.PutRecord(context.Background(), &store.Record{Kind: "k", ID: "late", Body: []byte(`{}`)}); clinic.ErrorCode(err) != clinic.CodeUnavailable {
		t.Errorf("write after Close: %v, want unavailable", err)
	}
}

// Commits never checkpoint (wal_autocheckpoint is 0 on the writer); the
// checkpointer copies the WAL into the database file in the background.
func TestBackgroundCheckpoint(t *testing.T) {
	db := openInternal(t, Config{CheckpointEvery: time.Millisecond})
	var auto int
	if err := db.w.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	file := dbPath(t, db)
	before := fileSize(t, file)
	body := []byte(`{"pad":"` + strings.Repeat("x", 8000) + `"}`)
	for i := range 200 {
		if err := db.PutRecord(t.Context(), &store.Record{Kind: "k", ID: fmt.Sprintf("r%03d", i), Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	// The records reach the main file only through a checkpoint.
	for fileSize(t, file) < before+200*8000 {
		if t.Context().Err() != nil {
			t.Fatalf("database file %d bytes after %d checkpoints; the records were not copied from the WAL",
				fileSize(t, file), db.cp.runs.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dbPath(t *testing.T, db *DB) string {
	t.Helper()
	var seq int
	var name, file string
	if err := db.r.QueryRowContext(t.Context(), `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkConcurrentWrites runs write transactions shaped like a kiosk
// triage turn — InTx{PutRecord (replace a ~4 KB session), AppendAudit} —
// from 200 goroutines at once, as the HTTP handlers issue them, and
// reports the latency percentiles of one transaction next to the
// throughput, and how many transactions shared a commit.
func BenchmarkConcurrentWrites(b *testing.B) {
	for _, workers := range []int{1, 200} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			db := openInternal(b, Config{})
			ctx := b.Context()
			body := []byte(`{"state":"` + strings.Repeat("x", 4000) + `"}`)
			detail := []byte(`{"acuity":"IV","kind":"recommendation","departments":["GI","GEN"]}`)
			recs := make([]store.Record, workers)
			for i := range recs {
				recs[i] = store.Record{Kind: "bench_session", ID: fmt.Sprintf("s%04d", i), Subject: "kiosk:bench", Body: body}
				if err := db.PutRecord(ctx, &recs[i]); err != nil {
					b.Fatal(err)
				}
			}
			var (
				mu   sync.Mutex
				lat  []time.Duration
				next atomic.Int64
			)
			turn := func(r *store.Record) error {
				return db.InTx(ctx, func(ctx context.Context, tx store.Store) error {
					if err := tx.PutRecord(ctx, r); err != nil {
						return err
					}
					_, err := tx.AppendAudit(ctx, store.AuditEntry{Actor: "kiosk:bench", Role: "kiosk",
						Action: "triage.recommendation", Subject: "triage:" + r.ID, Detail: detail})
					return err
				})
			}
			b0, m0 := db.cm.batches.Load(), db.cm.members.Load()
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					r := recs[w]
					var mine []time.Duration
					for next.Add(1) <= int64(b.N) {
						start := time.Now()
						if err := turn(&r); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(start))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
				b.ReportMetric(pct(.5), "p50-ms")
				b.ReportMetric(pct(.99), "p99-ms")
			}
			if n := db.cm.batches.Load() - b0; n > 0 {
				b.ReportMetric(float64(db.cm.members.Load()-m0)/float64(n), "tx/commit")
			}
		})
	}
}
