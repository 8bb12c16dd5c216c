-- 0001_init: the whole schema of the embedded store. Times are INTEGER
-- microseconds since the Unix epoch (UTC); JSON is stored as TEXT.

CREATE TABLE encounters (
	id         TEXT PRIMARY KEY,
	patient_id TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE utterances (
	encounter_id TEXT NOT NULL REFERENCES encounters (id) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,
	id           TEXT NOT NULL UNIQUE,
	body         TEXT NOT NULL,
	PRIMARY KEY (encounter_id, seq)
) STRICT;

CREATE TABLE notes (
	ord          INTEGER PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE,
	encounter_id TEXT NOT NULL,
	version      INTEGER NOT NULL,
	status       TEXT NOT NULL,
	created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX notes_encounter ON notes (encounter_id, ord);

CREATE TABLE note_versions (
	note_id TEXT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	body    TEXT NOT NULL,
	PRIMARY KEY (note_id, version)
) STRICT;

CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	actor     TEXT NOT NULL,
	role      TEXT NOT NULL,
	action    TEXT NOT NULL,
	subject   TEXT NOT NULL,
	detail    TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_subject ON audit_log (subject, seq);
CREATE INDEX audit_actor ON audit_log (actor, seq);
CREATE INDEX audit_action ON audit_log (action, seq);

-- audit_head holds the newest entry's Seq and Hash so that deleting entries
-- from the end of the log is detected too.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
) STRICT;

CREATE TABLE records (
	kind       TEXT NOT NULL,
	id         TEXT NOT NULL,
	subject    TEXT NOT NULL,
	version    INTEGER NOT NULL,
	body       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	expires_at INTEGER,
	PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX records_created ON records (kind, created_at, id);
CREATE INDEX records_subject ON records (kind, subject, created_at, id);
CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE documents (
	collection     TEXT NOT NULL,
	id             TEXT NOT NULL,
	title          TEXT NOT NULL,
	source         TEXT NOT NULL,
	version        TEXT NOT NULL,
	effective_date TEXT NOT NULL,
	hash           TEXT NOT NULL,
	tags           TEXT NOT NULL,
	chunks         INTEGER NOT NULL,
	ingested_at    INTEGER NOT NULL,
	PRIMARY KEY (collection, id)
) STRICT;

-- chunks.embedding is the vector as float32 little-endian bytes, dim values.
CREATE TABLE chunks (
	rid          INTEGER PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE,
	collection   TEXT NOT NULL,
	document_id  TEXT NOT NULL,
	ordinal      INTEGER NOT NULL,
	heading_path TEXT NOT NULL,
	text         TEXT NOT NULL,
	tags         TEXT NOT NULL,
	metadata     TEXT NOT NULL,
	dim          INTEGER NOT NULL,
	embedding    BLOB NOT NULL,
	FOREIGN KEY (collection, document_id) REFERENCES documents (collection, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX chunks_document ON chunks (collection, document_id, ordinal, id);
CREATE INDEX chunks_order ON chunks (document_id, ordinal, id);
