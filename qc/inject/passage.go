// Package inject builds realistic QC records around real Chinese EMR
// passages and injects one documentation defect at a time at a known
// location, giving clean and defective versions with gold rule IDs. It is
// the ground truth of the `qc` eval suite: [Evaluate] scans the cases with
// an engine and reports recall and precision per check kind, the share of
// true positives found at the gold location, and findings on clean records.
//
// # Passages
//
// [ReadYidu] reads the Yidu-S4K (CCKS 2019 task 1) JSON lines at run time
// from the data directory; nothing of the data is copied into the
// repository. A passage's 疾病和诊断, 药物 and 手术 entity spans become the
// diagnoses, drugs and operation of the records built around it, and the
// passage text becomes the present illness, hospital course, case summary
// and progress notes. De-identification masks (runs of '*', the "XXX"
// artefact) are replaced by neutral words.
//
// # Defects
//
// For each rule the generator reads the rule's check kind and parameters
// and makes the smallest change that breaks it: a section removed, a chief
// complaint lengthened or stripped of its duration, a placeholder inserted,
// a time moved past its limit, an event or signature removed, a
// sex-specific or age-specific diagnosis added, an allergy added with a
// drug of its class, a vague non-codable diagnosis added, a progress note
// duplicated, a symptom asserted in the chief complaint and negated in the
// present illness, or a progress-note gap widened.
package inject

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
)

// Passage is one EMR text with the entity strings found in it.
type Passage struct {
	ID         string
	Text       string
	Diseases   []string
	Drugs      []string
	Operations []string
}

// YiduFiles are the Yidu-S4K files read, relative to the data directory.
var YiduFiles = []string{
	"records/yidu-s4k/subtask1_training_part1.txt",
	"records/yidu-s4k/subtask1_training_part2.txt",
	"records/yidu-s4k/subtask1_test_set_with_answer.json",
}

const maxPassageBytes = 1 << 20

var (
	maskRun = regexp.MustCompile(`\*{2,}`)
	maskX   = regexp.MustCompile(`[×*]?XXX`)
)

// cleanMasks replaces de-identification masks.
func cleanMasks(s string) string {
	s = maskRun.ReplaceAllString(s, "外院")
	s = maskX.ReplaceAllString(s, "×")
	return strings.TrimLeft(strings.TrimSpace(s), "，,。 ")
}

// ReadYidu reads up to limit passages (0 = all) from the Yidu-S4K files
// under dataDir.
func ReadYidu(dataDir string, limit int) ([]Passage, error) {
	var out []Passage
	for _, rel := range YiduFiles {
		path := filepath.Join(dataDir, filepath.FromSlash(rel))
		f, err := os.Open(path)
		if err != nil {
			return nil, clinic.Wrap(err, clinic.CodeNotFound, "yidu-s4k file missing: "+path, "未找到 Yidu-S4K 数据文件")
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), maxPassageBytes)
		line := 0
		for sc.Scan() {
			line++
			b := sc.Bytes()
			b = []byte(strings.TrimPrefix(string(b), "\ufeff"))
			if len(strings.TrimSpace(string(b))) == 0 {
				continue
			}
			p, err := parseYidu(b)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("inject.ReadYidu: %s:%d: %w", path, line, err)
			}
			p.ID = fmt.Sprintf("%s#%d", filepath.Base(path), line)
			out = append(out, p)
			if limit > 0 && len(out) >= limit {
				f.Close()
				return out, nil
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("inject.ReadYidu: %s: %w", path, err)
		}
	}
	return out, nil
}

// ParseYiduLine parses one Yidu-S4K JSON line.
func ParseYiduLine(b []byte) (Passage, error) { return parseYidu(b) }

func parseYidu(b []byte) (Passage, error) {
	var raw struct {
		Text     string `json:"originalText"`
		Entities []struct {
			Label string `json:"label_type"`
			Start int    `json:"start_pos"`
			End   int    `json:"end_pos"`
		} `json:"entities"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Passage{}, clinic.Wrap(err, clinic.CodeInvalid, "yidu line is not valid JSON", "Yidu 行不是合法 JSON")
	}
	runes := []rune(raw.Text)
	p := Passage{Text: cleanMasks(raw.Text)}
	seen := map[string]bool{}
	for _, e := range raw.Entities {
		if e.Start < 0 || e.End > len(runes) || e.Start >= e.End {
			continue
		}
		t := strings.TrimSpace(string(runes[e.Start:e.End]))
		if t == "" || seen[t] || strings.ContainsAny(t, "*X×，,。；;") || utf8.RuneCountInString(t) > 16 {
			continue
		}
		seen[t] = true
		switch e.Label {
		case "疾病和诊断":
			p.Diseases = append(p.Diseases, t)
		case "药物":
			p.Drugs = append(p.Drugs, t)
		case "手术":
			p.Operations = append(p.Operations, t)
		}
	}
	return p, nil
}
