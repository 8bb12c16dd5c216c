package scribe

import (
	"math"
	"testing"
)

func set(ks ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range ks {
		m[k] = true
	}
	return m
}

func TestUnitPRF(t *testing.T) {
	tests := []struct {
		name       string
		pred, gold map[string]bool
		p, r, f    float64
	}{
		{"both empty count as the label empty", set(), set(), 1, 1, 1},
		{"nothing predicted", set(), set("胸闷|阳性"), 0, 0, 0},
		{"predicted where gold is empty", set("胸闷|阳性"), set(), 0, 0, 0},
		{"exact", set("胸闷|阳性", "心慌|阴性"), set("胸闷|阳性", "心慌|阴性"), 1, 1, 1},
		{"half right", set("胸闷|阳性", "心慌|阳性"), set("胸闷|阳性", "心慌|阴性"), 0.5, 0.5, 0.5},
		{"one of two found", set("胸闷|阳性"), set("胸闷|阳性", "心慌|阴性"), 1, 0.5, 2.0 / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, r, f := unitPRF(tt.pred, tt.gold)
			if math.Abs(p-tt.p) > 1e-9 || math.Abs(r-tt.r) > 1e-9 || math.Abs(f-tt.f) > 1e-9 {
				t.Errorf("unitPRF = %.3f %.3f %.3f, want %.3f %.3f %.3f", p, r, f, tt.p, tt.r, tt.f)
			}
		})
	}
}

func TestMergeMIE(t *testing.T) {
	tests := []struct {
		name    string
		windows []map[string]bool
		want    map[string]bool
	}{
		{"later denial replaces affirmation", []map[string]bool{set("胸闷|阳性"), set("胸闷|阴性")}, set("胸闷|阴性")},
		{"later affirmation replaces denial", []map[string]bool{set("胸闷|阴性"), set("胸闷|阳性")}, set("胸闷|阳性")},
		{"clinician side is kept apart from the patient's", []map[string]bool{set("心衰|阳性"), set("心衰|医生阴性")}, set("心衰|阳性", "心衰|医生阴性")},
		{"clinician's later status replaces the clinician's earlier one", []map[string]bool{set("心衰|医生阳性"), set("心衰|医生阴性")}, set("心衰|医生阴性")},
		{"unknown gives way to a status", []map[string]bool{set("房颤|未知"), set("房颤|阳性")}, set("房颤|阳性")},
		{"unknown is not added to a known item", []map[string]bool{set("房颤|阳性"), set("房颤|未知")}, set("房颤|阳性")},
		{"items are merged apart", []map[string]bool{set("房颤|阳性"), set("胸闷|阴性")}, set("房颤|阳性", "胸闷|阴性")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := map[string]map[string]bool{}
			for _, w := range tt.windows {
				mergeMIE(d, w)
			}
			got := flattenMIE(d)
			if len(got) != len(tt.want) {
				t.Fatalf("merged %v, want %v", got, tt.want)
			}
			for k := range tt.want {
				if !got[k] {
					t.Fatalf("merged %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestMIEProtocolAverages checks that units are averaged, not pooled:
// one perfect empty window and one wrong window average to 0.5.
func TestMIEProtocolAverages(t *testing.T) {
	var m mieProtocol
	m.startDialogue()
	m.addWindow(set(), set())
	m.addWindow(set("胸闷|阳性"), set("胸闷|阴性"))
	m.endDialogue()
	if _, _, f := m.window.mean(); math.Abs(f-0.5) > 1e-9 {
		t.Errorf("window F1 = %.3f, want 0.5", f)
	}
	if _, _, f := m.windowNonEmpty.mean(); f != 0 {
		t.Errorf("non-empty window F1 = %.3f, want 0", f)
	}
	if _, _, f := m.dialog.mean(); f != 0 {
		t.Errorf("dialogue F1 = %.3f, want 0", f)
	}
}
