package datasets

import (
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// Turn is one utterance of a dialogue as a data set writes it. Label is
// the speaker tag as written ("doctor", "患者", …); Speaker is its mapping
// onto clinic.Speaker.
type Turn struct {
	Speaker clinic.Speaker `json:"speaker"`
	Label   string         `json:"label,omitempty"`
	Text    string         `json:"text"`
}

// speakerOf maps a speaker tag onto clinic.Speaker. The English tags are
// those of ACI-BENCH ([doctor], [patient], [patient_guest]) and MTS-Dialog
// (Doctor, Doctor_2, Patient, Guest_family_1, Guest_clinician, with the
// data set's own misspellings); the Chinese ones those of IMCS-21 and MIE.
func speakerOf(label string) clinic.Speaker {
	l := strings.ToLower(strings.TrimSpace(label))
	switch {
	case l == "":
		return clinic.SpeakerOther
	case strings.HasPrefix(l, "patient_guest"), strings.HasPrefix(l, "guest_fam"), strings.HasPrefix(l, "gest_fam"),
		l == "family", l == "companion", l == "家属", l == "陪同":
		return clinic.SpeakerCompanion
	case strings.HasPrefix(l, "doctor"), strings.HasPrefix(l, "guest_clinic"), l == "医生", l == "大夫":
		return clinic.SpeakerDoctor
	case strings.HasPrefix(l, "patient"), l == "患者", l == "病人":
		return clinic.SpeakerPatient
	}
	return clinic.SpeakerOther
}

// SplitTurns splits a dialogue transcript into turns. It understands the
// conventions of the data sets read here: ACI-BENCH's "[doctor] text"
// lines, MTS-Dialog's "Doctor: text" lines and the Chinese "医生：text" /
// "患者：text" lines of IMCS-21 and PromptCBLUE (full- or half-width
// colon). A line without a recognised tag continues the previous turn (or
// starts an untagged one).
func SplitTurns(transcript string) []Turn {
	var turns []Turn
	for line := range strings.SplitSeq(transcript, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if label, text, ok := cutTag(line); ok {
			turns = append(turns, Turn{Speaker: speakerOf(label), Label: label, Text: text})
			continue
		}
		if n := len(turns); n > 0 {
			turns[n-1].Text += "\n" + line
			continue
		}
		turns = append(turns, Turn{Speaker: clinic.SpeakerOther, Text: line})
	}
	return turns
}

// cutTag splits a "[label] text" or "label: text" line whose label names a
// known speaker.
func cutTag(line string) (label, text string, ok bool) {
	if strings.HasPrefix(line, "[") {
		if end := strings.IndexByte(line, ']'); end > 1 {
			label = line[1:end]
			if speakerOf(label) != clinic.SpeakerOther {
				return label, strings.TrimSpace(line[end+1:]), true
			}
		}
		return "", "", false
	}
	for _, sep := range []string{"：", ":"} {
		if before, after, found := strings.Cut(line, sep); found && len(before) <= 32 {
			if speakerOf(before) != clinic.SpeakerOther {
				return strings.TrimSpace(before), strings.TrimSpace(after), true
			}
		}
	}
	return "", "", false
}
