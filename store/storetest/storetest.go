package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// Harness is what an adapter gives the suite for one subtest.
type Harness struct {
	// Store is a fresh, empty store. The suite does not close it; the
	// adapter's open function registers its own cleanup.
	Store store.Store
	// Exec runs one raw SQL statement against the store's database. The
	// suite uses it only to tamper with the audit_log table (an UPDATE and
	// a DELETE with literal values), proving VerifyAudit catches it.
	Exec func(ctx context.Context, sql string, args ...any) error
}

// Run runs the conformance suite. open is called once per subtest.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	t.Run("Encounters", func(t *testing.T) { testEncounters(t, open) })
	t.Run("Utterances", func(t *testing.T) { testUtterances(t, open) })
	t.Run("Notes", func(t *testing.T) { testNotes(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("AuditTamper", func(t *testing.T) { testAuditTamper(t, open) })
	t.Run("Records", func(t *testing.T) { testRecords(t, open) })
	t.Run("Documents", func(t *testing.T) { testDocuments(t, open) })
	t.Run("SearchVectors", func(t *testing.T) { testSearch(t, open) })
	t.Run("InTx", func(t *testing.T) { testInTx(t, open) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, open) })
}

// wantCode fails the test unless err carries code (or is nil when code is "").
func wantCode(t *testing.T, err error, code clinic.Code) {
	t.Helper()
	if got := clinic.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
	if code != "" {
		if _, ok := errors.AsType[*clinic.Error](err); !ok {
			t.Fatalf("error %v is not a *clinic.Error", err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

var t0 = time.Date(2026, 3, 1, 8, 30, 0, 123456789, time.FixedZone("CST", 8*3600))

func newEncounter(t *testing.T, s store.Store, id string) clinic.Encounter {
	t.Helper()
	e := clinic.Encounter{ID: id, PatientID: "p-" + id, Kind: clinic.EncounterOutpatient, StartedAt: t0}
	must(t, s.CreateEncounter(t.Context(), &e))
	return e
}

func testEncounters(t *testing.T, open func(*testing.T) Harness) {
	t.Run("CreateAndRead", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		e := clinic.Encounter{
			PatientID: "p1", Kind: clinic.EncounterInpatient, Department: "cardiology", StartedAt: t0,
			Events: map[string]time.Time{"admitted_at": t0.Add(time.Hour)},
		}
		must(t, s.CreateEncounter(ctx, &e))
		if e.ID == "" || e.CreatedAt.IsZero() {
			t.Fatalf("CreateEncounter left ID %q, CreatedAt %v unset", e.ID, e.CreatedAt)
		}
		got, err := s.Encounter(ctx, e.ID)
		must(t, err)
		diff(t, "encounter", e, got)
	})
	t.Run("DuplicateIsConflict", func(t *testing.T) {
		s := open(t).Store
		newEncounter(t, s, "e1")
		e := clinic.Encounter{ID: "e1", PatientID: "other"}
		wantCode(t, s.CreateEncounter(t.Context(), &e), clinic.CodeConflict)
		got, err := s.Encounter(t.Context(), "e1")
		must(t, err)
		if got.PatientID != "p-e1" {
			t.Errorf("duplicate create overwrote the encounter: patient %q", got.PatientID)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		s := open(t).Store
		_, err := s.Encounter(t.Context(), "missing")
		wantCode(t, err, clinic.CodeNotFound)
		long := clinic.Encounter{ID: string(make([]byte, store.MaxIDLen+1))}
		wantCode(t, s.CreateEncounter(t.Context(), &long), clinic.CodeTooLarge)
		bad := clinic.Encounter{ID: "a\x00b"}
		wantCode(t, s.CreateEncounter(t.Context(), &bad), clinic.CodeInvalid)
	})
}

func testUtterances(t *testing.T, open func(*testing.T) Harness) {
	t.Run("AppendContinuesSeq", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		newEncounter(t, s, "e1")
		first, err := s.AppendUtterances(ctx, "e1", []clinic.Utterance{
			{Speaker: clinic.SpeakerDoctor, Text: "哪里不舒服？"},
			{ID: "u-own", Speaker: clinic.SpeakerPatient, Text: "胸口痛，出汗。", At: t0},
		})
		must(t, err)
		second, err := s.AppendUtterances(ctx, "e1", []clinic.Utterance{{Speaker: clinic.SpeakerDoctor, Text: "多久了？"}})
		must(t, err)
		if first[0].ID == "" || first[1].ID != "u-own" {
			t.Errorf("IDs = %q, %q; want a filled ID and u-own", first[0].ID, first[1].ID)
		}
		want := []clinic.Utterance{
			{ID: first[0].ID, EncounterID: "e1", Seq: 1, Speaker: clinic.SpeakerDoctor, Text: "哪里不舒服？"},
			{ID: "u-own", EncounterID: "e1", Seq: 2, Speaker: clinic.SpeakerPatient, Text: "胸口痛，出汗。", At: t0},
			{ID: second[0].ID, EncounterID: "e1", Seq: 3, Speaker: clinic.SpeakerDoctor, Text: "多久了？"},
		}
		diff(t, "returned", want, append(first, second...))
		got, err := s.Utterances(ctx, "e1")
		must(t, err)
		diff(t, "stored", want, got)
	})
	t.Run("Errors", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		newEncounter(t, s, "e1")
		_, err := s.AppendUtterances(ctx, "e1", []clinic.Utterance{{ID: "u1", Speaker: clinic.SpeakerPatient, Text: "a"}})
		must(t, err)
		tests := []struct {
			name string
			enc  string
			us   []clinic.Utterance
			code clinic.Code
		}{
			{"MissingEncounter", "nope", []clinic.Utterance{{Speaker: "patient", Text: "x"}}, clinic.CodeNotFound},
			{"NoSpeaker", "e1", []clinic.Utterance{{Text: "x"}}, clinic.CodeInvalid},
			{"DuplicateIDWritesNothing", "e1", []clinic.Utterance{{ID: "u2", Speaker: "patient", Text: "b"}, {ID: "u1", Speaker: "patient", Text: "c"}}, clinic.CodeConflict},
			{"TooMany", "e1", make([]clinic.Utterance, store.MaxUtterances+1), clinic.CodeTooLarge},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.AppendUtterances(ctx, tc.enc, tc.us)
				wantCode(t, err, tc.code)
			})
		}
		got, err := s.Utterances(ctx, "e1")
		must(t, err)
		if len(got) != 1 || got[0].ID != "u1" {
			t.Errorf("after failed appends the dialogue is %+v, want only u1", got)
		}
		_, err = s.Utterances(ctx, "nope")
		wantCode(t, err, clinic.CodeNotFound)
	})
}

func newNote(enc string) clinic.Note {
	return clinic.Note{
		EncounterID: enc, Type: clinic.NoteOutpatient, Author: "ai:scribe",
		Sections: []clinic.Section{{Key: "chief_complaint", Title: "主诉", Statements: []clinic.Statement{
			{Text: "胸痛2小时。", Sources: []clinic.Source{{Kind: clinic.SourceUtterance, ID: "u1"}}},
		}}},
	}
}

func testNotes(t *testing.T, open func(*testing.T) Harness) {
	t.Run("Versions", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		n := newNote("e1")
		must(t, s.CreateNote(ctx, &n))
		if n.ID == "" || n.Version != 1 || n.Status != clinic.NoteDraft || n.CreatedAt.IsZero() || !n.UpdatedAt.Equal(n.CreatedAt) {
			t.Fatalf("created note = %+v; want an ID, version 1, draft, CreatedAt = UpdatedAt", n)
		}
		v1 := n
		n.Sections[0].Statements[0].Text = "胸痛3小时。"
		n.Author = "doc-7"
		n.Sections = append([]clinic.Section(nil), n.Sections...)
		must(t, s.UpdateNote(ctx, &n))
		if n.Version != 2 || !n.CreatedAt.Equal(v1.CreatedAt) {
			t.Fatalf("updated note version %d created %v; want 2 and %v", n.Version, n.CreatedAt, v1.CreatedAt)
		}
		v2 := n
		got, err := s.Note(ctx, n.ID)
		must(t, err)
		diff(t, "latest", v2, got)
		got, err = s.NoteVersion(ctx, n.ID, 1)
		must(t, err)
		if got.Version != 1 || got.Author != "ai:scribe" {
			t.Errorf("version 1 = %+v", got)
		}
		all, err := s.NoteVersions(ctx, n.ID)
		must(t, err)
		if len(all) != 2 || all[0].Version != 1 || all[1].Version != 2 || all[1].Author != "doc-7" {
			t.Errorf("versions = %+v", all)
		}
	})
	t.Run("StaleVersionIsConflict", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		n := newNote("e1")
		must(t, s.CreateNote(ctx, &n))
		a, b := n, n
		must(t, s.UpdateNote(ctx, &a))
		wantCode(t, s.UpdateNote(ctx, &b), clinic.CodeConflict)
		if b.Version != 1 {
			t.Errorf("a failed update changed the caller's version to %d", b.Version)
		}
		all, err := s.NoteVersions(ctx, n.ID)
		must(t, err)
		if len(all) != 2 {
			t.Errorf("%d versions stored, want 2", len(all))
		}
	})
	t.Run("SignedNoteIsFinal", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		n := newNote("e1")
		must(t, s.CreateNote(ctx, &n))
		n.Status, n.SignedBy, n.SignedAt = clinic.NoteSigned, "doc-7", t0
		must(t, s.UpdateNote(ctx, &n))
		n.Author = "doc-8"
		wantCode(t, s.UpdateNote(ctx, &n), clinic.CodeConflict)
		got, err := s.Note(ctx, n.ID)
		must(t, err)
		if got.Status != clinic.NoteSigned || got.Version != 2 || got.SignedBy != "doc-7" {
			t.Errorf("signed note = %+v", got)
		}
	})
	t.Run("ByEncounter", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		var ids []string
		for _, id := range []string{"zz", "aa", "mm"} {
			n := newNote("e1")
			n.ID = id
			must(t, s.CreateNote(ctx, &n))
			ids = append(ids, id)
		}
		other := newNote("e2")
		must(t, s.CreateNote(ctx, &other))
		aa, err := s.Note(ctx, "aa")
		must(t, err)
		must(t, s.UpdateNote(ctx, &aa))
		ns, err := s.NotesByEncounter(ctx, "e1")
		must(t, err)
		var got []string
		for _, n := range ns {
			got = append(got, fmt.Sprintf("%s@%d", n.ID, n.Version))
		}
		diff(t, "notes", []string{"zz@1", "aa@2", "mm@1"}, got)
		ns, err = s.NotesByEncounter(ctx, "none")
		must(t, err)
		if len(ns) != 0 {
			t.Errorf("notes of an unknown encounter = %v", ns)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		n := newNote("e1")
		n.ID = "n1"
		must(t, s.CreateNote(ctx, &n))
		dup := newNote("e1")
		dup.ID = "n1"
		missing := newNote("e1")
		missing.ID, missing.Version = "nope", 1
		noEnc := newNote("")
		badStatus := newNote("e1")
		badStatus.Status = "final"
		moved := n
		moved.EncounterID = "e9"
		tests := []struct {
			name string
			err  error
			code clinic.Code
		}{
			{"CreateDuplicate", s.CreateNote(ctx, &dup), clinic.CodeConflict},
			{"CreateWithoutEncounter", s.CreateNote(ctx, &noEnc), clinic.CodeInvalid},
			{"CreateBadStatus", s.CreateNote(ctx, &badStatus), clinic.CodeInvalid},
			{"UpdateMissing", s.UpdateNote(ctx, &missing), clinic.CodeNotFound},
			{"UpdateMovesEncounter", s.UpdateNote(ctx, &moved), clinic.CodeInvalid},
			{"Note", second(s.Note(ctx, "nope")), clinic.CodeNotFound},
			{"NoteVersion", second(s.NoteVersion(ctx, "n1", 2)), clinic.CodeNotFound},
			{"NoteVersions", second(s.NoteVersions(ctx, "nope")), clinic.CodeNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err, tc.code) })
		}
	})
}

