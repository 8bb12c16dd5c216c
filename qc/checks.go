package qc

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc/icd"
)

// Check kinds. The list is append-only.
const (
	KindSectionRequired = "section_required"
	KindLength          = "length"
	KindPattern         = "pattern"
	KindTimeLimit       = "time_limit"
	KindEventRequired   = "event_required"
	KindSignature       = "signature"
	KindConsistency     = "consistency"
	KindICD             = "icd_normalisable"
	KindCopyPaste       = "copy_paste"
	KindContradiction   = "contradiction"
	KindNoteInterval    = "note_interval"
)

// Normaliser maps diagnosis wording to a standard ICD-10 name; *icd.List
// implements it.
type Normaliser interface {
	Normalise(term string) (icd.Match, bool)
}

// hit is one defect a check found. Info hits are observations (a check that
// could not run) and deduct nothing.
type hit struct {
	loc  clinic.Location
	msg  string
	info bool
}

// checker runs one compiled check on a record. Implementations are
// immutable after compilation and safe for concurrent use.
type checker interface {
	check(rec *Record) ([]hit, error)
}

type compileEnv struct {
	sections sectionIndex
	drugs    map[string]DrugClass
	icd      Normaliser
}

type kindCompiler func(p *yaml.Node, env *compileEnv) (checker, error)

// kinds returns the built-in check kinds.
func kinds() map[string]kindCompiler {
	return map[string]kindCompiler{
		KindSectionRequired: compileSectionRequired,
		KindLength:          compileLength,
		KindPattern:         compilePattern,
		KindTimeLimit:       compileTimeLimit,
		KindEventRequired:   compileEventRequired,
		KindSignature:       compileSignature,
		KindConsistency:     compileConsistency,
		KindICD:             compileICD,
		KindCopyPaste:       compileCopyPaste,
		KindContradiction:   compileContradiction,
		KindNoteInterval:    compileNoteInterval,
	}
}

