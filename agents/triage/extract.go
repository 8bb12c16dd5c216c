package triage

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Severity grades a symptom as the patient describes it.
type Severity string

// Severities, from words (轻微/有点, 严重/剧烈, "mild", "worst") or a pain
// score (0–10: 1–3 mild, 4–6 moderate, 7–10 severe, the usual NRS bands).
const (
	SeverityNone     Severity = ""
	SeverityMild     Severity = "mild"
	SeverityModerate Severity = "moderate"
	SeveritySevere   Severity = "severe"
)

func severityRank(s Severity) int {
	switch s {
	case SeverityMild:
		return 1
	case SeverityModerate:
		return 2
	case SeveritySevere:
		return 3
	}
	return 0
}

var severityByRank = [...]Severity{SeverityNone, SeverityMild, SeverityModerate, SeveritySevere}

// Mention is one finding found in a text.
type Mention struct {
	Code    string `json:"code"`
	Negated bool   `json:"negated,omitempty"`
	// Duration is how long the symptom has lasted, 0 when unknown;
	// DurationText is the phrase it was read from ("3天", "for 2 days").
	Duration     time.Duration `json:"duration,omitempty"`
	DurationText string        `json:"duration_text,omitempty"`
	Severity     Severity      `json:"severity,omitempty"`
	Sudden       bool          `json:"sudden,omitempty"`
	Site         string        `json:"site,omitempty"`
	// Text is the matched span; Start and End are its rune offsets in the
	// normalized text.
	Text  string `json:"text"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Extraction is what [Lexicon.Extract] reads from one text.
type Extraction struct {
	Mentions []Mention `json:"mentions,omitempty"`
	// Vitals are measurements written in the text (血压180/110, 体温39.5,
	// SpO2 88%); zero fields were not found.
	Vitals Vitals `json:"vitals,omitzero"`
	// PainScore is a 0–10 score written in the text, -1 when absent.
	PainScore int `json:"pain_score"`
	// Letters counts the letters (Han, Latin, …) of the text; a text with
	// none (emoji-only, punctuation) cannot be triaged.
	Letters int `json:"letters"`
}

// Medical reports whether the extraction holds any medical finding
// (negated ones count: "没有胸痛" is a medical statement).
func (x Extraction) Medical(l *Lexicon) bool {
	for _, m := range x.Mentions {
		if f, ok := l.Finding(m.Code); ok && f.Medical() {
			return true
		}
	}
	return x.Vitals != (Vitals{})
}

// Gap limits, in runes, between a negation cue (or the previous negated
// finding of a list) and the finding it negates.
const (
	gapStrongZH = 8  // 没有…, 否认…, 无…
	gapStrongEN = 24 // "denies any history of …"
	gapWeak     = 3  // 不…, 未…
	gapChain    = 6  // "无发热、咳嗽及胸痛"
)

// Extract reads the findings of one text with their negation, duration,
// severity, onset and body site. It never fails: text it cannot read yields
// an empty extraction. Text beyond maxTextRunes is ignored.
func (l *Lexicon) Extract(text string) Extraction {
	rs := []rune(normalize(text))
	if len(rs) > maxTextRunes {
		rs = rs[:maxTextRunes]
	}
	x := Extraction{PainScore: -1}
	for _, r := range rs {
		if unicode.IsLetter(r) {
			x.Letters++
		}
	}
	toks := l.scan(rs, make([]token, 0, 16))
	durs := findDurations(rs)
	norm := string(rs)
	x.Vitals = vitalsFromText(norm)
	x.PainScore = painScore(norm)

	negActive := false
	negGap := 0
	lastEnd := 0
	for ti, tk := range toks {
		// A clause boundary between the previous token and this one ends
		// any negation scope.
		if negActive && hardBreak(rs, lastEnd, tk.start) {
			negActive = false
		}
		switch tk.t.kind {
		case tNegStrong:
			negActive, lastEnd = true, tk.end
			negGap = gapStrongZH
			if tk.t.ascii {
				negGap = gapStrongEN
			}
		case tNegWeak:
			negActive, lastEnd, negGap = true, tk.end, gapWeak
		case tBreak, tPseudo:
			negActive = false
		case tFinding, tPain:
			ref := tk.t.ref
			site := ""
			if tk.t.kind == tPain {
				si := l.siteNear(rs, toks, ti)
				if si < 0 || l.sites[si].Pain == "" {
					continue
				}
				ref, site = l.byCode[l.sites[si].Pain], l.sites[si].Code
			}
			m := Mention{Code: l.findings[ref].Code, Text: string(rs[tk.start:tk.end]), Start: tk.start, End: tk.end, Site: site}
			if negActive && tk.start-lastEnd <= negGap {
				m.Negated = true
				lastEnd, negGap = tk.end, gapChain
			} else {
				negActive = false
			}
			if !m.Negated {
				l.modifiers(rs, toks, ti, &m)
				if d, ok := nearestDuration(rs, durs, tk.start, tk.end); ok {
					m.Duration, m.DurationText = d.d, d.text
				}
				if m.Severity == SeverityNone && x.PainScore >= 0 && isPainFinding(l.findings[ref]) {
					m.Severity = painSeverity(x.PainScore)
				}
			}
			if m.Site == "" {
				m.Site = l.findings[ref].Site
			}
			x.Mentions = append(x.Mentions, m)
		}
	}
	return x
}

func isPainFinding(f FindingDef) bool {
	return f.Kind == KindSymptom && (strings.Contains(f.NameEN, "pain") || strings.Contains(f.NameEN, "ache"))
}

// siteNear returns the site token nearest to toks[ti] in its clause,
// preferring one before it, or -1.
func (l *Lexicon) siteNear(rs []rune, toks []token, ti int) int {
	lo, hi := clauseBounds(rs, toks[ti].start)
	best, bestDist := -1, 1<<30
	for j, tk := range toks {
		if tk.t.kind != tSite || tk.start < lo || tk.end > hi {
			continue
		}
		d := toks[ti].start - tk.end
		if j > ti {
			d = tk.start - toks[ti].end + 4 // a site after the pain word is a weaker link
		}
		if d < bestDist {
			best, bestDist = tk.t.ref, d
		}
	}
	return best
}

// modifiers fills severity, onset and site of the finding toks[ti] from
// the tokens of the same clause.
func (l *Lexicon) modifiers(rs []rune, toks []token, ti int, m *Mention) {
	lo, hi := clauseBounds(rs, toks[ti].start)
	bestSite, siteDist := -1, 1<<30
	for j := range toks {
		tk := toks[j]
		if tk.start < lo || tk.end > hi {
			continue
		}
		switch tk.t.kind {
		case tSeverity:
			if r := tk.t.ref; r > severityRank(m.Severity) {
				m.Severity = severityByRank[r]
			}
		case tSudden:
			m.Sudden = true
		case tSite:
			d := abs(tk.start - toks[ti].start)
			if d < siteDist {
				bestSite, siteDist = tk.t.ref, d
			}
		}
	}
	if bestSite >= 0 {
		m.Site = l.sites[bestSite].Code
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// hardBreak reports whether rs[from:to] crosses a clause boundary: a
// sentence mark, a Chinese comma (a comma followed by a Han character) or
// a line break.
func hardBreak(rs []rune, from, to int) bool {
	for i := from; i < to && i < len(rs); i++ {
		switch rs[i] {
		case '。', '.', ';', '!', '?', '\n':
			return true
		case ',':
			j := i + 1
			for j < len(rs) && rs[j] == ' ' {
				j++
			}
			if j < len(rs) && isHan(rs[j]) {
				return true
			}
		}
	}
	return false
}

// Delimiters of a clause and of a sentence.
const (
	clauseMarks   = "。.;!?\n,"
	sentenceMarks = "。;!?\n"
)

// clauseBounds returns the rune range of the clause around position p:
// delimited by sentence marks and commas.
func clauseBounds(rs []rune, p int) (lo, hi int) { return spanAround(rs, p, clauseMarks) }

// sentenceBounds is clauseBounds with only sentence marks as delimiters.
func sentenceBounds(rs []rune, p int) (lo, hi int) { return spanAround(rs, p, sentenceMarks) }

// spanAround returns the rune range [lo, hi) around position p that holds
// none of the runes in marks: lo follows the nearest mark before p (or is
// 0) and hi is the nearest mark at or after p (or len(rs)).
func spanAround(rs []rune, p int, marks string) (lo, hi int) {
	lo = p
	for lo > 0 && !strings.ContainsRune(marks, rs[lo-1]) {
		lo--
	}
	hi = p
	for hi < len(rs) && !strings.ContainsRune(marks, rs[hi]) {
		hi++
	}
	return lo, hi
}

type durationSpan struct {
	start, end int
	d          time.Duration
	text       string
}

const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 30 * day
	year  = 365 * day
)

var (
	// 3天, 两周, 半年, 一个多月, 10来天, 2 小时
	reDurZH = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十百几半]+)\s*(?:个)?\s*(多|余|来)?\s*(?:个)?\s*(多|半)?\s*(分钟|小时|钟头|天|日|周|星期|礼拜|月|年)`)
	// for 2 days, 3 weeks, a few hours, half a year
	reDurEN = regexp.MustCompile(`\b([0-9]+(?:\.[0-9]+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a few|few|several|a couple of|couple of|half an?)\s+(minute|hour|day|week|month|year)s?\b`)
	// 昨天, 前天, 今天早上, 刚才, yesterday, last night, this morning
	reDurRel = regexp.MustCompile(`昨天|昨晚|前天|今天|今早|今晨|早上起|刚才|刚刚|yesterday|last night|this morning|today|just now`)
)