func second[T any](_ T, err error) error { return err }

func audit(actor, action, subject string) store.AuditEntry {
	return store.AuditEntry{Actor: actor, Role: "doctor", Action: action, Subject: subject,
		Detail: json.RawMessage(`{ "note_version": 2,  "model": "none" }`)}
}

func appendN(t *testing.T, s store.Store, n int) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	for i := range n {
		e, err := s.AppendAudit(t.Context(), audit(fmt.Sprintf("u%d", i%3), "note.edit", fmt.Sprintf("note/%d", i%2)))
		must(t, err)
		out = append(out, e)
	}
	return out
}

func testAudit(t *testing.T, open func(*testing.T) Harness) {
	t.Run("Chain", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		at := time.Date(2026, 3, 1, 9, 0, 0, 999_999_999, time.UTC)
		e := audit("ai:scribe", "note.draft", "note/1")
		e.At = at
		first, err := s.AppendAudit(ctx, e)
		must(t, err)
		want := store.AuditEntry{Seq: 1, At: at.Truncate(time.Microsecond), Actor: "ai:scribe", Role: "doctor",
			Action: "note.draft", Subject: "note/1", Detail: json.RawMessage(`{"note_version":2,"model":"none"}`)}
		want.Hash = store.AuditHash(want)
		diff(t, "first entry", want, first)
		rest := appendN(t, s, 4)
		for i, e := range rest {
			prev := first
			if i > 0 {
				prev = rest[i-1]
			}
			if e.Seq != int64(i+2) || e.PrevHash != prev.Hash || e.Hash != store.AuditHash(e) || e.At.IsZero() {
				t.Errorf("entry %d = %+v; want seq %d linked to %s", i, e, i+2, prev.Hash)
			}
		}
		all, err := s.AuditEntries(ctx, store.AuditFilter{})
		must(t, err)
		diff(t, "entries", append([]store.AuditEntry{first}, rest...), all)
		rep, err := s.VerifyAudit(ctx)
		must(t, err)
		diff(t, "report", store.AuditReport{OK: true, Entries: 5}, rep)
	})
	t.Run("Filter", func(t *testing.T) {
		s := open(t).Store
		all := appendN(t, s, 6) // actors u0,u1,u2,u0,u1,u2; subjects note/0,note/1,…
		seqs := func(es []store.AuditEntry) []int64 {
			out := []int64{}
			for _, e := range es {
				out = append(out, e.Seq)
			}
			return out
		}
		tests := []struct {
			name string
			f    store.AuditFilter
			want []int64
		}{
			{"All", store.AuditFilter{}, seqs(all)},
			{"Actor", store.AuditFilter{Actor: "u1"}, []int64{2, 5}},
			{"Subject", store.AuditFilter{Subject: "note/0"}, []int64{1, 3, 5}},
			{"Both", store.AuditFilter{Subject: "note/0", Actor: "u0"}, []int64{1}},
			{"Action", store.AuditFilter{Action: "note.sign"}, []int64{}},
			{"Limit", store.AuditFilter{Limit: 2}, []int64{1, 2}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.AuditEntries(t.Context(), tc.f)
				must(t, err)
				diff(t, "seqs", tc.want, seqs(got))
			})
		}
		_, err := s.AuditEntries(t.Context(), store.AuditFilter{Limit: -1})
		wantCode(t, err, clinic.CodeInvalid)
	})
	t.Run("Errors", func(t *testing.T) {
		s := open(t).Store
		tests := []struct {
			name string
			e    store.AuditEntry
			code clinic.Code
		}{
			{"NoActor", store.AuditEntry{Action: "x"}, clinic.CodeInvalid},
			{"NoAction", store.AuditEntry{Actor: "x"}, clinic.CodeInvalid},
			{"DetailNotObject", store.AuditEntry{Actor: "x", Action: "y", Detail: json.RawMessage(`[1]`)}, clinic.CodeInvalid},
			{"DetailNotJSON", store.AuditEntry{Actor: "x", Action: "y", Detail: json.RawMessage(`{`)}, clinic.CodeInvalid},
			{"DetailTooLarge", store.AuditEntry{Actor: "x", Action: "y", Detail: make(json.RawMessage, store.MaxDetailBytes+1)}, clinic.CodeTooLarge},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.AppendAudit(t.Context(), tc.e)
				wantCode(t, err, tc.code)
			})
		}
		rep, err := s.VerifyAudit(t.Context())
		must(t, err)
		diff(t, "empty log report", store.AuditReport{OK: true}, rep)
	})
}

