package scribe_test

import (
	"context"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/clinic"
)

// TestPresentIllnessShowsHighestTemperature: the highest temperature the
// patient reports with a fever is written beside it in 现病史 (and the
// English HPI), cited and supported; numbers that cannot be a body
// temperature, or a temperature said in a turn that does not report the
// fever, are left out.
func TestPresentIllnessShowsHighestTemperature(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	u := func(id string, sp clinic.Speaker, text string) clinic.Utterance {
		return clinic.Utterance{ID: id, Speaker: sp, Text: text}
	}
	const d, p = clinic.SpeakerDoctor, clinic.SpeakerPatient
	tests := []struct {
		name string
		us   []clinic.Utterance
		want string // in the HPI; "" for no temperature at all
	}{
		{"度", []clinic.Utterance{u("u1", d, "您好，哪里不舒服？"), u("u2", p, "我咳嗽三天了，还发烧，最高38.5度。")}, "发热（最高38.5℃）"},
		{"spoken 38度5: its number is not in the source", []clinic.Utterance{u("u1", d, "哪里不舒服？"), u("u2", p, "发烧两天，烧到38度5。")}, ""},
		{"the highest of several", []clinic.Utterance{u("u1", d, "哪里不舒服？"), u("u2", p, "发烧，昨天37.8℃，今天39.2℃。")}, "发热（39.2℃）"},
		{"not a body temperature", []clinic.Utterance{u("u1", d, "哪里不舒服？"), u("u2", p, "发烧，喝了60度的热水。")}, ""},
		{"a turn that does not report the fever", []clinic.Utterance{u("u1", d, "哪里不舒服？"), u("u2", p, "我发烧了。"), u("u3", p, "家里室温25度。")}, ""},
		{"English, Fahrenheit", []clinic.Utterance{u("u1", d, "What brings you in?"), u("u2", p, "I've had a fever for two days, up to 101.5 degrees.")}, "fever (up to 101.5 degrees)"},
		{"English, °C", []clinic.Utterance{u("u1", d, "What brings you in?"), u("u2", p, "I had a fever of 39.4 °C last night.")}, "(up to 39.4 °C)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dr, err := e.Draft(context.Background(), scribe.Input{Encounter: clinic.Encounter{ID: "e1"}, Type: clinic.NoteOutpatient, Utterances: tc.us})
			if err != nil {
				t.Fatal(err)
			}
			hpi := section(t, dr.Note, scribe.SecPresentIllness)
			switch {
			case tc.want == "" && (strings.Contains(hpi, "℃") || strings.Contains(hpi, "up to")):
				t.Errorf("HPI %q shows a temperature", hpi)
			case tc.want != "" && !strings.Contains(hpi, tc.want):
				t.Errorf("HPI %q, want it to contain %q", hpi, tc.want)
			}
			if cc := section(t, dr.Note, scribe.SecChiefComplaint); strings.Contains(cc, "℃") || strings.Contains(cc, "°") {
				t.Errorf("chief complaint %q carries the temperature", cc)
			}
			for _, s := range dr.Note.Sections {
				for _, st := range s.Statements {
					if st.Unsupported {
						t.Errorf("%s: %q unsupported (%s)", s.Key, st.Text, st.Reason)
					}
				}
			}
		})
	}
}
