package chunk_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/rag/chunk"
)

func TestFrontMatter(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		want     chunk.Meta
		wantBody string
	}{
		{
			name: "full",
			text: "---\nid: doc-1\ntitle: 入院记录\nsource: \"病历书写基本规范（2010）\"\nversion: '2010'\neffective_date: 2010-03-01\ntags: [病历, 时限]\nowner: qc\n---\n# 正文\n",
			want: chunk.Meta{ID: "doc-1", Title: "入院记录", Source: "病历书写基本规范（2010）", Version: "2010",
				EffectiveDate: "2010-03-01", Tags: []string{"病历", "时限"}, Extra: map[string]string{"owner": "qc"}},
			wantBody: "# 正文\n",
		},
		{
			name:     "tags as list lines, CRLF",
			text:     "---\r\ntags:\r\n  - a\r\n  - b\r\n  - a\r\n---\r\nbody",
			want:     chunk.Meta{Tags: []string{"a", "b"}},
			wantBody: "body",
		},
		{
			name:     "comma tags",
			text:     "---\ntags: x, y\n---\n",
			want:     chunk.Meta{Tags: []string{"x", "y"}},
			wantBody: "",
		},
		{
			name:     "no front matter",
			text:     "# 标题\n---\n",
			wantBody: "# 标题\n---\n",
		},
		{
			name:     "unclosed block is body",
			text:     "---\ntitle: x\nno end",
			wantBody: "---\ntitle: x\nno end",
		},
		{
			name:     "dashes followed by text are not front matter",
			text:     "--- title\n---\n",
			wantBody: "--- title\n---\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, body := chunk.FrontMatter(tc.text)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("meta (-want +got):\n%s", diff)
			}
			if body != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
		})
	}
}

func FuzzFrontMatter(f *testing.F) {
	f.Add("---\ntitle: x\ntags: [a, b]\n---\nbody")
	f.Add("---\ntags:\n - a\n---\n")
	f.Add("no front matter")
	f.Fuzz(func(t *testing.T, text string) {
		m, body := chunk.FrontMatter(text)
		// The body is always a suffix of the input.
		if !strings.HasSuffix(text, body) {
			t.Fatalf("body %q is not a suffix of %q", body, text)
		}
		if body != text && !strings.HasPrefix(text, "---") {
			t.Fatalf("front matter found without leading ---")
		}
		for _, v := range append([]string{m.ID, m.Title, m.Source, m.Version, m.EffectiveDate}, m.Tags...) {
			if len(v) > 1000 {
				t.Fatalf("value of %d bytes exceeds the bound", len(v))
			}
		}
	})
}