func testAuditTamper(t *testing.T, open func(*testing.T) Harness) {
	tests := []struct {
		name     string
		sql      string
		brokenAt int64
		entries  int64
	}{
		{"EditedActor", `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`, 3, 3},
		{"EditedDetail", `UPDATE audit_log SET detail = '{"note_version":3}' WHERE seq = 2`, 2, 2},
		{"DeletedMiddle", `DELETE FROM audit_log WHERE seq = 3`, 4, 3},
		{"DeletedNewest", `DELETE FROM audit_log WHERE seq = 5`, 5, 4},
		{"DeletedFirst", `DELETE FROM audit_log WHERE seq = 1`, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := open(t)
			appendN(t, h.Store, 5)
			must(t, h.Exec(t.Context(), tc.sql))
			rep, err := h.Store.VerifyAudit(t.Context())
			must(t, err)
			if rep.OK || rep.BrokenAt != tc.brokenAt || rep.Entries != tc.entries || rep.Reason == "" {
				t.Errorf("report = %+v; want broken at %d after %d entries, with a reason", rep, tc.brokenAt, tc.entries)
			}
		})
	}
}

func testRecords(t *testing.T, open func(*testing.T) Harness) {
	t.Run("Versions", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		r := store.Record{Kind: "triage", ID: "s1", Subject: "e1", Body: json.RawMessage(`{"acuity": 2}`)}
		must(t, s.PutRecord(ctx, &r))
		if r.Version != 1 || r.CreatedAt.IsZero() || string(r.Body) != `{"acuity":2}` {
			t.Fatalf("created record = %+v", r)
		}
		got, err := s.Record(ctx, "triage", "s1")
		must(t, err)
		diff(t, "record", r, got)
		stale := r
		r.Body = json.RawMessage(`{"acuity":1}`)
		r.ExpiresAt = t0
		must(t, s.PutRecord(ctx, &r))
		if r.Version != 2 || !r.CreatedAt.Equal(got.CreatedAt) {
			t.Fatalf("replaced record = %+v", r)
		}
		got, err = s.Record(ctx, "triage", "s1")
		must(t, err)
		diff(t, "replaced", r, got)
		if !got.ExpiresAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, t0)
		}
		wantCode(t, s.PutRecord(ctx, &stale), clinic.CodeConflict)
		again := store.Record{Kind: "triage", ID: "s1"}
		wantCode(t, s.PutRecord(ctx, &again), clinic.CodeConflict)
		ghost := store.Record{Kind: "triage", ID: "ghost", Version: 3}
		wantCode(t, s.PutRecord(ctx, &ghost), clinic.CodeConflict)
		_, err = s.Record(ctx, "triage", "ghost")
		wantCode(t, err, clinic.CodeNotFound)
		bad := store.Record{Kind: "triage", Body: json.RawMessage(`{nope`)}
		wantCode(t, s.PutRecord(ctx, &bad), clinic.CodeInvalid)
		noKind := store.Record{ID: "x"}
		wantCode(t, s.PutRecord(ctx, &noKind), clinic.CodeInvalid)
		big := store.Record{Kind: "k", Body: make(json.RawMessage, store.MaxRecordBytes+1)}
		wantCode(t, s.PutRecord(ctx, &big), clinic.CodeTooLarge)
		generated := store.Record{Kind: "alert"}
		must(t, s.PutRecord(ctx, &generated))
		if generated.ID == "" || string(generated.Body) != "null" {
			t.Errorf("record without ID or body stored as %+v", generated)
		}
	})
	t.Run("ListDeletePurge", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		put := func(kind, id, subject string, expires time.Time) store.Record {
			r := store.Record{Kind: kind, ID: id, Subject: subject, Body: json.RawMessage(`{}`), ExpiresAt: expires}
			must(t, s.PutRecord(ctx, &r))
			return r
		}
		past := time.Now().Add(-time.Hour)
		future := time.Now().Add(time.Hour)
		put("ecg", "b", "st1", time.Time{})
		put("ecg", "a", "st2", past)
		put("ecg", "c", "st1", future)
		put("qc", "a", "st1", past)
		ids := func(f store.RecordFilter) []string {
			t.Helper()
			rs, err := s.ListRecords(ctx, f)
			must(t, err)
			out := []string{}
			for _, r := range rs {
				out = append(out, r.Kind+"/"+r.ID)
			}
			return out
		}
		tests := []struct {
			name string
			f    store.RecordFilter
			want []string
		}{
			{"Kind", store.RecordFilter{Kind: "ecg"}, []string{"ecg/b", "ecg/a", "ecg/c"}},
			{"Subject", store.RecordFilter{Kind: "ecg", Subject: "st1"}, []string{"ecg/b", "ecg/c"}},
			{"AllKinds", store.RecordFilter{}, []string{"ecg/b", "ecg/a", "ecg/c", "qc/a"}},
			{"Limit", store.RecordFilter{Kind: "ecg", Limit: 1}, []string{"ecg/b"}},
			{"SinceFuture", store.RecordFilter{Since: future}, []string{}},
			{"SincePast", store.RecordFilter{Kind: "qc", Since: past}, []string{"qc/a"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := ids(tc.f)
				// Records made in the same microsecond tie on CreatedAt and
				// are ordered by ID then; only the set is certain.
				diff(t, "records", tc.want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b }))
			})
		}
		n, err := s.PurgeExpired(ctx, time.Now())
		must(t, err)
		if n != 2 {
			t.Errorf("PurgeExpired deleted %d, want 2", n)
		}
		diff(t, "after purge", []string{"ecg/b", "ecg/c"}, ids(store.RecordFilter{}),
			cmpopts.SortSlices(func(a, b string) bool { return a < b }))
		must(t, s.DeleteRecord(ctx, "ecg", "b"))
		must(t, s.DeleteRecord(ctx, "ecg", "b"))
		diff(t, "after delete", []string{"ecg/c"}, ids(store.RecordFilter{}))
		_, err = s.ListRecords(ctx, store.RecordFilter{Limit: -2})
		wantCode(t, err, clinic.CodeInvalid)
	})
	t.Run("OrderByCreatedAt", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		var want []string
		for _, id := range []string{"z", "y", "x"} {
			r := store.Record{Kind: "k", ID: id}
			must(t, s.PutRecord(ctx, &r))
			want = append(want, id)
			// Make each CreatedAt distinct at the store's microsecond
			// precision without a clock: wait until the clock moves.
			for start := time.Now(); time.Since(start) < 2*time.Microsecond; {
			}
		}
		rs, err := s.ListRecords(ctx, store.RecordFilter{Kind: "k"})
		must(t, err)
		var got []string
		for _, r := range rs {
			got = append(got, r.ID)
		}
		diff(t, "order", want, got)
	})
}

