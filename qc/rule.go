package qc

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/yizhu-health/yizhu/clinic"
)

//go:embed rules/*.yaml
var defaultRuleFS embed.FS

// maxRuleFileBytes bounds one rule file.
const maxRuleFileBytes = 1 << 20

// Rule is one QC rule as data. Rule IDs are append-only: a retired rule is
// disabled, never renumbered.
type Rule struct {
	ID      clinic.RuleID `yaml:"id" json:"id"`
	TitleZH string        `yaml:"title_zh" json:"title_zh"`
	TitleEN string        `yaml:"title_en" json:"title_en"`
	// Source cites the norm and article the rule enforces.
	Source string            `yaml:"source" json:"source"`
	Types  []clinic.NoteType `yaml:"types" json:"types"`
	// Severity, Points deducted per finding (at most MaxPoints per record;
	// 0 = Points, i.e. once) and Veto (单项否决: forces grade 丙).
	Severity  clinic.Severity `yaml:"severity" json:"severity"`
	Points    float64         `yaml:"points" json:"points"`
	MaxPoints float64         `yaml:"max_points" json:"max_points,omitempty"`
	Veto      bool            `yaml:"veto" json:"veto,omitempty"`
	Enabled   *bool           `yaml:"enabled" json:"enabled,omitempty"`
	When      When            `yaml:"when" json:"when,omitzero"`
	Check     Check           `yaml:"check" json:"check"`

	file string
	line int
}

// When limits a rule to some patients; zero fields do not limit.
type When struct {
	Sex         clinic.Sex `yaml:"sex" json:"sex,omitempty"`
	MinAgeYears *float64   `yaml:"min_age_years" json:"min_age_years,omitempty"`
	MaxAgeYears *float64   `yaml:"max_age_years" json:"max_age_years,omitempty"`
}

// Check names a built-in check kind and its parameters.
type Check struct {
	Kind   string    `yaml:"kind" json:"kind"`
	Params yaml.Node `yaml:"params" json:"-"`
}

// IsEnabled reports whether the rule runs (default true).
func (r *Rule) IsEnabled() bool { return r.Enabled == nil || *r.Enabled }

// Pos returns the file and line the rule was defined (or last overridden) at.
func (r *Rule) Pos() (file string, line int) { return r.file, r.line }

// DrugClass is one row of the drug-class table: allergen words that put a
// patient in the class and drug names that belong to it.
type DrugClass struct {
	NameZH string   `yaml:"name_zh" json:"name_zh"`
	Source string   `yaml:"source" json:"source"`
	Terms  []string `yaml:"terms" json:"terms"` // allergen words and member drug names
}

// RuleSet is a set of rules plus the tables they use.
type RuleSet struct {
	Rules       []*Rule
	DrugClasses map[string]DrugClass

	// skip, when set, receives per-rule errors instead of add failing.
	skip func(error)
}

// ruleFile is the top level of a rule or override file.
type ruleFile struct {
	Rules       []yaml.Node          `yaml:"rules"`
	Disable     []clinic.RuleID      `yaml:"disable"`
	DrugClasses map[string]DrugClass `yaml:"drug_classes"`
}

// LoadError is a rule file problem, with the file, line and rule it concerns.
type LoadError struct {
	File string
	Line int
	Rule clinic.RuleID
	Msg  string
}

func (e *LoadError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Rule != "" {
		s += ": rule " + string(e.Rule)
	}
	return s + ": " + e.Msg
}

func loadErr(file string, line int, id clinic.RuleID, format string, args ...any) error {
	le := &LoadError{File: file, Line: line, Rule: id, Msg: fmt.Sprintf(format, args...)}
	return &clinic.Error{Code: clinic.CodeInvalid, Field: "rules", Message: "invalid QC rule file", MessageZH: "质控规则文件错误：" + le.Error(), Err: le}
}

// DefaultRules returns the embedded default rule set.
func DefaultRules() (*RuleSet, error) {
	return LoadRules(defaultRuleFS, "rules")
}

// LoadRules reads every *.yaml file of dir in fsys, in name order.
func LoadRules(fsys fs.FS, dir string) (*RuleSet, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "bad rule directory", "规则目录错误")
	}
	sort.Strings(names)
	rs := &RuleSet{DrugClasses: map[string]DrugClass{}}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot read rule file "+n, "无法读取规则文件")
		}
		if err := rs.add(n, b, false); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// ParseRules reads one rule file into a new set.
