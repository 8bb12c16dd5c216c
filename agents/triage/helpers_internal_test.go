package triage

import (
	"math"
	"slices"
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
)

func TestClauseAndSentenceBounds(t *testing.T) {
	// 头0 痛1 ,2 发3 热4 。5 咳6 嗽7 .8 无9
	zh := []rune("头痛,发热。咳嗽.无")
	// a0 ;1 b2 !3 c4 ?5 d6 \n7 e8
	marks := []rune("a;b!c?d\ne")
	tests := []struct {
		name             string
		rs               []rune
		p                int
		clause, sentence [2]int
	}{
		{"start", zh, 0, [2]int{0, 2}, [2]int{0, 5}},
		{"after comma", zh, 3, [2]int{3, 5}, [2]int{0, 5}},
		{"on comma", zh, 2, [2]int{0, 2}, [2]int{0, 5}},
		{"full stop only ends a clause", zh, 7, [2]int{6, 8}, [2]int{6, 10}},
		{"end of text", zh, 10, [2]int{9, 10}, [2]int{6, 10}},
		{"semicolon and bang", marks, 2, [2]int{2, 3}, [2]int{2, 3}},
		{"question mark and newline", marks, 6, [2]int{6, 7}, [2]int{6, 7}},
		{"after newline", marks, 8, [2]int{8, 9}, [2]int{8, 9}},
		{"empty", nil, 0, [2]int{0, 0}, [2]int{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if lo, hi := clauseBounds(tc.rs, tc.p); [2]int{lo, hi} != tc.clause {
				t.Errorf("clauseBounds(%q, %d) = %d, %d, want %v", string(tc.rs), tc.p, lo, hi, tc.clause)
			}
			if lo, hi := sentenceBounds(tc.rs, tc.p); [2]int{lo, hi} != tc.sentence {
				t.Errorf("sentenceBounds(%q, %d) = %d, %d, want %v", string(tc.rs), tc.p, lo, hi, tc.sentence)
			}
		})
	}
}

func TestDescending(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		x, y float64
		want int
	}{
		{2, 1, -1},
		{1, 2, 1},
		{1, 1, 0},
		{math.Inf(1), 1, -1},
		{nan, 1, 0},
		{1, nan, 0},
		{nan, nan, 0},
	}
	for _, tc := range tests {
		if got := descending(tc.x, tc.y); got != tc.want {
			t.Errorf("descending(%v, %v) = %d, want %d", tc.x, tc.y, got, tc.want)
		}
	}
}

func TestTopKOrder(t *testing.T) {
	// Largest first, ties by index, zeros dropped.
	got := topK([]float64{0.2, 0, 0.5, 0.2, 0.1}, 3)
	if want := []int{2, 0, 3}; !slices.Equal(got, want) {
		t.Errorf("topK = %v, want %v", got, want)
	}
}

func TestRuleAdmits(t *testing.T) {
	rs := &Rules{childAge: 14, childCode: "child"}
	age := func(n int) *int { return &n }
	tests := []struct {
		name string
		ru   Rule
		p    Patient
		want bool
	}{
		{"no criteria", Rule{}, Patient{}, true},
		{"age unknown", Rule{MinAge: 18, MaxAge: 40}, Patient{}, true},
		{"age inside", Rule{MinAge: 18, MaxAge: 40}, Patient{Age: age(40)}, true},
		{"age below", Rule{MinAge: 18}, Patient{Age: age(17)}, false},
		{"age above", Rule{MinAge: 18, MaxAge: 40}, Patient{Age: age(41)}, false},
		{"no max age", Rule{MinAge: 18}, Patient{Age: age(99)}, true},
		{"child by age", Rule{Child: true}, Patient{Age: age(13)}, true},
		{"adult", Rule{Child: true}, Patient{Age: age(14)}, false},
		{"child by finding", Rule{Child: true}, Patient{Findings: map[string]Mention{"child": {}}}, true},
		{"child unknown", Rule{Child: true}, Patient{}, false},
		{"sex matches", Rule{Sex: clinic.SexFemale}, Patient{Sex: clinic.SexFemale}, true},
		{"sex differs", Rule{Sex: clinic.SexFemale}, Patient{Sex: clinic.SexMale}, false},
		{"sex unknown", Rule{Sex: clinic.SexFemale}, Patient{Sex: clinic.SexUnknown}, true},
		{"sex not given", Rule{Sex: clinic.SexFemale}, Patient{}, true},
		// Infant is applies' own check, not a criterion of admits.
		{"infant left to applies", Rule{Infant: true}, Patient{Age: age(30)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rs.admits(&tc.ru, tc.p); got != tc.want {
				t.Errorf("admits = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPatientFindings(t *testing.T) {
	p := Patient{Findings: map[string]Mention{"fever": {}, "cough": {}}}
	tests := []struct {
		codes     []string
		all       bool
		first     string
		firstSeen bool
	}{
		{nil, true, "", false},
		{[]string{"fever"}, true, "fever", true},
		{[]string{"fever", "cough"}, true, "fever", true},
		{[]string{"rash", "cough", "fever"}, false, "cough", true},
		{[]string{"rash"}, false, "", false},
	}
	for _, tc := range tests {
		if got := p.hasAll(tc.codes); got != tc.all {
			t.Errorf("hasAll(%q) = %v, want %v", tc.codes, got, tc.all)
		}
		if got, ok := p.firstPresent(tc.codes); got != tc.first || ok != tc.firstSeen {
			t.Errorf("firstPresent(%q) = %q, %v, want %q, %v", tc.codes, got, ok, tc.first, tc.firstSeen)
		}
	}
}

func TestSummaryPositivesNegatives(t *testing.T) {
	s := Summary{Symptoms: []SummarySymptom{
		{Code: "fever", Present: true}, {Code: "cough"}, {Code: "rash", Present: true}, {Code: "pain"},
	}}
	codes := func(xs []SummarySymptom) []string {
		var out []string
		for _, x := range xs {
			out = append(out, x.Code)
		}
		return out
	}
	if got, want := codes(s.Positives()), []string{"fever", "rash"}; !slices.Equal(got, want) {
		t.Errorf("Positives = %v, want %v", got, want)
	}
	if got, want := codes(s.Negatives()), []string{"cough", "pain"}; !slices.Equal(got, want) {
		t.Errorf("Negatives = %v, want %v", got, want)
	}
	if got := (Summary{}).Positives(); got != nil {
		t.Errorf("Positives of no symptoms = %v, want nil", got)
	}
}
