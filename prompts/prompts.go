package prompts

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/yizhu-health/yizhu/clinic"
)

// Size bounds. A prompt file, the number of files in a set and the rendered
// text of one call are all capped so that a bad file or a huge input fails
// loudly instead of exhausting memory or a model's context.
const (
	MaxFileSize     = 64 << 10 // bytes per .prompt file
	MaxPrompts      = 256      // files per set
	MaxRenderedSize = 1 << 20  // bytes of rendered text per Render call
)

// Role is who speaks a message.
type Role string

// Message roles, the same three every chat model understands.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one rendered chat message.
type Message struct {
	Role Role   `json:"role"`
	Text string `json:"text"`
}

// Meta identifies the prompt a call used; it goes into audit records and
// logs next to the model's output.
type Meta struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// Info describes a loaded prompt (its front matter).
type Info struct {
	ID          string
	Version     int
	Description string
	Inputs      []string
	Output      string // Go type name or JSON schema text
	File        string
}

// Set is a validated, immutable collection of prompts. It is safe for
// concurrent use.
type Set struct {
	byID map[string]*prompt
	ids  []string
}

type prompt struct {
	info  Info
	parts []part
}

type part struct {
	role Role
	tmpl *template.Template
}

//go:embed *.prompt
var embedded embed.FS

// Embedded returns the embedded prompt files, for tests that combine them
// with prompts of their own.
func Embedded() fs.FS { return embedded }

// Default loads the prompts embedded in the binary. It fails only if an
// embedded file is broken, which the package tests rule out.
func Default() (*Set, error) {
	return Load(embedded)
}

// Load reads every *.prompt file at the top level of fsys, decodes its front
// matter strictly, parses its templates and checks them. Any problem is a
// *clinic.Error with code invalid whose message names the file and line.
func Load(fsys fs.FS) (*Set, error) {
	names, err := fs.Glob(fsys, "*.prompt")
	if err != nil {
		return nil, fmt.Errorf("prompts: list files: %w", err)
	}
	if len(names) > MaxPrompts {
		return nil, clinic.NewError(clinic.CodeTooLarge, "",
			fmt.Sprintf("prompts: %d files exceed the limit of %d", len(names), MaxPrompts),
			fmt.Sprintf("提示词文件数 %d 超过上限 %d", len(names), MaxPrompts))
	}
	slices.Sort(names)
	s := &Set{byID: make(map[string]*prompt, len(names))}
	for _, name := range names {
		data, err := readBounded(fsys, name)
		if err != nil {
			return nil, err
		}
		p, err := parseFile(name, data)
		if err != nil {
			return nil, err
		}
		if _, dup := s.byID[p.info.ID]; dup {
			return nil, loadError(name, 1, "id", fmt.Sprintf("duplicate prompt id %q", p.info.ID),
				fmt.Sprintf("提示词 id %q 重复", p.info.ID))
		}
		s.byID[p.info.ID] = p
		s.ids = append(s.ids, p.info.ID)
	}
	slices.Sort(s.ids)
	return s, nil
}

func readBounded(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("prompts: open %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("prompts: read %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, clinic.NewError(clinic.CodeTooLarge, "",
			fmt.Sprintf("prompts: %s is larger than %d bytes", name, MaxFileSize),
			fmt.Sprintf("提示词文件 %s 超过 %d 字节", name, MaxFileSize))
	}
	return data, nil
}

// IDs returns the prompt IDs in sorted order.
func (s *Set) IDs() []string { return slices.Clone(s.ids) }

// Info returns the front matter of prompt id.
func (s *Set) Info(id string) (Info, bool) {
	p, ok := s.byID[id]
	if !ok {
		return Info{}, false
	}
	in := p.info
	in.Inputs = slices.Clone(in.Inputs)
	return in, true
}

