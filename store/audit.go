package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"time"
)

// AuditHash returns the hex SHA-256 of e's canonical encoding: the fields
// Seq (decimal), At (UTC, RFC 3339 with nanoseconds), Actor, Role, Action,
// Subject, Detail (its bytes as stored) and PrevHash, in that order, each
// written as its byte length (8 bytes, big-endian) followed by its bytes. The
// length prefixes make the encoding unambiguous, so no two different entries
// share an encoding. e.Hash is not covered. Both adapters call this one
// function, so a chain written by one verifies in the other.
func AuditHash(e AuditEntry) string {
	h := sha256.New()
	writeField(h, strconv.FormatInt(e.Seq, 10))
	writeField(h, e.At.UTC().Format(time.RFC3339Nano))
	writeField(h, e.Actor)
	writeField(h, e.Role)
	writeField(h, e.Action)
	writeField(h, e.Subject)
	writeField(h, string(e.Detail))
	writeField(h, e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// AuditVerifier walks an audit chain entry by entry, oldest first, and
// reports the first break. Adapters feed it rows as they read them so a long
// log is never held in memory. The zero value is ready to use.
type AuditVerifier struct {
	n        int64
	lastSeq  int64
	lastHash string
	broken   *AuditReport
}

// Next checks e against the entries seen so far and returns false once the
// chain is broken (the caller may stop reading).
func (v *AuditVerifier) Next(e AuditEntry) bool {
	if v.broken != nil {
		return false
	}
	v.n++
	switch {
	case e.Seq != v.lastSeq+1:
		v.fail(e.Seq, fmt.Sprintf("entry %d follows entry %d: entries are missing", e.Seq, v.lastSeq))
	case e.PrevHash != v.lastHash:
		v.fail(e.Seq, fmt.Sprintf("entry %d does not link to the entry before it", e.Seq))
	case AuditHash(e) != e.Hash:
		v.fail(e.Seq, fmt.Sprintf("entry %d was altered: its hash does not match its fields", e.Seq))
	}
	v.lastSeq, v.lastHash = e.Seq, e.Hash
	return v.broken == nil
}

func (v *AuditVerifier) fail(seq int64, reason string) {
	v.broken = &AuditReport{OK: false, BrokenAt: seq, Reason: reason}
}

// Finish returns the report. headSeq and headHash are the sequence number
// and hash of the last entry the store appended, kept apart from the log, so
// that deleting the newest entries is caught too; pass 0 and "" when the
// store keeps no head.
func (v *AuditVerifier) Finish(headSeq int64, headHash string) AuditReport {
	if v.broken != nil {
		r := *v.broken
		r.Entries = v.n
		return r
	}
	switch {
	case headSeq > v.lastSeq:
		return AuditReport{Entries: v.n, BrokenAt: v.lastSeq + 1,
			Reason: fmt.Sprintf("entries %d to %d are missing from the end of the log", v.lastSeq+1, headSeq)}
	case headSeq != 0 && (headSeq != v.lastSeq || headHash != v.lastHash):
		return AuditReport{Entries: v.n, BrokenAt: headSeq,
			Reason: fmt.Sprintf("entry %d does not match the recorded head of the log", headSeq)}
	}
	return AuditReport{OK: true, Entries: v.n}
}
