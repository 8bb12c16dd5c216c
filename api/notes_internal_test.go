package api

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
)

func TestKeepMarks(t *testing.T) {
	src := []clinic.Source{{Kind: clinic.SourceUtterance, ID: "u1", Quote: "对青霉素过敏"}}
	flagged := clinic.Statement{Text: "青霉素过敏", Sources: src, Unsupported: true, Reason: "conflict: 否认过敏史"}
	prev := []clinic.Section{{Key: "allergy", Title: "过敏史", Statements: []clinic.Statement{flagged, {Text: "无其他过敏"}}}}
	tests := []struct {
		name string
		next []clinic.Section
		want []bool // Unsupported per statement of next[0]
	}{
		{"untouched keeps its mark", []clinic.Section{{Key: "allergy", Statements: []clinic.Statement{
			{Text: "青霉素过敏", Sources: src}, {Text: "无其他过敏"}}}}, []bool{true, false}},
		{"quote dropped by the client still matches", []clinic.Section{{Key: "allergy", Statements: []clinic.Statement{
			{Text: "青霉素过敏", Sources: []clinic.Source{{Kind: clinic.SourceUtterance, ID: "u1"}}}}}}, []bool{true}},
		{"rewritten by the doctor is unmarked", []clinic.Section{{Key: "allergy", Statements: []clinic.Statement{
			{Text: "青霉素过敏（皮疹）", Sources: src}}}}, []bool{false}},
		{"other sources are unmarked", []clinic.Section{{Key: "allergy", Statements: []clinic.Statement{
			{Text: "青霉素过敏", Sources: []clinic.Source{{Kind: clinic.SourceUtterance, ID: "u2"}}}}}}, []bool{false}},
		{"moved to another section is unmarked", []clinic.Section{{Key: "history", Statements: []clinic.Statement{
			{Text: "青霉素过敏", Sources: src}}}}, []bool{false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := keepMarks(prev, tc.next)
			var marks []bool
			for _, st := range got[0].Statements {
				marks = append(marks, st.Unsupported)
				if st.Unsupported && st.Reason != flagged.Reason {
					t.Errorf("reason = %q, want %q", st.Reason, flagged.Reason)
				}
			}
			if diff := cmp.Diff(tc.want, marks); diff != "" {
				t.Errorf("marks (-want +got):\n%s", diff)
			}
		})
	}
}
