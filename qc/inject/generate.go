package inject

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
)

// Config configures a Generator.
type Config struct {
	// Rules are the rules to inject defects for (usually Engine.Rules()).
	Rules []qc.Rule
	// ICD, when set, keeps only diagnoses it can normalise in clean records
	// and picks injected non-codable wording it rejects; when nil the
	// icd_normalisable rules are not injected.
	ICD qc.Normaliser
	// Seed makes the output reproducible.
	Seed uint64
}

// Generator builds clean records and defect cases. It is not safe for
// concurrent use (it owns a seeded random source).
type Generator struct {
	rules []qc.Rule
	icd   qc.Normaliser
	rng   *rand.Rand
}

// New returns a Generator.
func New(cfg Config) (*Generator, error) {
	if len(cfg.Rules) == 0 {
		return nil, clinic.NewError(clinic.CodeInvalid, "rules", "inject.New: no rules", "未提供质控规则")
	}
	return &Generator{rules: cfg.Rules, icd: cfg.ICD, rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))}, nil
}

// Case is one defective record with its clean twin and gold labels.
type Case struct {
	Rule  clinic.RuleID `json:"rule"`
	Kind  string        `json:"kind"`
	Clean qc.Record     `json:"clean"`
	// Defective has Defects set to the gold rule IDs.
	Defective qc.Record `json:"defective"`
	// Location is where the injected defect is.
	Location clinic.Location `json:"location"`
}

// Types are the record types the generator builds.
var Types = []clinic.NoteType{clinic.NoteOutpatient, clinic.NoteAdmission, clinic.NoteFirstCourse, clinic.NoteProgress, clinic.NoteDischarge, clinic.NoteOperation, clinic.NoteRescue}

// Vocabulary of the generator (its own, independent of the rule files).
var (
	symptoms     = []string{"发热", "咳嗽", "咳痰", "咯血", "胸痛", "胸闷", "心悸", "气促", "呼吸困难", "腹痛", "腹胀", "腹泻", "恶心", "呕吐", "呕血", "黑便", "便血", "头痛", "头晕", "乏力", "水肿", "黄疸", "尿频", "尿急", "尿痛", "血尿", "盗汗", "寒战", "纳差"}
	femaleWords  = []string{"子宫", "卵巢", "输卵管", "宫颈", "阴道", "外阴", "妊娠", "孕", "剖宫产", "葡萄胎", "盆腔", "绝经", "月经", "乳腺"}
	maleWords    = []string{"前列腺", "睾丸", "阴茎", "精索", "附睾", "阴囊", "包皮", "精囊"}
	femaleDx     = []string{"子宫平滑肌瘤", "卵巢囊肿", "子宫肌瘤", "宫颈炎"}
	maleDx       = []string{"前列腺增生", "睾丸鞘膜积液", "附睾炎"}
	femaleOps    = []string{"全子宫切除术", "卵巢囊肿剥除术"}
	maleOps      = []string{"经尿道前列腺电切术", "睾丸切除术"}
	ageDx        = map[string]string{"新生儿": "新生儿黄疸", "早产儿": "早产儿", "婴儿": "婴儿湿疹", "婴幼儿": "婴幼儿腹泻", "老年性": "老年性白内障", "绝经后": "绝经后骨质疏松"}
	ageWords     = []string{"新生儿", "早产儿", "婴儿", "婴幼儿", "小儿", "儿童", "老年性", "绝经后"}
	vagueDx      = []string{"身体不适", "胃不好", "心脏不好", "老毛病", "血压有点高", "不舒服"}
	fallbackDx   = []string{"高血压", "2型糖尿病", "慢性胃炎"}
	placeholders = []string{"XXX", "×××", "（请填写）", "【请填写】", "略", "同上", "对症治疗", "此处填写"}
)

