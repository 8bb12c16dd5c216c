package rag_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/yizhu-health/yizhu/rag"
)

// clinicalWords is the vocabulary of synthetic guideline passages.
var clinicalWords = strings.Fields(`入院记录 首次病程 出院记录 会诊 抢救 手术 主诉 现病史 既往史 体格检查 诊断 胸痛 心电图
ST段 抬高 压低 危急值 心室颤动 房颤 血压 血糖 随访 转诊 肺结节 磨玻璃 实性 分诊 急诊 红区 黄区 绿区
患者 医师 签名 时限 小时 分钟 完成 记录 内容 包括 应当 规范 标准 指南 共识 评估 治疗 检查 结果 STEMI
troponin lead V2 V3 QTc mmHg mmol nodule follow-up category referral triage discharge`)

// syntheticInputs returns docs Markdown documents of sections sections
// each; every section is one short passage (about 120 characters), so
// each gives one chunk under the default chunking. The same seed gives
// the same documents.
func syntheticInputs(collection string, docs, sections int, seed uint64) []rag.Input {
	rng := rand.New(rand.NewPCG(seed, 17))
	out := make([]rag.Input, docs)
	for d := range out {
		var b strings.Builder
		fmt.Fprintf(&b, "---\ntitle: 合成指南 %d\nsource: synthetic\ntags: [t%d]\n---\n# 合成指南 %d\n\n", d, d%4, d)
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
		out[d] = rag.Input{Collection: collection, Name: fmt.Sprintf("syn-%05d.md", d), Data: []byte(b.String())}
	}
	return out
}