// Render executes prompt id with input and returns its messages in file
// order. Input is first converted to its JSON form (a struct becomes an
// object keyed by its JSON field names; numbers become json.Number and
// print exactly as written), so agents pass their typed inputs and the
// golden test's testdata/<id>.input.json is exactly what a template sees.
// Messages whose text is blank after trimming are left out. An unknown id is
// a not_found error; a missing input or a failing template is invalid.
func (s *Set) Render(id string, input any) ([]Message, Meta, error) {
	p, ok := s.byID[id]
	if !ok {
		return nil, Meta{}, clinic.NewError(clinic.CodeNotFound, "prompt_id",
			fmt.Sprintf("prompts: no prompt %q", id), fmt.Sprintf("找不到提示词 %q", id))
	}
	meta := Meta{ID: p.info.ID, Version: p.info.Version}
	data, err := jsonForm(input)
	if errors.Is(err, errRenderTooLarge) {
		return nil, meta, clinic.NewError(clinic.CodeTooLarge, "input",
			fmt.Sprintf("prompts: input for %s exceeds %d bytes", id, MaxRenderedSize),
			fmt.Sprintf("提示词 %s 的输入超过 %d 字节", id, MaxRenderedSize))
	}
	if err != nil {
		return nil, meta, clinic.Wrap(err, clinic.CodeInvalid,
			fmt.Sprintf("prompts: input for %s is not a JSON object", id),
			fmt.Sprintf("提示词 %s 的输入不是 JSON 对象", id))
	}
	input = data
	w := &boundedWriter{left: MaxRenderedSize}
	msgs := make([]Message, 0, len(p.parts))
	for _, pt := range p.parts {
		w.buf.Reset()
		if err := pt.tmpl.Execute(w, input); err != nil {
			if errors.Is(err, errRenderTooLarge) {
				return nil, meta, clinic.NewError(clinic.CodeTooLarge, "input",
					fmt.Sprintf("prompts: rendering %s exceeds %d bytes", id, MaxRenderedSize),
					fmt.Sprintf("提示词 %s 渲染结果超过 %d 字节", id, MaxRenderedSize))
			}
			return nil, meta, clinic.Wrap(err, clinic.CodeInvalid,
				fmt.Sprintf("prompts: render %s", id), fmt.Sprintf("提示词 %s 渲染失败", id))
		}
		text := strings.TrimSpace(w.buf.String())
		if text == "" {
			continue
		}
		msgs = append(msgs, Message{Role: pt.role, Text: text})
	}
	if len(msgs) == 0 {
		return nil, meta, clinic.NewError(clinic.CodeInvalid, "input",
			fmt.Sprintf("prompts: %s rendered no message", id), fmt.Sprintf("提示词 %s 渲染结果为空", id))
	}
	return msgs, meta, nil
}

var errRenderTooLarge = errors.New("rendered prompt too large")

// jsonForm round-trips input through JSON into a map.
func jsonForm(input any) (map[string]any, error) {
	b, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRenderedSize {
		return nil, errRenderTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("input is null")
	}
	return m, nil
}

type boundedWriter struct {
	buf  bytes.Buffer
	left int
}

func (w *boundedWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, errRenderTooLarge
	}
	w.left -= len(p)
	return w.buf.Write(p)
}

var (
	idPattern     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	inputPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	markerPattern = regexp.MustCompile(`^--- (system|user|assistant) ---$`)
)

// frontMatter keys, in the order they are documented.
var frontMatterKeys = []string{"id", "version", "description", "inputs", "output"}

func loadError(file string, line int, field, en, zh string) *clinic.Error {
	return clinic.NewError(clinic.CodeInvalid, field,
		fmt.Sprintf("prompts: %s:%d: %s", file, line, en),
		fmt.Sprintf("提示词 %s 第 %d 行：%s", file, line, zh))
}