// Fixed phrases that make a clean record complete.
const (
	pastHistory    = "既往体健，否认高血压、糖尿病病史，否认肝炎、结核等传染病史，否认外伤史及输血史。"
	allergyHistory = "否认药物及食物过敏史。"
	personal       = "生于原籍，无长期外地居住史，无烟酒嗜好。"
	marital        = "已婚，育有1子，配偶及子体健。"
	menstrual      = "月经规律，初潮14岁，经期5天，周期28天。"
	family         = "父母健在，否认家族遗传病史。"
	physicalExam   = "T 36.5℃，P 78次/分，R 18次/分，BP 120/76mmHg。神志清楚，精神可，全身浅表淋巴结未触及肿大，心肺听诊未闻及异常，腹软。"
	specialist     = "腹部平坦，未见胃肠型及蠕动波，未触及明显包块，移动性浊音阴性。"
	auxiliary      = "血常规、肝肾功能、凝血功能检查结果见化验单，胸部CT见影像报告。"
	basis          = "根据病史、体格检查及病理检查结果，诊断明确。"
	differential   = "需与炎性病变及其他部位转移性病变相鉴别，结合病理结果可排除。"
	plan           = "完善血常规、肝肾功能、肿瘤标志物及影像学检查，评估病情后制定下一步治疗方案，予营养支持治疗。"
	dischargeAdv   = "注意休息，加强营养，按时服药，2周后门诊复查血常规及肝功能。"
	dischargeCond  = "患者一般情况可，精神饮食可，生命体征平稳，准予出院。"
	management     = "完善相关检查，门诊随诊，如有不适及时就诊。"
	anesthesia     = "全身麻醉"
	operators      = "术者：李明；一助：王强；二助：赵磊"
	conditionChg   = "患者突发意识淡漠，血压下降至80/50mmHg，心率125次/分，血氧饱和度85%。"
	rescueMeasures = "立即予吸氧、心电监护，快速补液扩容，多巴胺静脉泵入维持血压，急查血气分析及电解质。"
	participants   = "李明（主治医师）、王强（住院医师）、陈静（护师）"
)

var progressLead = []string{"今日查房，", "患者一般情况可，", "上级医师查房后指示，"}

