package triage_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents/triage"
)

// brief is the part of a mention the extraction tests compare.
type brief struct {
	Code     string
	Negated  bool
	Duration time.Duration
	Severity triage.Severity
	Sudden   bool
	Site     string
}

func briefs(x triage.Extraction) []brief {
	var out []brief
	for _, m := range x.Mentions {
		out = append(out, brief{m.Code, m.Negated, m.Duration, m.Severity, m.Sudden, m.Site})
	}
	return out
}

func TestExtract(t *testing.T) {
	lex := triage.DefaultLexicon()
	const d = 24 * time.Hour
	tests := []struct {
		text string
		want []brief
	}{
		{"胸口痛两个小时，出冷汗", []brief{{"chest_pain", false, 2 * time.Hour, "", false, "chest"}, {"sweating", false, 2 * time.Hour, "", false, ""}}},
		{"没有发烧，咳嗽3天", []brief{{"fever", true, 0, "", false, ""}, {"cough", false, 3 * d, "", false, ""}}},
		{"无发热、咳嗽及胸痛", []brief{{"fever", true, 0, "", false, ""}, {"cough", true, 0, "", false, ""}, {"chest_pain", true, 0, "", false, "chest"}}},
		{"否认胸痛，有头晕", []brief{{"chest_pain", true, 0, "", false, "chest"}, {"dizziness", false, 0, "", false, ""}}},
		{"不发烧但是拉肚子两周", []brief{{"fever", true, 0, "", false, ""}, {"diarrhea", false, 14 * d, "", false, ""}}},
		{"会不会是胃炎", []brief{{"gi_disease", false, 0, "", false, ""}}},
		{"突然剧烈头痛", []brief{{"headache", false, 0, triage.SeveritySevere, true, "head"}}},
		{"腰部剧烈绞痛", []brief{{"flank_pain", false, 0, triage.SeveritySevere, false, "lower_back"}}},
		{"乏力半年", []brief{{"fatigue", false, 182*d + 12*time.Hour, "", false, ""}}},
		{"No fever, but chest pain for 2 days", []brief{{"fever", true, 0, "", false, ""}, {"chest_pain", false, 2 * d, "", false, "chest"}}},
		{"denies chest pain or shortness of breath", []brief{{"chest_pain", true, 0, "", false, "chest"}, {"dyspnea", true, 0, "", false, ""}}},
		{"headache without vomiting", []brief{{"headache", false, 0, "", false, "head"}, {"vomiting", true, 0, "", false, ""}}},
		{"I don't have a cough", []brief{{"cough", true, 0, "", false, ""}}},
		{"mild headaches for a few weeks", []brief{{"headache", false, 3 * 7 * d, triage.SeverityMild, false, "head"}}},
		{"sudden weakness on one side", []brief{{"limb_weakness", false, 0, "", true, ""}}},
		{"无力", []brief{{"fatigue", false, 0, "", false, ""}}},
		{"说不出话", []brief{{"speech_difficulty", false, 0, "", false, ""}}},
		{"我有chest pain，没有fever", []brief{{"chest_pain", false, 0, "", false, "chest"}, {"fever", true, 0, "", false, ""}}},
		{"今天天气怎么样", nil},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got := briefs(lex.Extract(tc.text))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Extract(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestExtractVitals(t *testing.T) {
	lex := triage.DefaultLexicon()
	tests := []struct {
		text string
		want triage.Vitals
	}{
		{"血压180/110，心率120，体温39.5度", triage.Vitals{SystolicMMHg: 180, DiastolicMMHg: 110, HeartRateBPM: 120, TempC: 39.5}},
		{"my blood pressure is 190/115, SpO2 88%", triage.Vitals{SystolicMMHg: 190, DiastolicMMHg: 115, SpO2Pct: 88}},
		{"发烧38.5℃", triage.Vitals{TempC: 38.5}},
		{"血压999/1", triage.Vitals{}},
		{"血氧只有86", triage.Vitals{SpO2Pct: 86}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, lex.Extract(tc.text).Vitals); diff != "" {
			t.Errorf("Extract(%q).Vitals (-want +got):\n%s", tc.text, diff)
		}
	}
	if got := lex.Extract("肚子痛，疼痛评分8分").Mentions[0].Severity; got != triage.SeveritySevere {
		t.Errorf("pain score 8 severity = %q, want severe", got)
	}
}

func FuzzExtract(f *testing.F) {
	lex := triage.DefaultLexicon()
	for _, s := range []string{"胸口痛两个小时，出冷汗", "No fever, but chest pain for 2 days", "😀😀😀", "血压180/110", "无发热、咳嗽", "十几天", "半个多月", "ＣＴ", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x := lex.Extract(s)
		n := utf8.RuneCountInString(s)
		for _, m := range x.Mentions {
			if _, ok := lex.Finding(m.Code); !ok {
				t.Fatalf("unknown code %q", m.Code)
			}
			if m.Start < 0 || m.End <= m.Start || m.End > n {
				t.Fatalf("bad span %d–%d for %d runes", m.Start, m.End, n)
			}
			if m.Negated && (m.Duration != 0 || m.Severity != "") {
				t.Fatalf("negated mention carries modifiers: %+v", m)
			}
			if m.Duration < 0 {
				t.Fatalf("negative duration %v", m.Duration)
			}
		}
		if x.Letters < 0 || x.Letters > n {
			t.Fatalf("letters %d for %d runes", x.Letters, n)
		}
	})
}
