// Package storetest is the conformance suite every store.Store adapter must
// pass. An adapter's tests call [Run] with a function that opens a fresh,
// empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness {
//			db := mustOpen(t)
//			return storetest.Harness{Store: db, Exec: db.Exec}
//		})
//	}
//
// The suite covers every method and error code of the store.Store contract:
// encounters and utterances, versioned notes with optimistic locking and
// signing, the hash-chained audit log (tampered with through
// [Harness.Exec] to prove VerifyAudit catches an edited, a deleted and a
// truncated entry), records with expiry, documents and chunks with the
// dimension rule and re-ingest skipping, vector search order and filters,
// transactions (commit, rollback on error and on panic, nesting) and
// concurrent writers. Both adapters run the same cases, so they behave the
// same.
package storetest
