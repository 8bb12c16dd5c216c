package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
)

// Size bounds every adapter enforces. A value over a bound is too_large.
const (
	MaxIDLen         = 200     // bytes in any ID, kind, collection or tag
	MaxUtterances    = 10_000  // utterances in one AppendUtterances call
	MaxTextLen       = 1 << 20 // bytes in one utterance or chunk text
	MaxNoteBytes     = 4 << 20 // bytes of one note version as JSON
	MaxRecordBytes   = 4 << 20 // bytes of one record body
	MaxDetailBytes   = 64 << 10
	MaxChunks        = 200_000 // chunks in one document
	MaxDimension     = 16_000  // embedding dimension (pgvector's limit for vector)
	MaxTags          = 64      // tags on one document, chunk or query
	MaxSearchK       = 1_000   // VectorQuery.K
	MaxListLimit     = 100_000 // rows returned by a list without a limit
	maxEncounterJSON = 1 << 20
)

// Now returns t in UTC truncated to microseconds: the precision both
// adapters keep, so times read back compare equal whichever store wrote
// them.
func Now(clock func() time.Time) time.Time {
	if clock == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return clock().UTC().Truncate(time.Microsecond)
}

// Micro returns t in UTC truncated to microseconds.
func Micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func invalid(field, en, zh string) error { return clinic.NewError(clinic.CodeInvalid, field, en, zh) }

func tooLarge(field string, limit int) error {
	return clinic.NewError(clinic.CodeTooLarge, field,
		fmt.Sprintf("%s exceeds the limit of %d", field, limit),
		fmt.Sprintf("%s 超出上限 %d", field, limit))
}

func checkID(field, id string, required bool) error {
	switch {
	case id == "" && required:
		return invalid(field, field+" is required", field+" 不能为空")
	case len(id) > MaxIDLen:
		return tooLarge(field, MaxIDLen)
	case !utf8.ValidString(id) || bytes.IndexByte([]byte(id), 0) >= 0:
		return invalid(field, field+" must be UTF-8 text without NUL", field+" 须为不含 NUL 的 UTF-8 文本")
	}
	return nil
}

func checkText(field, s string, limit int) error {
	if len(s) > limit {
		return tooLarge(field, limit)
	}
	if !utf8.ValidString(s) || bytes.IndexByte([]byte(s), 0) >= 0 {
		return invalid(field, field+" must be UTF-8 text without NUL", field+" 须为不含 NUL 的 UTF-8 文本")
	}
	return nil
}

// CheckEncounter validates e before it is stored.
func CheckEncounter(e *clinic.Encounter) error {
	if err := checkID("id", e.ID, false); err != nil {
		return err
	}
	if err := checkID("patient_id", e.PatientID, false); err != nil {
		return err
	}
	return checkID("kind", string(e.Kind), false)
}

// EncounterJSON encodes e for storage, enforcing the size bound.
func EncounterJSON(e *clinic.Encounter) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, invalid("encounter", "encounter cannot be encoded: "+err.Error(), "就诊记录无法编码")
	}
	if len(b) > maxEncounterJSON {
		return nil, tooLarge("encounter", maxEncounterJSON)
	}
	return b, nil
}

// CheckUtterances validates a batch for AppendUtterances.
func CheckUtterances(us []clinic.Utterance) error {
	if len(us) > MaxUtterances {
		return tooLarge("utterances", MaxUtterances)
	}
	for i := range us {
		if err := checkID("id", us[i].ID, false); err != nil {
			return err
		}
		if err := checkID("speaker", string(us[i].Speaker), true); err != nil {
			return err
		}
		if err := checkText("text", us[i].Text, MaxTextLen); err != nil {
			return err
		}
	}
	return nil
}

// CheckNote validates n for CreateNote and UpdateNote, filling an empty
// Status with draft, and returns its JSON encoding.
func CheckNote(n *clinic.Note) ([]byte, error) {
	if err := checkID("id", n.ID, false); err != nil {
		return nil, err
	}
	if err := checkID("encounter_id", n.EncounterID, true); err != nil {
		return nil, err
	}
	if err := checkID("type", string(n.Type), true); err != nil {
		return nil, err
	}
	if n.Status == "" {
		n.Status = clinic.NoteDraft
	}
	if n.Status != clinic.NoteDraft && n.Status != clinic.NoteSigned {
		return nil, invalid("status", "status must be draft or signed", "状态须为 draft 或 signed")
	}
	b, err := json.Marshal(n)
	if err != nil {
		return nil, invalid("note", "note cannot be encoded: "+err.Error(), "病历无法编码")
	}
	if len(b) > MaxNoteBytes {
		return nil, tooLarge("note", MaxNoteBytes)
	}
	return b, nil
}