var unitDur = map[string]time.Duration{
	"分钟": time.Minute, "小时": time.Hour, "钟头": time.Hour, "天": day, "日": day,
	"周": week, "星期": week, "礼拜": week, "月": month, "年": year,
	"minute": time.Minute, "hour": time.Hour, "day": day, "week": week, "month": month, "year": year,
}

var relDur = map[string]time.Duration{
	"昨天": day, "昨晚": 12 * time.Hour, "前天": 2 * day, "今天": 6 * time.Hour, "今早": 6 * time.Hour,
	"今晨": 6 * time.Hour, "早上起": 6 * time.Hour, "刚才": 30 * time.Minute, "刚刚": 30 * time.Minute,
	"yesterday": day, "last night": 12 * time.Hour, "this morning": 6 * time.Hour, "today": 6 * time.Hour,
	"just now": 30 * time.Minute,
}

// numberValue reads an Arabic, Chinese (一…十, 两, 十几, 二十) or English
// count. "几"/"few"/"several" read as 3; "半"/"half" as 0.5.
func numberValue(s string) (float64, bool) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v, true
	}
	switch s {
	case "a", "an", "one":
		return 1, true
	case "two", "a couple of", "couple of":
		return 2, true
	case "three", "a few", "few", "several":
		return 3, true
	case "four":
		return 4, true
	case "five":
		return 5, true
	case "six":
		return 6, true
	case "seven":
		return 7, true
	case "eight":
		return 8, true
	case "nine":
		return 9, true
	case "ten":
		return 10, true
	case "twelve":
		return 12, true
	case "half a", "half an", "半":
		return 0.5, true
	}
	digits := map[rune]float64{'一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9, '几': 3}
	var total, cur float64
	seen := false
	for _, r := range s {
		switch {
		case digits[r] > 0:
			cur, seen = digits[r], true
		case r == '十':
			if cur == 0 {
				cur = 1
			}
			total += cur * 10
			cur, seen = 0, true
		case r == '百':
			if cur == 0 {
				cur = 1
			}
			total += cur * 100
			cur, seen = 0, true
		case r == '半':
			cur += 0.5
			seen = true
		default:
			return 0, false
		}
	}
	return total + cur, seen
}

