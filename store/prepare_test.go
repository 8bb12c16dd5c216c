package store_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// fixedClock returns a clock that always reads t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// succeeded checks err against the code a case expects ("" for none) and
// reports whether the call succeeded, so that its result is worth checking.
// A mismatch ends the test.
func succeeded(t *testing.T, err error, code clinic.Code) bool {
	t.Helper()
	if clinic.ErrorCode(err) != code {
		t.Fatalf("err = %v, want code %q", err, code)
	}
	return err == nil
}

var clockAt = time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CST", 8*3600))

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		code      clinic.Code
		field, en string
		zh        string
	}{
		{"NotFound", store.NotFound("note", "n1"), clinic.CodeNotFound, "", "note n1 does not exist", "不存在：n1"},
		{"EncounterExists", store.EncounterExists("e1"), clinic.CodeConflict, "id", "encounter e1 already exists", "就诊编号已存在：e1"},
		{"UtteranceExists", store.UtteranceExists("u1"), clinic.CodeConflict, "id", "utterance u1 already exists", "话语编号已存在：u1"},
		{"NoteExists", store.NoteExists("n1"), clinic.CodeConflict, "id", "note n1 already exists", "病历编号已存在：n1"},
		{"RecordExists", store.RecordExists("alert", "r1"), clinic.CodeConflict, "id", "record alert/r1 already exists", "记录已存在：r1"},
		{"RecordStale", store.RecordStale("alert", "r1"), clinic.CodeConflict, "version",
			"record alert/r1 is missing or not at the given version", "记录不存在或版本已变化：r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := errors.AsType[*clinic.Error](tc.err)
			if !ok {
				t.Fatalf("%v is not a *clinic.Error", tc.err)
			}
			got := [4]string{string(e.Code), e.Field, e.Message, e.MessageZH}
			want := [4]string{string(tc.code), tc.field, tc.en, tc.zh}
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestPrepareEncounter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     clinic.Encounter
		code   clinic.Code
		keepID bool
	}{
		{"FillsID", clinic.Encounter{PatientID: "p1", Kind: clinic.EncounterKiosk}, "", false},
		{"KeepsID", clinic.Encounter{ID: "e1", PatientID: "p1", CreatedAt: time.Unix(1, 0)}, "", true},
		{"BadPatient", clinic.Encounter{PatientID: "p\x00"}, clinic.CodeInvalid, false},
		{"LongID", clinic.Encounter{ID: strings.Repeat("x", store.MaxIDLen+1)}, clinic.CodeTooLarge, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			c, body, err := store.PrepareEncounter(&in, fixedClock(clockAt))
			if diff := cmp.Diff(tc.in, in); diff != "" {
				t.Errorf("input modified (-before +after):\n%s", diff)
			}
			if !succeeded(t, err, tc.code) {
				return
			}
			if c.ID == "" || (tc.keepID && c.ID != tc.in.ID) {
				t.Errorf("ID = %q (input %q)", c.ID, tc.in.ID)
			}
			if want := store.Micro(clockAt); !c.CreatedAt.Equal(want) || c.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt = %v, want %v in UTC", c.CreatedAt, want)
			}
			back, err := store.DecodeEncounter(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c, back); diff != "" {
				t.Errorf("body does not decode to the copy (-copy +decoded):\n%s", diff)
			}
		})
	}
}

func TestPrepareUtterances(t *testing.T) {
	for _, tc := range []struct {
		name string
		last int
		in   []clinic.Utterance
	}{
		{"Empty", 0, []clinic.Utterance{}},
		{"FirstTurns", 0, []clinic.Utterance{{Speaker: "patient", Text: "头痛"}, {ID: "u2", Speaker: "doctor", Text: "多久了？"}}},
		{"AfterStored", 7, []clinic.Utterance{{ID: "u8", EncounterID: "other", Seq: 99, Speaker: "patient", Text: "三天"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.in)
			out, bodies, err := store.PrepareUtterances("e1", tc.last, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, tc.in); diff != "" {
				t.Errorf("input modified:\n%s", diff)
			}
			if out == nil || len(out) != len(tc.in) || len(bodies) != len(tc.in) {
				t.Fatalf("got %d utterances and %d bodies (nil %v) for %d", len(out), len(bodies), out == nil, len(tc.in))
			}
			for i, u := range out {
				if u.EncounterID != "e1" || u.Seq != tc.last+1+i || u.ID == "" ||
					(tc.in[i].ID != "" && u.ID != tc.in[i].ID) || u.Text != tc.in[i].Text {
					t.Errorf("utterance %d = %+v (input %+v)", i, u, tc.in[i])
				}
				back, err := store.DecodeUtterance(bodies[i])
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(u, back); diff != "" {
					t.Errorf("body %d (-copy +decoded):\n%s", i, diff)
				}
			}
		})
	}
}

