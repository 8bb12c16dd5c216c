package rag_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/yizhu-health/yizhu/rag"
)

// clinicalWords is the shared vocabulary of synthetic guideline passages:
// words every guideline uses, whatever its subject.
var clinicalWords = strings.Fields(`入院记录 首次病程 出院记录 会诊 抢救 手术 主诉 现病史 既往史 体格检查 诊断 胸痛 心电图
ST段 抬高 压低 危急值 心室颤动 房颤 血压 血糖 随访 转诊 肺结节 磨玻璃 实性 分诊 急诊 红区 黄区 绿区
患者 医师 签名 时限 小时 分钟 完成 记录 内容 包括 应当 规范 标准 指南 共识 评估 治疗 检查 结果 STEMI
troponin lead V2 V3 QTc mmHg mmol nodule follow-up category referral triage discharge`)

// termChars are the characters synthetic subject terms are made of.
const termChars = `心肺肝肾脑脾胃肠胆胰骨关节肌皮肤血管淋巴甲状腺乳腺前列卵巢子宫膀胱气管支食道咽喉鼻耳眼口腔牙龈` +
	`炎症瘤癌结石梗阻出血栓塞狭窄扩张衰竭功能不全感染损伤骨折脱位畸形萎缩增生肥厚硬化纤维钙化囊肿息肉溃疡` +
	`急慢性原发继发先天获得良恶早晚期轻中重度稳定进展复发缓解抗凝溶栓介入放射化疗靶向免疫营养康复护理镇痛` +
	`麻醉监测超声造影穿刺活检病理培养药敏筛查预防接种`

// synthetic generates guideline-like Markdown: every document is about
// one of a few hundred subjects (a set of subject terms), every section
// has a few terms of its own, and the rest of each passage is drawn from
// clinicalWords. Real guideline collections are built like that — a
// collection of notes on subjects, each note of sections — so nearest
// neighbours are meaningful; text drawn uniformly from one small
// vocabulary (uniformInputs) has no such structure, every chunk is about
// as far from a query as every other, and approximate search over it is
// a worst case (see BenchmarkStores).
type synthetic struct {
	vocab    []string   // subject and section terms
	subjects [][]string // the terms of each subject
}

const (
	synthVocab        = 4000
	synthSubjects     = 300
	synthSubjectTerms = 12
	synthSectionTerms = 4
)

func newSynthetic(seed uint64) *synthetic {
	rng := rand.New(rand.NewPCG(seed, 23))
	chars := []rune(termChars)
	seen := map[string]bool{}
	s := &synthetic{}
	for len(s.vocab) < synthVocab {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteRune(chars[rng.IntN(len(chars))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			s.vocab = append(s.vocab, w)
		}
	}
	s.subjects = make([][]string, synthSubjects)
	for i := range s.subjects {
		for range synthSubjectTerms {
			s.subjects[i] = append(s.subjects[i], s.vocab[rng.IntN(len(s.vocab))])
		}
	}
	return s
}

// section returns the subject and section terms of section sec of
// document doc.
func (s *synthetic) section(seed uint64, doc, sec int) (subject, own []string) {
	rng := rand.New(rand.NewPCG(seed^uint64(doc)<<20, uint64(sec)))
	subject = s.subjects[(doc*7919+int(seed))%len(s.subjects)]
	for range synthSectionTerms {
		own = append(own, s.vocab[rng.IntN(len(s.vocab))])
	}
	return subject, own
}

// syntheticInputs returns docs Markdown documents of sections sections
// each; every section is one passage of about 120 characters, so each
// gives one chunk under the default chunking. Words are subject terms
// (45%), the section's own terms (25%) and shared clinical words (30%).
// The same seed gives the same documents.
func syntheticInputs(collection string, docs, sections int, seed uint64) []rag.Input {
	s := newSynthetic(seed)
	out := make([]rag.Input, docs)
	for d := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(d)))
		var b strings.Builder
		fmt.Fprintf(&b, "---\ntitle: 合成指南 %d\nsource: synthetic\ntags: [t%d]\n---\n# 合成指南 %d\n\n", d, d%4, d)
		for sec := range sections {
			subject, own := s.section(seed, d, sec)
			fmt.Fprintf(&b, "## 第%d节\n", sec)
			n := 0
			for n < 120 {
				var w string
				switch p := rng.IntN(100); {
				case p < 45:
					w = subject[rng.IntN(len(subject))]
				case p < 70:
					w = own[rng.IntN(len(own))]
				default:
					w = clinicalWords[rng.IntN(len(clinicalWords))]
				}
				b.WriteString(w)
				n += len([]rune(w))
				switch rng.IntN(8) {
				case 0:
					b.WriteString("。")
				case 1:
					b.WriteString(" ")
				}
			}
			b.WriteString("。\n\n")
		}
		out[d] = rag.Input{Collection: collection, Name: fmt.Sprintf("syn-%05d.md", d), Data: []byte(b.String())}
	}
	return out
}

// syntheticQueries returns n questions about random sections of the
// documents syntheticInputs(…, docs, sections, seed) makes: two subject
// terms, one of the section's terms and a question word, as a reader
// would ask about that passage.
func syntheticQueries(n, docs, sections int, seed uint64) []string {
	s := newSynthetic(seed)
	rng := rand.New(rand.NewPCG(seed, 99))
	ask := []string{"怎么处理", "的标准是什么", "多久随访", "如何评估", "需要转诊吗"}
	out := make([]string, n)
	for i := range out {
		subject, own := s.section(seed, rng.IntN(docs), rng.IntN(sections))
		out[i] = subject[rng.IntN(len(subject))] + subject[rng.IntN(len(subject))] +
			own[rng.IntN(len(own))] + ask[rng.IntN(len(ask))]
	}
	return out
}

// uniformInputs is the structureless stress case: like syntheticInputs,
// but every word is drawn uniformly from clinicalWords alone.
func uniformInputs(collection string, docs, sections int, seed uint64) []rag.Input {
	rng := rand.New(rand.NewPCG(seed, 17))
	out := make([]rag.Input, docs)
	for d := range out {
		var b strings.Builder
		fmt.Fprintf(&b, "---\ntitle: 均匀合成 %d\nsource: synthetic\ntags: [t%d]\n---\n# 均匀合成 %d\n\n", d, d%4, d)
		for s := range sections {
			fmt.Fprintf(&b, "## 第%d节\n", s)
			n := 0
			for n < 120 {
				w := clinicalWords[rng.IntN(len(clinicalWords))]
				b.WriteString(w)
				n += len([]rune(w))
				switch rng.IntN(8) {
				case 0:
					b.WriteString("。")
				case 1:
					b.WriteString(" ")
				}
			}
			b.WriteString("。\n\n")
		}
		out[d] = rag.Input{Collection: collection, Name: fmt.Sprintf("uni-%05d.md", d), Data: []byte(b.String())}
	}
	return out
}