// parseFile turns one file into a prompt. name is the file's path in the FS.
func parseFile(name string, data []byte) (*prompt, error) {
	if !utf8.Valid(data) {
		return nil, loadError(name, 1, "", "file is not valid UTF-8", "文件不是有效的 UTF-8")
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if len(lines) == 0 || strings.TrimRight(lines[0], " \t") != "---" {
		return nil, loadError(name, 1, "", `file must start with a "---" line`, `文件必须以 "---" 行开头`)
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if strings.TrimRight(lines[i], " \t") == "---" {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, loadError(name, 1, "", `front matter has no closing "---" line`, `前置元数据缺少结束的 "---" 行`)
	}
	info, err := decodeFrontMatter(name, strings.Join(lines[1:end], "\n"))
	if err != nil {
		return nil, err
	}
	p := &prompt{info: info}
	parts, err := parseBody(name, lines, end+1, info.Inputs)
	if err != nil {
		return nil, err
	}
	p.parts = parts
	return p, nil
}

func decodeFrontMatter(file, src string) (Info, error) {
	// Line n of src is line n+1 of the file.
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return Info{}, loadError(file, 2, "", "front matter: "+err.Error(), "前置元数据无法解析："+err.Error())
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return Info{}, loadError(file, 2, "", "front matter must be a mapping of keys", "前置元数据必须是键值映射")
	}
	m := doc.Content[0]
	info := Info{File: file}
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		line := k.Line + 1
		if !slices.Contains(frontMatterKeys, k.Value) {
			return Info{}, loadError(file, line, k.Value,
				fmt.Sprintf("unknown front matter key %q (known: %s)", k.Value, strings.Join(frontMatterKeys, ", ")),
				fmt.Sprintf("未知的前置元数据键 %q", k.Value))
		}
		if seen[k.Value] {
			return Info{}, loadError(file, line, k.Value, fmt.Sprintf("key %q given twice", k.Value),
				fmt.Sprintf("键 %q 重复", k.Value))
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "id":
			err = decodeScalar(v, &info.ID)
		case "version":
			err = decodeScalar(v, &info.Version)
		case "description":
			err = decodeScalar(v, &info.Description)
		case "output":
			err = decodeScalar(v, &info.Output)
		case "inputs":
			if v.Kind != yaml.SequenceNode {
				err = errors.New("must be a list of names")
			} else {
				err = v.Decode(&info.Inputs)
			}
		}
		if err != nil {
			return Info{}, loadError(file, v.Line+1, k.Value, fmt.Sprintf("key %q: %v", k.Value, err),
				fmt.Sprintf("键 %q 的值无效", k.Value))
		}
	}
	for _, key := range frontMatterKeys {
		if !seen[key] {
			return Info{}, loadError(file, 1, key, fmt.Sprintf("front matter lacks key %q", key),
				fmt.Sprintf("前置元数据缺少键 %q", key))
		}
	}
	keyLine := func(key string) int {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i].Line + 1
			}
		}
		return 1
	}
	stem := strings.TrimSuffix(path.Base(file), ".prompt")
	switch {
	case !idPattern.MatchString(info.ID):
		return Info{}, loadError(file, keyLine("id"), "id",
			fmt.Sprintf("id %q must be lowercase letters, digits and underscores", info.ID),
			fmt.Sprintf("id %q 只能包含小写字母、数字和下划线", info.ID))
	case info.ID != stem:
		return Info{}, loadError(file, keyLine("id"), "id",
			fmt.Sprintf("id %q must equal the file name %q", info.ID, stem),
			fmt.Sprintf("id %q 必须与文件名 %q 一致", info.ID, stem))
	case info.Version < 1:
		return Info{}, loadError(file, keyLine("version"), "version", "version must be an integer ≥ 1",
			"version 必须是不小于 1 的整数")
	case strings.TrimSpace(info.Description) == "":
		return Info{}, loadError(file, keyLine("description"), "description", "description is empty",
			"description 不能为空")
	case strings.TrimSpace(info.Output) == "":
		return Info{}, loadError(file, keyLine("output"), "output", "output is empty", "output 不能为空")
	}
	seenIn := map[string]bool{}
	for _, in := range info.Inputs {
		if !inputPattern.MatchString(in) {
			return Info{}, loadError(file, keyLine("inputs"), "inputs", fmt.Sprintf("input name %q is not an identifier", in),
				fmt.Sprintf("输入名 %q 不是合法标识符", in))
		}
		if seenIn[in] {
			return Info{}, loadError(file, keyLine("inputs"), "inputs", fmt.Sprintf("input %q listed twice", in),
				fmt.Sprintf("输入 %q 重复", in))
		}
		seenIn[in] = true
	}
	return info, nil
}

func decodeScalar(v *yaml.Node, dst any) error {
	if v.Kind != yaml.ScalarNode {
		return errors.New("must be a single value")
	}
	return v.Decode(dst)
}

