package scribe

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
)

// SectionText returns the statements of s as one paragraph: Chinese
// statements are joined directly (they end in their own punctuation),
// others with a space.
func SectionText(s clinic.Section) string {
	var b strings.Builder
	for i, st := range s.Statements {
		t := strings.TrimSpace(st.Text)
		if t == "" {
			continue
		}
		if i > 0 && b.Len() > 0 && needsSpace(b.String(), t) {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

// needsSpace reports whether two statements need a space between them:
// not after or before Han text or CJK punctuation.
func needsSpace(prev, next string) bool {
	r, _ := utf8.DecodeLastRuneInString(prev)
	n, _ := utf8.DecodeRuneInString(next)
	return !wide(r) && !wide(n)
}

func wide(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}

// Markdown renders note as Markdown: a heading per section, unsupported
// statements marked so that they are never read as fact.
func Markdown(note clinic.Note) string {
	var b strings.Builder
	zh := noteIsChinese(note)
	fmt.Fprintf(&b, "# %s\n\n", noteTitle(note.Type, zh))
	if note.Status == clinic.NoteDraft {
		if zh {
			b.WriteString("> 草稿，待医师审核签名。\n\n")
		} else {
			b.WriteString("> Draft — to be reviewed and signed by a clinician.\n\n")
		}
	}
	for _, s := range note.Sections {
		fmt.Fprintf(&b, "## %s\n\n", s.Title)
		if len(s.Statements) == 0 {
			b.WriteString("—\n\n")
			continue
		}
		for _, st := range s.Statements {
			b.WriteString("- ")
			b.WriteString(strings.TrimSpace(st.Text))
			if st.Unsupported {
				fmt.Fprintf(&b, " ⚠ *%s*", markLabel(st, zh))
			}
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// PlainText renders note as plain text, one section per paragraph.
func PlainText(note clinic.Note) string {
	var b strings.Builder
	zh := noteIsChinese(note)
	b.WriteString(noteTitle(note.Type, zh))
	b.WriteString("\n\n")
	for _, s := range note.Sections {
		b.WriteString(s.Title)
		if zh {
			b.WriteString("：")
		} else {
			b.WriteString(": ")
		}
		var parts []string
		for _, st := range s.Statements {
			t := strings.TrimSpace(st.Text)
			if st.Unsupported {
				t += " [" + markLabel(st, zh) + "]"
			}
			parts = append(parts, t)
		}
		sep := " "
		if zh {
			sep = ""
		}
		b.WriteString(strings.Join(parts, sep))
		b.WriteString("\n")
	}
	return b.String()
}

func markLabel(st clinic.Statement, zh bool) string {
	switch {
	case IsConflict(st) && zh:
		return "信息矛盾，需核实"
	case IsConflict(st):
		return "conflicting information, verify"
	case zh:
		return "无来源支持，需核实"
	}
	return "unsupported, verify"
}

func noteIsChinese(note clinic.Note) bool {
	for _, s := range note.Sections {
		for _, r := range s.Title {
			if unicode.Is(unicode.Han, r) {
				return true
			}
		}
		return false
	}
	return true
}

// noteKinds holds each note type's title (Chinese, English) and its LOINC
// document code with display (loinc.org; document ontology).
var noteKinds = map[clinic.NoteType]struct{ zh, en, loinc, loincName string }{
	clinic.NoteOutpatient:  {"门诊病历", "Outpatient Note", "34108-1", "Outpatient Note"},
	clinic.NoteAdmission:   {"入院记录", "Admission Note", "34117-2", "History and physical note"},
	clinic.NoteFirstCourse: {"首次病程记录", "First Progress Note", "11506-3", "Progress note"},
	clinic.NoteProgress:    {"日常病程记录", "Progress Note", "11506-3", "Progress note"},
	clinic.NoteDischarge:   {"出院记录", "Discharge Summary", "18842-5", "Discharge summary"},
	clinic.NoteOperation:   {"手术记录", "Operative Note", "11504-8", "Surgical operation note"},
	clinic.NoteRescue:      {"抢救记录", "Resuscitation Note", "34111-5", "Emergency department note"},
}

func noteTitle(t clinic.NoteType, zh bool) string {
	k, ok := noteKinds[t]
	if !ok {
		return string(t)
	}
	if zh {
		return k.zh
	}
	return k.en
}

// LOINC section codes (the C-CDA section codes that FHIR document
// profiles reuse).
var loincSection = map[string][2]string{
	SecChiefComplaint:  {"10154-3", "Chief complaint Narrative - Reported"},
	SecPresentIllness:  {"10164-2", "History of Present illness Narrative"},
	SecReviewOfSystems: {"10187-3", "Review of systems Narrative - Reported"},
	SecPastHistory:     {"11348-0", "History of Past illness Narrative"},
	SecMedications:     {"10160-0", "History of Medication use Narrative"},
	SecAllergies:       {"48765-2", "Allergies and adverse reactions Document"},
	SecPersonalHistory: {"29762-2", "Social history Narrative"},
	SecFamilyHistory:   {"10157-6", "History of family member diseases Narrative"},
	SecPhysicalExam:    {"29545-1", "Physical findings Narrative"},
	SecAuxiliary:       {"30954-2", "Relevant diagnostic tests/laboratory data Narrative"},
	SecDiagnosis:       {"51848-0", "Evaluation note"},
	SecAssessment:      {"51848-0", "Evaluation note"},
	SecPlan:            {"18776-5", "Plan of care note"},
	SecCarePlan:        {"18776-5", "Plan of care note"},
	SecAdmissionDx:     {"46241-6", "Hospital admission diagnosis Narrative - Reported"},
	SecHospitalCourse:  {"8648-8", "Hospital course Narrative"},
	SecDischargeDx:     {"11535-2", "Hospital discharge Dx Narrative"},
	SecDischargeAdvice: {"8653-8", "Hospital Discharge instructions"},
}

type fhirCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type fhirCodeable struct {
	Coding []fhirCoding `json:"coding,omitempty"`
	Text   string       `json:"text,omitempty"`
}

type fhirRef struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

type fhirNarrative struct {
	Status string `json:"status"`
	Div    string `json:"div"`
}

type fhirExtension struct {
	URL         string `json:"url"`
	ValueString string `json:"valueString,omitempty"`
}

type fhirSection struct {
	Title     string          `json:"title"`
	Code      *fhirCodeable   `json:"code,omitempty"`
	Text      fhirNarrative   `json:"text"`
	Extension []fhirExtension `json:"extension,omitempty"`
}

type fhirComposition struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Meta         *fhirMeta     `json:"meta,omitempty"`
	Language     string        `json:"language,omitempty"`
	Status       string        `json:"status"`
	Type         fhirCodeable  `json:"type"`
	Subject      *fhirRef      `json:"subject,omitempty"`
	Encounter    *fhirRef      `json:"encounter,omitempty"`
	Date         string        `json:"date"`
	Author       []fhirRef     `json:"author"`
	Title        string        `json:"title"`
	Attester     []fhirAttest  `json:"attester,omitempty"`
	Section      []fhirSection `json:"section,omitempty"`
}

type fhirMeta struct {
	VersionID   string `json:"versionId,omitempty"`
	LastUpdated string `json:"lastUpdated,omitempty"`
}

type fhirAttest struct {
	Mode  string   `json:"mode"`
	Time  string   `json:"time,omitempty"`
	Party *fhirRef `json:"party,omitempty"`
}

// ProvenanceExtensionURL marks the section extension that lists, per
// statement, the IDs of its sources ("u1,u3|lab-7|…").
const ProvenanceExtensionURL = "https://yizhu.health/fhir/StructureDefinition/statement-sources"

// FHIR renders note as a FHIR R4 Composition resource (JSON). A draft is
// "preliminary", a signed note "final" with a legal attester. Sections
// carry LOINC codes where one exists and an XHTML narrative in which
// unsupported statements are marked; statement sources travel in a
// section extension. The subject is Patient/<enc.PatientID>.
func FHIR(note clinic.Note, enc clinic.Encounter) ([]byte, error) {
	if len(note.Sections) == 0 {
		return nil, clinic.NewError(clinic.CodeInvalid, "sections", "the note has no sections to export", "病历没有可导出的段落")
	}
	zh := noteIsChinese(note)
	c := fhirComposition{ResourceType: "Composition", ID: fhirID(note.ID), Status: "preliminary", Title: noteTitle(note.Type, zh)}
	if zh {
		c.Language = "zh-CN"
	} else {
		c.Language = "en"
	}
	if note.Version > 0 || !note.UpdatedAt.IsZero() {
		c.Meta = &fhirMeta{}
		if note.Version > 0 {
			c.Meta.VersionID = fmt.Sprint(note.Version)
		}
		if !note.UpdatedAt.IsZero() {
			c.Meta.LastUpdated = note.UpdatedAt.UTC().Format(time.RFC3339)
		}
	}
	if k, ok := noteKinds[note.Type]; ok {
		c.Type = fhirCodeable{Coding: []fhirCoding{{System: "http://loinc.org", Code: k.loinc, Display: k.loincName}}, Text: c.Title}
	} else {
		c.Type = fhirCodeable{Text: c.Title}
	}
	if enc.PatientID != "" {
		c.Subject = &fhirRef{Reference: "Patient/" + fhirID(enc.PatientID)}
	}
	encID := enc.ID
	if encID == "" {
		encID = note.EncounterID
	}
	if encID != "" {
		c.Encounter = &fhirRef{Reference: "Encounter/" + fhirID(encID)}
	}
	date := note.UpdatedAt
	if date.IsZero() {
		date = note.CreatedAt
	}
	if date.IsZero() {
		date = enc.StartedAt
	}
	if date.IsZero() {
		return nil, clinic.NewError(clinic.CodeInvalid, "updated_at", "the note has no date", "病历缺少日期")
	}
	c.Date = date.UTC().Format(time.RFC3339)
	author := note.Author
	if author == "" {
		author = AuthorEmbedded
	}
	if strings.HasPrefix(author, "ai:") {
		c.Author = []fhirRef{{Display: author}}
	} else {
		c.Author = []fhirRef{{Reference: "Practitioner/" + fhirID(author)}}
	}
	if note.Status == clinic.NoteSigned {
		c.Status = "final"
		at := fhirAttest{Mode: "legal"}
		if !note.SignedAt.IsZero() {
			at.Time = note.SignedAt.UTC().Format(time.RFC3339)
		}
		if note.SignedBy != "" {
			at.Party = &fhirRef{Reference: "Practitioner/" + fhirID(note.SignedBy)}
		}
		c.Attester = []fhirAttest{at}
	}
	for _, s := range note.Sections {
		fs := fhirSection{Title: s.Title, Text: fhirNarrative{Status: "generated", Div: sectionDiv(s, zh)}}
		if code, ok := loincSection[s.Key]; ok {
			fs.Code = &fhirCodeable{Coding: []fhirCoding{{System: "http://loinc.org", Code: code[0], Display: code[1]}}}
		}
		var prov []string
		any := false
		for _, st := range s.Statements {
			ids := make([]string, 0, len(st.Sources))
			for _, src := range st.Sources {
				ids = append(ids, string(src.Kind)+":"+src.ID)
			}
			if len(ids) > 0 {
				any = true
			}
			prov = append(prov, strings.Join(ids, ","))
		}
		if any {
			fs.Extension = []fhirExtension{{URL: ProvenanceExtensionURL, ValueString: strings.Join(prov, "|")}}
		}
		c.Section = append(c.Section, fs)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("scribe: encode FHIR composition: %w", err)
	}
	return b, nil
}

// sectionDiv is the XHTML narrative of one section.
func sectionDiv(s clinic.Section, zh bool) string {
	var b strings.Builder
	b.WriteString(`<div xmlns="http://www.w3.org/1999/xhtml">`)
	if len(s.Statements) == 0 {
		b.WriteString("<p>—</p>")
	}
	for _, st := range s.Statements {
		b.WriteString("<p>")
		b.WriteString(html.EscapeString(strings.TrimSpace(st.Text)))
		if st.Unsupported {
			b.WriteString(" <em>[")
			b.WriteString(html.EscapeString(markLabel(st, zh)))
			b.WriteString("]</em>")
		}
		b.WriteString("</p>")
	}
	b.WriteString("</div>")
	return b.String()
}

// fhirID maps an ID to the FHIR id alphabet ([A-Za-z0-9\-\.]{1,64}).
func fhirID(id string) string {
	var b strings.Builder
	for _, r := range id {
		if b.Len() >= 64 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}
