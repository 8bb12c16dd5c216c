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
	doctorAssertZH = []string{"考虑", "诊断", "应该是", "属于", "确诊", "提示", "你这", "您这", "你是", "您是", "这是", "就是", "说明", "你有", "您有"}
	// A clinician's sentence about findings in general, a plan or a
	// hypothesis, not about what this patient has.
	doctorGenericZH = []string{"如果", "假如", "万一", "一旦", "一般", "通常", "患者", "病人", "的人", "者", "引起", "导致", "用于", "主要", "预防", "排除", "比如", "例如", "如：", "如:", "很少", "多是", "多见", "容易", "可能", "是否", "不一定", "风险", "的话", "鉴别", "除外", "以免", "防止", "避免", "注意", "观察", "警惕", "或者", "要查", "检查"}
	// Words before a finding that make a patient's question ask about the
	// finding itself (is it X? will it cause X?), not about a known one.
	// Words before a finding in a patient's statement that make it a worry
	// or a hypothesis ("担心会得心肌炎"), not something they have.
	hedgeCuesZH = []string{"担心", "害怕", "怕", "会不会", "是不是", "是否", "如果", "万一", "怀疑", "以为", "可能", "疑似", "预防", "防止", "排除", "避免"}
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
func doctorAsserts(t *turn, m mention) bool {
	s := sentenceAround(t.rd.rs, m.start, m.end)
	if containsAny(s, doctorGenericZH) != "" {
		return false
	}
	return containsAny(s, doctorAssertZH) != "" || m.negated
}

// patientTopic reports a mention inside a patient's question that names
// the condition the question is about ("窦性心动过速严重吗") rather than
// the thing asked ("是心肌炎吗"): no focus word comes before it in its
// clause.
func patientTopic(t *turn, m mention) bool {
	c := t.rd.clauses[m.clause]
	before := string(t.rd.rs[c.start:m.start])
	return !m.negated && containsAny(before, focusCuesZH) == "" && !strings.Contains(string(t.rd.rs[m.end:c.end]), "没有")
}

// patientHedged reports a mention in a patient's statement that comes
// after a worry or hypothesis word of its clause.
func patientHedged(t *turn, m mention) bool {
	c := t.rd.clauses[m.clause]
	return containsAny(string(t.rd.rs[c.start:m.start]), hedgeCuesZH) != ""
}
