package store_test

import (
	"encoding/json"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

func chain(n int) []store.AuditEntry {
	var out []store.AuditEntry
	prev := ""
	for i := range n {
		e := store.AuditEntry{Seq: int64(i + 1), At: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC),
			Actor: "u", Action: "a", PrevHash: prev}
		e.Hash = store.AuditHash(e)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestAuditHash(t *testing.T) {
	base := store.AuditEntry{Seq: 7, At: time.Date(2026, 3, 1, 8, 0, 0, 5000, time.FixedZone("CST", 8*3600)),
		Actor: "doc-1", Role: "doctor", Action: "note.sign", Subject: "note/9",
		Detail: json.RawMessage(`{"v":2}`), PrevHash: "ab"}
	// Pinned so that a change to the encoding, which would break every
	// stored chain, cannot go unnoticed. Computed independently with
	// Python's hashlib over the documented encoding (8-byte big-endian
	// length, then the bytes, for each of the eight fields).
	const want = "95bd4166088423f49acea89a6c7864888d49fb96e8f54c5c1e7f9018637b8d44"
	if got := store.AuditHash(base); got != want {
		t.Errorf("AuditHash = %s, want %s", got, want)
	}
	utc := base
	utc.At = base.At.UTC()
	withHash := base
	withHash.Hash = "anything"
	if store.AuditHash(utc) != store.AuditHash(base) || store.AuditHash(withHash) != store.AuditHash(base) {
		t.Error("the hash depends on the time zone or on Hash itself")
	}
	shifted := base
	shifted.Actor, shifted.Role = "doc-1d", "octor"
	if store.AuditHash(shifted) == store.AuditHash(base) {
		t.Error("moving bytes between fields keeps the hash")
	}
}

func TestAuditVerifier(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func([]store.AuditEntry) []store.AuditEntry
		headSeq int64
		want    store.AuditReport
	}{
		{"OK", func(es []store.AuditEntry) []store.AuditEntry { return es }, 4, store.AuditReport{OK: true, Entries: 4}},
		{"Edited", func(es []store.AuditEntry) []store.AuditEntry { es[1].Subject = "x"; return es }, 4,
			store.AuditReport{Entries: 2, BrokenAt: 2}},
		{"Deleted", func(es []store.AuditEntry) []store.AuditEntry { return append(es[:1], es[2:]...) }, 4,
			store.AuditReport{Entries: 2, BrokenAt: 3}},
		{"Relinked", func(es []store.AuditEntry) []store.AuditEntry {
			es = append(es[:1], es[2:]...)
			es[1].Seq, es[1].PrevHash = 2, es[0].Hash
			es[1].Hash = store.AuditHash(es[1])
			return es
		}, 4, store.AuditReport{Entries: 3, BrokenAt: 4}},
		{"Truncated", func(es []store.AuditEntry) []store.AuditEntry { return es[:2] }, 4,
			store.AuditReport{Entries: 2, BrokenAt: 3}},
		{"NoHead", func(es []store.AuditEntry) []store.AuditEntry { return es[:2] }, 0, store.AuditReport{OK: true, Entries: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v store.AuditVerifier
			es := tc.mutate(chain(4))
			for _, e := range es {
				if !v.Next(e) {
					break
				}
			}
			head := chain(4)[3]
			got := v.Finish(tc.headSeq, head.Hash)
			if got.OK != (got.Reason == "") {
				t.Errorf("OK %v with reason %q", got.OK, got.Reason)
			}
			got.Reason = ""
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("report (-want +got):\n%s", d)
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	ok := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("B")},
		"m/0001_init.sql": {Data: []byte("A")},
		"m/README":        {Data: []byte("ignored")},
	}
	ms, err := store.Migrations(ok, "m")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Migration{{1, "0001_init.sql", "A"}, {2, "0002_more.sql", "B"}}
	if d := cmp.Diff(want, ms); d != "" {
		t.Errorf("migrations (-want +got):\n%s", d)
	}
	for name, fs := range map[string]fstest.MapFS{
		"BadName":   {"m/init.sql": {}},
		"Zero":      {"m/0000_x.sql": {}},
		"Duplicate": {"m/0001_a.sql": {}, "m/1_b.sql": {}},
		"NoDir":     {},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := store.Migrations(fs, "m"); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestChunkIDStable(t *testing.T) {
	a := store.ChunkID("g", "d", 1)
	if a != store.ChunkID("g", "d", 1) || a == store.ChunkID("g", "d", 2) || a == store.ChunkID("gd", "", 1) {
		t.Errorf("ChunkID is not a stable, field-separated function: %s", a)
	}
	if store.NewID() == store.NewID() {
		t.Error("NewID repeated")
	}
}

// FuzzPrepareAudit: any input either is rejected with a clinic code or
// yields a compact JSON object detail that a second pass leaves unchanged,
// with a hash that verifies.
func FuzzPrepareAudit(f *testing.F) {
	f.Add("doc", "note.sign", `{"a": 1, "b": [1, 2]}`)
	f.Add("", "x", "")
	f.Add("u", "a", `[1]`)
	f.Add("u", "a", "{\"\xff\":1}")
	f.Fuzz(func(t *testing.T, actor, action, detail string) {
		e := store.AuditEntry{Actor: actor, Action: action, Detail: json.RawMessage(detail)}
		if err := store.PrepareAudit(&e, time.Unix(1, 0)); err != nil {
			if c := clinic.ErrorCode(err); c != clinic.CodeInvalid && c != clinic.CodeTooLarge {
				t.Fatalf("error code %q", c)
			}
			return
		}
		if e.Detail != nil {
			var m map[string]any
			if err := json.Unmarshal(e.Detail, &m); err != nil || m == nil {
				t.Fatalf("accepted detail %q is not an object", e.Detail)
			}
		}
		again := e
		if err := store.PrepareAudit(&again, time.Unix(2, 0)); err != nil {
			t.Fatalf("second pass: %v", err)
		}
		if string(again.Detail) != string(e.Detail) || !again.At.Equal(e.At) {
			t.Fatalf("not idempotent: %q then %q", e.Detail, again.Detail)
		}
		e.Seq = 1
		e.Hash = store.AuditHash(e)
		var v store.AuditVerifier
		v.Next(e)
		if r := v.Finish(1, e.Hash); !r.OK {
			t.Fatalf("fresh entry does not verify: %+v", r)
		}
	})
}
