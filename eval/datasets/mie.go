package datasets

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// MIE label statuses (Zhang et al., "MIE: A Medical Information Extractor
// towards Medical Dialogues", ACL 2020): patient-reported positive and
// negative, doctor-stated positive and negative, and unknown.
var mieStatuses = map[string]bool{"阳性": true, "阴性": true, "医生阳性": true, "医生阴性": true, "未知": true}

// MIELabel is one window label "类别:项目-状态:值", e.g. "症状:胸闷-状态:阳性".
type MIELabel struct {
	Category string `json:"category"` // 症状, 检查, 手术, 一般信息
	Item     string `json:"item"`
	Status   string `json:"status"` // 阳性, 阴性, 医生阳性, 医生阴性, 未知
}

// String returns the label in the data set's own notation.
func (l MIELabel) String() string { return l.Category + ":" + l.Item + "-状态:" + l.Status }

// ParseMIELabel parses one label in the notation "类别:项目-状态:值".
func ParseMIELabel(s string) (MIELabel, error) {
	cat, rest, ok := strings.Cut(s, ":")
	if !ok {
		return MIELabel{}, fmt.Errorf("label %q: no category", truncate(s, 40))
	}
	item, status, ok := strings.Cut(rest, "-状态:")
	if !ok {
		return MIELabel{}, fmt.Errorf("label %q: no -状态: part", truncate(s, 40))
	}
	if cat == "" || item == "" {
		return MIELabel{}, fmt.Errorf("label %q: empty category or item", truncate(s, 40))
	}
	if !mieStatuses[status] {
		return MIELabel{}, fmt.Errorf("label %q: unknown status %q", truncate(s, 40), truncate(status, 10))
	}
	return MIELabel{Category: cat, Item: item, Status: status}, nil
}

// MIEWindow is one sliding window of a MIE dialogue: up to five
// utterances ("患者:…"/"医生:…", empty strings pad the start) and the
// labels that hold in it.
type MIEWindow struct {
	Utterances []string   `json:"utterances"`
	Labels     []MIELabel `json:"labels"`
}

// MIEDialogue is one MIE cardiology consultation: its position in the
// file and its windows in order.
type MIEDialogue struct {
	Index   int         `json:"index"`
	Windows []MIEWindow `json:"windows"`
}

// Turns returns the dialogue's utterances in order, recovered from the
// windows (each window adds its last, non-empty utterance).
func (d MIEDialogue) Turns() []Turn {
	var out []Turn
	for _, w := range d.Windows {
		if len(w.Utterances) == 0 {
			continue
		}
		u := w.Utterances[len(w.Utterances)-1]
		if u == "" {
			continue
		}
		if ts := SplitTurns(u); len(ts) > 0 {
			out = append(out, ts[0])
		}
	}
	return out
}

// Labels returns the dialogue-level labels: the distinct labels of all
// windows, sorted by category, item and status. An item may appear with
// more than one status (a patient says yes, the doctor says no).
func (d MIEDialogue) Labels() []MIELabel {
	seen := make(map[MIELabel]bool)
	var out []MIELabel
	for _, w := range d.Windows {
		for _, l := range w.Labels {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	slices.SortFunc(out, func(a, b MIELabel) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Item, b.Item), cmp.Compare(a.Status, b.Status))
	})
	return out
}

type mieRawWindow struct {
	Utterances []string `json:"utterances"`
	Label      []string `json:"label"`
}

// ScanMIE streams a MIE JSON file (a list of dialogues, each a list of
// windows). Every window needs at least one utterance and labels in the
// MIE notation.
func ScanMIE(r io.Reader, name string, lim Limits, fn func(MIEDialogue) error) error {
	i := 0
	return scanJSONArray(r, name, lim, func(off int64, raw *[]mieRawWindow) error {
		d := MIEDialogue{Index: i}
		i++
		if len(*raw) == 0 {
			return badOffset(name, max(off, 1), "dialogue %d has no windows", d.Index)
		}
		for wi, w := range *raw {
			if len(w.Utterances) == 0 {
				return badOffset(name, max(off, 1), "dialogue %d window %d has no utterances", d.Index, wi)
			}
			mw := MIEWindow{Utterances: w.Utterances}
			for _, l := range w.Label {
				ml, err := ParseMIELabel(l)
				if err != nil {
					return badOffset(name, max(off, 1), "dialogue %d window %d: %v", d.Index, wi, err)
				}
				mw.Labels = append(mw.Labels, ml)
			}
			d.Windows = append(d.Windows, mw)
		}
		return fn(d)
	})
}