// Kinds returns the names of the built-in check kinds, sorted.
func Kinds() []string {
	var out []string
	for k := range kinds() {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func decodeParams[T any](p *yaml.Node) (*T, error) {
	v := new(T)
	if p == nil || p.Kind == 0 {
		return v, nil
	}
	if err := decodeStrict(p, v); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	return v, nil
}

func (env *compileEnv) resolve(keys []string) ([]string, error) {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		key, ok := env.sections.key(k)
		if !ok {
			return nil, fmt.Errorf("unknown section %q", k)
		}
		out = append(out, key)
	}
	return out, nil
}

// text returns the text of a section, and for ProgressSection each note.
type textRef struct {
	section string
	text    string
}

func texts(rec *Record, key string, dst []textRef) []textRef {
	if key == ProgressSection {
		for i, n := range rec.ProgressNotes {
			dst = append(dst, textRef{fmt.Sprintf("%s/%d", ProgressSection, i), n.Text})
		}
		return dst
	}
	if t, ok := rec.Sections[key]; ok {
		dst = append(dst, textRef{key, t})
	}
	return dst
}

func titleOf(key string) string {
	for _, s := range knownSections {
		if s.Key == key {
			return s.TitleZH
		}
	}
	return key
}

// --- section_required ---

type sectionRequired struct{ sections []string }

func compileSectionRequired(p *yaml.Node, env *compileEnv) (checker, error) {
	type params struct {
		Sections []string `yaml:"sections"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	if len(ps.Sections) == 0 {
		return nil, fmt.Errorf("params.sections is empty")
	}
	s, err := env.resolve(ps.Sections)
	if err != nil {
		return nil, err
	}
	return &sectionRequired{s}, nil
}

func (c *sectionRequired) check(rec *Record) ([]hit, error) {
	var out []hit
	for _, k := range c.sections {
		if k == ProgressSection {
			if len(rec.ProgressNotes) == 0 {
				out = append(out, hit{loc: clinic.Location{Section: k}, msg: "缺少病程记录 / no progress notes"})
			}
			continue
		}
		if t, ok := rec.Sections[k]; !ok || isBlank(t) {
			out = append(out, hit{loc: clinic.Location{Section: k}, msg: fmt.Sprintf("缺少「%s」或内容为空 / section %s missing or empty", titleOf(k), k)})
		}
	}
	return out, nil
}

// --- length ---

type lengthCheck struct {
	section  string
	min, max int
}

func compileLength(p *yaml.Node, env *compileEnv) (checker, error) {
	type params struct {
		Section  string `yaml:"section"`
		MinRunes int    `yaml:"min_runes"`
		MaxRunes int    `yaml:"max_runes"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	s, err := env.resolve([]string{ps.Section})
	if err != nil {
		return nil, err
	}
	if ps.MinRunes < 0 || ps.MaxRunes < 0 || (ps.MaxRunes > 0 && ps.MinRunes > ps.MaxRunes) || (ps.MinRunes == 0 && ps.MaxRunes == 0) {
		return nil, fmt.Errorf("params: need 0 <= min_runes <= max_runes, one of them set")
	}
	return &lengthCheck{s[0], ps.MinRunes, ps.MaxRunes}, nil
}

func (c *lengthCheck) check(rec *Record) ([]hit, error) {
	var out []hit
	for _, tr := range texts(rec, c.section, nil) {
		if isBlank(tr.text) {
			continue
		}
		lead := len(tr.text) - len(strings.TrimLeft(tr.text, " \t\r\n　"))
		trimmed := strings.TrimSpace(strings.Trim(tr.text, "　"))
		n := utf8.RuneCountInString(trimmed)
		off := utf8.RuneCountInString(tr.text[:lead])
		switch {
		case c.max > 0 && n > c.max:
			out = append(out, hit{loc: clinic.Location{Section: tr.section, Start: off + c.max, End: off + n}, msg: fmt.Sprintf("「%s」%d 字，超过 %d 字 / %d characters, more than %d", titleOf(c.section), n, c.max, n, c.max)})
		case n < c.min:
			out = append(out, hit{loc: clinic.Location{Section: tr.section}, msg: fmt.Sprintf("「%s」仅 %d 字，少于 %d 字 / %d characters, fewer than %d", titleOf(c.section), n, c.min, n, c.min)})
		}
	}
	return out, nil
}

// --- pattern ---

type patternCheck struct {
	sections            []string
	required, forbidden *regexp.Regexp
	msg                 string
}

const maxPatternHits = 5

func compilePattern(p *yaml.Node, env *compileEnv) (checker, error) {
	type params struct {
		Sections  []string `yaml:"sections"`
		Required  string   `yaml:"required"`
		Forbidden string   `yaml:"forbidden"`
		Message   string   `yaml:"message"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	if len(ps.Sections) == 0 {
		return nil, fmt.Errorf("params.sections is empty")
	}
	if (ps.Required == "") == (ps.Forbidden == "") {
		return nil, fmt.Errorf("params: give exactly one of required, forbidden")
	}
	s, err := env.resolve(ps.Sections)
	if err != nil {
		return nil, err
	}
	c := &patternCheck{sections: s, msg: ps.Message}
	if ps.Required != "" {
		if c.required, err = regexp.Compile(ps.Required); err != nil {
			return nil, fmt.Errorf("params.required: %w", err)
		}
	} else if c.forbidden, err = regexp.Compile(ps.Forbidden); err != nil {
		return nil, fmt.Errorf("params.forbidden: %w", err)
	}
	return c, nil
}

func (c *patternCheck) check(rec *Record) ([]hit, error) {
	var out []hit
	var buf [4]textRef
	for _, k := range c.sections {
		for _, tr := range texts(rec, k, buf[:0]) {
			if isBlank(tr.text) {
				continue
			}
			if c.required != nil {
				if !c.required.MatchString(tr.text) {
					out = append(out, hit{loc: clinic.Location{Section: tr.section}, msg: c.msg})
				}
				continue
			}
			for _, m := range c.forbidden.FindAllStringIndex(tr.text, maxPatternHits) {
				s, e := runeSpan(tr.text, m[0], m[1])
				out = append(out, hit{loc: clinic.Location{Section: tr.section, Start: s, End: e}, msg: fmt.Sprintf("%s：「%s」", c.msg, tr.text[m[0]:m[1]])})
			}
		}
	}
	return out, nil
}

// --- time_limit ---

type timeLimit struct {
	from, to        string
	max             time.Duration
	missingIsDefect bool
}

func compileTimeLimit(p *yaml.Node, _ *compileEnv) (checker, error) {
	type params struct {
		From      string `yaml:"from"`
		To        string `yaml:"to"`
		Max       string `yaml:"max"`
		MissingTo string `yaml:"missing_to"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	if ps.From == "" || ps.To == "" {
		return nil, fmt.Errorf("params: from and to are required")
	}
	d, err := time.ParseDuration(ps.Max)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("params.max %q is not a positive duration like \"24h\"", ps.Max)
	}
	c := &timeLimit{from: ps.From, to: ps.To, max: d}
	switch ps.MissingTo {
	case "", "info":
	case "defect":
		c.missingIsDefect = true
	default:
		return nil, fmt.Errorf("params.missing_to %q is not info or defect", ps.MissingTo)
	}
	return c, nil
}

func (c *timeLimit) check(rec *Record) ([]hit, error) {
	from, okF := rec.Events[c.from]
	to, okT := rec.Events[c.to]
	switch {
	case !okF:
		return []hit{{loc: clinic.Location{Section: "events/" + c.from}, msg: fmt.Sprintf("缺少时间 %s，无法核查时限 / missing event %s, time limit not checked", c.from, c.from), info: true}}, nil
	case !okT && c.missingIsDefect:
		return []hit{{loc: clinic.Location{Section: "events/" + c.to}, msg: fmt.Sprintf("缺少 %s（应在 %s 后 %s 内）/ missing %s", c.to, c.from, fmtDur(c.max), c.to)}}, nil
	case !okT:
		return []hit{{loc: clinic.Location{Section: "events/" + c.to}, msg: fmt.Sprintf("缺少时间 %s，无法核查时限 / missing event %s, time limit not checked", c.to, c.to), info: true}}, nil
	}
	d := to.Sub(from)
	if d < 0 {
		return []hit{{loc: clinic.Location{Section: "events/" + c.to}, msg: fmt.Sprintf("%s 早于 %s / %s is before %s", c.to, c.from, c.to, c.from)}}, nil
	}
	if d > c.max {
		return []hit{{loc: clinic.Location{Section: "events/" + c.to}, msg: fmt.Sprintf("%s 距 %s %s，超过时限 %s / %s after %s, limit %s", c.to, c.from, fmtDur(d), fmtDur(c.max), fmtDur(d), c.from, fmtDur(c.max))}}, nil
	}
	return nil, nil
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.1fh", d.Hours())
}

// --- event_required ---

type eventRequired struct{ events []string }

func compileEventRequired(p *yaml.Node, _ *compileEnv) (checker, error) {
	type params struct {
		Events []string `yaml:"events"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	if len(ps.Events) == 0 {
		return nil, fmt.Errorf("params.events is empty")
	}
	return &eventRequired{ps.Events}, nil
}

func (c *eventRequired) check(rec *Record) ([]hit, error) {
	var out []hit
	for _, e := range c.events {
		if t, ok := rec.Events[e]; !ok || t.IsZero() {
			out = append(out, hit{loc: clinic.Location{Section: "events/" + e}, msg: fmt.Sprintf("缺少时间 %s / missing time %s", e, e)})
		}
	}
	return out, nil
}

// --- signature ---

type signatureCheck struct {
	roles      []string
	supervised []string
}

func compileSignature(p *yaml.Node, _ *compileEnv) (checker, error) {
	type params struct {
		Roles           []string `yaml:"roles"`
		SupervisedRoles []string `yaml:"supervised_roles"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	if len(ps.Roles) == 0 && len(ps.SupervisedRoles) == 0 {
		return nil, fmt.Errorf("params: give roles or supervised_roles")
	}
	known := []string{RoleIntern, RoleResident, RoleAttending, RoleAssociateChief, RoleChief, RoleSurgeon, RoleNurse}
	for _, r := range append(append([]string(nil), ps.Roles...), ps.SupervisedRoles...) {
		if !slices.Contains(known, r) {
			return nil, fmt.Errorf("unknown signer role %q (known: %s)", r, strings.Join(known, ", "))
		}
	}
	return &signatureCheck{ps.Roles, ps.SupervisedRoles}, nil
}

func (c *signatureCheck) check(rec *Record) ([]hit, error) {
	loc := clinic.Location{Section: "signatures"}
	if len(rec.Signatures) == 0 {
		if len(c.roles) == 0 {
			return nil, nil // nothing signed: the roles rule reports it
		}
		return []hit{{loc: loc, msg: "未签名 / not signed"}}, nil
	}
	var out []hit
	for i, s := range rec.Signatures {
		if strings.TrimSpace(s.Signer) == "" && len(c.roles) > 0 {
			out = append(out, hit{loc: clinic.Location{Section: fmt.Sprintf("signatures/%d", i)}, msg: "签名缺少签名人 / signature without signer"})
		}
	}
	if len(c.roles) > 0 && !slices.ContainsFunc(rec.Signatures, func(s Signature) bool { return slices.Contains(c.roles, s.Role) && strings.TrimSpace(s.Signer) != "" }) {
		out = append(out, hit{loc: loc, msg: fmt.Sprintf("缺少具备资质的医师签名（%s）/ no signature by %s", strings.Join(c.roles, "/"), strings.Join(c.roles, " or "))})
	}
	if len(c.supervised) > 0 {
		bySupervised := slices.ContainsFunc(rec.Signatures, func(s Signature) bool { return slices.Contains(c.supervised, s.Role) })
		byOther := slices.ContainsFunc(rec.Signatures, func(s Signature) bool {
			return !slices.Contains(c.supervised, s.Role) && s.Role != "" && s.Role != RoleNurse && strings.TrimSpace(s.Signer) != ""
		})
		if bySupervised && !byOther {
			out = append(out, hit{loc: loc, msg: "实习/试用期医务人员书写，缺少本院注册医师审阅签名 / written by a trainee without a registered doctor's co-signature"})
		}
	}
	return out, nil
}

// --- copy_paste ---

type copyPaste struct {
	threshold float64
	shingle   int
	minRunes  int
	window    int
}

func compileCopyPaste(p *yaml.Node, _ *compileEnv) (checker, error) {
	type params struct {
		Threshold float64 `yaml:"threshold"`
		Shingle   int     `yaml:"shingle"`
		MinRunes  int     `yaml:"min_runes"`
		Window    int     `yaml:"window"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	c := &copyPaste{threshold: ps.Threshold, shingle: ps.Shingle, minRunes: ps.MinRunes, window: ps.Window}
	if c.shingle == 0 {
		c.shingle = 3
	}
	if c.window == 0 {
		c.window = 8
	}
	if c.threshold <= 0 || c.threshold > 1 || c.shingle < 1 || c.shingle > 16 || c.window < 1 {
		return nil, fmt.Errorf("params: need 0 < threshold <= 1, 1 <= shingle <= 16, window >= 1")
	}
	return c, nil
}

// shingles returns the sorted, deduplicated FNV-1a hashes of the k-rune
// shingles of s, ignoring whitespace.
func shingles(s string, k int) []uint64 {
	r := make([]rune, 0, len(s)/2)
	for _, c := range s {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != '　' {
			r = append(r, c)
		}
	}
	if len(r) < k {
		return nil
	}
	out := make([]uint64, 0, len(r)-k+1)
	h := fnv.New64a()
	var b [4]byte
	for i := 0; i+k <= len(r); i++ {
		h.Reset()
		for _, c := range r[i : i+k] {
			n := utf8.EncodeRune(b[:], c)
			h.Write(b[:n])
		}
		out = append(out, h.Sum64())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccard is |a∩b| / |a∪b| of two sorted sets.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func (c *copyPaste) check(rec *Record) ([]hit, error) {
	n := len(rec.ProgressNotes)
	if n < 2 {
		return nil, nil
	}
	sets := make([][]uint64, n)
	for i, pn := range rec.ProgressNotes {
		if utf8.RuneCountInString(pn.Text) >= c.minRunes {
			sets[i] = shingles(pn.Text, c.shingle)
		}
	}
	var out []hit
	for j := 1; j < n; j++ {
		if sets[j] == nil {
			continue
		}
		for i := max(0, j-c.window); i < j; i++ {
			if sets[i] == nil {
				continue
			}
			if sim := jaccard(sets[i], sets[j]); sim >= c.threshold {
				out = append(out, hit{loc: clinic.Location{Section: fmt.Sprintf("%s/%d", ProgressSection, j)}, msg: fmt.Sprintf("第 %d 条病程记录与第 %d 条相似度 %.2f（阈值 %.2f），疑为复制 / progress note %d is %.2f similar to note %d", j+1, i+1, sim, c.threshold, j, sim, i)})
				break
			}
		}
	}
	return out, nil
}

// --- note_interval ---

type noteInterval struct{ maxGap time.Duration }

func compileNoteInterval(p *yaml.Node, _ *compileEnv) (checker, error) {
	type params struct {
		MaxGap string `yaml:"max_gap"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(ps.MaxGap)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("params.max_gap %q is not a positive duration", ps.MaxGap)
	}
	return &noteInterval{d}, nil
}

func (c *noteInterval) check(rec *Record) ([]hit, error) {
	var out []hit
	prev, ok := rec.Events[EventAdmitted]
	for i, pn := range rec.ProgressNotes {
		if pn.At.IsZero() {
			out = append(out, hit{loc: clinic.Location{Section: fmt.Sprintf("%s/%d", ProgressSection, i)}, msg: "病程记录缺少记录时间 / progress note without a time", info: true})
			continue
		}
		if ok && pn.At.Sub(prev) > c.maxGap {
			out = append(out, hit{loc: clinic.Location{Section: fmt.Sprintf("%s/%d", ProgressSection, i)}, msg: fmt.Sprintf("病程记录间隔 %s，超过 %s / gap of %s, more than %s", fmtDur(pn.At.Sub(prev)), fmtDur(c.maxGap), fmtDur(pn.At.Sub(prev)), fmtDur(c.maxGap))})
		}
		prev, ok = pn.At, true
	}
	return out, nil
}
