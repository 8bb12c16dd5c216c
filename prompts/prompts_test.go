package prompts_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/prompts"
)

var update = flag.Bool("update", false, "rewrite testdata/<id>.golden from the current prompts")

// formatGolden is the golden file format: a header line, then each message
// under the same marker the prompt files use.
func formatGolden(meta prompts.Meta, msgs []prompts.Message) string {
	var b strings.Builder
	b.WriteString("# " + meta.ID + " v" + itoa(meta.Version) + "\n")
	for _, m := range msgs {
		b.WriteString("--- " + string(m.Role) + " ---\n")
		b.WriteString(m.Text + "\n")
	}
	return b.String()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestGolden renders every embedded prompt with testdata/<id>.input.json
// and compares the result with testdata/<id>.golden.
func TestGolden(t *testing.T) {
	set, err := prompts.Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	ids := set.IDs()
	if len(ids) == 0 {
		t.Fatal("no embedded prompts")
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", id+".input.json"))
			if err != nil {
				t.Fatalf("prompt %s has no test input: %v", id, err)
			}
			var input map[string]any
			if err := json.Unmarshal(raw, &input); err != nil {
				t.Fatalf("testdata/%s.input.json: %v", id, err)
			}
			msgs, meta, err := set.Render(id, input)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got := formatGolden(meta, msgs)
			golden := filepath.Join("testdata", id+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("prompt %s has no golden file (run go test ./prompts -update): %v", id, err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("rendered %s differs from %s (-want +got):\n%s", id, golden, diff)
			}
		})
	}
}

// TestTestdataHasNoOrphans keeps testdata in step with the prompt files.
func TestTestdataHasNoOrphans(t *testing.T) {
	set, err := prompts.Default()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, id := range set.IDs() {
		known[id] = true
	}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		var id string
		switch {
		case strings.HasSuffix(name, ".input.json"):
			id = strings.TrimSuffix(name, ".input.json")
		case strings.HasSuffix(name, ".golden"):
			id = strings.TrimSuffix(name, ".golden")
		default:
			continue
		}
		if !known[id] {
			t.Errorf("testdata/%s belongs to no prompt", name)
		}
	}
}

const goodPrompt = `---
id: greet
version: 2
description: Says hello.
inputs: [name, items]
output: '{"greeting": string}'
---
--- system ---
Reply in JSON.
--- user ---
Hello {{.name}}!
{{range .items}}* {{.}}
{{end}}{{json $.items}} {{join .items ", "}}
`

