// Package postgres is the store.Store on PostgreSQL with pgvector, through
// pgx v5 and pgvector-go (whose types are registered on every connection).
// Hospitals run it; several stateless replicas may share one database.
//
// # Opening
//
// [Open] parses the DSN, connects within Config.ConnectTimeout (an
// unreachable server is a clinic unavailable error naming host and port,
// never the password), makes sure the vector extension exists, and applies
// the migrations embedded from migrations/NNNN_*.sql that schema_migrations
// does not list, holding a session advisory lock so replicas starting
// together apply each once. Config.Schema puts the store's tables in their
// own schema (tests use one schema per test; see store/pgtest).
//
// Connections come from a pgxpool.Pool of at most Config.MaxConns, whose
// AfterConnect registers pgvector's types.
//
// # Concurrency and transactions
//
// Each write method runs in its own transaction. Optimistic note updates
// lock the note's row (FOR UPDATE); audit appends lock the single
// audit_head row, which serialises appenders so the chain cannot fork;
// document writes take a transaction advisory lock per collection, because
// the one-dimension-per-collection rule spans its documents. InTx and
// nesting behave as in store/sqlite: the context given to fn carries the
// transaction, nested calls and methods inside a transaction use
// savepoints. A transaction's Store may be shared by goroutines; their
// calls take turns on its connection.
//
// # Vectors
//
// chunks.embedding is an untyped vector column with its dimension in
// chunks.dim. HNSW needs a fixed dimension, so the first chunk of each
// (collection, dimension) pair creates a partial expression index
//
//	CREATE INDEX ... USING hnsw ((embedding::vector(D)) vector_cosine_ops)
//	    WHERE collection = '<collection>' AND dim = D
//
// listed in vector_indexes. Approximate searches order by that same
// expression with the collection and dimension as literals, so the planner
// uses the index; hnsw.ef_search is set per query transaction to
// max(Config.EfSearch, 4·K), at most 1,000 — on built-in embeddings of
// text a candidate list of only K misses a fifth of the true top 10 — and
// tag filters (tags @> array, GIN-indexed) use pgvector's strict-order
// iterative scan, so a filter does not starve the result. Exact searches order by the
// untyped distance, which no index serves. A search over all collections
// unions one index search per collection of the query's dimension.
// Dimensions above 2,000 (HNSW's limit) get no index and are scanned.
//
// # Times and JSON
//
// Times are timestamptz (microseconds) and are returned in UTC. Record
// bodies and audit details are stored as text, byte for byte, so the audit
// hash covers exactly what is stored; note and encounter bodies are jsonb.
package postgres