func TestPrepareNote(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     clinic.Note
		code   clinic.Code
		status clinic.NoteStatus
	}{
		{"DraftByDefault", clinic.Note{EncounterID: "e1", Type: "outpatient", Version: 9}, "", clinic.NoteDraft},
		{"Signed", clinic.Note{ID: "n1", EncounterID: "e1", Type: "outpatient", Status: clinic.NoteSigned}, "", clinic.NoteSigned},
		{"NoEncounter", clinic.Note{Type: "outpatient"}, clinic.CodeInvalid, ""},
		{"BadStatus", clinic.Note{EncounterID: "e1", Type: "outpatient", Status: "lost"}, clinic.CodeInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			c, body, err := store.PrepareNote(&in, fixedClock(clockAt))
			if diff := cmp.Diff(tc.in, in); diff != "" {
				t.Errorf("input modified (-before +after):\n%s", diff)
			}
			if !succeeded(t, err, tc.code) {
				return
			}
			want := store.Micro(clockAt)
			if c.ID == "" || c.Version != 1 || c.Status != tc.status || !c.CreatedAt.Equal(want) || !c.UpdatedAt.Equal(want) {
				t.Errorf("copy = %+v", c)
			}
			back, err := store.DecodeNote(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c, back); diff != "" {
				t.Errorf("body (-copy +decoded):\n%s", diff)
			}
		})
	}
}

func TestPrepareNoteUpdate(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("CST", 8*3600))
	head := store.NoteHead{Version: 3, Status: clinic.NoteDraft, EncounterID: "e1", CreatedAt: created}
	for _, tc := range []struct {
		name  string
		n     clinic.Note
		head  func(h *store.NoteHead)
		code  clinic.Code
		field string
	}{
		{"OK", clinic.Note{ID: "n1", Type: "outpatient", Version: 3}, nil, "", ""},
		{"Signed", clinic.Note{ID: "n1", Type: "outpatient", Version: 3}, func(h *store.NoteHead) { h.Status = clinic.NoteSigned }, clinic.CodeConflict, "status"},
		{"Stale", clinic.Note{ID: "n1", Type: "outpatient", Version: 2}, nil, clinic.CodeConflict, "version"},
		{"OtherEncounter", clinic.Note{ID: "n1", EncounterID: "e2", Type: "outpatient", Version: 3}, nil, clinic.CodeInvalid, "encounter_id"},
		{"NoType", clinic.Note{ID: "n1", Version: 3}, nil, clinic.CodeInvalid, "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := head
			if tc.head != nil {
				tc.head(&h)
			}
			n := tc.n
			body, err := store.PrepareNoteUpdate(&n, h, fixedClock(clockAt))
			if tc.code != "" {
				e, ok := errors.AsType[*clinic.Error](err)
				if !ok || e.Code != tc.code || e.Field != tc.field {
					t.Fatalf("err = %v, want %s on %s", err, tc.code, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Version != 4 || n.EncounterID != "e1" || n.Status != clinic.NoteDraft ||
				!n.CreatedAt.Equal(created) || n.CreatedAt.Location() != time.UTC || !n.UpdatedAt.Equal(store.Micro(clockAt)) {
				t.Errorf("note = %+v", n)
			}
			back, err := store.DecodeNote(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(n, back); diff != "" {
				t.Errorf("body (-note +decoded):\n%s", diff)
			}
		})
	}
}

func TestDecodeBodies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		body   string
		prefix string
	}{
		{"EncounterOK", func(b []byte) error { _, err := store.DecodeEncounter(b); return err }, `{"id":"e1"}`, ""},
		{"EncounterBad", func(b []byte) error { _, err := store.DecodeEncounter(b); return err }, `{`, "unexpected end"},
		{"UtteranceBad", func(b []byte) error { _, err := store.DecodeUtterance(b); return err }, `[]`, "json: cannot unmarshal"},
		{"NoteOK", func(b []byte) error { _, err := store.DecodeNote(b); return err }, `{"id":"n1","version":2}`, ""},
		{"NoteBad", func(b []byte) error { _, err := store.DecodeNote(b); return err }, `"x"`, "decode note: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode([]byte(tc.body))
			switch {
			case tc.prefix == "" && err != nil:
				t.Fatal(err)
			case tc.prefix != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.prefix)):
				t.Fatalf("err = %v, want one starting %q", err, tc.prefix)
			}
		})
	}
}