func TestRender(t *testing.T) {
	set, err := prompts.Load(fstest.MapFS{"greet.prompt": {Data: []byte(goodPrompt)}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		name     string
		input    any
		want     []prompts.Message
		wantCode clinic.Code
	}{
		{
			name:  "map input",
			input: map[string]any{"name": "张三", "items": []any{"胸痛", "出汗<1h"}},
			want: []prompts.Message{
				{Role: prompts.RoleSystem, Text: "Reply in JSON."},
				{Role: prompts.RoleUser, Text: "Hello 张三!\n* 胸痛\n* 出汗<1h\n[\"胸痛\",\"出汗<1h\"] 胸痛, 出汗<1h"},
			},
		},
		{
			name: "struct input uses JSON names",
			input: struct {
				Name  string   `json:"name"`
				Items []string `json:"items"`
				Extra int      `json:"-"`
			}{Name: "李四", Items: []string{"发热"}},
			want: []prompts.Message{
				{Role: prompts.RoleSystem, Text: "Reply in JSON."},
				{Role: prompts.RoleUser, Text: "Hello 李四!\n* 发热\n[\"发热\"] 发热"},
			},
		},
		{
			name:  "numbers print exactly",
			input: map[string]any{"name": 12345678901234567, "items": []any{0.1, 2.50}},
			want: []prompts.Message{
				{Role: prompts.RoleSystem, Text: "Reply in JSON."},
				{Role: prompts.RoleUser, Text: "Hello 12345678901234567!\n* 0.1\n* 2.5\n[0.1,2.5] 0.1, 2.5"},
			},
		},
		{name: "nil input", input: nil, wantCode: clinic.CodeInvalid},
		{name: "non-object input", input: []string{"a"}, wantCode: clinic.CodeInvalid},
		{name: "unmarshalable input", input: map[string]any{"name": make(chan int)}, wantCode: clinic.CodeInvalid},
		{
			name:     "missing key",
			input:    map[string]any{"name": "x"},
			wantCode: clinic.CodeInvalid,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, meta, err := set.Render("greet", tc.input)
			if tc.wantCode != "" {
				if clinic.ErrorCode(err) != tc.wantCode {
					t.Fatalf("err = %v, want code %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if diff := cmp.Diff(prompts.Meta{ID: "greet", Version: 2}, meta); diff != "" {
				t.Errorf("meta (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
	if _, _, err := set.Render("nope", nil); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("unknown id: err = %v, want not_found", err)
	}
}

func TestRenderTooLarge(t *testing.T) {
	set, err := prompts.Load(fstest.MapFS{"big.prompt": {Data: []byte(
		"---\nid: big\nversion: 1\ndescription: d\ninputs: [x]\noutput: o\n---\n--- user ---\n{{.x}}{{.x}}\n")}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		x    string
	}{
		{name: "input too large", x: strings.Repeat("字", prompts.MaxRenderedSize)},
		{name: "output too large", x: strings.Repeat("a", prompts.MaxRenderedSize*3/4)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := set.Render("big", map[string]any{"x": tc.x})
			if clinic.ErrorCode(err) != clinic.CodeTooLarge {
				t.Fatalf("err = %v, want too_large", err)
			}
		})
	}
	if _, _, err := set.Render("big", map[string]any{"x": strings.Repeat("a", prompts.MaxRenderedSize/3)}); err != nil {
		t.Errorf("render within the bound: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	head := "---\nid: p\nversion: 1\ndescription: d\ninputs: [a]\noutput: o\n---\n"
	tests := []struct {
		name string
		file string // file name, default p.prompt
		src  string
		want []string // substrings of the error message
	}{
		{name: "unknown key", src: "---\nid: p\nversion: 1\nmodel: gpt\ndescription: d\ninputs: [a]\noutput: o\n---\n--- user ---\nx\n",
			want: []string{"p.prompt:4:", `unknown front matter key "model"`}},
		{name: "missing key", src: "---\nid: p\nversion: 1\ninputs: [a]\noutput: o\n---\n--- user ---\nx\n",
			want: []string{"p.prompt:1:", `lacks key "description"`}},
		{name: "duplicate key", src: "---\nid: p\nid: p\nversion: 1\ndescription: d\ninputs: [a]\noutput: o\n---\n--- user ---\nx\n",
			want: []string{"p.prompt:"}},
		{name: "bad version type", src: "---\nid: p\nversion: one\ndescription: d\ninputs: [a]\noutput: o\n---\n--- user ---\nx\n",
			want: []string{"p.prompt:3:", `key "version"`}},
		{name: "zero version", src: "---\nid: p\nversion: 0\ndescription: d\ninputs: [a]\noutput: o\n---\n--- user ---\nx\n",
			want: []string{"p.prompt:3:", "version must be"}},
		{name: "id differs from file", file: "q.prompt", src: head + "--- user ---\nx\n",
			want: []string{"q.prompt:2:", `must equal the file name "q"`}},
		{name: "inputs not a list", src: "---\nid: p\nversion: 1\ndescription: d\ninputs: a\noutput: o\n---\n--- user ---\nx\n",
			want: []string{"p.prompt:5:", "list of names"}},
		{name: "no opening line", src: "id: p\n", want: []string{"p.prompt:1:", "must start"}},
		{name: "no closing line", src: "---\nid: p\n", want: []string{"no closing"}},
		{name: "text before marker", src: head + "hello\n--- user ---\nx\n", want: []string{"p.prompt:8:", "before the first"}},
		{name: "no marker", src: head + "\n", want: []string{"no \"--- system ---\""}},
		{name: "empty message", src: head + "--- system ---\n\n--- user ---\nx\n", want: []string{"p.prompt:8:", "system message is empty"}},
		{name: "no user message", src: head + "--- system ---\nx\n", want: []string{"no user message"}},
		{name: "template syntax", src: head + "--- user ---\nok\n{{.a\n", want: []string{"started at p.prompt:10"}},
		{name: "undeclared input", src: head + "--- user ---\n{{.a}}\n{{.b}}\n", want: []string{"p.prompt:10:", `input "b" is not declared`}},
		{name: "undeclared dollar input", src: head + "--- user ---\n{{range .a}}{{$.c}}{{end}}\n", want: []string{`input "c" is not declared`}},
		{name: "define", src: head + "--- user ---\n{{define \"x\"}}y{{end}}{{.a}}\n", want: []string{"not supported"}},
		{name: "unknown func", src: head + "--- user ---\n{{upper .a}}\n", want: []string{`"upper" not defined`}},
		{name: "bad utf8", src: head + "--- user ---\n\xff\n", want: []string{"UTF-8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "p.prompt"
			}
			_, err := prompts.Load(fstest.MapFS{file: {Data: []byte(tc.src)}})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Errorf("code = %s, want invalid", clinic.ErrorCode(err))
			}
			var ce *clinic.Error
			if !errors.As(err, &ce) || ce.MessageZH == "" {
				t.Errorf("want a *clinic.Error with a Chinese message, got %#v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadLimits(t *testing.T) {
	big := "---\nid: p\nversion: 1\ndescription: d\ninputs: []\noutput: o\n---\n--- user ---\n" +
		strings.Repeat("x", prompts.MaxFileSize)
	_, err := prompts.Load(fstest.MapFS{"p.prompt": {Data: []byte(big)}})
	if clinic.ErrorCode(err) != clinic.CodeTooLarge {
		t.Errorf("oversize file: err = %v, want too_large", err)
	}
}

func TestLoadIgnoresOtherFiles(t *testing.T) {
	set, err := prompts.Load(fstest.MapFS{
		"greet.prompt":       {Data: []byte(goodPrompt)},
		"README.md":          {Data: []byte("not a prompt")},
		"sub/nested.prompt":  {Data: []byte("broken")},
		"testdata/x.golden":  {Data: []byte("x")},
		"greet.prompt.orig":  {Data: []byte("broken")},
		"another.prompt.bak": {Data: []byte("broken")},
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff([]string{"greet"}, set.IDs()); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
	info, ok := set.Info("greet")
	if !ok {
		t.Fatal("Info(greet) not found")
	}
	want := prompts.Info{ID: "greet", Version: 2, Description: "Says hello.", Inputs: []string{"name", "items"},
		Output: `{"greeting": string}`, File: "greet.prompt"}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}
}

// FuzzLoad feeds arbitrary file contents to Load: it must never panic, and
// whatever loads must render without panicking and report its own id.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodPrompt))
	f.Add([]byte("---\nid: p\nversion: 1\ndescription: d\ninputs: [a]\noutput: o\n---\n--- user ---\n{{.a}}\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\n[1, 2]\n---\n--- user ---\n"))
	f.Add([]byte("---\nid: p\nversion: 1\ndescription: d\ninputs: [a]\noutput: o\n---\n--- user ---\n{{range .a}}{{.}}{{else}}{{$.a}}{{end}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := prompts.Load(fstest.MapFS{"p.prompt": {Data: data}})
		if err != nil {
			if clinic.ErrorCode(err) == clinic.CodeInternal {
				t.Fatalf("load error without a code: %v", err)
			}
			return
		}
		ids := set.IDs()
		if len(ids) != 1 || ids[0] != "p" {
			t.Fatalf("IDs = %v, want [p]", ids)
		}
		info, _ := set.Info("p")
		input := map[string]any{}
		for _, in := range info.Inputs {
			input[in] = "v"
		}
		_, meta, _ := set.Render("p", input)
		if meta.ID != "p" {
			t.Fatalf("meta.ID = %q", meta.ID)
		}
	})
}
