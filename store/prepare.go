package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
)

// This file holds the steps of each write and read that do not depend on
// the database: validating input, filling IDs and timestamps, encoding the
// stored JSON bodies and decoding them again, and the errors both adapters
// return. The adapters keep only their SQL and driver calls, so the two
// cannot drift apart in what they accept, store or report.

// NotFound is the not_found error for the thing what (e.g. "note") with
// the given ID.
func NotFound(what, id string) error {
	return clinic.NewError(clinic.CodeNotFound, "", what+" "+id+" does not exist", "不存在："+id)
}

func conflict(field, en, zh string) error { return clinic.NewError(clinic.CodeConflict, field, en, zh) }

// EncounterExists is the conflict error for creating an encounter whose ID
// is taken.
func EncounterExists(id string) error {
	return conflict("id", "encounter "+id+" already exists", "就诊编号已存在："+id)
}

// UtteranceExists is the conflict error for appending an utterance whose ID
// is taken.
func UtteranceExists(id string) error {
	return conflict("id", "utterance "+id+" already exists", "话语编号已存在："+id)
}

// NoteExists is the conflict error for creating a note whose ID is taken.
func NoteExists(id string) error {
	return conflict("id", "note "+id+" already exists", "病历编号已存在："+id)
}

// RecordExists is the conflict error for creating (Version 0) a record
// that is already stored.
func RecordExists(kind, id string) error {
	return conflict("id", "record "+kind+"/"+id+" already exists", "记录已存在："+id)
}

// RecordStale is the conflict error for replacing a record that is missing
// or not at the version given.
func RecordStale(kind, id string) error {
	return conflict("version", "record "+kind+"/"+id+" is missing or not at the given version",
		"记录不存在或版本已变化："+id)
}

// PrepareEncounter validates e for CreateEncounter and returns the copy to
// insert, with an empty ID filled and CreatedAt read from clock (see
// [Now]), and that copy's JSON body. e itself is not modified.
func PrepareEncounter(e *clinic.Encounter, clock func() time.Time) (clinic.Encounter, []byte, error) {
	if err := CheckEncounter(e); err != nil {
		return clinic.Encounter{}, nil, err
	}
	c := *e
	if c.ID == "" {
		c.ID = NewID()
	}
	c.CreatedAt = Now(clock)
	body, err := EncounterJSON(&c)
	if err != nil {
		return clinic.Encounter{}, nil, err
	}
	return c, body, nil
}

// DecodeEncounter decodes an encounter's stored JSON body.
func DecodeEncounter(body []byte) (clinic.Encounter, error) {
	var e clinic.Encounter
	err := json.Unmarshal(body, &e)
	return e, err
}

// PrepareUtterances numbers a batch for AppendUtterances after the
// encounter's last stored turn: each copy gets EncounterID encounterID, Seq
// last+1, last+2, … and, where its ID is empty, a new ID. It returns the
// copies and their JSON bodies, index for index; us is not modified.
// Validate the batch with [CheckUtterances] first.
func PrepareUtterances(encounterID string, last int, us []clinic.Utterance) ([]clinic.Utterance, [][]byte, error) {
	out := make([]clinic.Utterance, len(us))
	bodies := make([][]byte, len(us))
	for i, u := range us {
		if u.ID == "" {
			u.ID = NewID()
		}
		u.EncounterID = encounterID
		u.Seq = last + 1 + i
		body, err := json.Marshal(u)
		if err != nil {
			return nil, nil, err
		}
		out[i], bodies[i] = u, body
	}
	return out, bodies, nil
}

// DecodeUtterance decodes an utterance's stored JSON body.
func DecodeUtterance(body []byte) (clinic.Utterance, error) {
	var u clinic.Utterance
	err := json.Unmarshal(body, &u)
	return u, err
}