// findDurations returns the duration phrases of rs in order.
func findDurations(rs []rune) []durationSpan {
	s := string(rs)
	var out []durationSpan
	// byte offsets → rune offsets
	conv := func(b int) int { return len([]rune(s[:b])) }
	for _, m := range reDurZH.FindAllStringSubmatchIndex(s, 8) {
		v, ok := numberValue(s[m[2]:m[3]])
		if !ok {
			continue
		}
		if m[4] >= 0 || m[6] >= 0 { // 多/余/来/半 after the count
			if m[6] >= 0 && s[m[6]:m[7]] == "半" {
				v += 0.5
			}
		}
		u := unitDur[s[m[8]:m[9]]]
		if u == 0 {
			continue
		}
		out = append(out, durationSpan{start: conv(m[0]), end: conv(m[1]), d: time.Duration(v * float64(u)), text: s[m[0]:m[1]]})
	}
	for _, m := range reDurEN.FindAllStringSubmatchIndex(s, 8) {
		v, ok := numberValue(s[m[2]:m[3]])
		if !ok {
			continue
		}
		out = append(out, durationSpan{start: conv(m[0]), end: conv(m[1]), d: time.Duration(v * float64(unitDur[s[m[4]:m[5]]])), text: s[m[0]:m[1]]})
	}
	for _, m := range reDurRel.FindAllStringIndex(s, 8) {
		out = append(out, durationSpan{start: conv(m[0]), end: conv(m[1]), d: relDur[s[m[0]:m[1]]], text: s[m[0]:m[1]]})
	}
	return out
}