func ParseRules(name string, data []byte) (*RuleSet, error) {
	rs := &RuleSet{DrugClasses: map[string]DrugClass{}}
	if err := rs.add(name, data, false); err != nil {
		return nil, err
	}
	return rs, nil
}

// ApplyOverride applies a hospital's override file to rs: "disable" lists
// rule IDs to turn off; a rule under "rules" whose id exists patches it
// (only the fields given change: enabled, points, severity, veto, …); a new
// id adds a rule (then every field is required); "drug_classes" rows add
// to or replace the table. Errors name the file, line and rule.
func (rs *RuleSet) ApplyOverride(name string, data []byte) error {
	return rs.add(name, data, true)
}

// ApplyOverrideSkipping is ApplyOverride that keeps going past a bad rule:
// each rule (or disable entry) that cannot be decoded or validated is left
// out and its error, naming the file, line and rule, is returned in
// skipped; the other rules still apply. A file that is not YAML at all is
// still an error.
func (rs *RuleSet) ApplyOverrideSkipping(name string, data []byte) (skipped []error, err error) {
	rs.skip = func(e error) { skipped = append(skipped, e) }
	defer func() { rs.skip = nil }()
	err = rs.add(name, data, true)
	return skipped, err
}

// Clone returns a deep copy of rs (rules and table), so overrides do not
// touch the original.
func (rs *RuleSet) Clone() *RuleSet {
	out := &RuleSet{DrugClasses: make(map[string]DrugClass, len(rs.DrugClasses))}
	for _, r := range rs.Rules {
		c := *r
		c.Types = append([]clinic.NoteType(nil), r.Types...)
		out.Rules = append(out.Rules, &c)
	}
	for k, v := range rs.DrugClasses {
		out.DrugClasses[k] = v
	}
	return out
}

func (rs *RuleSet) find(id clinic.RuleID) *Rule {
	for _, r := range rs.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (rs *RuleSet) add(name string, data []byte, override bool) error {
	if len(data) > maxRuleFileBytes {
		return loadErr(name, 0, "", "file larger than %d bytes", maxRuleFileBytes)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := syntaxLine(err)
		return loadErr(name, line, ruleAt(data, line), "%v", err)
	}
	if doc.Kind == 0 {
		return loadErr(name, 0, "", "empty rule file")
	}
	top := &doc
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	var rf ruleFile
	if err := decodeStrict(top, &rf); err != nil {
		return loadErr(name, lineOf(err, top), "", "%v", err)
	}
	for id, dc := range rf.DrugClasses {
		if len(dc.Terms) == 0 {
			return loadErr(name, top.Line, "", "drug class %q has no terms", id)
		}
		rs.DrugClasses[id] = dc
	}
	fail := func(err error) error {
		if rs.skip != nil {
			rs.skip(err)
			return nil
		}
		return err
	}
	for _, id := range rf.Disable {
		r := rs.find(id)
		if r == nil {
			if err := fail(loadErr(name, top.Line, id, "disable names an unknown rule")); err != nil {
				return err
			}
			continue
		}
		f := false
		r.Enabled = &f
		r.file = name
	}
	for i := range rf.Rules {
		n := &rf.Rules[i]
		if n.Kind != yaml.MappingNode {
			if err := fail(loadErr(name, n.Line, "", "a rule must be a mapping")); err != nil {
				return err
			}
			continue
		}
		id := clinic.RuleID(mapValue(n, "id"))
		if id == "" {
			if err := fail(loadErr(name, n.Line, "", "rule has no id")); err != nil {
				return err
			}
			continue
		}
		if existing := rs.find(id); existing != nil {
			if !override {
				if err := fail(loadErr(name, n.Line, id, "duplicate rule id (first defined at %s:%d)", existing.file, existing.line)); err != nil {
					return err
				}
				continue
			}
			patched := *existing
			patched.Check.Params = *cloneNode(&existing.Check.Params)
			if err := decodeStrict(n, &patched); err != nil {
				if err := fail(loadErr(name, lineOf(err, n), id, "%v", err)); err != nil {
					return err
				}
				continue
			}
			patched.file, patched.line = name, n.Line
			if err := patched.validate(); err != nil {
				if err := fail(loadErr(name, n.Line, id, "%v", err)); err != nil {
					return err
				}
				continue
			}
			*existing = patched
			continue
		}
		r := &Rule{file: name, line: n.Line}
		if err := decodeStrict(n, r); err != nil {
			if err := fail(loadErr(name, lineOf(err, n), id, "%v", err)); err != nil {
				return err
			}
			continue
		}
		if err := r.validate(); err != nil {
			if err := fail(loadErr(name, n.Line, id, "%v", err)); err != nil {
				return err
			}
			continue
		}
		rs.Rules = append(rs.Rules, r)
	}
	return nil
}

// syntaxLine returns the line a yaml.v3 syntax error names ("yaml: line
// 12: …"), or 0.
func syntaxLine(err error) int {
	var line int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		if _, serr := fmt.Sscanf(msg[i:], "line %d", &line); serr == nil {
			return line
		}
	}
	return 0
}