// PrepareNote validates n for CreateNote and returns the copy to insert as
// version 1, with an empty ID filled, CreatedAt and UpdatedAt read from
// clock and an empty Status made draft, and that copy's JSON body. n
// itself is not modified.
func PrepareNote(n *clinic.Note, clock func() time.Time) (clinic.Note, []byte, error) {
	c := *n
	if c.ID == "" {
		c.ID = NewID()
	}
	c.Version = 1
	c.CreatedAt = Now(clock)
	c.UpdatedAt = c.CreatedAt
	body, err := CheckNote(&c)
	if err != nil {
		return clinic.Note{}, nil, err
	}
	return c, body, nil
}

// NoteHead is what UpdateNote reads of a note before writing its next
// version: the latest stored version, its status, the encounter and when
// the note was created.
type NoteHead struct {
	Version     int
	Status      clinic.NoteStatus
	EncounterID string
	CreatedAt   time.Time
}

// PrepareNoteUpdate applies UpdateNote's rules to n given the stored head
// (see [CheckNoteUpdate]) and makes n the next version: Version follows
// head.Version, CreatedAt is the head's (in UTC) and UpdatedAt is read from
// clock. It validates the result (see [CheckNote]) and returns its JSON
// body.
func PrepareNoteUpdate(n *clinic.Note, head NoteHead, clock func() time.Time) ([]byte, error) {
	if err := CheckNoteUpdate(n, head.Version, head.Status, head.EncounterID); err != nil {
		return nil, err
	}
	n.Version = head.Version + 1
	n.CreatedAt = head.CreatedAt.UTC()
	n.UpdatedAt = Now(clock)
	return CheckNote(n)
}

// DecodeNote decodes one stored version of a note.
func DecodeNote(body []byte) (clinic.Note, error) {
	var n clinic.Note
	if err := json.Unmarshal(body, &n); err != nil {
		return clinic.Note{}, fmt.Errorf("decode note: %w", err)
	}
	return n, nil
}

// LinkAudit chains e, made ready by [PrepareAudit], after the log's head:
// Seq follows headSeq, PrevHash is headHash and Hash is computed over the
// result (see [AuditHash]). An empty log has head 0 and "".
func LinkAudit(e *AuditEntry, headSeq int64, headHash string) {
	e.Seq, e.PrevHash = headSeq+1, headHash
	e.Hash = AuditHash(*e)
}

// PrepareReplace validates a document and its chunks for ReplaceDocument
// (see [PrepareDocument]) and sets doc.Chunks to the number of chunks and
// doc.IngestedAt from clock. It returns the filled copy of the chunks and
// their common embedding dimension.
func PrepareReplace(doc *Document, in []Chunk, clock func() time.Time) ([]Chunk, int, error) {
	chunks, dim, err := PrepareDocument(doc, in)
	if err != nil {
		return nil, 0, err
	}
	doc.Chunks = len(chunks)
	doc.IngestedAt = Now(clock)
	return chunks, dim, nil
}

// DocumentUnchanged reports whether ReplaceDocument leaves doc alone: a
// document with its (Collection, ID) is stored (exists) under the same
// non-empty Hash.
func DocumentUnchanged(doc *Document, exists bool, storedHash string) bool {
	return exists && doc.Hash != "" && storedHash == doc.Hash
}

// JSONColumn encodes v, a string slice or a string map of a chunk or
// document, as text for a JSON column. Such values always encode (invalid
// UTF-8 is replaced, not refused), so a failure is a programming error and
// panics.
func JSONColumn(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("store: " + err.Error())
	}
	return string(b)
}

// DecodeChunkJSON fills the fields of c that are stored as JSON text:
// HeadingPath from heading, Metadata from meta, and Tags from *tags. An
// adapter that stores tags in a native array column scans them into c.Tags
// itself and passes tags as nil; an empty list it scanned becomes nil, as
// the store hands out no empty tag lists.
func DecodeChunkJSON(c *Chunk, heading string, tags *string, meta string) error {
	if tags == nil && len(c.Tags) == 0 {
		c.Tags = nil
	}
	if err := json.Unmarshal([]byte(heading), &c.HeadingPath); err != nil {
		return err
	}
	if tags != nil {
		if err := json.Unmarshal([]byte(*tags), &c.Tags); err != nil {
			return err
		}
	}
	return json.Unmarshal([]byte(meta), &c.Metadata)
}
