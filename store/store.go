// Package store defines Yizhu's persistence ports — encounters and their
// utterances, versioned notes, the hash-chained audit log, generic records
// and the vector chunks of the guideline store — and the contract every
// adapter keeps. Adapters live in subpackages (store/sqlite, the embedded
// default; store/postgres, pgx v5 + pgvector) and are checked by one
// conformance suite, store/storetest.
//
// # Contract
//
// All methods are goroutine-safe. Values passed in are not retained and
// values returned are not shared with the store: callers may modify them.
// Errors are *clinic.Error values with codes: not_found when the thing asked
// for does not exist, conflict for a stale note version or a duplicate ID,
// invalid for a value the store cannot hold (wrong embedding dimension, an
// empty required field), unavailable when the database cannot be reached.
//
// # Shared by the adapters
//
// What does not depend on the database — checking input, filling IDs and
// timestamps, encoding and decoding the stored JSON bodies, linking audit
// entries, and the errors above — is done by the helpers in prepare.go
// and check.go, so the adapters keep only their SQL and driver calls.
package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
)

// Store is everything an adapter provides.
type Store interface {
	Encounters
	Notes
	Audit
	Records
	Chunks
	// InTx runs fn with a Store whose writes commit together when fn
	// returns nil and roll back together when it returns an error or
	// panics. Nested InTx calls join the outer transaction.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database. It is safe to call more than once.
	Close() error
}

// Encounters stores encounters and the utterances spoken in them.
type Encounters interface {
	// CreateEncounter stores e. An empty ID is filled with a new one;
	// CreatedAt is set by the store. Returns conflict if the ID exists.
	CreateEncounter(ctx context.Context, e *clinic.Encounter) error
	// Encounter returns the encounter with the given ID, or not_found.
	Encounter(ctx context.Context, id string) (clinic.Encounter, error)
	// AppendUtterances appends us to the encounter's dialogue in order,
	// assigning Seq (continuing after the last stored turn) and, where
	// empty, ID. It returns the stored utterances. Returns not_found if the
	// encounter does not exist.
	AppendUtterances(ctx context.Context, encounterID string, us []clinic.Utterance) ([]clinic.Utterance, error)
	// Utterances returns the encounter's dialogue ordered by Seq.
	Utterances(ctx context.Context, encounterID string) ([]clinic.Utterance, error)
}

// Notes stores versioned clinical notes. Every saved version is kept.
type Notes interface {
	// CreateNote stores n as version 1. An empty ID is filled; CreatedAt
	// and UpdatedAt are set by the store.
	CreateNote(ctx context.Context, n *clinic.Note) error
	// UpdateNote stores n as a new version if the latest stored version is
	// n.Version; on success n.Version is incremented and UpdatedAt set.
	// Returns conflict if the stored version differs (optimistic locking)
	// or if the note is already signed, not_found if there is no such note.
	UpdateNote(ctx context.Context, n *clinic.Note) error
	// Note returns the latest version of a note.
	Note(ctx context.Context, id string) (clinic.Note, error)
	// NoteVersion returns one version of a note.
	NoteVersion(ctx context.Context, id string, version int) (clinic.Note, error)
	// NoteVersions returns every version of a note, oldest first.
	NoteVersions(ctx context.Context, id string) ([]clinic.Note, error)
	// NotesByEncounter returns the latest version of each note of an
	// encounter, oldest note first.
	NotesByEncounter(ctx context.Context, encounterID string) ([]clinic.Note, error)
}

