package qc

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/yizhu-health/yizhu/clinic"
)

// Default negation vocabulary for Chinese clinical text.
var (
	defaultCues        = []string{"无", "否认", "未", "没有", "不伴", "未见", "未诉", "未再", "非"}
	defaultPseudo      = []string{"无明显诱因", "无诱因", "无明显原因", "未予重视", "未予处理", "未予治疗", "未治疗", "未就诊", "未见好转", "未缓解", "无好转", "未系统", "未规律"}
	defaultTerminators = []string{"出现", "但", "突发", "突然", "再次", "又", "伴有", "后", "仍"}
)

// --- consistency ---

type ageGroup struct {
	Terms    []string `yaml:"terms"`
	MinYears *float64 `yaml:"min_years"`
	MaxYears *float64 `yaml:"max_years"`
}

type consistency struct {
	aspect       string
	sections     []string
	femaleTerms  []string
	maleTerms    []string
	ages         []ageGroup
	drugSections []string
	drugs        map[string]DrugClass
	classIDs     []string
	neg          *negator
}

func compileConsistency(p *yaml.Node, env *compileEnv) (checker, error) {
	type params struct {
		Aspect       string     `yaml:"aspect"`
		Sections     []string   `yaml:"sections"`
		FemaleTerms  []string   `yaml:"female_terms"`
		MaleTerms    []string   `yaml:"male_terms"`
		AgeTerms     []ageGroup `yaml:"age_terms"`
		DrugSections []string   `yaml:"drug_sections"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	c := &consistency{aspect: ps.Aspect, femaleTerms: ps.FemaleTerms, maleTerms: ps.MaleTerms, ages: ps.AgeTerms, neg: newNegator(defaultCues, defaultPseudo, defaultTerminators)}
	if c.sections, err = env.resolve(ps.Sections); err != nil {
		return nil, err
	}
	if c.drugSections, err = env.resolve(ps.DrugSections); err != nil {
		return nil, err
	}
	switch ps.Aspect {
	case "sex":
		if len(ps.FemaleTerms) == 0 && len(ps.MaleTerms) == 0 {
			return nil, fmt.Errorf("params: sex consistency needs female_terms or male_terms")
		}
	case "age":
		if len(ps.AgeTerms) == 0 {
			return nil, fmt.Errorf("params: age consistency needs age_terms")
		}
		for _, g := range ps.AgeTerms {
			if len(g.Terms) == 0 || (g.MinYears == nil && g.MaxYears == nil) {
				return nil, fmt.Errorf("params.age_terms: each group needs terms and min_years or max_years")
			}
		}
	case "allergy":
		if len(env.drugs) == 0 {
			return nil, fmt.Errorf("allergy consistency needs a drug_classes table in the rule set")
		}
		c.drugs = env.drugs
		for id := range env.drugs {
			c.classIDs = append(c.classIDs, id)
		}
		slices.Sort(c.classIDs)
	default:
		return nil, fmt.Errorf("params.aspect %q is not sex, age or allergy", ps.Aspect)
	}
	if len(c.sections) == 0 && ps.Aspect != "allergy" {
		return nil, fmt.Errorf("params.sections is empty")
	}
	return c, nil
}

func (c *consistency) check(rec *Record) ([]hit, error) {
	switch c.aspect {
	case "sex":
		var terms []string
		var want string
		switch rec.Patient.Sex {
		case clinic.SexMale:
			terms, want = c.femaleTerms, "女性"
		case clinic.SexFemale:
			terms, want = c.maleTerms, "男性"
		default:
			return nil, nil
		}
		return c.findTerms(rec, terms, func(t string) string {
			return fmt.Sprintf("患者性别为%s，记录出现仅见于%s的「%s」/ sex-specific term %q contradicts the patient's sex", sexZH(rec.Patient.Sex), want, t, t)
		}), nil
	case "age":
		if rec.Patient.AgeYears == nil {
			return nil, nil
		}
		age := *rec.Patient.AgeYears
		var out []hit
		for _, g := range c.ages {
			if (g.MinYears != nil && age < *g.MinYears) || (g.MaxYears != nil && age > *g.MaxYears) {
				out = append(out, c.findTerms(rec, g.Terms, func(t string) string {
					return fmt.Sprintf("患者 %.0f 岁，与「%s」不符 / age %.0f contradicts %q", age, t, age, t)
				})...)
			}
		}
		return out, nil
	default:
		return c.allergy(rec), nil
	}
}

func sexZH(s clinic.Sex) string {
	if s == clinic.SexMale {
		return "男"
	}
	return "女"
}

// findTerms reports non-negated occurrences of terms in the check's sections.
func (c *consistency) findTerms(rec *Record, terms []string, msg func(string) string) []hit {
	var out []hit
	var buf [4]textRef
	for _, k := range c.sections {
		for _, tr := range texts(rec, k, buf[:0]) {
			for _, t := range terms {
				if i := indexNotNegated(tr.text, t, c.neg); i >= 0 {
					s, e := runeSpan(tr.text, i, i+len(t))
					out = append(out, hit{loc: clinic.Location{Section: tr.section, Start: s, End: e}, msg: msg(t)})
				}
			}
		}
	}
	return out
}

// indexNotNegated returns the byte offset of the first occurrence of t in s
// that is not negated, or -1.
func indexNotNegated(s, t string, neg *negator) int {
	if t == "" {
		return -1
	}
	off := 0
	for {
		i := strings.Index(s[off:], t)
		if i < 0 {
			return -1
		}
		if !neg.negated(s, off+i) {
			return off + i
		}
		off += i + len(t)
	}
}

// classOf returns the class whose terms occur in name, or "".
func (c *consistency) classOf(name string) string {
	for _, id := range c.classIDs {
		for _, t := range c.drugs[id].Terms {
			if strings.Contains(name, t) {
				return id
			}
		}
	}
	return ""
}

func (c *consistency) allergy(rec *Record) []hit {
	allergic := map[string]string{} // class -> allergen word
	for _, a := range rec.Allergies {
		if id := c.classOf(a); id != "" {
			allergic[id] = a
		}
	}
	var buf [4]textRef
	for _, k := range c.sections {
		for _, tr := range texts(rec, k, buf[:0]) {
			if !strings.Contains(tr.text, "过敏") {
				continue
			}
			for _, id := range c.classIDs {
				for _, t := range c.drugs[id].Terms {
					if indexNotNegated(tr.text, t, c.neg) >= 0 {
						allergic[id] = t
					}
				}
			}
		}
	}
	if len(allergic) == 0 {
		return nil
	}
	var out []hit
	for i, d := range rec.Drugs {
		id := d.Class
		if id == "" {
			id = c.classOf(d.Name)
		}
		if a, ok := allergic[id]; ok {
			out = append(out, hit{loc: clinic.Location{Section: fmt.Sprintf("%s/%d", DrugsSection, i)}, msg: fmt.Sprintf("患者对「%s」过敏，却开具同类（%s）药物「%s」/ allergy to %s but %s (%s) prescribed", a, c.drugs[id].NameZH, d.Name, a, d.Name, id)})
		}
	}
	for _, k := range c.drugSections {
		for _, tr := range texts(rec, k, buf[:0]) {
			for id, a := range allergic {
				for _, t := range c.drugs[id].Terms {
					if i := indexNotNegated(tr.text, t, c.neg); i >= 0 {
						s, e := runeSpan(tr.text, i, i+len(t))
						out = append(out, hit{loc: clinic.Location{Section: tr.section, Start: s, End: e}, msg: fmt.Sprintf("患者对「%s」过敏，医嘱中出现同类药物「%s」/ allergy to %s but %s ordered", a, t, a, t)})
						break
					}
				}
			}
		}
	}
	return out
}

// --- icd_normalisable ---

type icdCheck struct {
	sections   []string
	icd        Normaliser
	qualifiers []string
}

// Diagnosis qualifiers that stand as their own list items without being
// diagnoses (risk strata, phases).
var defaultQualifiers = []string{"极高危", "高危", "中危", "低危", "稳定期", "急性发作期", "活动期", "缓解期", "待查", "术后", "化疗后"}

func compileICD(p *yaml.Node, env *compileEnv) (checker, error) {
	type params struct {
		Sections   []string `yaml:"sections"`
		Qualifiers []string `yaml:"qualifiers"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	c := &icdCheck{icd: env.icd, qualifiers: ps.Qualifiers}
	if c.qualifiers == nil {
		c.qualifiers = defaultQualifiers
	}
	if len(ps.Sections) == 0 {
		return nil, fmt.Errorf("params.sections is empty")
	}
	if c.sections, err = env.resolve(ps.Sections); err != nil {
		return nil, err
	}
	return c, nil
}

// diagnosisItems splits a diagnosis list into items (byte spans): one per
// line or per ；/;/，/, separated part, with leading enumerators ("1.",
// "2、", "(3)", "①") dropped.
func diagnosisItems(s string) [][2]int {
	var out [][2]int
	start := 0
	flush := func(end int) {
		a, b := start, end
		if m := enumerator.FindStringIndex(s[a:b]); m != nil {
			a += m[1]
		}
		for a < b {
			r, size := decodeLastRune(s[a:b])
			if r == ' ' || r == '\t' || r == '。' || r == '.' || r == '　' {
				b -= size
				continue
			}
			break
		}
		if a < b && !isBlank(s[a:b]) {
			out = append(out, [2]int{a, b})
		}
	}
	for i, r := range s {
		switch r {
		case '\n', '；', ';', '，', ',':
			flush(i)
			start = i + len(string(r))
		}
	}
	flush(len(s))
	return out
}

// enumerator matches a list number at the start of an item.
var enumerator = regexp.MustCompile(`^[\s　]*(?:[0-9０-９]+[.．、:：)）]|[(（][0-9０-９]+[)）]|[①-⑳])?[\s　]*`)

func (c *icdCheck) check(rec *Record) ([]hit, error) {
	if c.icd == nil {
		return []hit{{msg: "未配置 ICD-10 标准诊断列表，跳过本规则 / ICD-10 list not configured; rule skipped", info: true}}, nil
	}
	var out []hit
	var buf [4]textRef
	for _, k := range c.sections {
		for _, tr := range texts(rec, k, buf[:0]) {
			for _, sp := range diagnosisItems(tr.text) {
				item := tr.text[sp[0]:sp[1]]
				if c.ok(item) {
					continue
				}
				s, e := runeSpan(tr.text, sp[0], sp[1])
				out = append(out, hit{loc: clinic.Location{Section: tr.section, Start: s, End: e}, msg: fmt.Sprintf("诊断「%s」无法对应 ICD-10 标准诊断名称 / diagnosis %q does not normalise to an ICD-10 name", item, item)})
			}
		}
	}
	return out, nil
}

func (c *icdCheck) ok(item string) bool {
	if slices.Contains(c.qualifiers, item) {
		return true
	}
	if _, ok := c.icd.Normalise(item); ok {
		return true
	}
	parts := strings.Split(item, "、")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || slices.Contains(c.qualifiers, p) {
			continue
		}
		if _, ok := c.icd.Normalise(p); !ok {
			return false
		}
	}
	return true
}