// PrepareAudit validates e for AppendAudit: Actor and Action are required,
// Detail must be a JSON object (it is compacted) and At defaults to now. At
// is kept in UTC to the microsecond.
func PrepareAudit(e *AuditEntry, now time.Time) error {
	for _, f := range []struct{ name, v string }{
		{"actor", e.Actor}, {"action", e.Action}, {"role", e.Role}, {"subject", e.Subject},
	} {
		if err := checkID(f.name, f.v, f.name == "actor" || f.name == "action"); err != nil {
			return err
		}
	}
	if len(e.Detail) > MaxDetailBytes {
		return tooLarge("detail", MaxDetailBytes)
	}
	if len(bytes.TrimSpace(e.Detail)) == 0 {
		e.Detail = nil
	} else {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(e.Detail, &obj); err != nil || obj == nil {
			return invalid("detail", "detail must be a JSON object", "detail 须为 JSON 对象")
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, e.Detail); err != nil {
			return invalid("detail", "detail must be a JSON object", "detail 须为 JSON 对象")
		}
		e.Detail = buf.Bytes()
	}
	if e.At.IsZero() {
		e.At = now
	}
	e.At = Micro(e.At)
	return nil
}

// PrepareRecord validates r for PutRecord: Kind is required, an empty ID is
// filled, an empty Body becomes JSON null and Body is compacted.
func PrepareRecord(r *Record) error {
	if err := checkID("kind", r.Kind, true); err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = NewID()
	}
	if err := checkID("id", r.ID, true); err != nil {
		return err
	}
	if err := checkID("subject", r.Subject, false); err != nil {
		return err
	}
	if r.Version < 0 {
		return invalid("version", "version must not be negative", "版本号不能为负")
	}
	if len(r.Body) > MaxRecordBytes {
		return tooLarge("body", MaxRecordBytes)
	}
	if len(bytes.TrimSpace(r.Body)) == 0 {
		r.Body = json.RawMessage("null")
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, r.Body); err != nil {
		return invalid("body", "body must be JSON", "body 须为 JSON")
	}
	r.Body = buf.Bytes()
	if !r.ExpiresAt.IsZero() {
		r.ExpiresAt = Micro(r.ExpiresAt)
	}
	return nil
}

// CheckLimit validates a list limit and returns the number of rows to read
// (MaxListLimit when it is 0).
func CheckLimit(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, invalid("limit", "limit must not be negative", "limit 不能为负")
	case limit == 0 || limit > MaxListLimit:
		return MaxListLimit, nil
	}
	return limit, nil
}

// PrepareDocument validates a document and its chunks for ReplaceDocument.
// It fills each chunk's Collection and DocumentID from doc (a different
// non-empty value is invalid), fills empty chunk IDs with [ChunkID], sorts
// and de-duplicates tags, and returns the filled copy of chunks (the
// caller's slice is not modified) and the common embedding dimension. Every
// embedding must be finite and non-zero and all must share one dimension.
func PrepareDocument(doc *Document, in []Chunk) (chunks []Chunk, dim int, err error) {
	if err := checkID("collection", doc.Collection, true); err != nil {
		return nil, 0, err
	}
	if err := checkID("id", doc.ID, true); err != nil {
		return nil, 0, err
	}
	for _, f := range []struct{ name, v string }{
		{"title", doc.Title}, {"source", doc.Source}, {"version", doc.Version},
		{"effective_date", doc.EffectiveDate}, {"hash", doc.Hash},
	} {
		if err := checkText(f.name, f.v, 4096); err != nil {
			return nil, 0, err
		}
	}
	if doc.Tags, err = normTags(doc.Tags); err != nil {
		return nil, 0, err
	}
	if len(in) > MaxChunks {
		return nil, 0, tooLarge("chunks", MaxChunks)
	}
	chunks = slices.Clone(in)
	ids := make(map[string]struct{}, len(chunks))
	for i := range chunks {
		c := &chunks[i]
		if c.Collection != "" && c.Collection != doc.Collection {
			return nil, 0, invalid("chunks.collection", "a chunk names another collection than its document", "分块的集合与文档不一致")
		}
		if c.DocumentID != "" && c.DocumentID != doc.ID {
			return nil, 0, invalid("chunks.document_id", "a chunk names another document", "分块的文档编号与文档不一致")
		}
		c.Collection, c.DocumentID = doc.Collection, doc.ID
		if c.ID == "" {
			c.ID = ChunkID(doc.Collection, doc.ID, c.Ordinal)
		}
		if err := checkID("chunks.id", c.ID, true); err != nil {
			return nil, 0, err
		}
		if _, dup := ids[c.ID]; dup {
			return nil, 0, clinic.NewError(clinic.CodeConflict, "chunks.id", "two chunks share the ID "+c.ID, "分块编号重复："+c.ID)
		}
		ids[c.ID] = struct{}{}
		if err := checkText("chunks.text", c.Text, MaxTextLen); err != nil {
			return nil, 0, err
		}
		if len(c.HeadingPath) > MaxTags {
			return nil, 0, tooLarge("chunks.heading_path", MaxTags)
		}
		for _, h := range c.HeadingPath {
			if err := checkText("chunks.heading_path", h, 4096); err != nil {
				return nil, 0, err
			}
		}
		if len(c.Metadata) > MaxTags {
			return nil, 0, tooLarge("chunks.metadata", MaxTags)
		}
		for k, v := range c.Metadata {
			if err := checkID("chunks.metadata", k, true); err != nil {
				return nil, 0, err
			}
			if err := checkText("chunks.metadata", v, 4096); err != nil {
				return nil, 0, err
			}
		}
		if c.Tags, err = normTags(c.Tags); err != nil {
			return nil, 0, err
		}
		if err := CheckVector("chunks.embedding", c.Embedding); err != nil {
			return nil, 0, err
		}
		if i == 0 {
			dim = len(c.Embedding)
		} else if len(c.Embedding) != dim {
			return nil, 0, DimensionError(dim, len(c.Embedding))
		}
	}
	return chunks, dim, nil
}

