-- 0001_init: the whole schema of the PostgreSQL store. IDs that are sorted
-- use COLLATE "C" so the order is bytewise, as in the SQLite store.

CREATE TABLE encounters (
	id         text COLLATE "C" PRIMARY KEY,
	patient_id text NOT NULL,
	body       jsonb NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE utterances (
	encounter_id text COLLATE "C" NOT NULL REFERENCES encounters (id) ON DELETE CASCADE,
	seq          integer NOT NULL,
	id           text COLLATE "C" NOT NULL UNIQUE,
	body         jsonb NOT NULL,
	PRIMARY KEY (encounter_id, seq)
);

CREATE TABLE notes (
	ord          bigint GENERATED ALWAYS AS IDENTITY,
	id           text COLLATE "C" PRIMARY KEY,
	encounter_id text COLLATE "C" NOT NULL,
	version      integer NOT NULL,
	status       text NOT NULL,
	created_at   timestamptz NOT NULL
);
CREATE INDEX notes_encounter ON notes (encounter_id, ord);

CREATE TABLE note_versions (
	note_id text COLLATE "C" NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
	version integer NOT NULL,
	body    jsonb NOT NULL,
	PRIMARY KEY (note_id, version)
);

-- detail is text, not jsonb: the hash covers its exact bytes.
CREATE TABLE audit_log (
	seq       bigint PRIMARY KEY,
	at        timestamptz NOT NULL,
	actor     text NOT NULL,
	role      text NOT NULL,
	action    text NOT NULL,
	subject   text NOT NULL,
	detail    text NOT NULL,
	prev_hash text NOT NULL,
	hash      text NOT NULL
);
CREATE INDEX audit_subject ON audit_log (subject, seq);
CREATE INDEX audit_actor ON audit_log (actor, seq);
CREATE INDEX audit_action ON audit_log (action, seq);

-- audit_head holds the newest entry's seq and hash. Appenders lock its one
-- row (SELECT ... FOR UPDATE), which serialises them, and VerifyAudit
-- compares it with the log's last entry to catch deletions at the end.
CREATE TABLE audit_head (
	id   integer PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE records (
	kind       text COLLATE "C" NOT NULL,
	id         text COLLATE "C" NOT NULL,
	subject    text NOT NULL,
	version    integer NOT NULL,
	body       text NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	expires_at timestamptz,
	PRIMARY KEY (kind, id)
);
CREATE INDEX records_created ON records (kind, created_at, id);
CREATE INDEX records_subject ON records (kind, subject, created_at, id);
CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE documents (
	collection     text COLLATE "C" NOT NULL,
	id             text COLLATE "C" NOT NULL,
	title          text NOT NULL,
	source         text NOT NULL,
	version        text NOT NULL,
	effective_date text NOT NULL,
	hash           text NOT NULL,
	tags           text[] NOT NULL,
	chunks         integer NOT NULL,
	ingested_at    timestamptz NOT NULL,
	PRIMARY KEY (collection, id)
);

-- embedding is an untyped vector; dim records its dimension. Approximate
-- search uses one HNSW index per (collection, dim), an expression index on
-- embedding::vector(dim) restricted to that pair, created with the first
-- chunk of the pair and listed in vector_indexes.
CREATE TABLE chunks (
	id           text COLLATE "C" PRIMARY KEY,
	collection   text COLLATE "C" NOT NULL,
	document_id  text COLLATE "C" NOT NULL,
	ordinal      integer NOT NULL,
	heading_path jsonb NOT NULL,
	text         text NOT NULL,
	tags         text[] NOT NULL,
	metadata     jsonb NOT NULL,
	dim          integer NOT NULL,
	embedding    vector NOT NULL,
	FOREIGN KEY (collection, document_id) REFERENCES documents (collection, id) ON DELETE CASCADE
);
CREATE INDEX chunks_document ON chunks (collection, document_id, ordinal, id);
CREATE INDEX chunks_order ON chunks (document_id, ordinal, id);
CREATE INDEX chunks_tags ON chunks USING gin (tags);

CREATE TABLE vector_indexes (
	collection text COLLATE "C" NOT NULL,
	dim        integer NOT NULL,
	name       text NOT NULL,
	PRIMARY KEY (collection, dim)
);