var base = time.Date(2024, 3, 4, 9, 30, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// sexOf infers the patient's sex from the passage: female- or
// male-specific words decide; with both or neither it draws one.
func (g *Generator) sexOf(p Passage) (clinic.Sex, bool) {
	f, m := containsAny(p.Text, femaleWords), containsAny(p.Text, maleWords)
	switch {
	case f && m:
		return "", false
	case f:
		return clinic.SexFemale, true
	case m:
		return clinic.SexMale, true
	case g.rng.IntN(2) == 0:
		return clinic.SexFemale, true
	default:
		return clinic.SexMale, true
	}
}

func (g *Generator) codable(s string) bool {
	if g.icd == nil {
		return true
	}
	_, ok := g.icd.Normalise(s)
	return ok
}

// diagnoses picks up to three passage diagnoses that carry no symptom words
// and (with an ICD list) are codable.
func (g *Generator) diagnoses(p Passage) []string {
	var out []string
	for _, d := range p.Diseases {
		if containsAny(d, symptoms) || containsAny(d, ageWords) || !g.codable(d) || slices.Contains(out, d) {
			continue
		}
		out = append(out, d)
		if len(out) == 3 {
			break
		}
	}
	if len(out) == 0 {
		for _, d := range fallbackDx {
			if g.codable(d) {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

func numbered(items []string) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d.%s", i+1, it)
	}
	return b.String()
}

// chiefComplaint is a short complaint with a duration and no symptom words.
func (g *Generator) chiefComplaint(dx string) string {
	n := 1 + g.rng.IntN(11)
	cc := fmt.Sprintf("发现%s%d个月", dx, n)
	if utf8.RuneCountInString(cc) > 18 || containsAny(dx, symptoms) {
		cc = fmt.Sprintf("发现肿物%d个月", n)
	}
	return cc
}

const minNoteRunes = 30

// splitNotes cuts text into n chunks at sentence ends.
func splitNotes(text string, n int) []string {
	r := []rune(text)
	var out []string
	start := 0
	for i := 1; i <= n; i++ {
		end := len(r) * i / n
		for end < len(r) && !strings.ContainsRune("。；;", r[end-1]) {
			end++
		}
		if i == n {
			end = len(r)
		}
		switch {
		case end <= start:
		case end-start < minNoteRunes && len(out) > 0:
			out[len(out)-1] += string(r[start:end])
		default:
			out = append(out, string(r[start:end]))
		}
		start = end
	}
	if len(out) > 1 && utf8.RuneCountInString(out[0]) < minNoteRunes {
		out[1] = out[0] + out[1]
		out = out[1:]
	}
	return out
}

// Clean builds a clean record of type t around p. ok is false when the
// passage cannot carry that type (too short, or mixed-sex wording).
func (g *Generator) Clean(p Passage, t clinic.NoteType, id string) (qc.Record, bool) {
	if utf8.RuneCountInString(p.Text) < 90 {
		return qc.Record{}, false
	}
	sex, ok := g.sexOf(p)
	if !ok {
		return qc.Record{}, false
	}
	dx := g.diagnoses(p)
	if len(dx) == 0 {
		return qc.Record{}, false
	}
	dxText := numbered(dx)
	admitted := base.Add(time.Duration(g.rng.IntN(24*365)) * time.Hour)
	rec := qc.Record{
		ID: id, Type: t, Department: "肿瘤科",
		Patient:  qc.Patient{Sex: sex, AgeYears: ptr(float64(30 + g.rng.IntN(46)))},
		Sections: map[string]string{},
		Events:   map[string]time.Time{qc.EventAdmitted: admitted},
	}
	doctor := qc.Signature{Signer: "王强", Role: qc.RoleResident}
	for _, d := range p.Drugs {
		if len(rec.Drugs) < 5 {
			rec.Drugs = append(rec.Drugs, qc.Drug{Name: d})
		}
	}
	s := rec.Sections
	written := admitted
	switch t {
	case clinic.NoteOutpatient:
		delete(rec.Events, qc.EventAdmitted)
		rec.Events[qc.EventVisit] = admitted
		written = admitted.Add(40 * time.Minute)
		s["chief_complaint"] = g.chiefComplaint(dx[0])
		s["present_illness"] = p.Text
		s["past_history"] = pastHistory
		s["allergy_history"] = allergyHistory
		s["physical_exam"] = physicalExam
		s["diagnosis"] = dxText
		s["management"] = management
	case clinic.NoteAdmission:
		written = admitted.Add(time.Duration(2+g.rng.IntN(20)) * time.Hour)
		s["chief_complaint"] = g.chiefComplaint(dx[0])
		s["present_illness"] = p.Text
		s["past_history"] = pastHistory
		s["personal_history"] = personal
		s["marital_history"] = marital
		if sex == clinic.SexFemale {
			s["menstrual_history"] = menstrual
		}
		s["family_history"] = family
		s["allergy_history"] = allergyHistory
		s["physical_exam"] = physicalExam
		s["specialist_exam"] = specialist
		s["auxiliary_exam"] = auxiliary
		s["preliminary_diagnosis"] = dxText
		s["treatment_plan"] = plan
	case clinic.NoteFirstCourse:
		written = admitted.Add(time.Duration(1+g.rng.IntN(6)) * time.Hour)
		s["case_features"] = p.Text
		s["preliminary_diagnosis"] = dxText
		s["diagnosis_basis"] = basis
		s["differential_diagnosis"] = differential
		s["treatment_plan"] = plan
	case clinic.NoteProgress:
		rec.Events[qc.EventSeniorRound] = admitted.Add(time.Duration(6+g.rng.IntN(30)) * time.Hour)
		at := admitted
		for i, chunk := range splitNotes(p.Text, 3) {
			at = at.Add(time.Duration(20+g.rng.IntN(40)) * time.Hour)
			rec.ProgressNotes = append(rec.ProgressNotes, qc.ProgressNote{At: at, Signer: doctor.Signer, Text: progressLead[i%len(progressLead)] + chunk})
		}
		written = at
	case clinic.NoteDischarge:
		discharged := admitted.Add(time.Duration(72+g.rng.IntN(24*14)) * time.Hour)
		rec.Events[qc.EventDischarged] = discharged
		written = discharged.Add(time.Duration(1+g.rng.IntN(20)) * time.Hour)
		s["admission_condition"] = g.chiefComplaint(dx[0]) + "，入院时一般情况可。"
		s["admission_diagnosis"] = dxText
		s["course"] = p.Text
		s["discharge_diagnosis"] = dxText
		s["discharge_condition"] = dischargeCond
		s["discharge_advice"] = dischargeAdv
	case clinic.NoteOperation:
		op := ""
		for _, o := range p.Operations {
			if !containsAny(o, symptoms) {
				op = o
				break
			}
		}
		if op == "" {
			return qc.Record{}, false
		}
		end := admitted.Add(time.Duration(24+g.rng.IntN(72)) * time.Hour)
		rec.Events[qc.EventSurgeryEnd] = end
		written = end.Add(time.Duration(1+g.rng.IntN(12)) * time.Hour)
		s["preop_diagnosis"] = dxText
		s["postop_diagnosis"] = dxText
		s["operation_name"] = op
		s["anesthesia"] = anesthesia
		s["operation_procedure"] = "麻醉成功后取平卧位，常规消毒铺巾，行" + op + "，术中探查所见：" + firstSentence(p.Text) + "术程顺利，出血约50ml，术后安返病房。"
		s["operators"] = operators
		doctor = qc.Signature{Signer: "李明", Role: qc.RoleSurgeon}
	case clinic.NoteRescue:
		start := admitted.Add(time.Duration(24+g.rng.IntN(72)) * time.Hour)
		end := start.Add(time.Duration(30+g.rng.IntN(90)) * time.Minute)
		rec.Events[qc.EventRescueStart] = start
		rec.Events[qc.EventRescueEnd] = end
		written = end.Add(time.Duration(20+g.rng.IntN(200)) * time.Minute)
		s["condition_change"] = conditionChg
		s["rescue_measures"] = rescueMeasures
		s["rescue_participants"] = participants
	default:
		return qc.Record{}, false
	}
	rec.Events[qc.EventWritten] = written
	doctor.At = written
	rec.Signatures = []qc.Signature{doctor}
	return rec, true
}

func firstSentence(s string) string {
	r := []rune(s)
	for i, c := range r {
		if c == '。' && i > 10 {
			return string(r[:i+1])
		}
		if i > 80 {
			return string(r[:i]) + "。"
		}
	}
	return s + "。"
}

// clone deep-copies a record.
func clone(r qc.Record) qc.Record {
	c := r
	c.Sections = make(map[string]string, len(r.Sections))
	for k, v := range r.Sections {
		c.Sections[k] = v
	}
	c.Events = make(map[string]time.Time, len(r.Events))
	for k, v := range r.Events {
		c.Events[k] = v
	}
	c.Signatures = slices.Clone(r.Signatures)
	c.Drugs = slices.Clone(r.Drugs)
	c.Allergies = slices.Clone(r.Allergies)
	c.ProgressNotes = slices.Clone(r.ProgressNotes)
	c.Defects = nil
	return c
}

// params is the union of the parameters the generator reads.
type params struct {
	Sections        []string `yaml:"sections"`
	Section         string   `yaml:"section"`
	MinRunes        int      `yaml:"min_runes"`
	MaxRunes        int      `yaml:"max_runes"`
	Required        string   `yaml:"required"`
	Forbidden       string   `yaml:"forbidden"`
	From            string   `yaml:"from"`
	To              string   `yaml:"to"`
	Max             string   `yaml:"max"`
	MaxGap          string   `yaml:"max_gap"`
	Events          []string `yaml:"events"`
	Roles           []string `yaml:"roles"`
	SupervisedRoles []string `yaml:"supervised_roles"`
	Aspect          string   `yaml:"aspect"`
	FemaleTerms     []string `yaml:"female_terms"`
	MaleTerms       []string `yaml:"male_terms"`
	AgeTerms        []struct {
		Terms    []string `yaml:"terms"`
		MinYears *float64 `yaml:"min_years"`
		MaxYears *float64 `yaml:"max_years"`
	} `yaml:"age_terms"`
	DrugSections []string `yaml:"drug_sections"`
	Threshold    float64  `yaml:"threshold"`
	Symptoms     []string `yaml:"symptoms"`
}

func sectionKey(s string) string {
	for _, d := range qc.KnownSections() {
		if d.TitleZH == s {
			return d.Key
		}
	}
	return s
}

// Inject makes a defective copy of clean that breaks rule r. ok is false
// when the rule does not apply to the record or cannot be broken in it.
func (g *Generator) Inject(clean qc.Record, r qc.Rule) (Case, bool) {
	if !r.IsEnabled() || !slices.Contains(r.Types, clean.Type) || !applies(r.When, clean.Patient) {
		return Case{}, false
	}
	var ps params
	if r.Check.Params.Kind != 0 {
		if err := r.Check.Params.Decode(&ps); err != nil {
			return Case{}, false
		}
	}
	for i := range ps.Sections {
		ps.Sections[i] = sectionKey(ps.Sections[i])
	}
	ps.Section = sectionKey(ps.Section)
	d := clone(clean)
	gold := []clinic.RuleID{r.ID}
	var loc clinic.Location
	ok := false
	switch r.Check.Kind {
	case qc.KindSectionRequired:
		k := ps.Sections[0]
		if k == qc.ProgressSection {
			ok = len(d.ProgressNotes) > 0
			d.ProgressNotes = nil
		} else if _, has := d.Sections[k]; has {
			delete(d.Sections, k)
			ok = true
		}
		loc = clinic.Location{Section: k}
	case qc.KindLength:
		loc, ok = g.injectLength(&d, ps)
	case qc.KindPattern:
		loc, ok = g.injectPattern(&d, ps)
	case qc.KindTimeLimit:
		from, has := d.Events[ps.From]
		maxD, err := time.ParseDuration(ps.Max)
		if has && err == nil {
			d.Events[ps.To] = from.Add(maxD + time.Duration(1+g.rng.IntN(48))*time.Hour)
			loc, ok = clinic.Location{Section: "events/" + ps.To}, true
		}
	case qc.KindEventRequired:
		if _, has := d.Events[ps.Events[0]]; has {
			delete(d.Events, ps.Events[0])
			loc, ok = clinic.Location{Section: "events/" + ps.Events[0]}, true
		}
	case qc.KindSignature:
		loc, ok = clinic.Location{Section: "signatures"}, len(d.Signatures) > 0
		if len(ps.SupervisedRoles) > 0 {
			d.Signatures = []qc.Signature{{Signer: "刘洋", Role: ps.SupervisedRoles[0], At: d.Events[qc.EventWritten]}}
			// A trainee-only signature also lacks a qualified signer.
			for _, o := range g.rules {
				if o.ID != r.ID && o.IsEnabled() && o.Check.Kind == qc.KindSignature && slices.Contains(o.Types, d.Type) && !slices.Contains(signatureRoles(o), ps.SupervisedRoles[0]) && len(signatureRoles(o)) > 0 {
					gold = append(gold, o.ID)
				}
			}
		} else {
			d.Signatures = nil
		}
	case qc.KindConsistency:
		loc, ok = g.injectConsistency(&d, ps)
	case qc.KindICD:
		if g.icd != nil {
			loc, ok = g.appendItem(&d, ps.Sections, g.pick(vagueDx, func(s string) bool { return !g.codable(s) }))
		}
	case qc.KindCopyPaste:
		if n := len(d.ProgressNotes); n > 0 {
			src := d.ProgressNotes[0]
			last := d.ProgressNotes[n-1]
			d.ProgressNotes = append(d.ProgressNotes, qc.ProgressNote{At: last.At.Add(24 * time.Hour), Signer: src.Signer, Text: tweak(src.Text)})
			loc, ok = clinic.Location{Section: fmt.Sprintf("%s/%d", qc.ProgressSection, n)}, true
		}
	case qc.KindContradiction:
		loc, ok = g.injectContradiction(&d, ps)
	case qc.KindNoteInterval:
		gap, err := time.ParseDuration(ps.MaxGap)
		if n := len(d.ProgressNotes); n >= 2 && err == nil {
			shift := d.ProgressNotes[n-2].At.Add(gap + 12*time.Hour).Sub(d.ProgressNotes[n-1].At)
			d.ProgressNotes[n-1].At = d.ProgressNotes[n-1].At.Add(shift)
			if w, has := d.Events[qc.EventWritten]; has {
				d.Events[qc.EventWritten] = w.Add(shift)
			}
			loc, ok = clinic.Location{Section: fmt.Sprintf("%s/%d", qc.ProgressSection, n-1)}, true
		}
	}
	if !ok {
		return Case{}, false
	}
	d.ID = clean.ID + "~" + string(r.ID)
	d.Defects = gold
	return Case{Rule: r.ID, Kind: r.Check.Kind, Clean: clean, Defective: d, Location: loc}, true
}

func signatureRoles(r qc.Rule) []string {
	var ps params
	if err := r.Check.Params.Decode(&ps); err != nil {
		return nil
	}
	return ps.Roles
}

func applies(w qc.When, p qc.Patient) bool {
	if w.Sex != "" && p.Sex != w.Sex {
		return false
	}
	if w.MinAgeYears != nil || w.MaxAgeYears != nil {
		if p.AgeYears == nil {
			return false
		}
		if (w.MinAgeYears != nil && *p.AgeYears < *w.MinAgeYears) || (w.MaxAgeYears != nil && *p.AgeYears > *w.MaxAgeYears) {
			return false
		}
	}
	return true
}

func (g *Generator) pick(cands []string, keep func(string) bool) string {
	var ok []string
	for _, c := range cands {
		if keep(c) {
			ok = append(ok, c)
		}
	}
	if len(ok) == 0 {
		return ""
	}
	return ok[g.rng.IntN(len(ok))]
}

// tweak changes one character near the end of s, keeping it near-identical.
func tweak(s string) string {
	r := []rune(s)
	if len(r) < 4 {
		return s + "。"
	}
	i := len(r) - 2
	if r[i] == '可' {
		r[i] = '好'
	} else {
		r[i] = '可'
	}
	return string(r)
}

// appendItem adds a numbered diagnosis item to the first listed section the
// record has and returns its location.
func (g *Generator) appendItem(d *qc.Record, sections []string, item string) (clinic.Location, bool) {
	if item == "" {
		return clinic.Location{}, false
	}
	for _, k := range sections {
		t, has := d.Sections[k]
		if !has || !strings.Contains(k, "diagnosis") {
			continue
		}
		n := strings.Count(t, "\n") + 2
		prefix := fmt.Sprintf("\n%d.", n)
		start := utf8.RuneCountInString(t) + utf8.RuneCountInString(prefix)
		d.Sections[k] = t + prefix + item
		return clinic.Location{Section: k, Start: start, End: start + utf8.RuneCountInString(item)}, true
	}
	return clinic.Location{}, false
}

func (g *Generator) injectLength(d *qc.Record, ps params) (clinic.Location, bool) {
	k := ps.Section
	if k == qc.ProgressSection {
		if len(d.ProgressNotes) == 0 || ps.MinRunes == 0 {
			return clinic.Location{}, false
		}
		i := g.rng.IntN(len(d.ProgressNotes))
		d.ProgressNotes[i].Text = "病情稳定。"
		return clinic.Location{Section: fmt.Sprintf("%s/%d", qc.ProgressSection, i)}, true
	}
	t, has := d.Sections[k]
	if !has {
		return clinic.Location{}, false
	}
	if ps.MaxRunes > 0 {
		filler := "，为求进一步诊治遂来我院门诊就诊并收入院"
		for utf8.RuneCountInString(t) <= ps.MaxRunes {
			t += filler
		}
		d.Sections[k] = t
		return clinic.Location{Section: k, Start: ps.MaxRunes, End: utf8.RuneCountInString(t)}, true
	}
	if ps.MinRunes > 1 {
		short := []rune("病情平稳，继续观察，按时复诊。")
		if len(short) >= ps.MinRunes {
			short = short[:ps.MinRunes-1]
		}
		d.Sections[k] = string(short)
		return clinic.Location{Section: k}, true
	}
	return clinic.Location{}, false
}

// Texts that lack durations, vital signs, follow-up or titles.
var plainTexts = []string{"体检发现肿物，要求进一步诊治", "神志清楚，心肺听诊未闻及异常，腹软无压痛。", "注意休息，按时服药，清淡饮食。", "李明、王强、陈静", "病情平稳"}

func (g *Generator) injectPattern(d *qc.Record, ps params) (clinic.Location, bool) {
	if ps.Required != "" {
		re, err := regexp.Compile(ps.Required)
		if err != nil {
			return clinic.Location{}, false
		}
		for _, k := range ps.Sections {
			if _, has := d.Sections[k]; !has {
				continue
			}
			for _, t := range plainTexts {
				if !re.MatchString(t) && !containsAny(t, symptoms) {
					d.Sections[k] = t
					return clinic.Location{Section: k}, true
				}
			}
		}
		return clinic.Location{}, false
	}
	re, err := regexp.Compile(ps.Forbidden)
	if err != nil {
		return clinic.Location{}, false
	}
	// The chief complaint goes last: a placeholder there may also break its
	// length limit.
	order := slices.DeleteFunc(slices.Clone(ps.Sections), func(k string) bool { return k == "chief_complaint" })
	if len(order) < len(ps.Sections) {
		order = append(order, "chief_complaint")
	}
	for _, k := range order {
		if k == qc.ProgressSection {
			if len(d.ProgressNotes) == 0 {
				continue
			}
			t := d.ProgressNotes[0].Text
			for _, c := range placeholders {
				if nt, loc, ok := insertMatch(t, c, re); ok {
					d.ProgressNotes[0].Text = nt
					loc.Section = qc.ProgressSection + "/0"
					return loc, true
				}
			}
			continue
		}
		t, has := d.Sections[k]
		if !has {
			continue
		}
		for _, c := range placeholders {
			if nt, loc, ok := insertMatch(t, c, re); ok {
				loc.Section = k
				d.Sections[k] = nt
				return loc, true
			}
		}
		// Anchored patterns: the whole section is the placeholder.
		for _, c := range placeholders {
			if m := re.FindStringIndex(c); m != nil && m[0] == 0 && m[1] == len(c) {
				d.Sections[k] = c
				return clinic.Location{Section: k, Start: 0, End: utf8.RuneCountInString(c)}, true
			}
		}
	}
	return clinic.Location{}, false
}

// insertMatch appends c to t when the pattern then matches exactly c there
// and nowhere else.
func insertMatch(t, c string, re *regexp.Regexp) (string, clinic.Location, bool) {
	if re.MatchString(t) {
		return "", clinic.Location{}, false
	}
	nt := t + c
	m := re.FindAllStringIndex(nt, -1)
	if len(m) != 1 || m[0][0] != len(t) || m[0][1] != len(nt) {
		return "", clinic.Location{}, false
	}
	s := utf8.RuneCountInString(t)
	return nt, clinic.Location{Start: s, End: s + utf8.RuneCountInString(c)}, true
}

func (g *Generator) injectConsistency(d *qc.Record, ps params) (clinic.Location, bool) {
	switch ps.Aspect {
	case "sex":
		var cands []string
		switch d.Patient.Sex {
		case clinic.SexMale:
			cands = femaleDx
		case clinic.SexFemale:
			cands = maleDx
		default:
			return clinic.Location{}, false
		}
		terms := ps.FemaleTerms
		if d.Patient.Sex == clinic.SexFemale {
			terms = ps.MaleTerms
		}
		dx := g.pick(cands, func(s string) bool { return containsAny(s, terms) && g.codable(s) })
		return g.appendItem(d, ps.Sections, dx)
	case "age":
		if d.Patient.AgeYears == nil {
			return clinic.Location{}, false
		}
		age := *d.Patient.AgeYears
		for _, grp := range ps.AgeTerms {
			if (grp.MinYears == nil || age >= *grp.MinYears) && (grp.MaxYears == nil || age <= *grp.MaxYears) {
				continue // the current age is inside this group's range
			}
			for _, term := range grp.Terms {
				dx, has := ageDx[term]
				if has && g.codable(dx) && !containsAny(dx, femaleWords) && !containsAny(dx, maleWords) {
					return g.appendItem(d, ps.Sections, dx)
				}
			}
		}
		return clinic.Location{}, false
	case "allergy":
		// Choose a class none of the record's text or drugs mention.
		all := d.Sections["treatment_plan"] + d.Sections["management"] + d.Sections["discharge_advice"]
		for _, dr := range d.Drugs {
			all += dr.Name
		}
		for _, c := range allergyPairs {
			if containsAny(all, c.classTerms) {
				continue
			}
			d.Allergies = append(d.Allergies, c.allergen)
			if k := "allergy_history"; d.Sections[k] != "" {
				d.Sections[k] = "对" + c.allergen + "过敏。"
			}
			d.Drugs = append(d.Drugs, qc.Drug{Name: c.drug})
			return clinic.Location{Section: fmt.Sprintf("%s/%d", qc.DrugsSection, len(d.Drugs)-1)}, true
		}
	}
	return clinic.Location{}, false
}

// allergyPairs are allergens with a drug of the same class (the generator's
// own table, from 国家基本药物目录 classes).
var allergyPairs = []struct {
	allergen, drug string
	classTerms     []string
}{
	{"青霉素", "阿莫西林胶囊", []string{"青霉素", "西林"}},
	{"头孢类药物", "头孢呋辛酯片", []string{"头孢"}},
	{"磺胺", "复方磺胺甲噁唑片", []string{"磺胺", "新诺明"}},
	{"阿司匹林", "布洛芬缓释胶囊", []string{"阿司匹林", "布洛芬", "双氯芬酸", "吲哚美辛", "萘普生", "塞来昔布", "洛索洛芬"}},
}

func (g *Generator) injectContradiction(d *qc.Record, ps params) (clinic.Location, bool) {
	if len(ps.Sections) < 2 {
		return clinic.Location{}, false
	}
	first, second := ps.Sections[0], ps.Sections[1]
	t2, has := d.Sections[second]
	if _, has1 := d.Sections[first]; !has || !has1 {
		return clinic.Location{}, false
	}
	all := strings.Join([]string{d.Sections[first], t2}, "")
	var cands []string
	for _, s := range ps.Symptoms {
		if slices.Contains(symptoms, s) && !containsAny(all, []string{s}) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return clinic.Location{}, false
	}
	// Prefer symptoms that are not substrings of other symptoms.
	sym := cands[g.rng.IntN(len(cands))]
	d.Sections[first] = fmt.Sprintf("%s%d天", sym, 1+g.rng.IntN(9))
	d.Sections[second] = strings.TrimRight(t2, "。 ") + "。患者无" + sym + "。"
	return clinic.Location{Section: first, Start: 0, End: utf8.RuneCountInString(sym)}, true
}

// Cases builds, for each passage and record type, the clean record and one
// case per applicable rule. Records are named "<passage>/<type>".
func (g *Generator) Cases(passages []Passage) (clean []qc.Record, cases []Case) {
	for _, p := range passages {
		for _, t := range Types {
			rec, ok := g.Clean(p, t, fmt.Sprintf("%s/%s", p.ID, t))
			if !ok {
				continue
			}
			clean = append(clean, rec)
			for _, r := range g.rules {
				if c, ok := g.Inject(rec, r); ok {
					cases = append(cases, c)
				}
			}
		}
	}
	return clean, cases
}
