package metrics_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"The cat, the HAT.", []string{"the", "cat", "the", "hat"}},
		{"咳嗽3天，发热38℃", []string{"咳", "嗽", "3", "天", "发", "热", "38"}},
		{"查CT示：肺炎", []string{"查", "ct", "示", "肺", "炎"}},
		{"  ", nil},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, metrics.Tokenize(tc.in)); diff != "" {
				t.Errorf("Tokenize(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestScoreRougeEnglish(t *testing.T) {
	// candidate: the cat sat on the mat        (6 tokens)
	// reference: the cat was on the red mat    (7 tokens)
	// ROUGE-1: candidate counts the×2 cat sat on mat; reference the×2 cat was on red mat.
	//   clipped overlap: the 2 + cat 1 + on 1 + mat 1 = 5 → P 5/6, R 5/7,
	//   F1 = 2·(5/6)(5/7)/((5/6)+(5/7)) = 2·25/(5·7+5·6) = 50/65 = 10/13.
	// ROUGE-2: candidate bigrams: the-cat cat-sat sat-on on-the the-mat (5)
	//   reference bigrams: the-cat cat-was was-on on-the the-red red-mat (6)
	//   overlap: the-cat, on-the = 2 → P 2/5, R 2/6 = 1/3,
	//   F1 = 2·(2/5)(1/3)/((2/5)+(1/3)) = (4/15)/(11/15) = 4/11.
	// ROUGE-L: LCS = the cat on the mat = 5 → P 5/6, R 5/7, F1 10/13.
	got := metrics.ScoreRouge("The cat sat on the mat.", "the cat was on the red mat")
	want := metrics.Rouge{
		R1: metrics.RougeScore{Precision: 5.0 / 6, Recall: 5.0 / 7, F1: 10.0 / 13},
		R2: metrics.RougeScore{Precision: 2.0 / 5, Recall: 1.0 / 3, F1: 4.0 / 11},
		RL: metrics.RougeScore{Precision: 5.0 / 6, Recall: 5.0 / 7, F1: 10.0 / 13},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("ScoreRouge (-want +got):\n%s", diff)
	}
}

func TestScoreRougeChinese(t *testing.T) {
	// candidate: 咳嗽发热 → 咳 嗽 发 热 (4 characters)
	// reference: 发热咳嗽三天 → 发 热 咳 嗽 三 天 (6 characters)
	// ROUGE-1: overlap 咳 嗽 发 热 = 4 → P 4/4 = 1, R 4/6 = 2/3, F1 = 2·(2/3)/(5/3) = 4/5.
	// ROUGE-2: candidate 咳嗽 嗽发 发热 (3); reference 发热 热咳 咳嗽 嗽三 三天 (5);
	//   overlap 咳嗽, 发热 = 2 → P 2/3, R 2/5, F1 = 2·(4/15)/(16/15) = 1/2.
	// ROUGE-L: LCS of 咳嗽发热 and 发热咳嗽三天 is 2 (咳嗽 or 发热) → P 2/4, R 2/6,
	//   F1 = 2·(1/2)(1/3)/(5/6) = (1/3)/(5/6) = 2/5.
	got := metrics.ScoreRouge("咳嗽发热", "发热咳嗽三天")
	want := metrics.Rouge{
		R1: metrics.RougeScore{Precision: 1, Recall: 2.0 / 3, F1: 0.8},
		R2: metrics.RougeScore{Precision: 2.0 / 3, Recall: 0.4, F1: 0.5},
		RL: metrics.RougeScore{Precision: 0.5, Recall: 1.0 / 3, F1: 0.4},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("ScoreRouge (-want +got):\n%s", diff)
	}
}

func TestScoreRougeEmpty(t *testing.T) {
	if diff := cmp.Diff(metrics.Rouge{}, metrics.ScoreRouge("", "abc")); diff != "" {
		t.Errorf("empty candidate (-want +got):\n%s", diff)
	}
}

func TestMeanRouge(t *testing.T) {
	a := metrics.Rouge{R1: metrics.RougeScore{Precision: 1, Recall: 0.5, F1: 0.6}}
	b := metrics.Rouge{R1: metrics.RougeScore{Precision: 0, Recall: 0.5, F1: 0.2}, RL: metrics.RougeScore{F1: 1}}
	// Field by field: P (1+0)/2 = 0.5, R 0.5, F1 (0.6+0.2)/2 = 0.4; RL F1 (0+1)/2 = 0.5.
	want := metrics.Rouge{R1: metrics.RougeScore{Precision: 0.5, Recall: 0.5, F1: 0.4}, RL: metrics.RougeScore{F1: 0.5}}
	if diff := cmp.Diff(want, metrics.MeanRouge([]metrics.Rouge{a, b}), approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(metrics.Rouge{}, metrics.MeanRouge(nil)); diff != "" {
		t.Errorf("MeanRouge(nil) (-want +got):\n%s", diff)
	}
}