// vec returns a unit-ish vector in 4 dimensions at angle deg from the x
// axis in the x-y plane, plus z.
func vec(deg float64, z float32) []float32 {
	r := deg * math.Pi / 180
	return []float32{float32(math.Cos(r)), float32(math.Sin(r)), z, 0}
}

func doc(collection, id, hash string) store.Document {
	return store.Document{Collection: collection, ID: id, Title: "Title " + id, Source: "corpus/" + id + ".md",
		Version: "2024", EffectiveDate: "2024-05-01", Hash: hash, Tags: []string{"guideline"}}
}

func chunk(ord int, text string, deg float64, tags ...string) store.Chunk {
	return store.Chunk{Ordinal: ord, Text: text, HeadingPath: []string{"第一章", "1.1"}, Tags: tags,
		Metadata: map[string]string{"lang": "zh"}, Embedding: vec(deg, 0)}
}

func scanAll(t *testing.T, s store.Store, collection string) []store.Chunk {
	t.Helper()
	var out []store.Chunk
	must(t, s.ScanChunks(t.Context(), collection, func(c store.Chunk) error {
		out = append(out, c)
		return nil
	}))
	return out
}

func testDocuments(t *testing.T, open func(*testing.T) Harness) {
	t.Run("ReplaceAndSkip", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		in := []store.Chunk{chunk(0, "甲", 0), chunk(1, "乙", 10, "zh")}
		ok, err := s.ReplaceDocument(ctx, doc("g", "d1", "h1"), in)
		must(t, err)
		if !ok {
			t.Fatal("first ReplaceDocument returned false")
		}
		if in[0].ID != "" || in[0].Collection != "" {
			t.Errorf("ReplaceDocument modified the caller's chunks: %+v", in[0])
		}
		ds, err := s.Documents(ctx, "g")
		must(t, err)
		if len(ds) != 1 || ds[0].Chunks != 2 || ds[0].IngestedAt.IsZero() {
			t.Fatalf("documents = %+v", ds)
		}
		want := doc("g", "d1", "h1")
		want.Chunks, want.IngestedAt = 2, ds[0].IngestedAt
		diff(t, "document", want, ds[0])

		ok, err = s.ReplaceDocument(ctx, doc("g", "d1", "h1"), []store.Chunk{chunk(0, "丙", 20)})
		must(t, err)
		if ok {
			t.Error("re-ingest of the same hash returned true")
		}
		got := scanAll(t, s, "g")
		if len(got) != 2 || got[0].Text != "甲" {
			t.Fatalf("same-hash re-ingest changed the chunks: %+v", got)
		}
		ok, err = s.ReplaceDocument(ctx, doc("g", "d1", "h2"), []store.Chunk{chunk(0, "丙", 20)})
		must(t, err)
		if !ok {
			t.Error("re-ingest with a new hash returned false")
		}
		got = scanAll(t, s, "g")
		if len(got) != 1 || got[0].Text != "丙" {
			t.Fatalf("chunks after replace = %+v", got)
		}
		ds, err = s.Documents(ctx, "")
		must(t, err)
		if len(ds) != 1 || ds[0].Hash != "h2" || ds[0].Chunks != 1 {
			t.Errorf("documents after replace = %+v", ds)
		}
	})
	t.Run("ScanOrderAndEmbeddings", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		_, err := s.ReplaceDocument(ctx, doc("g", "b", "1"), []store.Chunk{chunk(1, "b1", 0), chunk(0, "b0", 0)})
		must(t, err)
		_, err = s.ReplaceDocument(ctx, doc("g", "a", "1"), []store.Chunk{chunk(2, "a2", 0), chunk(10, "a10", 0), chunk(1, "a1", 0)})
		must(t, err)
		_, err = s.ReplaceDocument(ctx, doc("h", "a", "1"), []store.Chunk{chunk(0, "ha0", 0)})
		must(t, err)
		many := make([]store.Chunk, 600)
		for i := range many {
			many[i] = chunk(i, fmt.Sprintf("c%03d", i), float64(i))
			many[i].Embedding = []float32{float32(i) + 0.25, -1.5, 1e-3, 7}
		}
		_, err = s.ReplaceDocument(ctx, doc("g", "c", "1"), many)
		must(t, err)
		texts := func(cs []store.Chunk) []string {
			out := []string{}
			for _, c := range cs {
				out = append(out, c.Text)
			}
			return out
		}
		got := scanAll(t, s, "g")
		want := []string{"a1", "a2", "a10", "b0", "b1"}
		for i := range many {
			want = append(want, many[i].Text)
		}
		diff(t, "scan order", want, texts(got))
		for i, c := range got[5:] {
			diff(t, "embedding", many[i].Embedding, c.Embedding)
		}
		if c := got[0]; c.Collection != "g" || c.DocumentID != "a" || c.ID == "" ||
			!cmp.Equal(c.HeadingPath, []string{"第一章", "1.1"}) || c.Metadata["lang"] != "zh" {
			t.Errorf("scanned chunk = %+v", c)
		}
		all := scanAll(t, s, "")
		// Across collections the order is still (DocumentID, Ordinal): h/a#0
		// comes before g/a#1.
		if len(all) != len(want)+1 || all[0].Text != "ha0" || all[1].Text != "a1" {
			t.Errorf("scan of all collections starts %v, len %d", texts(all[:3]), len(all))
		}
		stop := errors.New("stop")
		n := 0
		err = s.ScanChunks(ctx, "g", func(store.Chunk) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Errorf("ScanChunks returned %v after %d calls, want stop after 3", err, n)
		}
	})
	t.Run("DimensionMismatchWritesNothing", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		_, err := s.ReplaceDocument(ctx, doc("g", "d1", "1"), []store.Chunk{chunk(0, "x", 0)})
		must(t, err)
		wide := chunk(0, "y", 0)
		wide.Embedding = append(wide.Embedding, 1)
		_, err = s.ReplaceDocument(ctx, doc("g", "d2", "1"), []store.Chunk{wide})
		wantCode(t, err, clinic.CodeInvalid)
		wide1 := wide
		wide1.Ordinal = 1
		mixed := []store.Chunk{chunk(0, "a", 0), wide1}
		_, err = s.ReplaceDocument(ctx, doc("h", "d3", "1"), mixed)
		wantCode(t, err, clinic.CodeInvalid)
		ds, err := s.Documents(ctx, "")
		must(t, err)
		if len(ds) != 1 || len(scanAll(t, s, "")) != 1 {
			t.Errorf("after rejected writes: %d documents, %d chunks; want 1 and 1", len(ds), len(scanAll(t, s, "")))
		}
		// Replacing the only document of a collection may change its
		// dimension: no other chunk disagrees.
		_, err = s.ReplaceDocument(ctx, doc("g", "d1", "2"), []store.Chunk{wide})
		must(t, err)
		hits, err := s.SearchVectors(ctx, store.VectorQuery{Collection: "g", Vector: wide.Embedding, K: 3})
		must(t, err)
		if len(hits) != 1 || hits[0].Text != "y" {
			t.Errorf("search after dimension change = %+v", hits)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		_, err := s.ReplaceDocument(ctx, doc("g", "d1", "1"), []store.Chunk{{ID: "shared", Embedding: vec(0, 0)}})
		must(t, err)
		zero := chunk(0, "z", 0)
		zero.Embedding = []float32{0, 0, 0, 0}
		nan := chunk(0, "n", 0)
		nan.Embedding = []float32{float32(math.NaN()), 1, 0, 0}
		other := chunk(0, "o", 0)
		other.DocumentID = "elsewhere"
		tests := []struct {
			name   string
			doc    store.Document
			chunks []store.Chunk
			code   clinic.Code
		}{
			{"NoCollection", doc("", "d", "1"), nil, clinic.CodeInvalid},
			{"NoID", doc("g", "", "1"), nil, clinic.CodeInvalid},
			{"ZeroVector", doc("g", "d2", "1"), []store.Chunk{zero}, clinic.CodeInvalid},
			{"NaN", doc("g", "d2", "1"), []store.Chunk{nan}, clinic.CodeInvalid},
			{"NoEmbedding", doc("g", "d2", "1"), []store.Chunk{{Text: "t"}}, clinic.CodeInvalid},
			{"OtherDocument", doc("g", "d2", "1"), []store.Chunk{other}, clinic.CodeInvalid},
			{"DuplicateChunkID", doc("g", "d2", "1"), []store.Chunk{{ID: "x", Embedding: vec(0, 0)}, {ID: "x", Ordinal: 1, Embedding: vec(0, 0)}}, clinic.CodeConflict},
			{"ChunkIDOfAnotherDocument", doc("g", "d2", "1"), []store.Chunk{chunk(0, "ok", 0), {ID: "shared", Ordinal: 1, Embedding: vec(0, 0)}}, clinic.CodeConflict},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.ReplaceDocument(ctx, tc.doc, tc.chunks)
				wantCode(t, err, tc.code)
			})
		}
		ds, err := s.Documents(ctx, "")
		must(t, err)
		if len(ds) != 1 || len(scanAll(t, s, "")) != 1 {
			t.Errorf("failed writes left %d documents, %d chunks", len(ds), len(scanAll(t, s, "")))
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := open(t).Store
		ctx := t.Context()
		_, err := s.ReplaceDocument(ctx, doc("g", "d1", "1"), []store.Chunk{chunk(0, "x", 0)})
		must(t, err)
		_, err = s.ReplaceDocument(ctx, doc("g", "d2", "1"), []store.Chunk{chunk(0, "y", 5)})
		must(t, err)
		must(t, s.DeleteDocument(ctx, "g", "d1"))
		must(t, s.DeleteDocument(ctx, "g", "d1"))
		ds, err := s.Documents(ctx, "g")
		must(t, err)
		if len(ds) != 1 || ds[0].ID != "d2" {
			t.Errorf("documents after delete = %+v", ds)
		}
		hits, err := s.SearchVectors(ctx, store.VectorQuery{Vector: vec(0, 0), K: 5})
		must(t, err)
		if len(hits) != 1 || hits[0].DocumentID != "d2" {
			t.Errorf("search after delete = %+v", hits)
		}
	})
}

