package chunk_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag/chunk"
)

type piece struct {
	Path []string
	Text string
}

func pieces(cs []chunk.Chunk) []piece {
	out := make([]piece, len(cs))
	for i, c := range cs {
		out[i] = piece{Path: c.HeadingPath, Text: c.Text}
	}
	return out
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		text string
		opt  chunk.Options
		want []piece
	}{
		{
			name: "heading path",
			text: "# 病历\n引言。\n## 入院记录\n入院后24小时内完成。\n### 内容\n主诉、现病史。\n## 出院记录\n出院后24小时内完成。",
			opt:  chunk.Options{Size: 100},
			want: []piece{
				{[]string{"病历"}, "引言。"},
				{[]string{"病历", "入院记录"}, "入院后24小时内完成。"},
				{[]string{"病历", "入院记录", "内容"}, "主诉、现病史。"},
				{[]string{"病历", "出院记录"}, "出院后24小时内完成。"},
			},
		},
		{
			name: "chinese sentences packed without cutting",
			text: "第一句话很短。第二句话也短！第三句？第四句；",
			opt:  chunk.Options{Size: 20},
			want: []piece{
				{nil, "第一句话很短。第二句话也短！第三句？"},
				{nil, "第四句；"},
			},
		},
		{
			name: "english sentences",
			text: "The first sentence is here. The second one follows! Is this the third? Yes.",
			opt:  chunk.Options{Size: 40},
			want: []piece{
				{nil, "The first sentence is here."},
				{nil, "The second one follows!"},
				{nil, "Is this the third? Yes."},
			},
		},
		{
			name: "decimal point is not a sentence end",
			text: "Glucose 3.9 mmol/L is low. Next.",
			opt:  chunk.Options{Size: 30},
			want: []piece{{nil, "Glucose 3.9 mmol/L is low."}, {nil, "Next."}},
		},
		{
			name: "overlap repeats whole sentences",
			text: "甲甲甲甲甲甲甲甲甲。乙乙乙乙乙乙乙乙乙。丙丙丙丙丙丙丙丙丙。丁丁丁丁丁丁丁丁丁。",
			opt:  chunk.Options{Size: 20, Overlap: 10},
			want: []piece{
				{nil, "甲甲甲甲甲甲甲甲甲。乙乙乙乙乙乙乙乙乙。"},
				{nil, "乙乙乙乙乙乙乙乙乙。丙丙丙丙丙丙丙丙丙。"},
				{nil, "丙丙丙丙丙丙丙丙丙。丁丁丁丁丁丁丁丁丁。"},
			},
		},
		{
			name: "overlong sentence cut at a comma",
			text: "一二三四五六七八九十一二，三四五六七八九十一二三四五六七八九十。",
			opt:  chunk.Options{Size: 20},
			want: []piece{
				{nil, "一二三四五六七八九十一二，"},
				{nil, "三四五六七八九十一二三四五六七八九十。"},
			},
		},
		{
			name: "overlong sentence without a break is cut at the size",
			text: "一二三四五六七八九十一二三四五六七八九十一二三四五",
			opt:  chunk.Options{Size: 20},
			want: []piece{
				{nil, "一二三四五六七八九十一二三四五六七八九十"},
				{nil, "一二三四五"},
			},
		},
		{
			name: "heading inside a code fence is text",
			text: "# A\n```\n# not a heading\n```\nafter",
			opt:  chunk.Options{Size: 200},
			want: []piece{{[]string{"A"}, "```\n# not a heading\n```\nafter"}},
		},
		{
			name: "plain text keeps # lines",
			text: "# one\ntwo",
			opt:  chunk.Options{Size: 100, Plain: true},
			want: []piece{{nil, "# one\ntwo"}},
		},
		{
			name: "closing hashes and empty sections",
			text: "## 标题 ##\n\n\n## 空\n## 有内容\n内容",
			opt:  chunk.Options{Size: 100},
			want: []piece{{[]string{"有内容"}, "内容"}},
		},
		{
			name: "no text",
			text: "  \n\n# 只有标题\n",
			opt:  chunk.Options{Size: 100},
			want: []piece{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chunk.Split(tc.text, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, pieces(got)); diff != "" {
				t.Errorf("Split (-want +got):\n%s", diff)
			}
			checkProperties(t, tc.text, tc.opt, got)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  chunk.Options
		ok   bool
	}{
		{"defaults", chunk.Defaults(), true},
		{"too small", chunk.Options{Size: 5}, false},
		{"too large", chunk.Options{Size: chunk.MaxSize + 1}, false},
		{"overlap over half", chunk.Options{Size: 100, Overlap: 51}, false},
		{"negative overlap", chunk.Options{Size: 100, Overlap: -1}, false},
		{"half overlap", chunk.Options{Size: 100, Overlap: 50}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opt.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%t", err, tc.ok)
			}
			if err != nil && clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Errorf("code = %s, want invalid", clinic.ErrorCode(err))
			}
			if _, serr := chunk.Split("text", tc.opt); (serr == nil) != tc.ok {
				t.Errorf("Split error = %v, want ok=%t", serr, tc.ok)
			}
		})
	}
}