// ruleAt returns the id of the rule whose "id:" key is the last one at or
// before line in a rule file, so a syntax error can name the rule it is
// in; "" when there is none or line is 0.
func ruleAt(data []byte, line int) clinic.RuleID {
	if line <= 0 {
		return ""
	}
	var id clinic.RuleID
	for i, l := range strings.SplitN(string(data), "\n", line+1) {
		if i >= line {
			break
		}
		t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "-"))
		if v, ok := strings.CutPrefix(t, "id:"); ok {
			if v = strings.Trim(strings.TrimSpace(v), `"'`); v != "" && !strings.ContainsAny(v, "[{") {
				id = clinic.RuleID(v)
			}
		}
	}
	return id
}

func cloneNode(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = nil
	for _, ch := range n.Content {
		c.Content = append(c.Content, cloneNode(ch))
	}
	return &c
}

func (r *Rule) validate() error {
	var missing []string
	if r.TitleZH == "" {
		missing = append(missing, "title_zh")
	}
	if r.TitleEN == "" {
		missing = append(missing, "title_en")
	}
	if r.Source == "" {
		missing = append(missing, "source")
	}
	if len(r.Types) == 0 {
		missing = append(missing, "types")
	}
	if r.Check.Kind == "" {
		missing = append(missing, "check.kind")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	for _, t := range r.Types {
		if _, ok := ParseNoteType(string(t)); !ok {
			return fmt.Errorf("unknown record type %q", t)
		}
	}
	switch r.Severity {
	case clinic.SeverityInfo, clinic.SeverityMinor, clinic.SeverityMajor, clinic.SeverityCritical:
	default:
		return fmt.Errorf("severity %q is not info, minor, major or critical", r.Severity)
	}
	if r.Points < 0 || r.Points > 100 || r.MaxPoints < 0 || r.MaxPoints > 100 {
		return fmt.Errorf("points must be within 0..100")
	}
	switch r.When.Sex {
	case "", clinic.SexMale, clinic.SexFemale:
	default:
		return fmt.Errorf("when.sex %q is not M or F", r.When.Sex)
	}
	return nil
}

func mapValue(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// nodeError is a decode problem at a line.
type nodeError struct {
	line int
	msg  string
}

func (e *nodeError) Error() string { return e.msg }

func lineOf(err error, fallback *yaml.Node) int {
	if ne, ok := errors.AsType[*nodeError](err); ok && ne.line > 0 {
		return ne.line
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		var line int
		if _, scanErr := fmt.Sscanf(te.Errors[0], "line %d:", &line); scanErr == nil {
			return line
		}
	}
	return fallback.Line
}

// decodeStrict decodes n into v after checking that every mapping key names
// a field of v's struct type (recursively), so a misspelt key is an error
// with its line rather than silently ignored.
func decodeStrict(n *yaml.Node, v any) error {
	if err := checkKeys(n, reflect.TypeOf(v)); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		return err
	}
	return nil
}

var nodeType = reflect.TypeFor[yaml.Node]()

func checkKeys(n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || t == nodeType {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			return &nodeError{n.Line, "want a mapping"}
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				known := make([]string, 0, len(fields))
				for f := range fields {
					known = append(known, f)
				}
				sort.Strings(known)
				return &nodeError{k.Line, fmt.Sprintf("unknown field %q (known: %s)", k.Value, strings.Join(known, ", "))}
			}
			if err := checkKeys(n.Content[i+1], ft); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if err := checkKeys(c, t.Elem()); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				if err := checkKeys(n.Content[i], t.Elem()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