func testSearch(t *testing.T, open func(*testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	_, err := s.ReplaceDocument(ctx, doc("guide", "stemi", "1"), []store.Chunk{
		chunk(0, "s0", 5, "ecg", "zh"),
		chunk(1, "s1", 40, "ecg"),
		chunk(2, "s2", 100, "zh"),
		chunk(3, "s3", 170),
	})
	must(t, err)
	_, err = s.ReplaceDocument(ctx, doc("guide", "htn", "1"), []store.Chunk{
		chunk(0, "h0", 20, "zh"),
		chunk(1, "h1", 60, "ecg", "zh"),
	})
	must(t, err)
	_, err = s.ReplaceDocument(ctx, doc("other", "x", "1"), []store.Chunk{chunk(0, "o0", 1, "zh"), chunk(1, "o1", 30)})
	must(t, err)
	_, err = s.ReplaceDocument(ctx, doc("wide", "w", "1"), []store.Chunk{{Text: "w0", Embedding: []float32{1, 0, 0, 0, 0}}})
	must(t, err)

	q := vec(0, 0)
	for i := range q {
		q[i] *= 3 // the scale of the query does not matter
	}
	tests := []struct {
		name string
		q    store.VectorQuery
		want []string
	}{
		{"Collection", store.VectorQuery{Collection: "guide", Vector: q, K: 3}, []string{"s0", "h0", "s1"}},
		{"AllCollectionsOfTheDimension", store.VectorQuery{Vector: q, K: 4}, []string{"o0", "s0", "h0", "o1"}},
		{"OneTag", store.VectorQuery{Collection: "guide", Vector: q, K: 10, Tags: []string{"ecg"}}, []string{"s0", "s1", "h1"}},
		{"EveryTag", store.VectorQuery{Collection: "guide", Vector: q, K: 10, Tags: []string{"zh", "ecg"}}, []string{"s0", "h1"}},
		{"UnknownTag", store.VectorQuery{Collection: "guide", Vector: q, K: 10, Tags: []string{"nope"}}, []string{}},
		{"KLargerThanCollection", store.VectorQuery{Collection: "guide", Vector: q, K: 100}, []string{"s0", "h0", "s1", "h1", "s2", "s3"}},
		{"Exact", store.VectorQuery{Collection: "guide", Vector: q, K: 3, Exact: true}, []string{"s0", "h0", "s1"}},
		{"ExactTags", store.VectorQuery{Collection: "guide", Vector: q, K: 10, Tags: []string{"ecg"}, Exact: true}, []string{"s0", "s1", "h1"}},
		{"OtherDimension", store.VectorQuery{Vector: []float32{0, 0, 0, 0, 2}, K: 2}, []string{"w0"}},
		{"EmptyCollection", store.VectorQuery{Collection: "none", Vector: q, K: 2}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := s.SearchVectors(ctx, tc.q)
			must(t, err)
			got := []string{}
			for _, h := range hits {
				got = append(got, h.Text)
			}
			diff(t, "hits", tc.want, got)
		})
	}
	t.Run("Scores", func(t *testing.T) {
		hits, err := s.SearchVectors(ctx, store.VectorQuery{Collection: "guide", Vector: q, K: 6})
		must(t, err)
		degs := []float64{5, 20, 40, 60, 100, 170}
		for i, h := range hits {
			want := math.Cos(degs[i] * math.Pi / 180)
			if math.Abs(h.Score-want) > 1e-4 {
				t.Errorf("hit %d (%s) score %.6f, want %.6f", i, h.Text, h.Score, want)
			}
		}
		h := hits[0]
		want := store.ChunkHit{Chunk: store.Chunk{ID: h.ID, Collection: "guide", DocumentID: "stemi", Ordinal: 0,
			HeadingPath: []string{"第一章", "1.1"}, Text: "s0", Tags: []string{"ecg", "zh"},
			Metadata: map[string]string{"lang": "zh"}}, Score: h.Score}
		diff(t, "hit", want, h)
	})
	t.Run("Errors", func(t *testing.T) {
		tests := []struct {
			name string
			q    store.VectorQuery
			code clinic.Code
		}{
			{"WrongDimension", store.VectorQuery{Collection: "guide", Vector: []float32{1, 0, 0}, K: 2}, clinic.CodeInvalid},
			{"NoVector", store.VectorQuery{Collection: "guide", K: 2}, clinic.CodeInvalid},
			{"ZeroVector", store.VectorQuery{Vector: []float32{0, 0, 0, 0}, K: 2}, clinic.CodeInvalid},
			{"ZeroK", store.VectorQuery{Vector: q, K: 0}, clinic.CodeInvalid},
			{"HugeK", store.VectorQuery{Vector: q, K: store.MaxSearchK + 1}, clinic.CodeTooLarge},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.SearchVectors(ctx, tc.q)
				wantCode(t, err, tc.code)
			})
		}
	})
}