// DimensionError is the invalid error for an embedding of the wrong
// dimension.
func DimensionError(want, got int) error {
	return clinic.NewError(clinic.CodeInvalid, "embedding",
		fmt.Sprintf("embedding has dimension %d, the collection uses %d", got, want),
		fmt.Sprintf("向量维度为 %d，集合要求 %d", got, want))
}

// CheckVector reports whether v can be stored or searched: 1 to
// MaxDimension finite values, not all zero.
func CheckVector(field string, v []float32) error {
	if len(v) == 0 {
		return invalid(field, field+" is empty", field+" 为空")
	}
	if len(v) > MaxDimension {
		return tooLarge(field, MaxDimension)
	}
	var ss float64
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return invalid(field, field+" holds a value that is not finite", field+" 含非有限数值")
		}
		ss += f * f
	}
	if ss == 0 {
		return invalid(field, field+" is the zero vector", field+" 为零向量")
	}
	return nil
}

// PrepareQuery validates q and sorts and de-duplicates its tags.
func PrepareQuery(q *VectorQuery) error {
	if err := checkID("collection", q.Collection, false); err != nil {
		return err
	}
	if err := CheckVector("vector", q.Vector); err != nil {
		return err
	}
	switch {
	case q.K <= 0:
		return invalid("k", "k must be positive", "k 须为正数")
	case q.K > MaxSearchK:
		return tooLarge("k", MaxSearchK)
	}
	var err error
	q.Tags, err = normTags(q.Tags)
	return err
}

func normTags(tags []string) ([]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	if len(tags) > MaxTags {
		return nil, tooLarge("tags", MaxTags)
	}
	for _, t := range tags {
		if err := checkID("tags", t, true); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(tags)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// CheckNoteUpdate applies UpdateNote's rules to n given the stored note's
// latest version, status and encounter: a signed note takes no more
// versions and a stale n.Version is refused (both conflict); a note cannot
// move to another encounter (invalid).
func CheckNoteUpdate(n *clinic.Note, version int, status clinic.NoteStatus, encounterID string) error {
	switch {
	case status == clinic.NoteSigned:
		return clinic.NewError(clinic.CodeConflict, "status",
			"note "+n.ID+" is signed and cannot be changed", "病历已签名，不能修改："+n.ID)
	case n.Version != version:
		return clinic.NewError(clinic.CodeConflict, "version",
			fmt.Sprintf("note %s is at version %d, not %d: reload and edit again", n.ID, version, n.Version),
			fmt.Sprintf("病历已被修改（当前版本 %d，提交版本 %d），请刷新后重试", version, n.Version))
	case n.EncounterID != "" && n.EncounterID != encounterID:
		return invalid("encounter_id", "a note cannot move to another encounter", "病历不能转到其他就诊")
	}
	if n.EncounterID == "" {
		n.EncounterID = encounterID
	}
	return nil
}