// --- contradiction ---

type contradiction struct {
	sections []string
	symptoms []string
	neg      *negator
}

func compileContradiction(p *yaml.Node, env *compileEnv) (checker, error) {
	type params struct {
		Sections    []string `yaml:"sections"`
		Symptoms    []string `yaml:"symptoms"`
		Cues        []string `yaml:"negation_cues"`
		Pseudo      []string `yaml:"pseudo_negations"`
		Terminators []string `yaml:"scope_terminators"`
	}
	ps, err := decodeParams[params](p)
	if err != nil {
		return nil, err
	}
	if len(ps.Sections) < 2 || len(ps.Symptoms) == 0 {
		return nil, fmt.Errorf("params: need at least two sections and one symptom")
	}
	c := &contradiction{symptoms: sortLongestFirst(ps.Symptoms)}
	if c.sections, err = env.resolve(ps.Sections); err != nil {
		return nil, err
	}
	cues, pseudo, term := ps.Cues, ps.Pseudo, ps.Terminators
	if cues == nil {
		cues = defaultCues
	}
	if pseudo == nil {
		pseudo = defaultPseudo
	}
	if term == nil {
		term = defaultTerminators
	}
	c.neg = newNegator(cues, pseudo, term)
	return c, nil
}

type mention struct {
	section    string
	start, end int // bytes
	text       string
}