var errBoom = errors.New("boom")

// writeAll makes one write of each kind through s.
func writeAll(ctx context.Context, t *testing.T, s store.Store, tag string) {
	t.Helper()
	e := clinic.Encounter{ID: "enc-" + tag}
	must(t, s.CreateEncounter(ctx, &e))
	_, err := s.AppendUtterances(ctx, e.ID, []clinic.Utterance{{Speaker: "patient", Text: tag}})
	must(t, err)
	n := newNote(e.ID)
	n.ID = "note-" + tag
	must(t, s.CreateNote(ctx, &n))
	_, err = s.AppendAudit(ctx, audit("u", "note.draft", n.ID))
	must(t, err)
	r := store.Record{Kind: "k", ID: "rec-" + tag}
	must(t, s.PutRecord(ctx, &r))
	_, err = s.ReplaceDocument(ctx, doc("g", "doc-"+tag, "1"), []store.Chunk{chunk(0, tag, 0)})
	must(t, err)
}

// present reports which of writeAll's writes for tag are visible in s.
func present(t *testing.T, s store.Store, tag string) []string {
	t.Helper()
	ctx := t.Context()
	var out []string
	if _, err := s.Encounter(ctx, "enc-"+tag); err == nil {
		out = append(out, "encounter")
	}
	if _, err := s.Note(ctx, "note-"+tag); err == nil {
		out = append(out, "note")
	}
	es, err := s.AuditEntries(ctx, store.AuditFilter{Subject: "note-" + tag})
	must(t, err)
	if len(es) > 0 {
		out = append(out, "audit")
	}
	if _, err := s.Record(ctx, "k", "rec-"+tag); err == nil {
		out = append(out, "record")
	}
	ds, err := s.Documents(ctx, "g")
	must(t, err)
	for _, d := range ds {
		if d.ID == "doc-"+tag {
			out = append(out, "document")
		}
	}
	hits, err := s.SearchVectors(ctx, store.VectorQuery{Collection: "g", Vector: vec(0, 0), K: 100})
	must(t, err)
	for _, h := range hits {
		if h.Text == tag {
			out = append(out, "chunk")
		}
	}
	return out
}

