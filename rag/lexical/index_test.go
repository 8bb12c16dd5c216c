package lexical_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yizhu-health/yizhu/rag/lexical"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"入院记录", []string{"入", "院", "入院", "记", "院记", "录", "记录"}},
		{"QTc≥550 ms", []string{"qtc", "550", "ms"}},
		{"ＱＴｃ　５５０", []string{"qtc", "550"}},
		{"The leads V2-V3 and 3.9 mmol", []string{"lead", "v2", "v3", "3.9", "mmol"}},
		{"30-60 mmHg", []string{"30-60", "mmhg"}},
		{"心率>180次/分", []string{"心", "率", "心率", "180", "次", "分"}},
		{"criteria class", []string{"criteria", "class"}},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := lexical.Tokens(nil, tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Tokens(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// bm25 is a direct transcription of the formula in the package doc, used
// as an oracle.
func bm25(docs map[string]string, query, id string) float64 {
	n := float64(len(docs))
	lens := map[string]int{}
	total := 0
	tfs := map[string]map[string]int{}
	for d, text := range docs {
		toks := lexical.Tokens(nil, text)
		lens[d] = len(toks)
		total += len(toks)
		tfs[d] = map[string]int{}
		for _, tk := range toks {
			tfs[d][tk]++
		}
	}
	avg := float64(total) / n
	seen := map[string]bool{}
	score := 0.0
	for _, q := range lexical.Tokens(nil, query) {
		if seen[q] {
			continue
		}
		seen[q] = true
		df := 0.0
		for d := range docs {
			if tfs[d][q] > 0 {
				df++
			}
		}
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		tf := float64(tfs[id][q])
		score += idf * tf * 2.2 / (tf + 1.2*(1-0.75+0.75*float64(lens[id])/avg))
	}
	return score
}

func TestSearchMatchesOracle(t *testing.T) {
	docs := map[string]string{
		"a": "入院记录应当于患者入院后24小时内完成。",
		"b": "首次病程记录应当在患者入院8小时内完成。",
		"c": "出院记录应当在患者出院后24小时内完成。",
		"d": "STEMI ST elevation in leads V2-V3.",
		"e": "会诊记录",
	}
	x := lexical.New(lexical.Config{})
	for id, text := range docs {
		x.Replace("col", id, []lexical.Entry{{ID: id, Text: text}})
	}
	for _, q := range []string{"入院记录时限", "24小时", "ST elevation V2-V3", "记录", "无关的词"} {
		t.Run(q, func(t *testing.T) {
			got := x.Search(lexical.Query{Text: q, K: 10})
			var want []lexical.Result
			for id := range docs {
				if s := bm25(docs, q, id); s > 0 {
					want = append(want, lexical.Result{ID: id, Score: s})
				}
			}
			sortResults(want)
			if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Search (-oracle +got):\n%s", diff)
			}
		})
	}
}

func sortResults(rs []lexical.Result) {
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			if rs[j].Score > rs[i].Score || rs[j].Score == rs[i].Score && rs[j].ID < rs[i].ID {
				rs[i], rs[j] = rs[j], rs[i]
			}
		}
	}
}

func TestReplaceRemoveAndFilters(t *testing.T) {
	x := lexical.New(lexical.Config{})
	x.Replace("c1", "doc", []lexical.Entry{
		{ID: "1", Text: "胸痛 心电图", Tags: []string{"ecg"}},
		{ID: "2", Text: "胸痛 分诊", Tags: []string{"triage"}},
	})
	x.Replace("c2", "doc", []lexical.Entry{{ID: "3", Text: "胸痛"}})
	ids := func(q lexical.Query) []string {
		var out []string
		for _, r := range x.Search(q) {
			out = append(out, r.ID)
		}
		return out
	}
	if got := ids(lexical.Query{Text: "胸痛", Collection: "c1"}); len(got) != 2 {
		t.Errorf("collection filter = %v", got)
	}
	if diff := cmp.Diff([]string{"1"}, ids(lexical.Query{Text: "胸痛", Tags: []string{"ecg"}})); diff != "" {
		t.Errorf("tag filter (-want +got):\n%s", diff)
	}
	x.Replace("c1", "doc", []lexical.Entry{{ID: "4", Text: "心电图"}})
	if got := ids(lexical.Query{Text: "胸痛"}); !cmp.Equal(got, []string{"3"}) {
		t.Errorf("after replace = %v, want [3]", got)
	}
	x.Remove("c2", "doc")
	if got := ids(lexical.Query{Text: "胸痛"}); len(got) != 0 || x.Len() != 1 {
		t.Errorf("after remove = %v (len %d)", got, x.Len())
	}
}

func TestCompactionKeepsScores(t *testing.T) {
	// Scores after heavy churn (which triggers compaction) equal those of
	// an index built once.
	churned := lexical.New(lexical.Config{})
	fresh := lexical.New(lexical.Config{})
	text := func(i int) string {
		return fmt.Sprintf("文档%d 入院记录 时限 %s", i, strings.Repeat("病程", i%7))
	}
	for round := range 5 {
		for i := range 600 {
			churned.Replace("c", fmt.Sprint(i), []lexical.Entry{{ID: fmt.Sprint(i), Text: text(i + round)}})
		}
	}
	for i := range 600 {
		fresh.Replace("c", fmt.Sprint(i), []lexical.Entry{{ID: fmt.Sprint(i), Text: text(i + 4)}})
	}
	q := lexical.Query{Text: "病程 入院记录", K: 20}
	if diff := cmp.Diff(fresh.Search(q), churned.Search(q), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("churned index differs (-fresh +churned):\n%s", diff)
	}
	if churned.Len() != 600 {
		t.Errorf("Len = %d, want 600", churned.Len())
	}
}

func FuzzTokens(f *testing.F) {
	f.Add("入院记录24小时 QTc≥550 ms")
	f.Add("ＡＢＣ 3.9-4")
	f.Fuzz(func(t *testing.T, s string) {
		for _, tk := range lexical.Tokens(nil, s) {
			if tk == "" || strings.ContainsAny(tk, " \t\n") {
				t.Fatalf("bad token %q from %q", tk, s)
			}
		}
	})
}