// checkProperties asserts the invariants of Split: every chunk is a
// trimmed, valid-UTF-8 slice of the input of at most Size runes; ordinals
// count up; and every non-space character outside heading lines lies in
// some chunk.
func checkProperties(t *testing.T, text string, opt chunk.Options, cs []chunk.Chunk) {
	t.Helper()
	covered := make([]bool, len(text))
	for i, c := range cs {
		if c.Ordinal != i {
			t.Fatalf("chunk %d has ordinal %d", i, c.Ordinal)
		}
		if c.Start < 0 || c.End > len(text) || c.Start >= c.End {
			t.Fatalf("chunk %d has range [%d,%d) in %d bytes", i, c.Start, c.End, len(text))
		}
		if text[c.Start:c.End] != c.Text {
			t.Fatalf("chunk %d text %q is not text[%d:%d]", i, c.Text, c.Start, c.End)
		}
		if utf8.ValidString(text) && !utf8.ValidString(c.Text) {
			t.Fatalf("chunk %d splits a rune: %q", i, c.Text)
		}
		if n := utf8.RuneCountInString(c.Text); n > opt.Size {
			t.Fatalf("chunk %d has %d runes, more than %d", i, n, opt.Size)
		}
		if strings.TrimSpace(c.Text) != c.Text {
			t.Fatalf("chunk %d is not trimmed: %q", i, c.Text)
		}
		for j := c.Start; j < c.End; j++ {
			covered[j] = true
		}
	}
	lineStart := 0
	for _, line := range strings.SplitAfter(text, "\n") {
		isHeading := !opt.Plain && strings.HasPrefix(strings.TrimLeft(line, " "), "#")
		for j, r := range line {
			if isHeading || unicode.IsSpace(r) || covered[lineStart+j] {
				continue
			}
			t.Fatalf("byte %d (%q) of line %q is in no chunk", lineStart+j, r, line)
		}
		lineStart += len(line)
	}
}

func TestSplitRandomProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"病", "历", "书", "写", "。", "！", "？", "；", "，", " ", "\n", "\n\n", "a", "word", ". ", "## 标题\n", "# H\n", "- 列表\n", "3.9", "```\n"}
	for i := range 300 {
		var b strings.Builder
		for range rng.IntN(400) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		size := chunk.MinSize + rng.IntN(200)
		opt := chunk.Options{Size: size, Overlap: rng.IntN(size/2 + 1), Plain: i%5 == 0}
		cs, err := chunk.Split(b.String(), opt)
		if err != nil {
			t.Fatal(err)
		}
		checkProperties(t, b.String(), opt, cs)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("# 标题\n正文第一句。第二句！\n## 小节\nEnglish text. More text? End", 20, 5, false)
	f.Add("没有标点的很长很长很长很长很长很长很长很长很长很长的句子", 20, 0, true)
	f.Add("```\n# x\n```\n", 30, 10, false)
	f.Fuzz(func(t *testing.T, text string, size, overlap int, plain bool) {
		if len(text) > 1<<16 {
			return
		}
		opt := chunk.Options{Size: size, Overlap: overlap, Plain: plain}
		cs, err := chunk.Split(text, opt)
		if err != nil {
			if opt.Validate() == nil {
				t.Fatalf("Split failed with valid options: %v", err)
			}
			return
		}
		checkProperties(t, text, opt, cs)
	})
}