// nearestDuration returns the duration phrase closest to the span
// [start,end) within its sentence.
func nearestDuration(rs []rune, durs []durationSpan, start, end int) (durationSpan, bool) {
	lo, hi := sentenceBounds(rs, start)
	best, bestDist := -1, 1<<30
	for i, d := range durs {
		if d.start < lo || d.end > hi {
			continue
		}
		dist := d.start - end
		if d.end <= start {
			dist = start - d.end + 1 // prefer the phrase after the finding on ties
		} else if dist < 0 {
			dist = 0
		}
		if dist < bestDist {
			best, bestDist = i, dist
		}
	}
	if best < 0 || bestDist > 40 {
		return durationSpan{}, false
	}
	return durs[best], true
}

var (
	reBP    = regexp.MustCompile(`(?:血压|bp|blood pressure)\s*(?:是|为|:|=|有|达|到|is|was|of|at)?\s*([0-9]{2,3})\s*/\s*([0-9]{2,3})`)
	reTemp  = regexp.MustCompile(`(?:体温|发烧|发热|烧到|烧|temperature|temp|fever of)\s*(?:是|为|:|=|有|达|到|of)?\s*([34][0-9](?:\.[0-9])?)\s*(?:度|℃|°c|c\b)?`)
	reTemp2 = regexp.MustCompile(`([34][0-9](?:\.[0-9])?)\s*(?:℃|°c|度)`)
	reHR    = regexp.MustCompile(`(?:心率|心跳|脉搏|heart rate|pulse|hr)\s*(?:是|为|:|=|有|达|到|of)?\s*([0-9]{2,3})`)
	reSpO2  = regexp.MustCompile(`(?:血氧饱和度|血氧|氧饱和度|spo2|sao2|oxygen saturation|sats?)\s*(?:是|为|:|=|有|只有|才|of)?\s*([0-9]{2,3})\s*%?`)
	reRR    = regexp.MustCompile(`(?:呼吸频率|呼吸|rr|respiratory rate|breaths)\s*(?:是|为|:|=|of)?\s*([0-9]{1,2})\s*(?:次|/min|per minute|breaths)`)
	rePain  = regexp.MustCompile(`(?:疼痛评分|疼痛|痛|pain score|pain)\s*(?:是|为|:|=|有|of)?\s*([0-9]{1,2})\s*(?:分|/\s*10|out of 10)`)
)

// vitalsFromText reads vital signs written in a normalized text, keeping
// only physiologically plausible values.
func vitalsFromText(s string) Vitals {
	var v Vitals
	atof := func(x string) float64 { f, _ := strconv.ParseFloat(x, 64); return f }
	if m := reBP.FindStringSubmatch(s); m != nil {
		sbp, dbp := atof(m[1]), atof(m[2])
		if sbp >= 40 && sbp <= 300 && dbp >= 20 && dbp < sbp {
			v.SystolicMMHg, v.DiastolicMMHg = sbp, dbp
		}
	}
	if m := reTemp.FindStringSubmatch(s); m != nil {
		v.TempC = atof(m[1])
	} else if m := reTemp2.FindStringSubmatch(s); m != nil {
		v.TempC = atof(m[1])
	}
	if v.TempC != 0 && (v.TempC < 30 || v.TempC > 45) {
		v.TempC = 0
	}
	if m := reHR.FindStringSubmatch(s); m != nil {
		if hr := atof(m[1]); hr >= 20 && hr <= 300 {
			v.HeartRateBPM = hr
		}
	}
	if m := reSpO2.FindStringSubmatch(s); m != nil {
		if sp := atof(m[1]); sp >= 50 && sp <= 100 {
			v.SpO2Pct = sp
		}
	}
	if m := reRR.FindStringSubmatch(s); m != nil {
		if rr := atof(m[1]); rr >= 4 && rr <= 80 {
			v.RespRatePerMin = rr
		}
	}
	return v
}

func painScore(s string) int {
	m := rePain.FindStringSubmatch(s)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 0 || n > 10 {
		return -1
	}
	return n
}

func painSeverity(score int) Severity {
	switch {
	case score >= 7:
		return SeveritySevere
	case score >= 4:
		return SeverityModerate
	case score >= 1:
		return SeverityMild
	}
	return SeverityNone
}

// maxTextRunes bounds the text one turn may carry; longer text gets a
// request to rephrase more briefly (its first maxTextRunes runes are still
// screened for red flags).
const maxTextRunes = 1000
