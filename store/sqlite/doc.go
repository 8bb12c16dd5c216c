// Package sqlite is the embedded store.Store: one SQLite file, opened with
// the pure-Go driver modernc.org/sqlite (no cgo), and an in-process vector
// index. It is what `yizhu serve` uses when no PostgreSQL is configured.
//
// # Opening
//
// [Open] creates the file if needed, switches it to WAL journaling with
// foreign keys on and a busy timeout, and applies the migrations embedded
// from migrations/NNNN_*.sql that schema_migrations does not yet list, each
// in its own transaction. Opening an up-to-date database changes nothing.
//
// # Concurrency
//
// Every write runs in a transaction on one dedicated writer connection, so
// writers take turns inside the process (no SQLITE_BUSY between them) and
// each method is atomic; reads use a small pool of read-only connections
// and, thanks to WAL, never wait for writers. Audit appends are serialised
// by the same writer, so the hash chain cannot fork.
//
// Writes are group-committed: one goroutine owns the writer connection,
// and the write transactions that queue while one COMMIT runs share the
// next transaction, each under its own SAVEPOINT, and one COMMIT (at most
// 64 to a commit). A transaction whose fn fails, panics or whose context
// ends rolls back to its savepoint and leaves the others' writes in place;
// every call returns only after the shared COMMIT succeeded, so nothing is
// acknowledged before it is in the database. Inside the writer, a
// statement does not interrupt SQLite when its context ends (an
// interrupted write can roll back the whole shared transaction); the
// context is checked before each statement instead. Statements are
// prepared once on the writer connection.
//
// Commits never checkpoint the WAL themselves (wal_autocheckpoint=0 on the
// writer): a background goroutine runs a PASSIVE checkpoint on its own
// connection at most once per Config.CheckpointEvery after a commit, so no
// commit waits for the copy and its fsyncs.
//
// # Transactions
//
// InTx runs fn as one member of a group commit, holding the writer for the
// length of fn. The context InTx passes to fn carries the transaction, and
// calls on the DB with that context join it. Writing through the DB with
// an unrelated context from inside fn waits for the writer fn holds, a
// deadlock until that context ends: use the ctx and Store given to fn. A
// nested InTx, and every write method called inside a transaction, runs
// under a savepoint: an inner error undoes only the inner writes. Inside
// fn, reads see the writes of earlier members of the same batch, which are
// not yet committed; if the batch is lost as a whole (SQLite rolls it back
// after an I/O error or a full disk), every member of it fails.
//
// # Vectors
//
// Embeddings are stored as float32 little-endian BLOBs. At Open every
// embedding is loaded, scaled to unit length, into one contiguous []float32
// per collection; writes reach this index after their transaction commits.
// SearchVectors is an exact cosine scan (dot products of unit vectors) with
// a bounded top-K heap and the tag filter applied during the scan, so
// VectorQuery.Exact makes no difference here and recall is 1. Searches read
// committed chunks only, even inside InTx. A search's tags must all be among
// the chunk's own Tags (document tags are not inherited).
//
// # Times
//
// Store-set times are UTC with microsecond precision (PostgreSQL's), kept
// as INTEGER microseconds; caller-set times inside encounters, utterances
// and notes are kept exactly.
package sqlite
