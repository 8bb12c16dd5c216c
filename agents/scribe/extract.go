package scribe

import (
	"strconv"
	"strings"
	"unicode"
)

// mention is one vocabulary term found in a text.
type mention struct {
	term     int
	start    int // rune offsets in the normalized, lower-cased text
	end      int
	negated  bool
	question bool   // inside a question
	measured bool   // read from a measurement's value ("心率快"), not a named term
	duration string // the duration phrase of its clause, as written
	clause   int    // index of the clause it is in
}

// reading is what the extractor reads from one text.
type reading struct {
	rs       []rune // normalized, lower-cased
	mentions []mention
	clauses  []span // clause boundaries
	question bool   // the text (its last clause) asks something
}

type span struct{ start, end int }

// Negation cues. Strong cues reach across a clause; weak ones only a few
// runes ahead ("不发烧", "没怎么咳").
var (
	negStrongZH  = []string{"从来没有", "从来没", "并没有", "没有", "否认", "并无", "从未", "未见", "无明显", "无"}
	negWeakZH    = []string{"不", "没", "未"}
	negEN        = []string{"negative for", "free of", "denies", "denied", "deny", "denying", "without", "never", "no", "not", "don't", "doesn't", "didn't", "haven't", "hasn't", "hadn't", "none", "nor"}
	pseudoNeg    = []string{"有没有", "是不是", "会不会", "能不能", "要不要", "有无", "不知道", "不清楚", "不确定", "不一定", "不好意思", "无缘无故", "没用", "没有用", "没什么用", "没效果", "没有效果", "没有作用", "没什么作用", "没有好转", "没好转", "没有改善", "不管用", "不要", "不了", "不缓解", "不断", "不停", "不仅", "不但", "不少", "不久", "没多久", "不是很", "不太", "不舒服", "不适", "不好", "not sure", "not only", "no change", "no longer", "not bad", "no problem", "no, no"}
	scopeBreakZH = []string{"但是", "但", "可是", "不过", "只是", "却", "还有", "就是", "然后", "后来", "现在"}
	scopeBreakEN = []string{"but", "although", "though", "however", "except", "and then", "which", "so"}
	questionZH   = []string{"吗", "么", "呢", "有没有", "是否", "是不是", "会不会", "什么", "多久", "多长时间", "怎么", "几天", "哪里", "哪儿", "有无", "多少", "哪些", "哪个", "哪种", "哪家", "如何", "为什么", "为何", "怎样", "能否", "可否"}
	questionEN   = []string{"do you", "did you", "does it", "does that", "are you", "have you", "has it", "any ", "how ", "what ", "when ", "where ", "is it", "is there", "were you", "was it", "can you"}
)

func isClauseEnd(r rune) bool {
	switch r {
	case '。', '!', '?', ';', '；', '！', '？', '\n', '.', '…':
		return true
	}
	return false
}

func isCommaLike(r rune) bool { return r == ',' || r == '，' }

// hanNear reports a comma in Chinese text: a Han character right before
// or after it. Chinese commas end a clause; English ones may continue a
// list.
func hanNear(rs []rune, i int) bool {
	return (i > 0 && unicode.Is(unicode.Han, rs[i-1])) || (i+1 < len(rs) && unicode.Is(unicode.Han, rs[i+1]))
}

// read extracts the terms of text with negation, question and duration.
func (v *Vocabulary) read(text string) reading {
	rs := []rune(strings.ToLower(normalize(text)))
	rd := reading{rs: rs}
	// clauses: split at sentence ends and, for Chinese, commas.
	start := 0
	for i, r := range rs {
		if isClauseEnd(r) && !(r == '.' && i > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1])) || (r == ',' && hanNear(rs, i)) {
			if i > start {
				rd.clauses = append(rd.clauses, span{start, i + 1})
			}
			start = i + 1
		}
	}
	if start < len(rs) {
		rd.clauses = append(rd.clauses, span{start, len(rs)})
	}
	// A clause that only lists more terms ("无高血压，糖尿病，冠心病",
	// "有没有心慌，胸闷？") continues the negation or question of the
	// clause before it: Chinese writes such lists with commas.
	prevQ, prevNeg := false, false
	for ci, c := range rd.clauses {
		inherit := ci > 0 && isCommaLike(rs[rd.clauses[ci-1].end-1]) && v.listClause(rs, c)
		prevQ, prevNeg = v.readClause(&rd, ci, c, inherit && prevQ, inherit && prevNeg)
	}
	// The text asks something when a clause of its last sentence does
	// ("有没有恶心，反酸，肚胀了。" ends in a list, not in the question).
	for ci := len(rd.clauses) - 1; ci >= 0; ci-- {
		c := rd.clauses[ci]
		if isQuestion(rs[c.start:c.end]) {
			rd.question = true
			break
		}
		if ci > 0 && !isCommaLike(rs[rd.clauses[ci-1].end-1]) {
			break
		}
	}
	return rd
}