// AuditEntry is one line of the append-only audit log. Each entry's Hash
// covers its own fields and the previous entry's Hash, so editing or
// deleting an entry breaks the chain (see Audit.VerifyAudit).
type AuditEntry struct {
	Seq     int64     `json:"seq"` // 1, 2, 3, … assigned by the store
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`  // user ID, or "ai:<agent>", or "system"
	Role    string    `json:"role"`   // kiosk, doctor, qc, ecg, admin, system
	Action  string    `json:"action"` // e.g. "note.draft", "note.sign", "phi.read"
	Subject string    `json:"subject"`
	// Detail is a small JSON object (prompt ID and version, model,
	// fallback flag, note version, …).
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	Subject string
	Actor   string
	Action  string
	Limit   int // 0 = no limit
}

// AuditReport is the result of verifying the audit chain.
type AuditReport struct {
	OK      bool  `json:"ok"`
	Entries int64 `json:"entries"`
	// BrokenAt is the Seq of the first entry whose hash or link does not
	// match (an edited entry, or the entry after a deleted one), 0 if OK.
	BrokenAt int64  `json:"broken_at,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Audit is the append-only audit log.
type Audit interface {
	// AppendAudit appends e, setting Seq, PrevHash and Hash (and At if
	// zero), and returns the stored entry. Appends are serialised so the
	// chain has no forks even under concurrent writers.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditEntries returns matching entries, oldest first.
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// VerifyAudit recomputes the chain and reports the first break.
	VerifyAudit(ctx context.Context) (AuditReport, error)
}

// Record is a JSON document of some kind (a triage session, an ECG record,
// a QC result, an alert) stored under (Kind, ID). Version starts at 1 and
// grows with each PutRecord that names the current version.
type Record struct {
	Kind      string          `json:"kind"`
	ID        string          `json:"id"`
	Subject   string          `json:"subject,omitempty"` // e.g. the encounter or stream it belongs to
	Version   int             `json:"version"`
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	// ExpiresAt, when set, lets PurgeExpired delete the record after it.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// RecordFilter selects records of one kind; zero fields match everything.
type RecordFilter struct {
	Kind    string
	Subject string
	Since   time.Time // CreatedAt >= Since
	Limit   int       // 0 = no limit
}

// Records stores generic JSON records for features that need no table of
// their own.
type Records interface {
	// PutRecord creates the record when r.Version is 0 (conflict if it
	// exists) or replaces it when r.Version is the stored version
	// (conflict otherwise). On success r.Version and timestamps are updated.
	PutRecord(ctx context.Context, r *Record) error
	// Record returns a record, or not_found.
	Record(ctx context.Context, kind, id string) (Record, error)
	// ListRecords returns matching records ordered by CreatedAt, then ID.
	ListRecords(ctx context.Context, f RecordFilter) ([]Record, error)
	// DeleteRecord deletes a record; deleting a missing one is not an error.
	DeleteRecord(ctx context.Context, kind, id string) error
	// PurgeExpired deletes records whose ExpiresAt is before now and
	// returns how many it deleted.
	PurgeExpired(ctx context.Context, now time.Time) (int, error)
}

// Document is a source document of the guideline store, identified by
// (Collection, ID). Hash is the content hash used to skip unchanged
// documents on re-ingest.
type Document struct {
	Collection    string    `json:"collection"`
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	Source        string    `json:"source"` // file path or URL it came from
	Version       string    `json:"version,omitempty"`
	EffectiveDate string    `json:"effective_date,omitempty"` // YYYY-MM-DD
	Hash          string    `json:"hash"`
	Tags          []string  `json:"tags,omitempty"`
	Chunks        int       `json:"chunks"`
	IngestedAt    time.Time `json:"ingested_at"`
}

// Chunk is a retrievable passage of a document with its embedding.
type Chunk struct {
	ID          string            `json:"id"` // stable, unique across collections
	Collection  string            `json:"collection"`
	DocumentID  string            `json:"document_id"`
	Ordinal     int               `json:"ordinal"`
	HeadingPath []string          `json:"heading_path,omitempty"`
	Text        string            `json:"text"`
	Tags        []string          `json:"tags,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Embedding   []float32         `json:"-"`
}

// VectorQuery asks for the K chunks nearest to Vector by cosine similarity.
type VectorQuery struct {
	Collection string   // "" = all collections
	Tags       []string // a chunk must have every tag
	Vector     []float32
	K          int
	// Exact forces an exhaustive scan instead of the approximate index
	// (used to measure the index's recall).
	Exact bool
}

// ChunkHit is a search result; Score is the cosine similarity in [-1, 1].
type ChunkHit struct {
	Chunk
	Score float64 `json:"score"`
}

// Chunks stores documents and their embedded chunks.
type Chunks interface {
	// ReplaceDocument atomically replaces the document's chunks. If a
	// document with the same (Collection, ID) and Hash is stored it does
	// nothing and returns false. All embeddings in one collection share one
	// dimension; a chunk of another dimension is invalid and nothing is
	// written.
	ReplaceDocument(ctx context.Context, doc Document, chunks []Chunk) (replaced bool, err error)
	// DeleteDocument removes a document and its chunks.
	DeleteDocument(ctx context.Context, collection, id string) error
	// Documents lists the documents of a collection ("" = all).
	Documents(ctx context.Context, collection string) ([]Document, error)
	// ScanChunks calls fn for every chunk of a collection ("" = all), in
	// (DocumentID, Ordinal) order, with embeddings filled. It stops at the
	// first error fn returns and returns it.
	ScanChunks(ctx context.Context, collection string, fn func(Chunk) error) error
	// SearchVectors returns up to K hits, best first.
	SearchVectors(ctx context.Context, q VectorQuery) ([]ChunkHit, error)
}
