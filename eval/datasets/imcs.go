package datasets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// IMCS21Dialogue is one IMCS-21 consultation (Chen et al., Bioinformatics
// 2022; format of the imcs21-cblue README): a top-level JSON object maps
// each example ID to its diagnosis, the patient's self-report, the
// dialogue, the two reference medical reports and the symptom labels. The
// test_input files carry only the self-report and dialogue.
type IMCS21Dialogue struct {
	ID         string       `json:"id"`
	Diagnosis  string       `json:"diagnosis,omitempty"`
	SelfReport string       `json:"self_report,omitempty"`
	Turns      []IMCS21Turn `json:"turns"`
	// Reports are the reference reports, keyed by section (主诉, 现病史,
	// 辅助检查, 既往史, 诊断, 建议).
	Reports []map[string]string `json:"reports,omitempty"`
	// ExplicitSymptoms are the normalised symptoms of the self-report.
	ExplicitSymptoms []string `json:"explicit_symptoms,omitempty"`
	// ImplicitSymptoms maps each normalised symptom found in the dialogue
	// to its status: "0" absent, "1" present, "2" cannot tell.
	ImplicitSymptoms map[string]string `json:"implicit_symptoms,omitempty"`
}

// IMCS21Turn is one sentence of an IMCS-21 dialogue.
type IMCS21Turn struct {
	SentenceID  string   `json:"sentence_id"`
	Turn        Turn     `json:"turn"`
	DialogueAct string   `json:"dialogue_act,omitempty"`
	SymptomNorm []string `json:"symptom_norm,omitempty"`
	SymptomType []string `json:"symptom_type,omitempty"`
}

// flexString accepts a JSON string or number (IMCS-21 sentence IDs and
// symptom types appear as both).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or number, found %s", truncate(string(b), 20))
	}
	*f = flexString(n.String())
	return nil
}

type imcsRaw struct {
	Diagnosis  string `json:"diagnosis"`
	SelfReport string `json:"self-report"`
	Dialogue   []struct {
		SentenceID  flexString   `json:"sentence_id"`
		Speaker     string       `json:"speaker"`
		Sentence    string       `json:"sentence"`
		DialogueAct string       `json:"dialogue_act"`
		SymptomNorm []string     `json:"symptom_norm"`
		SymptomType []flexString `json:"symptom_type"`
	} `json:"dialogue"`
	Report       []map[string]string `json:"report"`
	ExplicitInfo struct {
		Symptom []string `json:"Symptom"`
	} `json:"explicit_info"`
	ImplicitInfo struct {
		Symptom map[string]flexString `json:"Symptom"`
	} `json:"implicit_info"`
}

// ScanIMCS21 streams an IMCS-21 JSON file (train/dev/test/test_input),
// one example at a time. Every example needs a non-empty dialogue whose
// sentences name a speaker.
func ScanIMCS21(r io.Reader, name string, lim Limits, fn func(IMCS21Dialogue) error) error {
	lim = lim.withDefaults()
	dec := json.NewDecoder(boundedReader(r, lim.MaxFileBytes))
	c := counter{name: name, max: lim.MaxRecords}
	if err := expectDelim(dec, name, '{'); err != nil {
		return err
	}
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return jsonError(name, off, err, lim)
		}
		id, _ := tok.(string)
		var raw imcsRaw
		start, err := decodeValue(dec, name, lim, &c, &raw)
		if err != nil {
			return err
		}
		off = start
		d, err := raw.convert(id)
		if err != nil {
			return badOffset(name, max(off, 1), "example %q: %v", truncate(id, 40), err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, name, '}'); err != nil {
		return err
	}
	return expectEOF(dec, name, lim)
}

func (raw *imcsRaw) convert(id string) (IMCS21Dialogue, error) {
	if strings.TrimSpace(id) == "" {
		return IMCS21Dialogue{}, fmt.Errorf("empty example ID")
	}
	if len(raw.Dialogue) == 0 {
		return IMCS21Dialogue{}, fmt.Errorf("no dialogue")
	}
	d := IMCS21Dialogue{
		ID:               id,
		Diagnosis:        raw.Diagnosis,
		SelfReport:       raw.SelfReport,
		Reports:          raw.Report,
		ExplicitSymptoms: raw.ExplicitInfo.Symptom,
	}
	for i, s := range raw.Dialogue {
		if strings.TrimSpace(s.Speaker) == "" {
			return IMCS21Dialogue{}, fmt.Errorf("sentence %d has no speaker", i)
		}
		t := IMCS21Turn{
			SentenceID:  string(s.SentenceID),
			Turn:        Turn{Speaker: speakerOf(s.Speaker), Label: s.Speaker, Text: s.Sentence},
			DialogueAct: s.DialogueAct,
		}
		if len(s.SymptomNorm) > 0 {
			t.SymptomNorm = s.SymptomNorm
		}
		for _, st := range s.SymptomType {
			t.SymptomType = append(t.SymptomType, string(st))
		}
		d.Turns = append(d.Turns, t)
	}
	if len(raw.ImplicitInfo.Symptom) > 0 {
		d.ImplicitSymptoms = make(map[string]string, len(raw.ImplicitInfo.Symptom))
		for k, v := range raw.ImplicitInfo.Symptom {
			switch v {
			case "0", "1", "2":
			default:
				return IMCS21Dialogue{}, fmt.Errorf("symptom %q has status %q, want 0, 1 or 2", truncate(k, 20), truncate(string(v), 20))
			}
			d.ImplicitSymptoms[k] = string(v)
		}
	}
	return d, nil
}

// truncate shortens s to at most n runes for error messages.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// ScanIMCS21Symptoms streams IMCS-21's normalised symptom vocabulary
// (symptom_norm.csv, one column "norm"), one term per record.
func ScanIMCS21Symptoms(r io.Reader, name string, lim Limits, fn func(string) error) error {
	return scanCSV(r, name, lim, []string{"norm"}, func(row csvRow) error {
		term := strings.TrimSpace(row.get("norm"))
		if term == "" {
			return badLine(name, row.line, "empty symptom")
		}
		return fn(term)
	})
}

// SplitEntry assigns one IMCS-21 example to a split.
type SplitEntry struct {
	ExampleID string `json:"example_id"`
	Split     string `json:"split"` // train, dev or test
}

// ScanIMCS21Split streams IMCS-21's split.csv (columns example_id, split).
// The split must be train, dev or test.
func ScanIMCS21Split(r io.Reader, name string, lim Limits, fn func(SplitEntry) error) error {
	return scanCSV(r, name, lim, []string{"example_id", "split"}, func(row csvRow) error {
		e := SplitEntry{ExampleID: strings.TrimSpace(row.get("example_id")), Split: strings.TrimSpace(row.get("split"))}
		if e.ExampleID == "" {
			return badLine(name, row.line, "empty example_id")
		}
		switch e.Split {
		case "train", "dev", "test":
		default:
			return badLine(name, row.line, "split %q, want train, dev or test", truncate(e.Split, 20))
		}
		return fn(e)
	})
}
