package scribe

// Composed symptoms. Chinese patients name a symptom as a body site and
// what they feel there, often with words in between: "胸部两侧常会痛",
// "肚子也不舒服", "头也老痛", "脚没肿", "嘴唇发紫". 诊断学 (问诊: 部位、
// 性质) describes a complaint by exactly these two parts, so the reader
// pairs a site with a sensation that follows it in the same clause and
// maps the pair to the vocabulary term for that site and sensation (chest
// + pain → chest pain, chest + tightness → chest tightness, leg + swelling
// → oedema). A negation between the two ("胸口不痛", "脚没肿") negates
// the finding. Whole vocabulary terms are matched first, so this only
// reads what the word list does not already name.

// sensation classes.
const (
	senPain    = "pain"
	senTight   = "tight"   // 闷, 堵, 压迫, 发紧
	senDiscom  = "discom"  // 不舒服, 难受, 不适
	senDizzy   = "dizzy"   // 晕, 昏
	senSwell   = "swell"   // 肿
	senBlue    = "blue"    // 发紫, 青紫
	senDistend = "distend" // 胀
	senShort   = "short"   // 气短, 气急: breath
)

// sensationWords maps the words of each sensation class, longest first
// within a class.
var sensationWords = []struct{ word, class string }{
	{"不舒服", senDiscom}, {"难受", senDiscom}, {"不适", senDiscom},
	{"疼痛", senPain}, {"绞痛", senPain}, {"刺痛", senPain}, {"隐痛", senPain}, {"胀痛", senPain}, {"闷痛", senPain}, {"痛", senPain}, {"疼", senPain},
	{"发闷", senTight}, {"憋闷", senTight}, {"压迫", senTight}, {"发紧", senTight}, {"堵", senTight}, {"闷", senTight}, {"压", senTight},
	{"晕", senDizzy}, {"昏", senDizzy},
	{"水肿", senSwell}, {"浮肿", senSwell}, {"肿", senSwell},
	{"青紫", senBlue}, {"发紫", senBlue}, {"发绀", senBlue}, {"紫", senBlue},
	{"胀", senDistend},
	{"短", senShort}, {"急", senShort}, {"促", senShort}, {"喘", senShort},
}

// What each sensation names at a site, for the sites that share it
// (the words for the chest, the back, the lower limbs, …); read only.
var (
	chestCodes         = map[string]string{senPain: "chest_pain", senTight: "chest_tightness", senDiscom: "chest_tightness"}
	heartCodes         = map[string]string{senPain: "angina", senTight: "chest_tightness", senDiscom: "chest_tightness"}
	backCodes          = map[string]string{senPain: "back_pain"}
	epigastricCodes    = map[string]string{senPain: "epigastric_discomfort", senDiscom: "epigastric_discomfort", senDistend: "epigastric_discomfort"}
	abdominalCodes     = map[string]string{senPain: "abdominal_pain", senDiscom: "abdominal_discomfort"}
	headCodes          = map[string]string{senPain: "headache", senDizzy: "dizziness"}
	edemaCodes         = map[string]string{senSwell: "edema"}
	edemaCyanosisCodes = map[string]string{senSwell: "edema", senBlue: "cyanosis"}
	cyanosisCodes      = map[string]string{senBlue: "cyanosis"}
)

// siteTable maps body sites to the term code each sensation there names.
// Longer site words come first so "上腹部" is not read as "腹部".
var siteTable = []struct {
	site  string
	codes map[string]string
}{
	{"胸骨后", chestCodes}, {"心前区", chestCodes}, {"胸口", chestCodes}, {"胸部", chestCodes}, {"前胸", chestCodes}, {"胸前", chestCodes},
	{"胸", map[string]string{senPain: "chest_pain", senTight: "chest_tightness"}},
	{"心口", heartCodes}, {"心窝", heartCodes},
	{"心脏", map[string]string{senPain: "angina", senTight: "chest_tightness"}},
	{"气", map[string]string{senShort: "dyspnea"}},
	{"后背", backCodes}, {"背部", backCodes}, {"肩背", backCodes}, {"腰背", backCodes}, {"背", backCodes},
	{"上腹部", epigastricCodes}, {"上腹", epigastricCodes}, {"胃部", epigastricCodes}, {"胃", epigastricCodes},
	{"下腹部", abdominalCodes}, {"下腹", abdominalCodes}, {"小腹", abdominalCodes}, {"腹部", abdominalCodes},
	{"肚子", map[string]string{senPain: "abdominal_pain", senDiscom: "abdominal_discomfort", senDistend: "bloating"}},
	{"头部", headCodes}, {"脑袋", headCodes}, {"头", headCodes},
	{"下肢", edemaCodes}, {"小腿", edemaCodes}, {"脚踝", edemaCodes}, {"双腿", edemaCodes}, {"腿", edemaCodes}, {"双脚", edemaCodes}, {"脚", edemaCodes}, {"眼皮", edemaCodes}, {"眼睑", edemaCodes}, {"眼睛", edemaCodes},
	{"脸", edemaCyanosisCodes}, {"面部", edemaCyanosisCodes},
	{"全身", edemaCodes}, {"手", edemaCodes},
	{"嘴唇", cyanosisCodes}, {"口唇", cyanosisCodes}, {"指甲", cyanosisCodes},
	{"手指", edemaCyanosisCodes},
	{"脸色", cyanosisCodes}, {"面色", cyanosisCodes},
}

// blockWords are words that hold a site character or a short term
// without naming either ("舌头疼" is not a headache, "生气" is not
// breath); read as a whole they stop a term or site from being read
// inside them.
var blockWords = []string{"舌头", "骨头", "指头", "拳头", "乳头", "奶头", "枕头", "馒头", "心头", "眉头", "喉头", "里头", "外头", "镜头", "石头", "念头",
	"生气", "空气", "天气", "力气", "脾气", "运气", "客气", "语气", "口气", "勇气", "氧气", "暖气", "福气", "气温", "气候", "气味", "气血", "气色"}

// siteGap is how many runes may stand between a site and its sensation
// ("胸部两侧常会痛": 4).
const siteGap = 5

// composed reads a site at i followed, within the clause, by a sensation
// it names a term for. It returns the mention (negated when a negation
// word stands between the two) or false.
func (v *Vocabulary) composed(rs []rune, i int, c span, q bool, dur string, ci int) (mention, bool) {
	for _, st := range siteTable {
		if !hasPrefixAt(rs, i, st.site) {
			continue
		}
		n := len([]rune(st.site))
		neg := false
		for j := i + n; j < c.end && j <= i+n+siteGap; j++ {
			for _, sw := range sensationWords {
				if !hasPrefixAt(rs, j, sw.word) {
					continue
				}
				// "不舒服" is a sensation, not a negation.
				code, ok := st.codes[sw.class]
				if !ok {
					break
				}
				t, ok := v.byCode[code]
				if !ok {
					return mention{}, false
				}
				return mention{term: t, start: i, end: j + len([]rune(sw.word)), negated: neg, question: q, duration: dur, clause: ci}, true
			}
			if isCommaLike(rs[j]) || matchList(rs, j, scopeBreakZH, false) > 0 {
				return mention{}, false
			}
			if _, ok := v.matchTerm(rs, j); ok {
				return mention{}, false // another finding comes first
			}
			if matchList(rs, j, []string{"没有", "没", "不", "无", "未"}, false) > 0 {
				neg = true
			}
		}
		return mention{}, false
	}
	return mention{}, false
}
