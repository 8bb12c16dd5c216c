package scribe

import "strings"

// Speaker-aware status of a finding, for Findings. A clinician's turn
// names many conditions without saying the patient has them (teaching,
// plans, differential diagnosis, "if you get chest pain …"); a patient's
// question may be about a condition they have ("房颤能吃辅酶Q10吗") or ask
// whether they have it ("是心肌炎吗"). The cue words are ordinary
// Chinese consultation phrasing: diagnostic statements (诊断学, 问诊 and
// 病历书写 chapters: 考虑/诊断/提示/属于), hypotheticals and general
// statements (如果/一般/患者/容易), and question focus (是不是/会不会).
var (
	// A clinician's sentence that states a finding of this patient.
	doctorAssertZH = []string{"考虑", "诊断", "应该是", "属于", "确诊", "提示", "你这", "您这", "你是", "您是", "这是", "就是", "说明", "你有", "您有", "确实", "怀疑", "有点", "并且有", "还有"}
	// Diagnostic words right before a finding.
	doctorAssertNearZH = []string{"可能是", "考虑", "诊断", "确诊", "确实是", "像是", "提示", "显示", "怀疑", "并且有", "您还有", "你还有"}
	// Hypotheses: a clinician's "if …" is about what may happen.
	doctorHypotheticalZH = []string{"如果", "假如", "万一", "一旦", "的话", "要是"}
	// A clinician's sentence about findings in general, a plan or a
	// hypothesis, not about what this patient has.
	doctorGenericZH = []string{"如果", "假如", "万一", "一旦", "一般", "通常", "患者", "病人", "的人", "者", "引起", "导致", "用于", "主要", "预防", "排除", "比如", "例如", "如：", "如:", "很少", "多是", "多见", "容易", "可能", "是否", "不一定", "风险", "的话", "鉴别", "除外", "以免", "防止", "避免", "注意", "观察", "警惕", "或者", "要查", "检查"}
	// Words before a finding that make a patient's question ask about the
	// finding itself (is it X? will it cause X?), not about a known one.
	// Words before a finding in a patient's statement that make it a worry
	// or a hypothesis ("担心会得心肌炎"), not something they have.
	hedgeCuesZH = []string{"咨询", "担心", "害怕", "怕", "会不会", "是不是", "是否", "如果", "万一", "怀疑", "以为", "可能", "疑似", "预防", "防止", "排除", "避免"}
	focusCuesZH = []string{"是不是", "是否", "会不会", "有没有", "是", "会", "引起", "导致", "造成", "变成", "发展", "算", "属于", "可能", "怕", "担心", "得了", "如果", "万一", "再"}
)

// sentenceEnd reports a rune that ends a sentence (not a comma).
func sentenceEnd(r rune) bool {
	switch r {
	case '。', '!', '?', ';', '；', '！', '？', '\n', '…':
		return true
	}
	return false
}

// sentenceAround returns the sentence of rs that holds [start, end).
func sentenceAround(rs []rune, start, end int) string {
	a, b := start, end
	for a > 0 && !sentenceEnd(rs[a-1]) {
		a--
	}
	for b < len(rs) && !sentenceEnd(rs[b]) {
		b++
	}
	return string(rs[a:b])
}

// doctorAsserts reports a clinician's mention that states the finding of
// this patient, present or absent ("考虑心肌缺血", "不是心衰"), rather than
// naming it in teaching, a plan or a hypothesis.
//
// A diagnostic word right before the finding ("有可能是冠心病", "高度怀疑
// 冠心病", "动态心电图显示偶发的早搏") states it even in a sentence that
// also hedges or teaches, unless the clause is a hypothesis.
func doctorAsserts(t *turn, m mention) bool {
	s := sentenceAround(t.rd.rs, m.start, m.end)
	c := t.rd.clauses[m.clause]
	near := string(t.rd.rs[max(c.start, m.start-5):m.start])
	if containsAny(near, doctorAssertNearZH) != "" && containsAny(string(t.rd.rs[c.start:c.end]), doctorHypotheticalZH) == "" {
		return true
	}
	if m.negated && postNegated(t.rd.rs, m.end, c.end) {
		return true // "缺血性心脏病可能性不大": ruled out
	}
	if containsAny(s, doctorGenericZH) != "" {
		return false
	}
	return containsAny(s, doctorAssertZH) != "" || m.negated
}

// patientTopic reports a mention inside a patient's question that names
// the condition the question is about ("窦性心动过速严重吗") rather than
// the thing asked ("是心肌炎吗"): no focus word comes before it in its
// clause.
//
// A condition named in a question only as its subject ("房颤怎么办",
// "心肌梗塞可以吃燕窝吗", "先天性心脏病能治好吗") asks about the condition
// in general; without a word that ties it to someone — whose it is
// (宝宝, 老人, an age), how it was found (确诊, 检查, 显示), that they
// have it (得, 患, 有) or how bad it is for them (严重) — it does not say
// the asker has it. A symptom named in a question is one the asker has
// ("房颤病人好咳嗽怎么办").
func patientTopic(v *Vocabulary, t *turn, m mention) bool {
	c := t.rd.clauses[m.clause]
	before := string(t.rd.rs[c.start:m.start])
	if m.negated || containsAny(stripCompounds(before), focusCuesZH) != "" || strings.Contains(string(t.rd.rs[m.end:c.end]), "没有") {
		return false
	}
	if v.terms[m.term].Kind != KindCondition {
		return true
	}
	after := string(t.rd.rs[m.end:])
	return containsAny(string(t.rd.rs[:m.start]), ownCuesZH) != "" || strings.HasPrefix(after, "病人") || strings.HasPrefix(after, "患者") ||
		containsAny(sentenceAround(t.rd.rs, m.start, m.end), severityCuesZH) != ""
}

var (
	// ownCuesZH tie a condition to a person or a finding of theirs.
	ownCuesZH = []string{"病人", "患者", "体检", "宝宝", "孩子", "小孩", "儿子", "女儿", "老人", "父亲", "母亲", "岁", "得", "患", "有", "确诊", "诊断", "检查", "查出", "显示", "发现"}
	// severityCuesZH ask how serious the asker's condition is.
	severityCuesZH = []string{"严重"}
)

// patientHedged reports a mention in a patient's statement that comes
// after a worry or hypothesis word of its clause.
func patientHedged(t *turn, m mention) bool {
	c := t.rd.clauses[m.clause]
	return containsAny(string(t.rd.rs[c.start:m.start]), hedgeCuesZH) != ""
}

// compoundsWithCue are ordinary words that hold a focus cue character
// without asking anything: "可是我经常心慌啊？" asks nothing about 心慌.
var compoundsWithCue = []string{"可是", "但是", "就是", "还是", "只是", "总是", "老是", "都是", "要是", "于是", "倒是", "正是", "真是", "也是", "不是", "社会", "机会", "一会", "会儿"}

// stripCompounds blanks the compounds of compoundsWithCue in s.
func stripCompounds(s string) string {
	for _, w := range compoundsWithCue {
		s = strings.ReplaceAll(s, w, " ")
	}
	return s
}