func isQuestion(c []rune) bool {
	s := strings.TrimSpace(string(c))
	if strings.HasSuffix(s, "?") {
		return true
	}
	for _, q := range questionZH {
		if strings.Contains(s, q) {
			return true
		}
	}
	return false
}

func hasPrefixAt(rs []rune, i int, s string) bool {
	j := i
	for _, r := range s {
		if j >= len(rs) || rs[j] != r {
			return false
		}
		j++
	}
	return true
}

func latinBoundary(rs []rune, i int) bool {
	if i <= 0 || i >= len(rs) {
		return true
	}
	a, b := rs[i-1], rs[i]
	return !(isASCIIAlnum(a) && isASCIIAlnum(b))
}

func isASCIIAlnum(r rune) bool {
	return r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// matchTerm returns the longest vocabulary entry at i.
func (v *Vocabulary) matchTerm(rs []rune, i int) (vocabEntry, bool) {
	for _, e := range v.byFirst[rs[i]] {
		if i+len(e.form) > len(rs) {
			continue
		}
		ok := true
		for k, r := range e.form {
			if rs[i+k] != r {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if e.latin && (!latinBoundary(rs, i) || !latinBoundary(rs, i+len(e.form))) {
			continue
		}
		return e, true
	}
	return vocabEntry{}, false
}

func matchList(rs []rune, i int, list []string, latin bool) int {
	for _, s := range list {
		if hasPrefixAt(rs, i, s) {
			n := len([]rune(s))
			if latin && (!latinBoundary(rs, i) || !latinBoundary(rs, i+n)) {
				continue
			}
			return n
		}
	}
	return 0
}

// listFillers are the words a Chinese list joins its items with.
// "还有" is not one: it breaks a negation ("没有胸痛，还有胸闷").
var listFillers = []string{"以及", "或者", "或是", "还是", "等等", "之类", "什么的", "和", "或", "及", "与", "跟", "也", "等", "都", "、", "的", "吗", "呢", "啊", "吧", "么"}

// listClause reports a clause of Chinese text that holds at least one
// vocabulary term and nothing else but list fillers and punctuation.
func (v *Vocabulary) listClause(rs []rune, c span) bool {
	terms := 0
	for i := c.start; i < c.end; {
		r := rs[i]
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			i++
			continue
		}
		if e, ok := v.matchTerm(rs, i); ok && !e.latin {
			if predicative(e.form) {
				// "没有甲亢，血压偏高": a clause that says a value is
				// a statement of its own, not a list item.
				return false
			}
			terms++
			i += len(e.form)
			continue
		}
		if n := matchList(rs, i, listFillers, false); n > 0 {
			i += n
			continue
		}
		return false
	}
	return terms > 0
}

// postNegZH follow a finding to rule it out: "缺血性心脏病可能性不大",
// "心肌炎可以排除" (the wording of a differential diagnosis, 诊断学:
// 诊断与鉴别诊断).
var postNegZH = []string{"可能性不大", "可能性很小", "可能性小", "可能性比较小", "可能性较小", "可能不大", "不大可能", "可以排除", "基本排除", "已排除", "已经排除", "排除了"}

// postNegated reports a rule-out phrase right after a finding (a "的" or
// "的话" may stand between).
func postNegated(rs []rune, i, end int) bool {
	for k := 0; k <= 1 && i+k < end; k++ {
		if matchList(rs[:end], i+k, postNegZH, false) > 0 {
			return true
		}
		if rs[i+k] != '的' {
			break
		}
	}
	return false
}

// predicative reports a surface form that states a value ("血压偏高",
// "心跳快") rather than naming a finding.
func predicative(form []rune) bool {
	switch form[len(form)-1] {
	case '高', '低', '快', '慢':
		return len(form) > 2
	}
	return false
}

// readClause reads the mentions of clause ci. inQ and inNeg carry a
// question or a negation over from the clause before (a list clause);
// it returns whether the clause is a question and whether a negation
// reaches its end.
func (v *Vocabulary) readClause(rd *reading, ci int, c span, inQ, inNeg bool) (question, negEnd bool) {
	rs := rd.rs
	q := inQ || isQuestion(rs[c.start:c.end]) || startsQuestionEN(rs[c.start:c.end])
	dur := findDuration(rs[c.start:c.end])
	negUntil := -1 // rune index up to which a negation reaches
	if inNeg {
		negUntil = c.end
	}
	for i := c.start; i < c.end; {
		if n := matchList(rs, i, pseudoNeg, false); n > 0 && !verbNegation(v, rs, i, n) {
			i += n
			continue
		}
		if e, ok := v.matchTerm(rs, i); ok {
			m := mention{term: e.term, start: i, end: i + len(e.form), negated: i <= negUntil, question: q, duration: dur, clause: ci}
			if !m.negated && postNegated(rs, m.end, c.end) {
				m.negated = true
			}
			rd.mentions = append(rd.mentions, m)
			if m.negated {
				// a negated list continues: "无发热、咳嗽及胸痛"
				negUntil = max(negUntil, m.end+6)
			}
			i = m.end
			continue
		}
		if n := matchList(rs, i, blockWords, false); n > 0 {
			i += n
			continue
		}
		if m, ok := v.measurement(rs, i, c, q, dur, ci); ok {
			if i <= negUntil {
				m.negated = true
			}
			rd.mentions = append(rd.mentions, m)
			i = m.end
			continue
		}
		if m, ok := v.composed(rs, i, c, q, dur, ci); ok {
			if i <= negUntil {
				m.negated = !m.negated
			}
			rd.mentions = append(rd.mentions, m)
			i = m.end
			continue
		}
		if n := matchList(rs, i, scopeBreakZH, false); n > 0 {
			negUntil, i = -1, i+n
			continue
		}
		if n := matchList(rs, i, scopeBreakEN, true); n > 0 {
			negUntil, i = -1, i+n
			continue
		}
		if isCommaLike(rs[i]) && negUntil >= 0 && negUntil < c.end {
			// English commas keep a list going ("denies fever, chills").
			negUntil = max(negUntil, i+30)
		}
		if n := matchList(rs, i, negStrongZH, false); n > 0 {
			negUntil, i = c.end, i+n
			continue
		}
		if n := matchList(rs, i, negEN, true); n > 0 {
			negUntil, i = c.end, i+n
			continue
		}
		if n := matchList(rs, i, negWeakZH, false); n > 0 {
			negUntil, i = i+n+3, i+n
			continue
		}
		i++
	}
	return q, negUntil >= c.end-1
}

// verbNegation reports a pseudo-negation of length n at i that is a
// negated verb after all because a drug, test or procedure follows it:
// "没用" is "no use" but "没用阿司匹林" is "did not use aspirin", "不要吃
// 阿司匹林" is advice not to take it ("不要感冒" stays advice).
func verbNegation(v *Vocabulary, rs []rune, i, n int) bool {
	w := string(rs[i : i+n])
	if w != "没用" && w != "没有用" && w != "不要" {
		return false
	}
	j := i + n
	if j < len(rs) && rs[j] == '吃' || j < len(rs) && rs[j] == '服' {
		j++
	}
	if j >= len(rs) {
		return false
	}
	e, ok := v.matchTerm(rs, j)
	if !ok {
		return false
	}
	switch v.terms[e.term].Kind {
	case KindDrug, KindTest, KindProcedure:
		return true
	}
	return false
}

func startsQuestionEN(c []rune) bool {
	s := strings.TrimSpace(string(c))
	for _, p := range questionEN {
		if strings.HasPrefix(s, p) || strings.HasPrefix(s, "and "+p) || strings.HasPrefix(s, "so "+p) || strings.HasPrefix(s, "okay "+p) || strings.HasPrefix(s, "ok "+p) {
			return true
		}
	}
	return false
}

var zhDigits = map[rune]float64{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

var zhMultipliers = map[rune]float64{'十': 10, '百': 100}

var zhUnits = []string{"个多小时", "个多月", "多小时", "多分钟", "个小时", "个星期", "个礼拜", "个月", "多天", "多年", "多周", "小时", "分钟", "星期", "礼拜", "天", "日", "周", "月", "年"}

var enUnits = []string{"hours", "hour", "days", "day", "weeks", "week", "months", "month", "years", "year", "minutes", "minute"}

var enNumberWords = map[string]float64{"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
	"sixty": 60, "couple": 2, "few": 3, "several": 3}

// findDuration returns the first duration phrase of a clause ("3天",
// "两个多月", "for two weeks", "3 days ago"), as written, or "".
func findDuration(c []rune) string {
	for i := 0; i < len(c); i++ {
		r := c[i]
		if unicode.IsDigit(r) || zhDigits[r] > 0 || r == '十' || r == '半' || r == '几' || r == '数' {
			j := i
			for j < len(c) && (unicode.IsDigit(c[j]) || c[j] == '.' || zhDigits[c[j]] > 0 || c[j] == '十' || c[j] == '半' || c[j] == '几' || c[j] == '数' || c[j] == '零') {
				j++
			}
			k := j
			for k < len(c) && c[k] == ' ' {
				k++
			}
			if n := matchList(c, k, zhUnits, false); n > 0 {
				return strings.TrimSpace(string(c[i : k+n]))
			}
			if n := matchList(c, k, enUnits, true); n > 0 && unicode.IsDigit(r) {
				return strings.TrimSpace(string(c[i : k+n]))
			}
			i = j
			continue
		}
		if isASCIIAlnum(r) && latinBoundary(c, i) {
			j := i
			for j < len(c) && isASCIIAlnum(c[j]) {
				j++
			}
			w := string(c[i:j])
			if _, ok := enNumberWords[w]; ok {
				k := j
				for k < len(c) && c[k] == ' ' {
					k++
				}
				// "a couple of days", "a few weeks"
				for _, skip := range []string{"couple of ", "few ", "of "} {
					if hasPrefixAt(c, k, skip) {
						k += len(skip)
					}
				}
				if n := matchList(c, k, enUnits, true); n > 0 {
					return strings.TrimSpace(string(c[i : k+n]))
				}
			}
			i = j
		}
	}
	return ""
}

// number is one numeric value written in a text.
type number struct {
	val float64
	pos int
}

// numbers reads every number of text: Arabic (with decimals), Chinese
// numerals (三, 十二, 两, 半) and English number words.
func numbers(text string) []number {
	rs := []rune(strings.ToLower(normalize(text)))
	var out []number
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsDigit(r) && r < 128:
			j := i
			for j < len(rs) && (rs[j] < 128 && unicode.IsDigit(rs[j]) || rs[j] == '.' && j+1 < len(rs) && rs[j+1] < 128 && unicode.IsDigit(rs[j+1])) {
				j++
			}
			if f, err := strconv.ParseFloat(string(rs[i:j]), 64); err == nil {
				out = append(out, number{f, i})
			}
			i = j
		case zhDigits[r] > 0 || r == '十' || r == '半' || r == '零' || r == '百':
			j := i
			for j < len(rs) && (zhDigits[rs[j]] > 0 || rs[j] == '十' || rs[j] == '百' || rs[j] == '零' || rs[j] == '半') {
				j++
			}
			if f, ok := zhNumber(rs[i:j]); ok && !zhNonNumber(rs, i, j) {
				out = append(out, number{f, i})
			}
			i = j
		case isASCIIAlnum(r) && latinBoundary(rs, i):
			j := i
			for j < len(rs) && isASCIIAlnum(rs[j]) {
				j++
			}
			w := string(rs[i:j])
			if f, ok := enNumberWords[w]; ok && w != "a" && w != "an" && w != "few" && w != "several" && w != "couple" {
				out = append(out, number{f, i})
			}
			i = j
		default:
			i++
		}
	}
	return out
}

// zhNonNumber reports numerals that are words, not quantities: 一些, 一下,
// 一直, 一点, 一般, 一起, 一样, 一定, 万一, 统一, 唯一, 一会, 一阵.
func zhNonNumber(rs []rune, i, j int) bool {
	if j-i != 1 {
		return false
	}
	next := rune(0)
	if j < len(rs) {
		next = rs[j]
	}
	prev := rune(0)
	if i > 0 {
		prev = rs[i-1]
	}
	if rs[i] == '一' {
		switch next {
		case '些', '下', '直', '点', '般', '起', '样', '定', '会', '阵', '切', '边', '旦', '向', '方', '次', '侧', '过', '同', '再', '天':
			return true
		}
		switch prev {
		case '万', '统', '唯', '第', '单', '同':
			return true
		}
	}
	if rs[i] == '半' && (next == '夜' || next == '身' || next == '边') {
		return true
	}
	if rs[i] == '两' && (next == '侧' || next == '边') {
		return true
	}
	return false
}

func zhNumber(rs []rune) (float64, bool) {
	if len(rs) == 1 && rs[0] == '半' {
		return 0.5, true
	}
	var total, cur float64
	seen := false
	for _, r := range rs {
		switch {
		case zhDigits[r] > 0 || r == '零':
			cur = zhDigits[r]
			seen = true
		case r == '十' || r == '百':
			if cur == 0 {
				cur = 1 // "十二" is 12
			}
			total += cur * zhMultipliers[r]
			cur = 0
			seen = true
		case r == '半':
			total += 0.5
		}
	}
	return total + cur, seen
}

// measures are measurements whose reported value names a condition:
// a high blood pressure, lipid or glucose is hypertension,
// hyperlipidaemia or hyperglycaemia (诊断学, 实验室检查 and 血压测量
// chapters read "血压高/血脂高/血糖高" as those conditions).
//
// A heart rate or heartbeat reported fast, slow or irregular ("心率还是比较
// 快", "心跳就加速到120", "心跳的比较快") is an arrhythmia in the same way
// (诊断学, 心悸 and 心律失常: 心动过速/过缓/不齐 are what these lay reports
// describe); its value words are its own (rate).
var measures = []struct {
	word, code string
	rate       bool
}{
	{"血压", "hypertension", false}, {"血脂", "hyperlipidemia", false}, {"胆固醇", "hyperlipidemia", false}, {"甘油三酯", "hyperlipidemia", false}, {"血糖", "hyperglycemia", false},
	{"心率", "arrhythmia", true}, {"心跳", "arrhythmia", true}, {"心律", "arrhythmia", true},
}

// Value words after a measurement: normal (the condition is absent) or
// high (present). "不高" is checked before "高".
var (
	measureNormal = []string{"正常", "不高", "不算高", "没有高", "没高", "不偏高", "稳定", "平稳", "控制得好", "控制的好", "控制很好", "控制得很好", "控制的很好"}
	measureHigh   = []string{"偏高", "升高", "增高", "高"}
	measureAsked  = []string{"怎么样", "怎样", "如何", "情况", "高不高", "高吗", "正常吗", "正常不"}
	rateNormal    = []string{"正常", "不快", "不慢", "不算快", "没有快", "稳定", "平稳", "规律", "整齐", "齐"}
	rateAbnormal  = []string{"过速", "过缓", "加快", "加速", "增快", "偏快", "偏慢", "不齐", "不规律", "不整齐", "乱", "快", "慢"}
)

// measurement reads a measurement named at i with its value within the
// next few runes of the clause ("血压很正常", "血糖有点高", "血脂、血糖正常吗")
// as a mention of the condition, negated for a normal value. A
// measurement without such a value is not read.
func (v *Vocabulary) measurement(rs []rune, i int, c span, q bool, dur string, ci int) (mention, bool) {
	for _, ms := range measures {
		if !hasPrefixAt(rs, i, ms.word) {
			continue
		}
		t, ok := v.byCode[ms.code]
		if !ok {
			return mention{}, false
		}
		n := len([]rune(ms.word))
		end := min(c.end, i+n+7)
		m := mention{term: t, start: i, end: i + n, question: q, duration: dur, clause: ci, measured: true}
		normal, high := measureNormal, measureHigh
		if ms.rate {
			normal, high = rateNormal, rateAbnormal
		}
		for j := i + n; j < end; j++ {
			if q && !ms.rate && matchList(rs, j, measureAsked, false) > 0 {
				// "血压怎么样？", "血糖、血脂情况？": the condition is asked about.
				return m, true
			}
			if matchList(rs, j, []string{"低", "多少", "怎么样"}, false) > 0 && !ms.rate {
				break
			}
			if matchList(rs, j, []string{"多少", "怎么样", "几", "最高", "最低"}, false) > 0 {
				break
			}
			if _, ok := v.matchTerm(rs, j); ok {
				break // the value belongs to the next finding
			}
			if matchList(rs, j, normal, false) > 0 {
				m.negated = true
				return m, true
			}
			if matchList(rs, j, high, false) > 0 {
				return m, true
			}
		}
		return mention{}, false
	}
	return mention{}, false
}
