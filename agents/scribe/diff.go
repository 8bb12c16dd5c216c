package scribe

import "github.com/yizhu-health/yizhu/clinic"

// MaxEditRunes bounds the text compared per section; longer sections are
// compared on their first MaxEditRunes characters and marked Truncated.
const MaxEditRunes = 8000

// SectionEdit is how much a clinician changed one section between the AI
// draft and the signed note — the measure of how much the draft helped.
type SectionEdit struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// Distance is the Levenshtein distance in characters (runes) between
	// the drafted and the signed section text.
	Distance  int `json:"distance"`
	DraftLen  int `json:"draft_len"`
	SignedLen int `json:"signed_len"`
	// Ratio is Distance / max(DraftLen, SignedLen): 0 when nothing was
	// changed, 1 when the section was rewritten (0 for two empty sections).
	Ratio     float64 `json:"ratio"`
	Added     bool    `json:"added,omitempty"`   // only in the signed note
	Removed   bool    `json:"removed,omitempty"` // only in the draft
	Truncated bool    `json:"truncated,omitempty"`
}

// EditSummary is the per-section and overall edit distance of a signed
// note against its AI draft.
type EditSummary struct {
	Sections  []SectionEdit `json:"sections"`
	Distance  int           `json:"distance"`
	DraftLen  int           `json:"draft_len"`
	SignedLen int           `json:"signed_len"`
	Ratio     float64       `json:"ratio"`
}

// EditDistance compares the AI draft with the signed note section by
// section (matched by key, in the signed note's order, then sections only
// in the draft).
func EditDistance(draft, signed clinic.Note) EditSummary {
	var sum EditSummary
	seen := make(map[string]bool, len(signed.Sections))
	for _, s := range signed.Sections {
		seen[s.Key] = true
		d, ok := draft.Section(s.Key)
		e := sectionEdit(s.Key, s.Title, []rune(SectionText(d)), []rune(SectionText(s)))
		e.Added = !ok
		sum.add(e)
	}
	for _, d := range draft.Sections {
		if seen[d.Key] {
			continue
		}
		e := sectionEdit(d.Key, d.Title, []rune(SectionText(d)), nil)
		e.Removed = true
		sum.add(e)
	}
	if m := max(sum.DraftLen, sum.SignedLen); m > 0 {
		sum.Ratio = float64(sum.Distance) / float64(m)
	}
	return sum
}

func (s *EditSummary) add(e SectionEdit) {
	s.Sections = append(s.Sections, e)
	s.Distance += e.Distance
	s.DraftLen += e.DraftLen
	s.SignedLen += e.SignedLen
}

func sectionEdit(key, title string, a, b []rune) SectionEdit {
	e := SectionEdit{Key: key, Title: title, DraftLen: len(a), SignedLen: len(b)}
	if len(a) > MaxEditRunes {
		a, e.Truncated = a[:MaxEditRunes], true
	}
	if len(b) > MaxEditRunes {
		b, e.Truncated = b[:MaxEditRunes], true
	}
	e.Distance = levenshtein(a, b)
	if m := max(len(a), len(b)); m > 0 {
		e.Ratio = float64(e.Distance) / float64(m)
	}
	return e
}

// levenshtein is the edit distance (insert, delete, substitute; cost 1)
// in O(len(a)·len(b)) time and O(len(b)) memory, after trimming the
// common prefix and suffix.
func levenshtein(a, b []rune) int {
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	if len(a) == 0 {
		return len(b)
	}
	if len(b) == 0 {
		return len(a)
	}
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cur := row[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, diag+cost)
			diag = cur
		}
	}
	return row[len(b)]
}