func testInTx(t *testing.T, open func(*testing.T) Harness) {
	all := []string{"encounter", "note", "audit", "record", "document", "chunk"}
	t.Run("Commit", func(t *testing.T) {
		s := open(t).Store
		must(t, s.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
			writeAll(ctx, t, tx, "c")
			if got := present(t, tx, "c"); len(got) < 5 {
				t.Errorf("inside the transaction only %v are visible", got)
			}
			return nil
		}))
		diff(t, "committed", all, present(t, s, "c"))
		rep, err := s.VerifyAudit(t.Context())
		must(t, err)
		if !rep.OK || rep.Entries != 1 {
			t.Errorf("audit after commit: %+v", rep)
		}
	})
	t.Run("RollbackOnError", func(t *testing.T) {
		s := open(t).Store
		writeAll(t.Context(), t, s, "before")
		err := s.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
			writeAll(ctx, t, tx, "r")
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx returned %v, want boom", err)
		}
		diff(t, "rolled back", []string(nil), present(t, s, "r"))
		diff(t, "earlier writes", all, present(t, s, "before"))
		e, err := s.AppendAudit(t.Context(), audit("u", "x", "y"))
		must(t, err)
		if e.Seq != 2 {
			t.Errorf("seq after a rolled-back append = %d, want 2", e.Seq)
		}
		rep, err := s.VerifyAudit(t.Context())
		must(t, err)
		if !rep.OK || rep.Entries != 2 {
			t.Errorf("audit after rollback: %+v", rep)
		}
	})
	t.Run("RollbackOnPanic", func(t *testing.T) {
		s := open(t).Store
		func() {
			defer func() {
				if r := recover(); r != errBoom {
					t.Errorf("recovered %v, want the panic value re-raised", r)
				}
			}()
			s.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
				writeAll(ctx, t, tx, "p")
				panic(errBoom)
			})
		}()
		diff(t, "rolled back", []string(nil), present(t, s, "p"))
		// The store still works after the panic.
		writeAll(t.Context(), t, s, "after")
		diff(t, "after panic", all, present(t, s, "after"))
	})
	t.Run("Nested", func(t *testing.T) {
		s := open(t).Store
		must(t, s.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
			writeAll(ctx, t, tx, "outer")
			err := tx.InTx(ctx, func(ctx context.Context, inner store.Store) error {
				writeAll(ctx, t, inner, "inner-failed")
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Errorf("nested InTx returned %v", err)
			}
			must(t, tx.InTx(ctx, func(ctx context.Context, inner store.Store) error {
				writeAll(ctx, t, inner, "inner-ok")
				return nil
			}))
			// The root store called with the transaction's context joins it.
			return s.InTx(ctx, func(ctx context.Context, inner store.Store) error {
				e := clinic.Encounter{ID: "enc-root"}
				return s.CreateEncounter(ctx, &e)
			})
		}))
		diff(t, "outer", all, present(t, s, "outer"))
		diff(t, "inner ok", all, present(t, s, "inner-ok"))
		diff(t, "inner failed", []string(nil), present(t, s, "inner-failed"))
		if _, err := s.Encounter(t.Context(), "enc-root"); err != nil {
			t.Errorf("write through the root store with the tx context: %v", err)
		}
		rep, err := s.VerifyAudit(t.Context())
		must(t, err)
		if !rep.OK || rep.Entries != 2 {
			t.Errorf("audit after nested transactions: %+v", rep)
		}
	})
	t.Run("FailedWriteInsideTxLeavesItUsable", func(t *testing.T) {
		s := open(t).Store
		newEncounter(t, s, "dup")
		must(t, s.InTx(t.Context(), func(ctx context.Context, tx store.Store) error {
			e := clinic.Encounter{ID: "dup"}
			wantCode(t, tx.CreateEncounter(ctx, &e), clinic.CodeConflict)
			writeAll(ctx, t, tx, "later")
			return nil
		}))
		diff(t, "later", all, present(t, s, "later"))
	})
}