func TestLinkAudit(t *testing.T) {
	var (
		v    store.AuditVerifier
		seq  int64
		hash string
	)
	for i, action := range []string{"note.draft", "note.sign", "phi.read"} {
		e := store.AuditEntry{At: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC), Actor: "u1", Action: action,
			Detail: json.RawMessage(`{"n":1}`)}
		store.LinkAudit(&e, seq, hash)
		if e.Seq != int64(i+1) || e.PrevHash != hash || e.Hash != store.AuditHash(e) {
			t.Fatalf("entry %d = %+v", i, e)
		}
		if !v.Next(e) {
			t.Fatalf("entry %d breaks the chain", i)
		}
		seq, hash = e.Seq, e.Hash
	}
	if rep := v.Finish(seq, hash); !rep.OK || rep.Entries != 3 {
		t.Errorf("report = %+v", rep)
	}
}

func TestPrepareReplace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []store.Chunk
		code   clinic.Code
		dim    int
	}{
		{"NoChunks", nil, "", 0},
		{"TwoChunks", []store.Chunk{{Ordinal: 0, Text: "a", Embedding: []float32{1, 0}},
			{Ordinal: 1, Text: "b", Embedding: []float32{0, 1}}}, "", 2},
		{"MixedDims", []store.Chunk{{Ordinal: 0, Embedding: []float32{1, 0}},
			{Ordinal: 1, Embedding: []float32{1}}}, clinic.CodeInvalid, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := store.Document{Collection: "c", ID: "d", Hash: "h"}
			chunks, dim, err := store.PrepareReplace(&doc, tc.chunks, fixedClock(clockAt))
			if !succeeded(t, err, tc.code) {
				if doc.Chunks != 0 || !doc.IngestedAt.IsZero() {
					t.Errorf("document filled on error: %+v", doc)
				}
				return
			}
			if dim != tc.dim || len(chunks) != len(tc.chunks) || doc.Chunks != len(tc.chunks) ||
				!doc.IngestedAt.Equal(store.Micro(clockAt)) {
				t.Errorf("dim %d, %d chunks, document %+v", dim, len(chunks), doc)
			}
			for _, c := range chunks {
				if c.Collection != "c" || c.DocumentID != "d" || c.ID != store.ChunkID("c", "d", c.Ordinal) {
					t.Errorf("chunk %+v", c)
				}
			}
		})
	}
}

func TestDocumentUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hash   string
		exists bool
		stored string
		want   bool
	}{
		{"SameHash", "h1", true, "h1", true},
		{"OtherHash", "h1", true, "h2", false},
		{"NotStored", "h1", false, "", false},
		{"NoHash", "", true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := store.Document{Collection: "c", ID: "d", Hash: tc.hash}
			if got := store.DocumentUnchanged(&doc, tc.exists, tc.stored); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJSONColumn(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"NilSlice", []string(nil), "null"},
		{"Slice", []string{"指南", "b"}, `["指南","b"]`},
		{"Map", map[string]string{"b": "2", "a": "1"}, `{"a":"1","b":"2"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := store.JSONColumn(tc.v); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDecodeChunkJSON(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name    string
		scanned []string // tags a native array column gave
		heading string
		tags    *string
		meta    string
		want    store.Chunk
		wantErr bool
	}{
		{"JSONTags", nil, `["1","1.2"]`, str(`["a"]`), `{"k":"v"}`,
			store.Chunk{HeadingPath: []string{"1", "1.2"}, Tags: []string{"a"}, Metadata: map[string]string{"k": "v"}}, false},
		{"JSONNullTags", nil, `null`, str(`null`), `null`, store.Chunk{}, false},
		{"NativeTags", []string{"a", "b"}, `[]`, nil, `{}`,
			store.Chunk{HeadingPath: []string{}, Tags: []string{"a", "b"}, Metadata: map[string]string{}}, false},
		{"NativeEmptyTags", []string{}, `null`, nil, `null`, store.Chunk{}, false},
		{"BadHeading", nil, `{`, str(`[]`), `{}`, store.Chunk{}, true},
		{"BadTags", nil, `[]`, str(`{}`), `{}`, store.Chunk{}, true},
		{"BadMeta", nil, `[]`, nil, `[]`, store.Chunk{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := store.Chunk{Tags: tc.scanned}
			err := store.DecodeChunkJSON(&c, tc.heading, tc.tags, tc.meta)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error, chunk %+v", c)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