func (c *contradiction) check(rec *Record) ([]hit, error) {
	var out []hit
	var buf [4]textRef
	for _, sym := range c.symptoms {
		var asserted, negated *mention
		for _, k := range c.sections {
			for _, tr := range texts(rec, k, buf[:0]) {
				off := 0
				for {
					i := strings.Index(tr.text[off:], sym)
					if i < 0 {
						break
					}
					at := off + i
					off = at + len(sym)
					m := &mention{section: tr.section, start: at, end: at + len(sym), text: tr.text}
					if c.neg.negated(tr.text, at) {
						if negated == nil {
							negated = m
						}
					} else if asserted == nil {
						asserted = m
					}
				}
			}
		}
		if asserted == nil || negated == nil || asserted.section == negated.section {
			continue
		}
		// Report at the mention in the earlier-listed section.
		first := asserted
		if slices.Index(c.sections, sectionBase(negated.section)) < slices.Index(c.sections, sectionBase(asserted.section)) {
			first = negated
		}
		s, e := runeSpan(first.text, first.start, first.end)
		out = append(out, hit{loc: clinic.Location{Section: first.section, Start: s, End: e}, msg: fmt.Sprintf("「%s」在「%s」中为%s，在「%s」中为%s / %q is %s in %s but %s in %s",
			sym, titleOf(sectionBase(asserted.section)), "阳性", titleOf(sectionBase(negated.section)), "否定", sym, "asserted", asserted.section, "negated", negated.section)})
	}
	return out, nil
}

func sectionBase(s string) string {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}