func testConcurrent(t *testing.T, open func(*testing.T) Harness) {
	const workers, each = 8, 25
	s := open(t).Store
	ctx := t.Context()
	n := newNote("e1")
	must(t, s.CreateNote(ctx, &n))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.AppendAudit(ctx, audit(fmt.Sprintf("w%d", w), "note.edit", fmt.Sprintf("n%d", i))); err != nil {
					errs <- err
					return
				}
				for {
					cur, err := s.Note(ctx, n.ID)
					if err != nil {
						errs <- err
						return
					}
					cur.Author = fmt.Sprintf("w%d-%d", w, i)
					err = s.UpdateNote(ctx, &cur)
					if clinic.ErrorCode(err) == clinic.CodeConflict {
						continue // someone else saved first: reload and retry
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := s.VerifyAudit(ctx)
	must(t, err)
	diff(t, "audit report", store.AuditReport{OK: true, Entries: workers * each}, rep)
	es, err := s.AuditEntries(ctx, store.AuditFilter{})
	must(t, err)
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
	}
	vs, err := s.NoteVersions(ctx, n.ID)
	must(t, err)
	if len(vs) != 1+workers*each {
		t.Errorf("%d note versions, want %d", len(vs), 1+workers*each)
	}
	for i, v := range vs {
		if v.Version != i+1 {
			t.Fatalf("version %d stored at position %d", v.Version, i)
		}
	}
	got, err := s.Note(ctx, n.ID)
	must(t, err)
	if got.Version != 1+workers*each {
		t.Errorf("latest version %d, want %d", got.Version, 1+workers*each)
	}
}

func testLifecycle(t *testing.T, open func(*testing.T) Harness) {
	s := open(t).Store
	must(t, s.Ping(t.Context()))
	must(t, s.Close())
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
