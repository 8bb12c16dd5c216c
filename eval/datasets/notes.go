package datasets

import (
	"io"
	"strings"
)

// Visit is one ACI-BENCH encounter: a doctor–patient dialogue and the
// full clinical note written from it (Yim et al., Scientific Data 2023;
// columns dataset, encounter_id, dialogue, note).
type Visit struct {
	Dataset     string `json:"dataset"`
	EncounterID string `json:"encounter_id"`
	Dialogue    string `json:"dialogue"`
	Note        string `json:"note"`
	Line        int    `json:"line"`
}

// Turns splits the dialogue into turns ("[doctor] …" lines).
func (v Visit) Turns() []Turn { return SplitTurns(v.Dialogue) }

// ScanACIBench streams an ACI-BENCH challenge CSV. Rows need a non-empty
// encounter_id, dialogue and note.
func ScanACIBench(r io.Reader, name string, lim Limits, fn func(Visit) error) error {
	return scanCSV(r, name, lim, []string{"encounter_id", "dialogue", "note"}, func(row csvRow) error {
		v := Visit{
			Dataset:     strings.TrimSpace(row.get("dataset")),
			EncounterID: strings.TrimSpace(row.get("encounter_id")),
			Dialogue:    row.get("dialogue"),
			Note:        row.get("note"),
			Line:        row.line,
		}
		if err := requireText(name, row.line, "encounter_id", v.EncounterID, "dialogue", v.Dialogue, "note", v.Note); err != nil {
			return err
		}
		return fn(v)
	})
}

// SectionExample is one MTS-Dialog item: a short dialogue and the one
// note section written from it (Ben Abacha et al., EACL 2023; columns ID,
// section_header, section_text, dialogue). SectionHeader is one of the
// data set's 20 normalised headers (CC, GENHX, ROS, …).
type SectionExample struct {
	ID            string `json:"id"`
	SectionHeader string `json:"section_header"`
	SectionText   string `json:"section_text"`
	Dialogue      string `json:"dialogue"`
	Line          int    `json:"line"`
}

// Turns splits the dialogue into turns ("Doctor: …" lines).
func (s SectionExample) Turns() []Turn { return SplitTurns(s.Dialogue) }

// ScanMTSDialog streams an MTS-Dialog CSV. Rows need a non-empty ID,
// section_header, section_text and dialogue.
func ScanMTSDialog(r io.Reader, name string, lim Limits, fn func(SectionExample) error) error {
	return scanCSV(r, name, lim, []string{"id", "section_header", "section_text", "dialogue"}, func(row csvRow) error {
		s := SectionExample{
			ID:            strings.TrimSpace(row.get("id")),
			SectionHeader: strings.TrimSpace(row.get("section_header")),
			SectionText:   row.get("section_text"),
			Dialogue:      row.get("dialogue"),
			Line:          row.line,
		}
		if err := requireText(name, row.line, "ID", s.ID, "section_header", s.SectionHeader,
			"section_text", s.SectionText, "dialogue", s.Dialogue); err != nil {
			return err
		}
		return fn(s)
	})
}

// requireText checks name/value pairs for blank values.
func requireText(file string, line int, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			return badLine(file, line, "empty %s", pairs[i])
		}
	}
	return nil
}

// VisitMeta is one row of an ACI-BENCH *_metadata.csv: the patient facts
// and complaints of a visit (patient names, which the file also holds, are
// not read).
type VisitMeta struct {
	Dataset     string `json:"dataset"`
	EncounterID string `json:"encounter_id"`
	// Gender is "male", "female" or "" (not recorded).
	Gender string `json:"gender,omitempty"`
	// Age is as written: "62", "45.0", "22-month" or "".
	Age                 string   `json:"age,omitempty"`
	ChiefComplaint      string   `json:"chief_complaint"`
	SecondaryComplaints []string `json:"secondary_complaints,omitempty"`
	Line                int      `json:"line"`
}

// ScanACIMetadata streams an ACI-BENCH metadata CSV. Rows need an
// encounter_id and a chief complaint (cc); gender must be male, female or
// blank.
func ScanACIMetadata(r io.Reader, name string, lim Limits, fn func(VisitMeta) error) error {
	return scanCSV(r, name, lim, []string{"encounter_id", "cc"}, func(row csvRow) error {
		m := VisitMeta{
			Dataset:        strings.TrimSpace(row.get("dataset")),
			EncounterID:    strings.TrimSpace(row.get("encounter_id")),
			Gender:         strings.ToLower(strings.TrimSpace(row.get("patient_gender"))),
			Age:            strings.TrimSpace(row.get("patient_age")),
			ChiefComplaint: strings.TrimSpace(row.get("cc")),
			Line:           row.line,
		}
		if err := requireText(name, row.line, "encounter_id", m.EncounterID, "cc", m.ChiefComplaint); err != nil {
			return err
		}
		switch m.Gender {
		case "", "male", "female":
		default:
			return badLine(name, row.line, "patient_gender %q, want male, female or blank", truncate(m.Gender, 20))
		}
		for c := range strings.SplitSeq(row.get("2nd_complaints"), ";") {
			if c = strings.TrimSpace(c); c != "" {
				m.SecondaryComplaints = append(m.SecondaryComplaints, c)
			}
		}
		return fn(m)
	})
}