// parseBody splits lines[start:] at role markers and parses each part.
func parseBody(file string, lines []string, start int, inputs []string) ([]part, error) {
	type section struct {
		role      Role
		firstLine int // 1-based file line of the first content line
		lines     []string
	}
	var secs []section
	for i := start; i < len(lines); i++ {
		line := lines[i]
		if mm := markerPattern.FindStringSubmatch(strings.TrimRight(line, " \t")); mm != nil {
			secs = append(secs, section{role: Role(mm[1]), firstLine: i + 2})
			continue
		}
		if len(secs) == 0 {
			if strings.TrimSpace(line) != "" {
				return nil, loadError(file, i+1, "", `text before the first "--- role ---" marker`,
					`第一个 "--- 角色 ---" 标记之前有文字`)
			}
			continue
		}
		secs[len(secs)-1].lines = append(secs[len(secs)-1].lines, line)
	}
	if len(secs) == 0 {
		return nil, loadError(file, start+1, "", `body has no "--- system ---" or "--- user ---" marker`,
			`正文缺少 "--- system ---" 或 "--- user ---" 标记`)
	}
	declared := map[string]bool{}
	for _, in := range inputs {
		declared[in] = true
	}
	hasUser := false
	parts := make([]part, 0, len(secs))
	for _, sec := range secs {
		body := strings.Join(sec.lines, "\n")
		if strings.TrimSpace(body) == "" {
			return nil, loadError(file, sec.firstLine-1, "", fmt.Sprintf("%s message is empty", sec.role),
				fmt.Sprintf("%s 消息为空", sec.role))
		}
		hasUser = hasUser || sec.role == RoleUser
		// Leading newlines make template error positions equal file lines.
		src := strings.Repeat("\n", sec.firstLine-1) + body
		t, err := template.New(file).Option("missingkey=error").Funcs(funcs).Parse(src)
		if err != nil {
			return nil, loadError(file, sec.firstLine, "", err.Error(), "模板无法解析："+err.Error())
		}
		if len(t.Templates()) > 1 {
			return nil, loadError(file, sec.firstLine, "", "{{define}} and {{block}} are not supported",
				"不支持 {{define}} 和 {{block}}")
		}
		if err := checkInputs(t.Tree, t.Tree.Root, declared, 0); err != nil {
			return nil, loadError(file, sec.firstLine, "inputs", err.Error(), "模板使用了未声明的输入："+err.Error())
		}
		parts = append(parts, part{role: sec.role, tmpl: t})
	}
	if !hasUser {
		return nil, loadError(file, start+1, "", "prompt has no user message", "提示词缺少 user 消息")
	}
	return parts, nil
}

// checkInputs reports a top-level field (.x or $.x) that is not a declared
// input. depth counts enclosing range/with blocks, inside which dot is no
// longer the input.
func checkInputs(tree *parse.Tree, n parse.Node, declared map[string]bool, depth int) error {
	if n == nil {
		return nil
	}
	undeclared := func(name string, at parse.Node) error {
		loc, _ := tree.ErrorContext(at)
		return fmt.Errorf("%s: input %q is not declared in inputs", loc, name)
	}
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return nil
		}
		for _, c := range x.Nodes {
			if err := checkInputs(tree, c, declared, depth); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkInputs(tree, x.Pipe, declared, depth)
	case *parse.PipeNode:
		if x == nil {
			return nil
		}
		for _, c := range x.Cmds {
			if err := checkInputs(tree, c, declared, depth); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		for _, a := range x.Args {
			if err := checkInputs(tree, a, declared, depth); err != nil {
				return err
			}
		}
	case *parse.ChainNode:
		return checkInputs(tree, x.Node, declared, depth)
	case *parse.FieldNode:
		if depth == 0 && !declared[x.Ident[0]] {
			return undeclared(x.Ident[0], x)
		}
	case *parse.VariableNode:
		if x.Ident[0] == "$" && len(x.Ident) > 1 && !declared[x.Ident[1]] {
			return undeclared(x.Ident[1], x)
		}
	case *parse.IfNode:
		return checkBranch(tree, &x.BranchNode, declared, depth, depth)
	case *parse.RangeNode:
		return checkBranch(tree, &x.BranchNode, declared, depth, depth+1)
	case *parse.WithNode:
		return checkBranch(tree, &x.BranchNode, declared, depth, depth+1)
	case *parse.TemplateNode:
		return checkInputs(tree, x.Pipe, declared, depth)
	}
	return nil
}

func checkBranch(tree *parse.Tree, b *parse.BranchNode, declared map[string]bool, outer, inner int) error {
	if err := checkInputs(tree, b.Pipe, declared, outer); err != nil {
		return err
	}
	if err := checkInputs(tree, b.List, declared, inner); err != nil {
		return err
	}
	return checkInputs(tree, b.ElseList, declared, outer)
}

var funcs = template.FuncMap{
	"json": toJSON,
	"join": join,
}

// toJSON renders v as compact JSON without HTML escaping, so Chinese text
// and symbols stay readable in the prompt.
func toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// join joins a list of strings (or of any values, printed with %v).
func join(list any, sep string) (string, error) {
	switch l := list.(type) {
	case []string:
		return strings.Join(l, sep), nil
	case []any:
		parts := make([]string, len(l))
		for i, v := range l {
			parts[i] = fmt.Sprint(v)
		}
		return strings.Join(parts, sep), nil
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("join: want a list, got %T", list)
	}
}
