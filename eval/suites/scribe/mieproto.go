package scribe

import "strings"

// mieProtocol scores labels the way the MIE authors score their models
// (Zhang et al., ACL 2020, and the evaluation script published with the
// data): precision, recall and F1 are computed per unit and then averaged
// over units, not pooled.
//
//   - Window level: each window is a unit.
//   - Dialogue level: the window labels of a dialogue are merged in order
//     into one set per dialogue (see mergeMIE), and each dialogue is a unit.
//
// An empty label set counts as the single label "empty", so a unit where
// neither the gold nor the prediction has a label scores 1 (the script's
// default, count_empty). Because most MIE windows have no symptom, that
// lifts the average; the "nonempty" figures leave such units out.
//
// Labels here are item|status with MIE's five statuses (阳性, 阴性, 医生阳性,
// 医生阴性, 未知), restricted to the 症状 category.
type mieProtocol struct {
	window, windowNonEmpty, dialog, dialogNonEmpty meanPRF
	// the current dialogue's merged labels
	predD, goldD map[string]map[string]bool
}

// meanPRF averages per-unit precision, recall and F1.
type meanPRF struct {
	p, r, f float64
	n       int
}

func (m *meanPRF) add(p, r, f float64) { m.p, m.r, m.f, m.n = m.p+p, m.r+r, m.f+f, m.n+1 }

func (m meanPRF) mean() (p, r, f float64) {
	if m.n == 0 {
		return 0, 0, 0
	}
	n := float64(m.n)
	return m.p / n, m.r / n, m.f / n
}

// startDialogue begins a new dialogue-level unit.
func (m *mieProtocol) startDialogue() {
	m.predD, m.goldD = map[string]map[string]bool{}, map[string]map[string]bool{}
}

// addWindow scores one window and merges it into the current dialogue.
func (m *mieProtocol) addWindow(pred, gold map[string]bool) {
	p, r, f := unitPRF(pred, gold)
	m.window.add(p, r, f)
	if len(pred) > 0 || len(gold) > 0 {
		m.windowNonEmpty.add(p, r, f)
	}
	mergeMIE(m.predD, pred)
	mergeMIE(m.goldD, gold)
}

// endDialogue scores the merged dialogue.
func (m *mieProtocol) endDialogue() {
	pred, gold := flattenMIE(m.predD), flattenMIE(m.goldD)
	p, r, f := unitPRF(pred, gold)
	m.dialog.add(p, r, f)
	if len(pred) > 0 || len(gold) > 0 {
		m.dialogNonEmpty.add(p, r, f)
	}
}

// unitPRF is one unit's precision, recall and F1, with an empty set read
// as the label "empty".
func unitPRF(pred, gold map[string]bool) (p, r, f float64) {
	if len(pred) == 0 && len(gold) == 0 {
		return 1, 1, 1
	}
	if len(pred) == 0 || len(gold) == 0 {
		return 0, 0, 0
	}
	tp := 0
	for k := range pred {
		if gold[k] {
			tp++
		}
	}
	p, r = float64(tp)/float64(len(pred)), float64(tp)/float64(len(gold))
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return p, r, f
}

// mergeMIE folds a window's item|status labels into a dialogue's statuses
// per item. A later status replaces its opposite from the same speaker
// side (阳性 ↔ 阴性, 医生阳性 ↔ 医生阴性); 未知 gives way to any status that
// comes later and is not added once the item has a status.
func mergeMIE(d map[string]map[string]bool, window map[string]bool) {
	cur := map[string]map[string]bool{}
	for k := range window {
		item, st, ok := strings.Cut(k, "|")
		if !ok {
			continue
		}
		if cur[item] == nil {
			cur[item] = map[string]bool{}
		}
		cur[item][st] = true
	}
	opposite := map[string]string{"阳性": "阴性", "阴性": "阳性", "医生阳性": "医生阴性", "医生阴性": "医生阳性"}
	for item, now := range cur {
		prev := d[item]
		if prev == nil {
			d[item] = now
			continue
		}
		for st := range now {
			if o, ok := opposite[st]; ok {
				delete(prev, o)
			}
		}
		if len(now) > 0 {
			delete(prev, "未知")
		}
		for st := range now {
			if st == "未知" && len(prev) > 0 {
				continue
			}
			prev[st] = true
		}
	}
}

// flattenMIE turns merged statuses back into item|status labels.
func flattenMIE(d map[string]map[string]bool) map[string]bool {
	out := map[string]bool{}
	for item, sts := range d {
		for st := range sts {
			out[item+"|"+st] = true
		}
	}
	return out
}
